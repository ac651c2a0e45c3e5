import assert from "node:assert/strict";
import { fundingKeyOf, readLedgerView } from "../testing/ledger_probe.ts";
import { connectionKey } from "../kv/keys.ts";
import type { Connection } from "../connections/connection.ts";
import {
  chatHeaders,
  expectError,
  startTestService,
} from "../testing/test_service.ts";

const BODY = JSON.stringify({
  model: "openai/gpt-4o-mini",
  messages: [{ role: "user", content: "hi" }],
  max_tokens: 5,
});

Deno.test("a connection over its rate gets 429 with Retry-After, holds nothing, and refills", async () => {
  let now = Date.now();
  await using service = await startTestService({
    env: { WATTFARE_CONNECTION_RPM: "3" },
    clock: () => now,
  });
  const app = await service.createApp();
  const user = await service.connect(app.secretKey, "busy", 1);
  const other = await service.connect(app.secretKey, "calm", 1);
  const fundingKey = await fundingKeyOf(
    service.kv,
    service.box,
    app.appId,
    user,
  );
  const chat = (userId: string) =>
    service.fetch("/api/v1/chat/completions", {
      method: "POST",
      headers: chatHeaders(app.secretKey, userId),
      body: BODY,
    });
  for (let i = 0; i < 3; i++) {
    const ok = await chat(user);
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
  }
  const limited = await chat(user);
  assert.equal(limited.headers.get("retry-after"), "20");
  await expectError(limited, 429, "rate_limited");
  assert.equal(
    service.sandbox!.usageOf(fundingKey).requests,
    3,
    "the 4th reached no upstream",
  );
  const view = await readLedgerView(service, app.appId, user);
  assert.equal(view.held, 0n);
  assert.equal(view.entries.length, 3);

  // Another user of the same app has a bucket of its own.
  const calm = await chat(other);
  assert.equal(calm.status, 200);
  await calm.body?.cancel();

  // A token comes back every 20 s at 3 a minute.
  now += 20_000;
  const again = await chat(user);
  assert.equal(again.status, 200);
  await again.body?.cancel();
  await expectError(await chat(user), 429, "rate_limited");
});

Deno.test("an app over its own rate is limited across all its users", async () => {
  await using service = await startTestService({
    env: { WATTFARE_APP_RPM: "4" },
  });
  const app = await service.createApp();
  const other = await service.createApp();
  const statuses = [];
  for (let i = 0; i < 6; i++) {
    const user = await service.connect(app.secretKey, `u${i}`, 1);
    const response = await service.fetch("/api/v1/chat/completions", {
      method: "POST",
      headers: chatHeaders(app.secretKey, user),
      body: BODY,
    });
    statuses.push(response.status);
    await response.body?.cancel();
  }
  assert.deepEqual(statuses, [200, 200, 200, 200, 429, 429]);
  // Another app is unaffected.
  const user = await service.connect(other.secretKey, "x", 1);
  const response = await service.fetch("/api/v1/chat/completions", {
    method: "POST",
    headers: chatHeaders(other.secretKey, user),
    body: BODY,
  });
  assert.equal(response.status, 200);
  await response.body?.cancel();
});

Deno.test("a burst far above normal pauses the connection until its owner resumes it", async () => {
  await using service = await startTestService({
    env: { WATTFARE_BURST_REQUESTS: "5", WATTFARE_CONNECTION_RPM: "3" },
  });
  const app = await service.createApp();
  const user = await service.connect(app.secretKey, "runaway", 1);
  const chat = () =>
    service.fetch("/api/v1/chat/completions", {
      method: "POST",
      headers: chatHeaders(app.secretKey, user),
      body: BODY,
    });
  const statuses = [];
  for (let i = 0; i < 5; i++) {
    const response = await chat();
    statuses.push(response.status);
    await response.body?.cancel();
  }
  // Three served, two refused by the rate limit: all five count as attempts.
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  const paused = await expectError(await chat(), 403, "not_connected");
  assert.match(paused.error.message, /Paused automatically/);
  const stored =
    (await service.kv.get<Connection>(connectionKey(app.appId, user))).value!;
  assert.equal(stored.state, "paused");
  assert.equal(stored.pausedBy, "anomaly");

  const status = await service.fetch(`/api/v1/status?userId=${user}`, {
    headers: { authorization: `Bearer ${app.secretKey}` },
  });
  assert.equal((await status.json()).connected, false);
  const view = await readLedgerView(service, app.appId, user);
  assert.equal(view.held, 0n);
  assert.equal(view.entries.length, 3);
});
