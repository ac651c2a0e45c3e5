/**
 * Browser side of wallet sign-in, shared by the islands: passkeys through
 * `@simplewebauthn/browser`, against the service's `/wallet/api/*` routes.
 */
import {
  startAuthentication,
  startRegistration,
} from "@simplewebauthn/browser";

/** What `GET /wallet/api/me` says about this browser. */
export interface WalletMe {
  signedIn: boolean;
  funding: { label: string; source: "oauth" | "pasted" } | null;
}

/** Reads whether this browser is signed in to a wallet. */
export async function walletMe(): Promise<WalletMe> {
  const response = await fetch("/wallet/api/me");
  return await response.json();
}

/** Creates a wallet (or adds a passkey to the signed-in one) with a new passkey. */
export async function registerPasskey(): Promise<void> {
  const options = await post("/wallet/api/passkeys/register/options", {});
  const response = await startRegistration({ optionsJSON: options });
  await post("/wallet/api/passkeys/register/verify", { response });
}

/** Signs in with an existing passkey of this site. */
export async function signInWithPasskey(): Promise<void> {
  const options = await post("/wallet/api/passkeys/login/options", {});
  const response = await startAuthentication({ optionsJSON: options });
  await post("/wallet/api/passkeys/login/verify", { response });
}

/** Links a pasted OpenRouter key as the wallet's funding source. */
export async function pasteFundingKey(key: string): Promise<void> {
  await post("/wallet/api/funding/key", { key });
}

/** POSTs JSON to the service; throws an Error with the service's message. */
export async function post(path: string, body: unknown) {
  const response = await fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(
      answer?.error?.message ?? `Request failed (${response.status}).`,
    );
  }
  return answer;
}
