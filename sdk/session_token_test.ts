import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { jwtVerify } from "jose";
import { base64url, hmacSha256, sha256 } from "./hmac_sha256.ts";
import {
  deriveSigningKey,
  mintSessionToken,
  SESSION_AUDIENCE,
} from "./session_token.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

Deno.test("the built-in SHA-256 and HMAC agree with node:crypto", () => {
  for (let length = 0; length < 200; length++) {
    const data = crypto.getRandomValues(new Uint8Array(length));
    const key = crypto.getRandomValues(new Uint8Array((length * 7) % 150));
    assert.equal(
      hex(sha256(data)),
      createHash("sha256").update(data).digest("hex"),
    );
    assert.equal(
      hex(hmacSha256(key, data)),
      createHmac("sha256", key).update(data).digest("hex"),
    );
  }
  for (
    const text of ["", "abc", "wattfare:session-signing-key:v1", "josé ✓ 🚀"]
  ) {
    assert.equal(
      hex(hmacSha256(text, text)),
      createHmac("sha256", text).update(text).digest("hex"),
    );
  }
  const bytes = crypto.getRandomValues(new Uint8Array(40));
  assert.equal(base64url(bytes), Buffer.from(bytes).toString("base64url"));
});

Deno.test("a minted session verifies as HS256 under the derived key, with the fixed claims", async () => {
  const secret = "ab".repeat(32);
  const secretKey = `sk_test_0123456789abcdef_${secret}`;
  const now = Date.UTC(2026, 0, 1);
  const { token, expiresAt } = mintSessionToken(secretKey, "user_123", {
    limits: { monthlyUsd: 10 },
    now,
  });
  // The derived key is HMAC-SHA256(secret, label), as before.
  assert.equal(
    hex(deriveSigningKey(secret)),
    createHmac("sha256", secret).update("wattfare:session-signing-key:v1")
      .digest("hex"),
  );
  const { payload, protectedHeader } = await jwtVerify(
    token,
    deriveSigningKey(secret),
    { audience: SESSION_AUDIENCE, currentDate: new Date(now) },
  );
  assert.equal(protectedHeader.alg, "HS256");
  assert.deepEqual(payload, {
    appId: "0123456789abcdef",
    appUserId: "user_123",
    limits: { monthlyUsd: 10 },
    mode: "test",
    aud: SESSION_AUDIENCE,
    iat: now / 1000,
    exp: now / 1000 + 600,
  });
  assert.equal(expiresAt, now / 1000 + 600);
  await assert.rejects(
    jwtVerify(token, deriveSigningKey("cd".repeat(32)), {
      currentDate: new Date(now),
    }),
  );
});
