import assert from "node:assert/strict";
import { mintSessionToken } from "../../sdk/session_token.ts";
import { connectionKey, walletKey } from "../kv/keys.ts";
import type { Connection } from "../connections/connection.ts";
import { startSandboxServer } from "../testing/sandbox_server.ts";
import {
  bearer,
  chatHeaders,
  expectError,
  startTestService,
  type TestService,
} from "../testing/test_service.ts";
import type { Wallet } from "./wallet.ts";
import { newWallet } from "./wallets.ts";
import { startWalletSession } from "./wallet_sessions.ts";

const APP_ORIGIN = "http://127.0.0.1:5173";

/** A wallet signed in by cookie, as a passkey sign-in would leave it. */
async function signedInWallet(service: TestService) {
  const wallet = newWallet();
  await service.kv.set(walletKey(wallet.id), wallet);
  const setCookie = await startWalletSession(service.kv, wallet.id);
  return { walletId: wallet.id, cookie: setCookie.split(";")[0] };
}

Deno.test("a live app is approved only by a signed-in owner with a funding source, and bills it", async () => {
  await using upstream = startSandboxServer();
  await using service = await startTestService({
    env: { WATTFARE_UPSTREAM_URL: upstream.apiUrl },
  });
  const app = await service.createApp("live", [APP_ORIGIN]);
  const { token } = mintSessionToken(app.secretKey, "owner-1", {
    limits: { monthlyUsd: 3 },
  });
  const approve = (cookie?: string) =>
    service.fetch("/api/v1/consent", {
      method: "POST",
      headers: {
        ...bearer(token),
        origin: service.publicUrl,
        ...(cookie ? { cookie } : {}),
      },
      body: JSON.stringify({ monthlyUsd: 3, origin: APP_ORIGIN }),
    });
  await expectError(await approve(), 401, "invalid_session");
  const { walletId, cookie } = await signedInWallet(service);
  const unfunded = await expectError(
    await approve(cookie),
    400,
    "invalid_request",
  );
  assert.match(unfunded.error.message, /funding source/);

  // The owner pastes their OpenRouter key; it is checked, then sealed.
  const created = await fetch(`${upstream.apiUrl}/keys`, {
    method: "POST",
    body: JSON.stringify({ limit: 10 }),
  });
  const { key } = await created.json();
  const paste = (body: unknown, origin = service.publicUrl) =>
    service.fetch("/wallet/api/funding/key", {
      method: "POST",
      headers: { cookie, origin, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  await expectError(
    await paste({ key }, "https://evil.example"),
    403,
    "origin_not_allowed",
  );
  await expectError(await paste({ key: "not-a-key" }), 400, "invalid_request");
  await expectError(
    await paste({ key: "sk-or-v2-refusedkey123" }),
    400,
    "invalid_request",
  );
  const pasted = await paste({ key });
  assert.equal(pasted.status, 200);
  assert.match((await pasted.json()).funding.label, /^sk-or-v1-/);

  const approved = await approve(cookie);
  assert.equal(approved.status, 200);
  assert.equal((await approved.json()).limits.monthlyUsd, 3);

  // Stored sealed: the ciphertext does not contain the key's bytes.
  const stored =
    (await service.kv.get<Connection>(connectionKey(app.appId, "owner-1")))
      .value!;
  assert.equal(stored.walletId, walletId);
  const ciphertext = new TextDecoder("latin1").decode(stored.funding.data);
  assert.ok(!ciphertext.includes(key.slice(9, 40)));
  const walletRecord = (await service.kv.get<Wallet>(walletKey(walletId)))
    .value!;
  assert.ok(
    !new TextDecoder("latin1").decode(walletRecord.funding!.sealed.data)
      .includes(key.slice(9, 40)),
  );

  // Inference goes to the live upstream and is billed to the owner's key.
  const chat = await service.fetch("/api/v1/chat/completions", {
    method: "POST",
    headers: chatHeaders(app.secretKey, "owner-1"),
    body: JSON.stringify({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "hello from a live app" }],
    }),
  });
  assert.equal(chat.status, 200);
  const cost = chat.headers.get("x-wattfare-cost");
  await chat.body?.cancel();
  const usage = upstream.sandbox.usageOf(key);
  assert.equal(usage.requests, 1);
  assert.equal(String(Number(usage.costNano) / 1e9), cost);
});

Deno.test("funding links through OpenRouter's OAuth PKCE flow", async () => {
  await using upstream = startSandboxServer();
  await using service = await startTestService({
    env: {
      WATTFARE_UPSTREAM_URL: upstream.apiUrl,
      WATTFARE_OPENROUTER_AUTH_URL: upstream.authUrl,
    },
  });
  const { walletId, cookie } = await signedInWallet(service);
  const start = await service.fetch(
    "/wallet/funding/openrouter?return=/dashboard",
    {
      headers: { cookie },
      redirect: "manual",
    },
  );
  assert.equal(start.status, 302);
  const authUrl = new URL(start.headers.get("location")!);
  assert.equal(authUrl.origin + authUrl.pathname, upstream.authUrl);
  assert.equal(authUrl.searchParams.get("code_challenge_method"), "S256");

  // The owner authorizes on "OpenRouter".
  const page = await (await fetch(authUrl)).text();
  const fields = new URLSearchParams();
  for (
    const [, name, value] of page.matchAll(
      /<input type="hidden" name="([^"]+)" value="([^"]*)"/g,
    )
  ) {
    fields.set(name, value.replaceAll("&amp;", "&").replaceAll("&quot;", '"'));
  }
  fields.set("limit", "5");
  fields.set("decision", "authorize");
  const authorized = await fetch(new URL("auth", authUrl), {
    method: "POST",
    body: fields,
    redirect: "manual",
  });
  assert.equal(authorized.status, 302);
  const callback = new URL(authorized.headers.get("location")!);
  assert.equal(callback.pathname, "/wallet/funding/openrouter/callback");

  const done = await service.fetch(callback.pathname + callback.search, {
    headers: { cookie },
    redirect: "manual",
  });
  assert.equal(done.status, 302);
  assert.equal(done.headers.get("location"), "/dashboard");
  const wallet = (await service.kv.get<Wallet>(walletKey(walletId))).value!;
  assert.equal(wallet.funding?.source, "oauth");
  const key = await service.box.open(wallet.funding!.sealed);
  const info = await fetch(`${upstream.apiUrl}/key`, {
    headers: { authorization: `Bearer ${key}` },
  });
  assert.equal((await info.json()).data.limit, 5);

  // The state is single use.
  await expectError(
    await service.fetch(callback.pathname + callback.search, {
      headers: { cookie },
    }),
    400,
    "invalid_request",
  );
  // An open redirect is refused.
  await expectError(
    await service.fetch("/wallet/funding/openrouter?return=//evil.example", {
      headers: { cookie },
    }),
    400,
    "invalid_request",
  );
});

Deno.test("wallet routes refuse what is not signed in", async () => {
  await using service = await startTestService();
  const me = await service.fetch("/wallet/api/me");
  assert.deepEqual(await me.json(), { signedIn: false, funding: null });
  await expectError(
    await service.fetch("/wallet/api/funding/key", {
      method: "POST",
      headers: {
        origin: service.publicUrl,
        "content-type": "application/json",
      },
      body: JSON.stringify({ key: "sk-or-v1-abcdefgh" }),
    }),
    401,
    "invalid_session",
  );
  await expectError(
    await service.fetch("/wallet/funding/openrouter"),
    401,
    "invalid_session",
  );
  await expectError(
    await service.fetch("/wallet/api/passkeys/login/verify", {
      method: "POST",
      headers: {
        origin: service.publicUrl,
        "content-type": "application/json",
      },
      body: JSON.stringify({ response: { id: "nope" } }),
    }),
    401,
    "invalid_session",
  );
});
