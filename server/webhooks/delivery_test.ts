import assert from "node:assert/strict";
import {
  verifyWebhook,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  type WebhookEvent,
} from "../../sdk/webhooks.ts";
import { createEndpoint, deleteEndpoint } from "./endpoints.ts";
import { Webhooks } from "./webhooks.ts";
import { type DeliveryRecord, listDeliveries } from "./delivery_record.ts";
import {
  eventually,
  startQueueHarness,
  startReceiver,
} from "./test_helpers.ts";

const APPROVED = { userId: "alice", limits: { monthlyUsd: 5 } };

async function deliveryOf(
  kv: Deno.Kv,
  appId: string,
  endpointId: string,
  done: (record: DeliveryRecord) => boolean,
): Promise<DeliveryRecord> {
  const [record] = await eventually(
    () => listDeliveries(kv, appId, endpointId),
    (records) => records.length === 1 && done(records[0]),
  );
  return record;
}

Deno.test("an event is delivered once, signed so that verifyWebhook accepts it", async () => {
  await using receiver = startReceiver();
  await using harness = await startQueueHarness();
  const { kv, webhooks } = harness;
  const endpoint = await createEndpoint(kv, "app1", {
    url: receiver.url,
  }, Date.now());

  const sent = await webhooks.emit("app1", "connection.approved", APPROVED);
  const got = await receiver.nth(1);

  assert.equal(got.headers.get("content-type"), "application/json");
  assert.equal(got.headers.get(WEBHOOK_ID_HEADER), sent.id);
  assert.match(sent.id, /^evt_[0-9a-z]{25}$/);
  const signature = got.headers.get(WEBHOOK_SIGNATURE_HEADER);
  assert.match(signature!, /^t=\d+,v1=[0-9a-f]{64}$/);
  const event: WebhookEvent = await verifyWebhook(
    got.body,
    signature,
    endpoint.secret,
  );
  assert.deepEqual(event, {
    id: sent.id,
    type: "connection.approved",
    createdAt: sent.createdAt,
    data: APPROVED,
  });
  assert.deepEqual(Object.keys(JSON.parse(got.body)), [
    "id",
    "type",
    "createdAt",
    "data",
  ]);

  const record = await deliveryOf(
    kv,
    "app1",
    endpoint.id,
    (r) => r.state === "delivered",
  );
  assert.equal(record.attempts, 1);
  assert.equal(record.lastStatus, 200);
  assert.equal(record.lastError, null);
  // Nothing else arrives: no duplicate, no retry.
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(receiver.received.length, 1);
  assert.deepEqual(harness.others, []);
});

Deno.test("a 500 is retried after the configured delay; the retry carries the same event, freshly signed", async () => {
  await using receiver = startReceiver((n) =>
    new Response("busy", { status: n === 1 ? 500 : 200 })
  );
  await using harness = await startQueueHarness({ retryDelaysMs: [150, 150] });
  const { kv, webhooks } = harness;
  const endpoint = await createEndpoint(kv, "app1", {
    url: receiver.url,
  }, Date.now());

  const sent = await webhooks.emit("app1", "budget.low", {
    userId: "alice",
    period: "2025-01-01",
    thresholdPercent: 80,
    limits: { monthlyUsd: 5 },
    usage: { monthlyUsd: 4 },
    remainingUsd: 1,
  });
  const first = await receiver.nth(1);
  const pending = await deliveryOf(
    kv,
    "app1",
    endpoint.id,
    (r) => r.attempts === 1,
  );
  assert.equal(pending.state, "pending");
  assert.equal(pending.lastStatus, 500);
  assert.equal(pending.lastError, "HTTP 500");
  assert.ok(pending.nextAttemptAt! > pending.updatedAt);

  const second = await receiver.nth(2);
  assert.ok(second.at - first.at >= 140, "the retry waited for its delay");
  assert.equal(second.headers.get(WEBHOOK_ID_HEADER), sent.id);
  assert.equal(second.body, first.body);
  const event = await verifyWebhook(
    second.body,
    second.headers.get(WEBHOOK_SIGNATURE_HEADER),
    endpoint.secret,
  );
  assert.equal(event.id, sent.id);

  const record = await deliveryOf(
    kv,
    "app1",
    endpoint.id,
    (r) => r.state === "delivered",
  );
  assert.equal(record.attempts, 2);
  assert.equal(record.lastStatus, 200);
  assert.equal(record.nextAttemptAt, null);
});

Deno.test("after the last attempt fails, the delivery is recorded as failed and logged", async () => {
  await using receiver = startReceiver(() =>
    new Response(null, { status: 503 })
  );
  const lines: string[] = [];
  await using harness = await startQueueHarness({
    retryDelaysMs: [20, 20],
    log: (line) => lines.push(line),
  });
  const { kv, webhooks } = harness;
  const endpoint = await createEndpoint(kv, "app1", {
    url: receiver.url,
  }, Date.now());

  const sent = await webhooks.emit("app1", "connection.revoked", {
    userId: "alice",
    by: "user",
  });
  const record = await deliveryOf(
    kv,
    "app1",
    endpoint.id,
    (r) => r.state === "failed",
  );
  assert.equal(record.attempts, 3);
  assert.equal(record.lastStatus, 503);
  assert.equal(record.lastError, "HTTP 503");
  assert.equal(record.nextAttemptAt, null);
  assert.equal(receiver.received.length, 3);
  const log = lines.map((line) => JSON.parse(line));
  assert.deepEqual(log.map((l) => [l.level, l.eventId, l.attempts]), [
    ["warn", sent.id, 3],
  ]);
  // The secret never reaches the log.
  assert.ok(!lines.join("").includes(endpoint.secret));
});

Deno.test("a receiver that does not answer in time counts as a failed attempt", async () => {
  let release!: () => void;
  const hung = new Promise<void>((resolve) => release = resolve);
  await using receiver = startReceiver(async (n) => {
    if (n === 1) await hung;
    return new Response(null, { status: 204 });
  });
  await using harness = await startQueueHarness({
    retryDelaysMs: [20, 20, 20],
    timeoutMs: 250,
  });
  const { kv, webhooks } = harness;
  const endpoint = await createEndpoint(kv, "app1", {
    url: receiver.url,
  }, Date.now());
  try {
    await webhooks.emit("app1", "connection.approved", APPROVED);
    const record = await deliveryOf(
      kv,
      "app1",
      endpoint.id,
      (r) => r.state === "delivered",
    );
    // The first attempt hung and timed out; a later one got through.
    assert.ok(record.attempts >= 2);
    assert.equal(record.lastStatus, 204);
    assert.equal(receiver.received.length, record.attempts);
  } finally {
    release();
  }
});

Deno.test("redirects are not followed: a 3xx is a failed attempt", async () => {
  await using target = startReceiver();
  await using receiver = startReceiver(() =>
    new Response(null, { status: 307, headers: { location: target.url } })
  );
  await using harness = await startQueueHarness({ retryDelaysMs: [] });
  const { kv, webhooks } = harness;
  const endpoint = await createEndpoint(kv, "app1", {
    url: receiver.url,
  }, Date.now());
  await webhooks.emit("app1", "connection.approved", APPROVED);
  const record = await deliveryOf(
    kv,
    "app1",
    endpoint.id,
    (r) => r.state === "failed",
  );
  assert.equal(record.lastStatus, 307);
  assert.equal(target.received.length, 0);
});

Deno.test("each event goes to the app's endpoints subscribed to its type, and nowhere else", async () => {
  await using all = startReceiver();
  await using budgetOnly = startReceiver();
  await using otherApp = startReceiver();
  await using harness = await startQueueHarness();
  const { kv, webhooks } = harness;
  const now = Date.now();
  const a = await createEndpoint(kv, "app1", { url: all.url }, now);
  const b = await createEndpoint(kv, "app1", {
    url: budgetOnly.url,
    events: ["budget.exhausted"],
  }, now);
  const otherEndpoint = await createEndpoint(kv, "app2", {
    url: otherApp.url,
  }, now);

  const approved = await webhooks.emit(
    "app1",
    "connection.approved",
    APPROVED,
  );
  const exhausted = await webhooks.emit("app1", "budget.exhausted", {
    userId: "alice",
    period: "2025-01-01",
    thresholdPercent: 100,
    limits: { monthlyUsd: 5 },
    usage: { monthlyUsd: 5 },
    remainingUsd: 0,
  });
  await all.nth(2);
  await budgetOnly.nth(1);
  await new Promise((resolve) => setTimeout(resolve, 100));

  const ids = async (receiver: typeof all, secret: string) =>
    await Promise.all(
      receiver.received.map(async (r) =>
        (await verifyWebhook(
          r.body,
          r.headers.get(WEBHOOK_SIGNATURE_HEADER),
          secret,
        )).id
      ),
    );
  assert.deepEqual(
    (await ids(all, a.secret)).sort(),
    [approved.id, exhausted.id].sort(),
  );
  assert.deepEqual(await ids(budgetOnly, b.secret), [exhausted.id]);
  assert.equal(otherApp.received.length, 0);
  // One endpoint's secret does not verify another's deliveries.
  await assert.rejects(
    verifyWebhook(
      budgetOnly.received[0].body,
      budgetOnly.received[0].headers.get(WEBHOOK_SIGNATURE_HEADER),
      a.secret,
    ),
    { code: "invalid_request" },
  );
  assert.ok(otherEndpoint.id);
});

Deno.test("an event with no subscribed endpoint writes nothing", async () => {
  await using harness = await startQueueHarness();
  const { kv, webhooks } = harness;
  await createEndpoint(kv, "app1", {
    url: "http://127.0.0.1:9/hooks",
    events: ["grant.used_up"],
  }, Date.now());
  const event = await webhooks.emit("app1", "connection.approved", APPROVED);
  assert.match(event.id, /^evt_/);
  const keys: Deno.KvKey[] = [];
  for await (const entry of kv.list({ prefix: [] })) keys.push(entry.key);
  assert.deepEqual(keys.map((k) => k[0]), ["webhooks"]);
});

Deno.test("a duplicated queue message makes one attempt, and other messages are not ours", async () => {
  await using receiver = startReceiver();
  // No listener here: the test hands messages over itself.
  const kv = await Deno.openKv(":memory:");
  try {
    const webhooks = new Webhooks(kv, { log: null });
    const endpoint = await createEndpoint(kv, "app1", {
      url: receiver.url,
    }, Date.now());
    const staged = await webhooks.stage(
      "app1",
      "connection.approved",
      APPROVED,
    );
    assert.equal(staged.endpoints, 1);
    assert.ok((await staged.addTo(kv.atomic()).commit()).ok);
    const message = {
      kind: "webhook_delivery",
      appId: "app1",
      endpointId: endpoint.id,
      eventId: staged.event.id,
      attempt: 1,
    };
    assert.equal(await webhooks.handleQueueMessage(message), true);
    assert.equal(receiver.received.length, 1);
    const [record] = await listDeliveries(kv, "app1", endpoint.id);
    assert.equal(record.state, "delivered");
    assert.equal(record.attempts, 1);
    // The queue redelivers a message at least once: a copy of an attempt
    // already made sends nothing more.
    assert.equal(
      await webhooks.handleQueueMessage(structuredClone(message)),
      true,
    );
    assert.equal(receiver.received.length, 1);

    assert.equal(
      await webhooks.handleQueueMessage({ kind: "hold_expiry", holdId: "h" }),
      false,
    );
    assert.equal(await webhooks.handleQueueMessage(null), false);
    assert.equal(await webhooks.handleQueueMessage("webhook_delivery"), false);
  } finally {
    kv.close();
  }
});

Deno.test("deliveries queued for a deleted endpoint are dropped without a request", async () => {
  await using receiver = startReceiver();
  const kv = await Deno.openKv(":memory:");
  try {
    const webhooks = new Webhooks(kv, { log: null });
    const endpoint = await createEndpoint(kv, "app1", {
      url: receiver.url,
    }, Date.now());
    const staged = await webhooks.stage(
      "app1",
      "connection.approved",
      APPROVED,
    );
    assert.ok((await staged.addTo(kv.atomic()).commit()).ok);
    assert.equal(await deleteEndpoint(kv, "app1", endpoint.id), true);
    await webhooks.handleQueueMessage({
      kind: "webhook_delivery",
      appId: "app1",
      endpointId: endpoint.id,
      eventId: staged.event.id,
      attempt: 1,
    });
    const [record] = await listDeliveries(kv, "app1", endpoint.id);
    assert.equal(record.state, "failed");
    assert.equal(record.lastError, "endpoint deleted");
    assert.equal(receiver.received.length, 0);
  } finally {
    kv.close();
  }
});
