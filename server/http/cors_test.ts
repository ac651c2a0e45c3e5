import assert from "node:assert/strict";
import { mintSessionToken } from "../../sdk/session_token.ts";
import {
  bearer,
  expectError,
  startTestService,
} from "../testing/test_service.ts";

const APP_ORIGIN = "http://127.0.0.1:5173";

Deno.test("the API answers CORS preflights and exposes its headers", async () => {
  await using service = await startTestService();
  const preflight = await service.fetch("/api/v1/status", {
    method: "OPTIONS",
    headers: {
      origin: APP_ORIGIN,
      "access-control-request-method": "GET",
      "access-control-request-headers": "authorization",
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(
    preflight.headers.get("access-control-allow-origin"),
    APP_ORIGIN,
  );
  assert.match(
    preflight.headers.get("access-control-allow-headers")!,
    /authorization/,
  );
  assert.equal(preflight.headers.get("access-control-allow-credentials"), null);
  await preflight.body?.cancel();
});

Deno.test("a session is honoured from its app's origins and Wattfare's, not elsewhere", async () => {
  await using service = await startTestService();
  const app = await service.createApp("test", [APP_ORIGIN]);
  const { token } = mintSessionToken(app.secretKey, "u");
  const status = (origin?: string) =>
    service.fetch("/api/v1/status", {
      headers: { ...bearer(token), ...(origin ? { origin } : {}) },
    });
  const fromApp = await status(APP_ORIGIN);
  assert.equal(fromApp.status, 200);
  assert.equal(fromApp.headers.get("access-control-allow-origin"), APP_ORIGIN);
  assert.match(
    fromApp.headers.get("access-control-expose-headers")!,
    /x-wattfare-cost/,
  );
  await fromApp.body?.cancel();
  const fromWattfare = await status(service.publicUrl);
  assert.equal(fromWattfare.status, 200);
  await fromWattfare.body?.cancel();
  const fromServer = await status();
  assert.equal(fromServer.status, 200);
  await fromServer.body?.cancel();
  await expectError(
    await status("https://evil.example"),
    403,
    "origin_not_allowed",
  );
});
