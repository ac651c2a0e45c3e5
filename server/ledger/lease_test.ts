import assert from "node:assert/strict";
import { readLedgerView } from "../testing/ledger_probe.ts";
import { chatHeaders, startTestService } from "../testing/test_service.ts";

const BODY = JSON.stringify({
  model: "openai/gpt-4o-mini",
  messages: [{ role: "user", content: "hi" }],
  max_tokens: 20,
});

Deno.test("an unused lease goes back to the ledger on its own after the idle time", async () => {
  await using service = await startTestService({
    env: { WATTFARE_LEASE_IDLE_MS: "200" },
  });
  const app = await service.createApp();
  const user = await service.connect(app.secretKey, "idle", 1);
  const response = await service.fetch("/api/v1/chat/completions", {
    method: "POST",
    headers: chatHeaders(app.secretKey, user),
    body: BODY,
  });
  assert.equal(response.status, 200);
  await response.body?.cancel();

  // Read the store as it is (not through `settled()`, which gives leases
  // back itself): the lease holds budget until it has sat idle.
  const during = await readLedgerView(service.kv, app.appId, user);
  assert.equal(during.openLeases.length, 1);
  assert.ok(during.held > 0n);
  const deadline = Date.now() + 5_000;
  let view = during;
  while (view.openLeases.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    view = await readLedgerView(service.kv, app.appId, user);
  }
  assert.equal(view.openLeases.length, 0, "the idle lease went back");
  assert.equal(view.held, 0n);
  assert.equal(view.entries.length, 1);
  assert.equal(view.entriesSum, view.spent);
});

Deno.test("a lowered cap applies to the next request: the lease is retired and the hold fits the new cap", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const user = await service.connect(app.secretKey, "shrinking", 1);
  const chat = (body: Record<string, unknown> = {}) =>
    service.fetch("/api/v1/chat/completions", {
      method: "POST",
      headers: chatHeaders(app.secretKey, user),
      body: JSON.stringify({ ...JSON.parse(BODY), ...body }),
    });
  const first = await chat();
  assert.equal(first.status, 200);
  await first.body?.cancel();
  const before = await readLedgerView(service.kv, app.appId, user);
  assert.equal(before.openLeases.length, 1);

  // The cap drops far below the old lease: a request without a limit is
  // sized to what is left of the new cap, not of the lease.
  await service.connect(app.secretKey, user, 0.0001);
  const second = await chat({
    max_tokens: undefined,
    stream: true,
    sandbox: { completionTokens: 5_000 },
  });
  assert.equal(second.status, 200);
  await second.text();
  const view = await readLedgerView(service, app.appId, user);
  assert.equal(view.capNano, 100_000n);
  assert.ok(view.spent <= view.capNano!, `spent ${view.spent} > cap`);
  assert.equal(view.held, 0n);
  assert.equal(view.openLeases.length, 0);
  assert.equal(view.entries.length, 2);
  assert.equal(view.entriesSum, view.spent);
  assert.ok(
    !view.entries.some((e) => e.basis === "expired"),
    "the old lease went back, it was not charged",
  );
});
