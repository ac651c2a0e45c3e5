import assert from "node:assert/strict";
import { mintSessionToken } from "../../sdk/session_token.ts";
import {
  bearer,
  chatHeaders,
  startTestService,
} from "../testing/test_service.ts";

Deno.test("every response carries a request id, and a caller's own id is kept", async () => {
  await using service = await startTestService();
  const generated = await service.fetch("/healthz");
  assert.match(generated.headers.get("x-request-id")!, /^[0-9a-f-]{36}$/);
  await generated.body?.cancel();
  const kept = await service.fetch("/healthz", {
    headers: { "x-request-id": "trace-42" },
  });
  assert.equal(kept.headers.get("x-request-id"), "trace-42");
  await kept.body?.cancel();
  const refused = await service.fetch("/healthz", {
    headers: { "x-request-id": "bad id\u00e9" },
  });
  assert.notEqual(refused.headers.get("x-request-id"), "bad id\u00e9");
  await refused.body?.cancel();
});

Deno.test("logs are one JSON line per request and never carry keys, tokens or queries", async () => {
  const lines: string[] = [];
  await using service = await startTestService({
    log: (line) => lines.push(line),
  });
  const app = await service.createApp();
  const user = await service.connect(app.secretKey, "secret-user-id", 1);
  const { token } = mintSessionToken(app.secretKey, user);
  await (await service.fetch(`/api/v1/status?userId=${user}`, {
    headers: bearer(app.secretKey),
  })).body?.cancel();
  await (await service.fetch("/api/v1/status", { headers: bearer(token) })).body
    ?.cancel();
  const chat = await service.fetch("/api/v1/chat/completions", {
    method: "POST",
    headers: chatHeaders(app.secretKey, user),
    body: JSON.stringify({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "a private prompt" }],
    }),
  });
  await chat.body?.cancel();
  await (await service.fetch("/api/v1/chat/completions", {
    method: "POST",
    headers: bearer(app.secretKey),
    body: "{not json",
  })).body?.cancel();
  await service.settled();

  assert.ok(lines.length >= 5);
  const entries = lines.map((line) => JSON.parse(line));
  assert.ok(
    entries.every((e) =>
      e.msg === "request" && typeof e.requestId === "string"
    ),
  );
  assert.ok(
    entries.some((e) => e.route === "/api/v1/status" && e.status === 200),
  );
  const all = lines.join("\n");
  for (
    const secret of [
      app.secretKey,
      app.secretKey.split("_").at(-1)!,
      token,
      "secret-user-id",
      "a private prompt",
    ]
  ) {
    assert.ok(
      !all.includes(secret),
      `a log line contains ${secret.slice(0, 12)}…`,
    );
  }
});

Deno.test("/metrics counts requests by route and status in Prometheus format", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const user = await service.connect(app.secretKey, "m", 1);
  const chat = await service.fetch("/api/v1/chat/completions", {
    method: "POST",
    headers: chatHeaders(app.secretKey, user),
    body: JSON.stringify({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    }),
  });
  await chat.body?.cancel();
  await (await service.fetch("/nope")).body?.cancel();
  // The settlement commits just after the response.
  await service.settled();
  const response = await service.fetch("/metrics");
  assert.match(
    response.headers.get("content-type")!,
    /^text\/plain; version=0\.0\.4/,
  );
  const text = await response.text();
  assert.match(
    text,
    /wattfare_http_requests_total\{method="POST",route="\/api\/v1\/chat\/completions",status="200"\} 1/,
  );
  assert.match(
    text,
    /wattfare_http_requests_total\{method="GET",route="unmatched",status="404"\} 1/,
  );
  assert.match(text, /# TYPE wattfare_holds_open gauge\nwattfare_holds_open 0/);
  assert.match(text, /wattfare_settle_seconds_count 1/);
  assert.match(text, /wattfare_upstream_seconds_count 1/);
});
