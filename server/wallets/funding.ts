import { pkceKey } from "../kv/keys.ts";
import { randomHex } from "../crypto/random.ts";
import { WattfareError } from "../errors.ts";
import type { Upstream } from "../proxy/upstream.ts";
import type { PkceRequest } from "./wallet.ts";

const PKCE_TTL_MS = 10 * 60_000;

/**
 * Checks a pasted OpenRouter key against the upstream (`GET /key`) before it
 * is stored, so a typo fails now and not on the first paid request.
 */
export async function verifyFundingKey(
  upstream: Upstream,
  key: string,
): Promise<void> {
  if (!/^sk-or-[\x21-\x7e]{8,200}$/.test(key)) {
    throw new WattfareError(
      "invalid_request",
      "That does not look like an OpenRouter key (sk-or-…).",
      { param: "key" },
    );
  }
  let ok = false;
  try {
    const response = await upstream.fetch(
      new Request(upstream.url("/key"), {
        headers: { authorization: `Bearer ${key}` },
        signal: AbortSignal.timeout(10_000),
      }),
    );
    ok = response.ok;
    await response.body?.cancel();
  } catch {
    throw new WattfareError(
      "upstream_error",
      "Could not reach OpenRouter to check the key; try again.",
    );
  }
  if (!ok) {
    throw new WattfareError(
      "invalid_request",
      "OpenRouter did not accept that key.",
      { param: "key" },
    );
  }
}

/**
 * Starts OpenRouter's OAuth PKCE flow for a wallet: remembers a verifier
 * under a random state and returns the URL to send the owner to.
 */
export async function startPkce(
  kv: Deno.Kv,
  options: {
    walletId: string;
    authUrl: string;
    callbackUrl: string;
    returnTo: string;
  },
): Promise<string> {
  const state = randomHex(16);
  const verifier = randomHex(32);
  const request: PkceRequest = {
    walletId: options.walletId,
    verifier,
    returnTo: options.returnTo,
  };
  await kv.set(pkceKey(state), request, { expireIn: PKCE_TTL_MS });
  const callback = new URL(options.callbackUrl);
  callback.searchParams.set("state", state);
  const url = new URL(options.authUrl);
  url.searchParams.set("callback_url", callback.href);
  url.searchParams.set("code_challenge", await s256(verifier));
  url.searchParams.set("code_challenge_method", "S256");
  return url.href;
}

/**
 * Finishes the flow: exchanges the code for the owner's key at
 * `POST /auth/keys`. The state is single use.
 */
export async function finishPkce(
  kv: Deno.Kv,
  upstream: Upstream,
  state: string,
  code: string,
): Promise<{ walletId: string; key: string; returnTo: string }> {
  if (!/^[0-9a-f]{32}$/.test(state)) throw expired();
  const entry = await kv.get<PkceRequest>(pkceKey(state));
  const request = entry.value;
  if (
    !request ||
    !(await kv.atomic().check(entry).delete(pkceKey(state)).commit()).ok
  ) {
    throw new WattfareError(
      "invalid_request",
      "This link request expired; start again from your wallet.",
    );
  }
  let key: unknown;
  try {
    const response = await upstream.fetch(
      new Request(upstream.url("/auth/keys"), {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          code,
          code_verifier: request.verifier,
          code_challenge_method: "S256",
        }),
        signal: AbortSignal.timeout(10_000),
      }),
    );
    key = response.ok ? (await response.json()).key : null;
  } catch {
    key = null;
  }
  if (typeof key !== "string" || !key) {
    throw new WattfareError(
      "upstream_error",
      "OpenRouter did not complete the link; try again.",
    );
  }
  return { walletId: request.walletId, key, returnTo: request.returnTo };
}

async function s256(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(verifier),
  );
  return btoa(String.fromCharCode(...new Uint8Array(digest)))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function expired(): WattfareError {
  return new WattfareError(
    "invalid_request",
    "This link request expired; start again from your wallet.",
  );
}
