import assert from "node:assert/strict";
import { mintSessionToken } from "../../sdk/session_token.ts";
import {
  bearer,
  chatHeaders,
  expectError,
  startTestService,
} from "../testing/test_service.ts";

/** Inputs the property tests once turned into 500s; each is a typed 4xx now. */
Deno.test("past 500s found by the property tests answer typed 4xx", async (t) => {
  await using service = await startTestService();
  const app = await service.createApp();

  await t.step("JSON nested 5,000 levels deep inside a message", async () => {
    const deep = "[".repeat(5000) + "]".repeat(5000);
    const response = await service.fetch("/api/v1/chat/completions", {
      method: "POST",
      headers: chatHeaders(app.secretKey, "anyone"),
      body:
        `{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":${deep}}]}`,
    });
    await expectError(response, 403, "not_connected");
  });

  await t.step("a passkey id too long for a KV key", async () => {
    await expectError(
      await service.fetch("/wallet/api/passkeys/login/verify", {
        method: "POST",
        headers: {
          origin: service.publicUrl,
          "content-type": "application/json",
        },
        body: JSON.stringify({ response: { id: "€".repeat(680) } }),
      }),
      401,
      "invalid_session",
    );
  });

  await t.step("an OAuth state too long for a KV key", async () => {
    await expectError(
      await service.fetch(
        `/wallet/funding/openrouter/callback?state=${"a".repeat(2100)}&code=x`,
      ),
      400,
      "invalid_request",
    );
  });

  await t.step(
    "a user id of 129 emoji: one rule for the API and the SDK",
    async () => {
      const userId = "😀".repeat(129);
      assert.throws(() => mintSessionToken(app.secretKey, userId), TypeError);
      await expectError(
        await service.fetch("/api/v1/sessions", {
          method: "POST",
          headers: bearer(app.secretKey),
          body: JSON.stringify({ userId }),
        }),
        400,
        "invalid_request",
      );
      await expectError(
        await service.fetch("/api/v1/test/connections", {
          method: "POST",
          headers: bearer(app.secretKey),
          body: JSON.stringify({ userId, monthlyUsd: 1 }),
        }),
        400,
        "invalid_request",
      );
      const fits = "😀".repeat(128);
      const ok = await service.fetch("/api/v1/sessions", {
        method: "POST",
        headers: bearer(app.secretKey),
        body: JSON.stringify({ userId: fits }),
      });
      assert.equal(ok.status, 200);
      await ok.body?.cancel();
    },
  );
});
