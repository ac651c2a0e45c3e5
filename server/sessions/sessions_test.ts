import assert from "node:assert/strict";
import { decodeJwt, decodeProtectedHeader, SignJWT } from "jose";
import {
  deriveSigningKey,
  mintSessionToken,
  SESSION_AUDIENCE,
} from "../../sdk/session_token.ts";
import { parseSecretKey } from "../../sdk/secret_key.ts";
import { rotateSecret } from "../apps/apps.ts";
import {
  bearer,
  expectError,
  startTestService,
} from "../testing/test_service.ts";

Deno.test("POST /sessions mints a 10-minute token with the documented claims", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const before = Math.floor(Date.now() / 1000);
  const response = await service.fetch("/api/v1/sessions", {
    method: "POST",
    headers: bearer(app.secretKey),
    body: JSON.stringify({ userId: "user_123", limits: { monthlyUsd: 10 } }),
  });
  assert.equal(response.status, 200);
  const { token, expiresAt } = await response.json();
  const claims = decodeJwt(token);
  assert.equal(decodeProtectedHeader(token).alg, "HS256");
  assert.equal(claims.appId, app.appId);
  assert.equal(claims.appUserId, "user_123");
  assert.deepEqual(claims.limits, { monthlyUsd: 10 });
  assert.equal(claims.mode, "test");
  assert.equal(claims.aud, SESSION_AUDIENCE);
  assert.ok(claims.iat! >= before);
  assert.equal(claims.exp, claims.iat! + 600);
  assert.equal(expiresAt, claims.exp);

  // The token works for status, and names its user.
  const status = await service.fetch("/api/v1/status", {
    headers: bearer(token),
  });
  assert.equal(status.status, 200);
  assert.equal((await status.json()).connected, false);
});

Deno.test("the limit is accepted as `requestLimit` too, but not both at once", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const post = (body: unknown) =>
    service.fetch("/api/v1/sessions", {
      method: "POST",
      headers: bearer(app.secretKey),
      body: JSON.stringify(body),
    });
  const response = await post({
    userId: "u",
    requestLimit: { monthlyUsd: 2.5 },
  });
  assert.equal(response.status, 200);
  assert.deepEqual(decodeJwt((await response.json()).token).limits, {
    monthlyUsd: 2.5,
  });
  await expectError(
    await post({
      userId: "u",
      limits: { monthlyUsd: 1 },
      requestLimit: { monthlyUsd: 1 },
    }),
    400,
    "invalid_request",
  );
  const bad = await expectError(
    await post({ userId: "u", limits: { monthlyUsd: "10" } }),
    400,
    "invalid_request",
  );
  assert.equal(bad.error.param, "limits.monthlyUsd");
  await expectError(await post({ limits: null }), 400, "invalid_request");
  await expectError(await post({ userId: "" }), 400, "invalid_request");
  await expectError(await post({ userId: "a\nb" }), 400, "invalid_request");
});

Deno.test("a locally minted token equals the service's in every claim", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const local = mintSessionToken(app.secretKey, "u9", {
    limits: { monthlyUsd: 3 },
  });
  const status = await service.fetch("/api/v1/status", {
    headers: bearer(local.token),
  });
  assert.equal(status.status, 200);
});

Deno.test("expired, foreign-audience, foreign-app and tampered tokens are invalid_session", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const other = await service.createApp();
  const status = (token: string) =>
    service.fetch("/api/v1/status", { headers: bearer(token) });

  const expired = mintSessionToken(app.secretKey, "u", {
    now: Date.now() - 11 * 60_000,
  });
  await expectError(await status(expired.token), 401, "invalid_session");

  const secret = parseSecretKey(app.secretKey)!.secret;
  const now = Math.floor(Date.now() / 1000);
  const wrongAudience = await new SignJWT({
    appId: app.appId,
    appUserId: "u",
    limits: null,
    mode: "test",
  }).setProtectedHeader({ alg: "HS256" }).setIssuedAt(now).setExpirationTime(
    now + 600,
  )
    .setAudience("someone-else").sign(deriveSigningKey(secret));
  await expectError(await status(wrongAudience), 401, "invalid_session");

  // Claims say "app", signature is the other app's: never accepted.
  const otherSecret = parseSecretKey(other.secretKey)!.secret;
  const foreign = await new SignJWT({
    appId: app.appId,
    appUserId: "u",
    limits: null,
    mode: "test",
  }).setProtectedHeader({ alg: "HS256" }).setIssuedAt(now).setExpirationTime(
    now + 600,
  )
    .setAudience(SESSION_AUDIENCE).sign(deriveSigningKey(otherSecret));
  await expectError(await status(foreign), 401, "invalid_session");

  const good = mintSessionToken(app.secretKey, "u").token;
  const [header, payload, signature] = good.split(".");
  const claims = JSON.parse(
    atob(payload.replace(/-/g, "+").replace(/_/g, "/")),
  );
  const swapped = btoa(JSON.stringify({ ...claims, appUserId: "admin" }))
    .replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  await expectError(
    await status(`${header}.${swapped}.${signature}`),
    401,
    "invalid_session",
  );
  const unsigned = btoa(JSON.stringify({ alg: "none" })).replace(/=+$/, "");
  await expectError(
    await status(`${unsigned}.${payload}.`),
    401,
    "invalid_session",
  );
  await expectError(await status("not-a-jwt"), 401, "invalid_session");
  assert.equal((await status(good)).status, 200);
});

Deno.test("a secret rotation invalidates the sessions signed with the old secret", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const { token } = mintSessionToken(app.secretKey, "u");
  await rotateSecret(service.kv, app.appId);
  await expectError(
    await service.fetch("/api/v1/status", { headers: bearer(token) }),
    401,
    "invalid_session",
  );
});

Deno.test("mintSessionToken rejects what is not a secret key or a user id", () => {
  assert.throws(() => mintSessionToken("pk_test_abc", "u"), TypeError);
  assert.throws(
    () => mintSessionToken("sk_test_0123456789abcdef_00", "u"),
    TypeError,
  );
  const key = `sk_test_0123456789abcdefghjk_${"ab".repeat(32)}`;
  assert.throws(() => mintSessionToken(key, ""), TypeError);
  assert.throws(
    () => mintSessionToken(key, "u", { limits: { monthlyUsd: -1 } }),
    RangeError,
  );
  assert.ok(mintSessionToken(key, "u").token.split(".").length === 3);
});
