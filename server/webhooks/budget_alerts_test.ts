import assert from "node:assert/strict";
import { verifyWebhook, WEBHOOK_SIGNATURE_HEADER } from "../../sdk/webhooks.ts";
import type { Grant } from "../grants/grant.ts";
import { checkBudgetAlerts, noticesFor } from "./budget_alerts.ts";
import { createEndpoint } from "./endpoints.ts";
import { checkGrantUsedUp } from "./grant_used_up.ts";
import {
  eventually,
  startQueueHarness,
  startReceiver,
} from "./test_helpers.ts";
import { Webhooks } from "./webhooks.ts";

const USD = 1_000_000_000n;
const CAP = 5n * USD;
const PERIOD = "2025-06-01";

function at(
  spentAfter: bigint,
  more: Partial<{ period: string; userId: string }> = {},
) {
  return {
    appId: "app1",
    userId: more.userId ?? "alice",
    period: more.period ?? PERIOD,
    capNano: CAP,
    spentAfter,
  };
}

const rank = (type: string) => type === "budget.low" ? 0 : 1;

async function allKeys(kv: Deno.Kv): Promise<Deno.KvKey[]> {
  const keys: Deno.KvKey[] = [];
  for await (const entry of kv.list({ prefix: [] })) keys.push(entry.key);
  return keys;
}

Deno.test("budget.low fires at 80 % and budget.exhausted at 100 %, once each per period", async () => {
  await using receiver = startReceiver();
  await using harness = await startQueueHarness();
  const { kv, webhooks } = harness;
  const endpoint = await createEndpoint(kv, "app1", {
    url: receiver.url,
  }, Date.now());

  // Below 80 %: nothing is fired or written.
  assert.deepEqual(
    await checkBudgetAlerts(kv, webhooks, at(CAP * 80n / 100n - 1n)),
    [],
  );
  assert.equal((await allKeys(kv)).length, 1);

  assert.deepEqual(await checkBudgetAlerts(kv, webhooks, at(4n * USD)), [
    "budget.low",
  ]);
  assert.deepEqual(
    await checkBudgetAlerts(kv, webhooks, at(4n * USD + 1n)),
    [],
  );
  assert.deepEqual(await checkBudgetAlerts(kv, webhooks, at(CAP - 1n)), []);
  assert.deepEqual(await checkBudgetAlerts(kv, webhooks, at(CAP)), [
    "budget.exhausted",
  ]);
  assert.deepEqual(await checkBudgetAlerts(kv, webhooks, at(CAP)), []);

  await receiver.nth(2);
  // Deliveries run concurrently, so they may arrive in either order.
  const events = (await Promise.all(
    receiver.received.map((r) =>
      verifyWebhook(
        r.body,
        r.headers.get(WEBHOOK_SIGNATURE_HEADER),
        endpoint.secret,
      )
    ),
  )).sort((a, b) => rank(a.type) - rank(b.type));
  assert.deepEqual(events.map((e) => [e.type, e.data]), [
    ["budget.low", {
      userId: "alice",
      period: PERIOD,
      thresholdPercent: 80,
      limits: { monthlyUsd: 5 },
      usage: { monthlyUsd: 4 },
      remainingUsd: 1,
    }],
    ["budget.exhausted", {
      userId: "alice",
      period: PERIOD,
      thresholdPercent: 100,
      limits: { monthlyUsd: 5 },
      usage: { monthlyUsd: 5 },
      remainingUsd: 0,
    }],
  ]);

  // The owner's notices, in threshold order, tied to the events apps got.
  const notices = await noticesFor(kv, "app1", "alice", PERIOD);
  assert.deepEqual(
    notices.map((
      n,
    ) => [n.type, n.thresholdPercent, n.capNano, n.spentNano, n.eventId]),
    [
      ["budget.low", 80, CAP, 4n * USD, events[0].id],
      ["budget.exhausted", 100, CAP, CAP, events[1].id],
    ],
  );

  // A new period starts from scratch; other users and periods are separate.
  assert.deepEqual(
    await checkBudgetAlerts(kv, webhooks, at(CAP, { period: "2025-07-01" })),
    ["budget.low", "budget.exhausted"],
  );
  assert.deepEqual(
    await checkBudgetAlerts(kv, webhooks, at(4n * USD, { userId: "bob" })),
    ["budget.low"],
  );
  assert.equal((await noticesFor(kv, "app1", "alice", "2025-07-01")).length, 2);
  assert.equal((await noticesFor(kv, "app1", "bob", PERIOD)).length, 1);
  assert.deepEqual(await noticesFor(kv, "app1", "carol", PERIOD), []);
  await receiver.nth(5);
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(receiver.received.length, 5);
});

Deno.test("uncapped and zero caps never alert; notices are kept even with no endpoint", async () => {
  const kv = await Deno.openKv(":memory:");
  try {
    const webhooks = new Webhooks(kv, { log: null });
    assert.deepEqual(
      await checkBudgetAlerts(kv, webhooks, {
        ...at(100n * USD),
        capNano: null,
      }),
      [],
    );
    assert.deepEqual(
      await checkBudgetAlerts(kv, webhooks, { ...at(0n), capNano: 0n }),
      [],
    );
    assert.deepEqual(await allKeys(kv), []);
    assert.deepEqual(await checkBudgetAlerts(kv, webhooks, at(CAP)), [
      "budget.low",
      "budget.exhausted",
    ]);
    // No endpoint: the notices exist, but no event or delivery was written.
    assert.deepEqual((await allKeys(kv)).map((k) => k[0]), [
      "budget_alerts",
      "budget_alerts",
    ]);
  } finally {
    kv.close();
  }
});

Deno.test("concurrent settlements fire each alert exactly once", async () => {
  await using receiver = startReceiver();
  await using harness = await startQueueHarness();
  const { kv, webhooks } = harness;
  await createEndpoint(kv, "app1", { url: receiver.url }, Date.now());

  // 60 settlements finishing together, every one of them past 100 %. The
  // store is watched so the test can tell the atomic check, not luck or
  // the cheap pre-read, is what stopped the losers.
  let refused = 0;
  const watched = new Proxy(kv, {
    get(target, name) {
      if (name !== "atomic") {
        const value = Reflect.get(target, name);
        return typeof value === "function" ? value.bind(target) : value;
      }
      return () => {
        const op = target.atomic();
        const commit = op.commit.bind(op);
        op.commit = async () => {
          const result = await commit();
          if (!result.ok) refused++;
          return result;
        };
        return op;
      };
    },
  });
  const results = await Promise.all(
    Array.from({ length: 60 }, (_, i) =>
      checkBudgetAlerts(watched, webhooks, {
        ...at(CAP + BigInt(i)),
        spentBefore: CAP * 70n / 100n,
      })),
  );
  const fired = results.flat().sort();
  assert.deepEqual(fired, ["budget.exhausted", "budget.low"]);
  assert.ok(refused > 0, "concurrent commits raced and lost on the check");
  assert.equal((await noticesFor(kv, "app1", "alice", PERIOD)).length, 2);
  await receiver.nth(2);
  await new Promise((resolve) => setTimeout(resolve, 150));
  assert.equal(receiver.received.length, 2);
});

Deno.test("grant.used_up fires once per grant, when its requests or dollars run out", async () => {
  await using receiver = startReceiver();
  await using harness = await startQueueHarness();
  const { kv, webhooks } = harness;
  const endpoint = await createEndpoint(kv, "app1", {
    url: receiver.url,
    events: ["grant.used_up"],
  }, Date.now());
  const grant: Grant = {
    id: "ab".repeat(32),
    appId: "app1",
    mode: "test",
    requests: 3,
    remaining: 1,
    maxNano: null,
    spent: 12_345n,
    held: 0n,
    funding: { kid: "k", iv: "", data: "" } as unknown as Grant["funding"],
    createdAt: 0,
    expiresAt: Date.now() + 60_000,
  };
  assert.equal(await checkGrantUsedUp(kv, webhooks, grant), false);
  const usedUp = { ...grant, remaining: 0 };
  const results = await Promise.all(
    Array.from({ length: 10 }, () => checkGrantUsedUp(kv, webhooks, usedUp)),
  );
  assert.equal(results.filter(Boolean).length, 1);
  assert.equal(await checkGrantUsedUp(kv, webhooks, usedUp), false);

  // Another grant with requests left but its dollar cap spent.
  const capped = {
    ...grant,
    id: "cd".repeat(32),
    maxNano: 10_000n,
    spent: 10_000n,
  };
  assert.equal(await checkGrantUsedUp(kv, webhooks, capped), true);

  const events = await Promise.all([1, 2].map(async (n) => {
    const r = await receiver.nth(n);
    return await verifyWebhook(
      r.body,
      r.headers.get(WEBHOOK_SIGNATURE_HEADER),
      endpoint.secret,
    );
  }));
  assert.deepEqual(
    events.map((e) => e.data).sort((x, y) =>
      JSON.stringify(x).localeCompare(JSON.stringify(y))
    ),
    [
      {
        grantId: grant.id,
        requests: 3,
        usage: { usd: 0.000012 },
        maxUsd: null,
      },
      {
        grantId: capped.id,
        requests: 3,
        usage: { usd: 0.00001 },
        maxUsd: 0.00001,
      },
    ],
  );
  await eventually(
    () => Promise.resolve(receiver.received.length),
    (n) => n === 2,
  );
});
