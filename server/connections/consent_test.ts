import assert from "node:assert/strict";
import { mintSessionToken } from "../../sdk/session_token.ts";
import {
  bearer,
  expectError,
  startTestService,
} from "../testing/test_service.ts";

const ORIGIN = "http://127.0.0.1:5173";

Deno.test("the popup reads the request and records the approval", async () => {
  await using service = await startTestService();
  const app = await service.createApp("test", [ORIGIN]);
  const { token } = mintSessionToken(app.secretKey, "u1", {
    limits: { monthlyUsd: 10 },
  });
  const context = await service.fetch("/api/v1/consent", {
    headers: bearer(token),
  });
  assert.deepEqual(await context.json(), {
    app: {
      name: "test app",
      mode: "test",
      origins: [ORIGIN],
      publishableKey: app.publishableKey,
    },
    userId: "u1",
    limits: { monthlyUsd: 10 },
    status: {
      connected: false,
      limits: null,
      usage: { monthlyUsd: 0 },
      remainingUsd: 0,
    },
  });

  // The user lowers the cap the app asked for.
  const approved = await service.fetch("/api/v1/consent", {
    method: "POST",
    headers: { ...bearer(token), origin: service.publicUrl },
    body: JSON.stringify({ monthlyUsd: 4.5, origin: ORIGIN }),
  });
  assert.equal(approved.status, 200);
  assert.deepEqual(await approved.json(), {
    connected: true,
    limits: { monthlyUsd: 4.5 },
    usage: { monthlyUsd: 0 },
    remainingUsd: 4.5,
  });
  const status = await service.fetch("/api/v1/status?userId=u1", {
    headers: bearer(app.secretKey),
  });
  assert.equal((await status.json()).limits.monthlyUsd, 4.5);
});

Deno.test("approval from an unregistered origin, or posted cross-site, stores nothing", async () => {
  await using service = await startTestService();
  const app = await service.createApp("test", [ORIGIN]);
  const { token } = mintSessionToken(app.secretKey, "u2", {
    limits: { monthlyUsd: 10 },
  });
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    service.fetch("/api/v1/consent", {
      method: "POST",
      headers: { ...bearer(token), ...headers },
      body: JSON.stringify(body),
    });
  const wrong = await expectError(
    await post({ monthlyUsd: 10, origin: "https://evil.example" }),
    403,
    "origin_not_allowed",
  );
  assert.equal(wrong.error.param, "origin");
  await expectError(
    await post({ monthlyUsd: 10, origin: ORIGIN }, {
      origin: "https://evil.example",
    }),
    403,
    "origin_not_allowed",
  );
  await expectError(
    await post({ monthlyUsd: "10", origin: ORIGIN }),
    400,
    "invalid_request",
  );
  await expectError(
    await post({ monthlyUsd: null, origin: ORIGIN }),
    400,
    "invalid_request",
  );
  await expectError(
    await service.fetch("/api/v1/consent", {
      method: "POST",
      headers: bearer(app.secretKey),
      body: JSON.stringify({ monthlyUsd: 10, origin: ORIGIN }),
    }),
    401,
    "invalid_session",
  );
  const status = await service.fetch("/api/v1/status?userId=u2", {
    headers: bearer(app.secretKey),
  });
  assert.equal((await status.json()).connected, false);
});

Deno.test("live apps cannot be approved without a signed-in wallet", async () => {
  await using service = await startTestService();
  const app = await service.createApp("live", [ORIGIN]);
  const { token } = mintSessionToken(app.secretKey, "u3", {
    limits: { monthlyUsd: 10 },
  });
  await expectError(
    await service.fetch("/api/v1/consent", {
      method: "POST",
      headers: bearer(token),
      body: JSON.stringify({ monthlyUsd: 10, origin: ORIGIN }),
    }),
    401,
    "invalid_session",
  );
});
