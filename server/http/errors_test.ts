import assert from "node:assert/strict";
import {
  bearer,
  expectError,
  startTestService,
} from "../testing/test_service.ts";

Deno.test("every error this service answers has the OpenAI shape and its status", async (t) => {
  await using service = await startTestService({
    env: { WATTFARE_MAX_BODY_BYTES: "2048" },
  });
  const app = await service.createApp();
  const post = (
    path: string,
    body: BodyInit,
    headers = bearer(app.secretKey),
  ) => service.fetch(path, { method: "POST", headers, body });

  await t.step("404 not_found for an unknown route", async () => {
    const body = await expectError(
      await service.fetch("/api/v1/nope"),
      404,
      "not_found",
    );
    assert.equal(body.error.message, "No route GET /api/v1/nope.");
    await expectError(await service.fetch("/nope"), 404, "not_found");
  });
  await t.step("401 invalid_api_key: missing, malformed, unknown", async () => {
    await expectError(
      await service.fetch("/api/v1/status?userId=u"),
      401,
      "invalid_api_key",
    );
    await expectError(
      await service.fetch("/api/v1/status?userId=u", {
        headers: { authorization: "Basic x" },
      }),
      401,
      "invalid_api_key",
    );
    await expectError(
      await post("/api/v1/sessions", "{}", bearer("sk_test_nope")),
      401,
      "invalid_api_key",
    );
    await expectError(
      await post(
        "/api/v1/sessions",
        "{}",
        bearer(`sk_test_0000000000000000zzzz_${"0".repeat(64)}`),
      ),
      401,
      "invalid_api_key",
    );
  });
  await t.step("401 invalid_session for a bad token", async () => {
    await expectError(
      await service.fetch("/api/v1/status", { headers: bearer("eyJ.abc.def") }),
      401,
      "invalid_session",
    );
  });
  await t.step(
    "400 invalid_request: not JSON, wrong types, unknown fields",
    async () => {
      await expectError(
        await post("/api/v1/sessions", "{"),
        400,
        "invalid_request",
      );
      await expectError(
        await post("/api/v1/sessions", "[]"),
        400,
        "invalid_request",
      );
      await expectError(
        await post("/api/v1/sessions", "null"),
        400,
        "invalid_request",
      );
      const typed = await expectError(
        await post(
          "/api/v1/test/connections",
          JSON.stringify({ userId: 7, monthlyUsd: 1 }),
        ),
        400,
        "invalid_request",
      );
      assert.equal(typed.error.param, "userId");
      const unknown = await expectError(
        await post(
          "/api/v1/test/connections",
          JSON.stringify({ userId: "u", monthlyUsd: 1, monthlyUSD: 2 }),
        ),
        400,
        "invalid_request",
      );
      assert.match(unknown.error.message, /monthlyUSD/);
      await expectError(
        await post(
          "/api/v1/test/connections",
          JSON.stringify({ userId: "u", monthlyUsd: -1 }),
        ),
        400,
        "invalid_request",
      );
    },
  );
  await t.step("413 payload_too_large over the configured limit", async () => {
    await expectError(
      await post(
        "/api/v1/sessions",
        JSON.stringify({ userId: "x".repeat(4096) }),
      ),
      413,
      "payload_too_large",
    );
  });
  await t.step("403 mode_mismatch", async () => {
    const live = await service.createApp("live");
    await expectError(
      await post(
        "/api/v1/test/connections",
        JSON.stringify({ userId: "u", monthlyUsd: 1 }),
        bearer(live.secretKey),
      ),
      403,
      "mode_mismatch",
    );
  });
  await t.step("nothing a client sent changed anything", async () => {
    const status = await service.fetch("/api/v1/status?userId=u", {
      headers: bearer(app.secretKey),
    });
    assert.equal((await status.json()).connected, false);
  });
});

Deno.test("GET /healthz answers when the service is ready", async () => {
  await using service = await startTestService();
  const response = await service.fetch("/healthz");
  assert.equal(response.status, 200);
  assert.deepEqual(await response.json(), { ok: true });
});
