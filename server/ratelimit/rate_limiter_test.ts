import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { fundingKeyOf, readLedgerView } from "../testing/ledger_probe.ts";
import { connectionKey, rateBucketKey } from "../kv/keys.ts";
import { WattfareError } from "../errors.ts";
import { RateLimiter } from "./rate_limiter.ts";
import type { StoredBucket } from "./local_bucket.ts";
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

/** A connection's limit of `perMinute`, with an optional burst. */
function limitOf(id: string, perMinute: number, burst?: number) {
  return [{ scope: "connection" as const, id, perMinute, burst }];
}

/** Asserts that `take` refuses with the given Retry-After. */
async function assertRefused(taking: Promise<boolean>, retryAfter: number) {
  await assert.rejects(taking, (error) => {
    assert.ok(error instanceof WattfareError);
    assert.equal(error.code, "rate_limited");
    assert.equal(error.retryAfter, retryAfter);
    return true;
  });
}

async function stored(kv: Deno.Kv, id: string) {
  return (await kv.get<StoredBucket>(rateBucketKey("connection", id))).value;
}

Deno.test("take decides in memory: it settles while the store never answers", async () => {
  const { setTimeout: realSetTimeout, clearTimeout: realClearTimeout } =
    globalThis;
  const timers = FakeTimers.withGlobal(globalThis).install({
    toFake: ["setTimeout", "clearTimeout"],
  });
  try {
    const hung = {
      getMany: () => new Promise(() => {}),
      atomic: () => {
        throw new Error("no commit on the request path");
      },
    } as unknown as Deno.Kv;
    const limiter = new RateLimiter(hung, () => 1_000_000);
    // Settled before the next macrotask, or it waited on the store.
    const settled = async (taking: Promise<boolean>) => {
      let timer;
      try {
        return await Promise.race([
          taking.then(String, (error) => error.code),
          new Promise((resolve) => {
            timer = realSetTimeout(() => resolve("pending"), 0);
          }),
        ]);
      } finally {
        realClearTimeout(timer);
      }
    };
    assert.equal(await settled(limiter.take(limitOf("c", 2))), "false");
    assert.equal(await settled(limiter.take(limitOf("c", 2))), "false");
    assert.equal(await settled(limiter.take(limitOf("c", 2))), "rate_limited");
    await assertRefused(limiter.take(limitOf("c", 2)), 30);
  } finally {
    timers.uninstall();
  }
});

Deno.test("two instances sharing a store refuse once their combined use reaches the limit", async () => {
  using kv = await Deno.openKv(":memory:");
  const now = 1_000_000;
  const a = new RateLimiter(kv, () => now);
  const b = new RateLimiter(kv, () => now);
  try {
    // 4 a minute: one token every 15 s.
    for (let i = 0; i < 3; i++) await a.take(limitOf("c", 4));
    await a.sync();
    await b.sync();
    assert.equal(await b.take(limitOf("c", 4)), false);
    await b.sync();
    assert.equal((await stored(kv, "c"))?.tokens, 0);
    await assertRefused(b.take(limitOf("c", 4)), 15);

    // `a` has not seen `b`'s use yet: the overshoot of one sync interval,
    // which the merge then books as a debt that holds both back.
    assert.equal(await a.take(limitOf("c", 4)), false);
    await a.sync();
    await b.sync();
    assert.equal((await stored(kv, "c"))?.tokens, -1);
    await assertRefused(a.take(limitOf("c", 4)), 30);
    await assertRefused(b.take(limitOf("c", 4)), 30);
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("a bucket new to an instance adopts the stored level in the background", async () => {
  using kv = await Deno.openKv(":memory:");
  const now = 1_000_000;
  const a = new RateLimiter(kv, () => now);
  const reads: Promise<unknown>[] = [];
  let commits = 0;
  const watched = {
    getMany: (keys: Deno.KvKey[]) => {
      const read = kv.getMany(keys);
      reads.push(read);
      return read;
    },
    atomic: () => {
      commits++;
      return kv.atomic();
    },
  } as unknown as Deno.Kv;
  const b = new RateLimiter(watched, () => now);
  try {
    for (let i = 0; i < 4; i++) await a.take(limitOf("c", 4));
    await a.sync();
    // Admitted before the read lands: the overshoot a new bucket allows.
    assert.equal(await b.take(limitOf("c", 4)), false);
    assert.equal(reads.length, 1, "the read started beside the request");
    await reads[0];
    for (let i = 0; i < 10; i++) await Promise.resolve();
    // Stored 0, less the token `b` took: one token in debt, 30 s at 4 a minute.
    await assertRefused(b.take(limitOf("c", 4)), 30);
    assert.equal(commits, 0, "adopted without a commit of its own");
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("a synced bucket is stored refilled, less the use, with its burst window", async () => {
  using kv = await Deno.openKv(":memory:");
  const start = 1_000_000;
  let now = start;
  const limiter = new RateLimiter(kv, () => now);
  const limits = [
    { scope: "app" as const, id: "app1", perMinute: 10 },
    ...limitOf("c", 5, 8),
  ];
  try {
    for (let i = 0; i < 3; i++) await limiter.take(limits);
    await limiter.sync();
    assert.deepEqual(
      (await kv.get<StoredBucket>(rateBucketKey("app", "app1"))).value,
      { tokens: 7, at: start, windowStart: start, windowCount: 3 },
    );
    assert.deepEqual(await stored(kv, "c"), {
      tokens: 2,
      at: start,
      windowStart: start,
      windowCount: 3,
    });

    // Half a token back after 6 s at 5 a minute.
    now += 6_000;
    await limiter.take(limits);
    await limiter.sync();
    assert.deepEqual(await stored(kv, "c"), {
      tokens: 1.5,
      at: start + 6_000,
      windowStart: start,
      windowCount: 4,
    });
  } finally {
    await limiter.close();
  }
});

Deno.test("a burst spread over instances is reported once a merge shows it", async () => {
  using kv = await Deno.openKv(":memory:");
  const now = 1_000_000;
  const a = new RateLimiter(kv, () => now);
  const b = new RateLimiter(kv, () => now);
  try {
    for (let i = 0; i < 3; i++) {
      assert.equal(await a.take(limitOf("c", 100, 5)), false);
      assert.equal(await b.take(limitOf("c", 100, 5)), false);
    }
    await a.sync();
    await b.sync();
    assert.equal((await stored(kv, "c"))?.windowCount, 6);
    assert.equal(await b.take(limitOf("c", 100, 5)), true);
    assert.equal(await b.take(limitOf("c", 100, 5)), false, "reported once");
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("buckets that are full and idle are forgotten", async () => {
  using kv = await Deno.openKv(":memory:");
  let now = 1_000_000;
  const limiter = new RateLimiter(kv, () => now);
  try {
    await limiter.take(limitOf("idle", 3));
    await limiter.take(limitOf("busy", 3));
    await limiter.sync();
    assert.equal(limiter.size, 2);
    now += 60_000;
    await limiter.take(limitOf("busy", 3));
    await limiter.take(limitOf("busy", 3));
    await limiter.sync();
    assert.equal(limiter.size, 1, "the full, idle bucket is gone");
    // Forgetting loses nothing: the stored bucket is full as well.
    await limiter.take(limitOf("busy", 3));
    await assertRefused(limiter.take(limitOf("busy", 3)), 20);
  } finally {
    await limiter.close();
  }
});

Deno.test("the sync timer runs only while there is use to merge, and close() merges the rest and stops it", async () => {
  const timers = FakeTimers.withGlobal(globalThis).install({
    toFake: ["setTimeout", "clearTimeout"],
  });
  const kv = await Deno.openKv(":memory:");
  try {
    let reads = 0;
    const counted = {
      getMany: (keys: Deno.KvKey[]) => {
        reads++;
        return kv.getMany(keys);
      },
      atomic: () => kv.atomic(),
    } as unknown as Deno.Kv;
    const limiter = new RateLimiter(counted, () => 1_000_000, {
      syncIntervalMs: 250,
    });
    assert.equal(timers.countTimers(), 0);
    await limiter.take(limitOf("c", 10));
    assert.equal(timers.countTimers(), 1, "armed while dirty");
    await limiter.sync();
    timers.tick(250);
    await limiter.sync();
    assert.equal(timers.countTimers(), 0, "not armed again once clean");

    await limiter.take(limitOf("c", 10));
    const before = reads;
    timers.tick(250);
    // The timer's sync starts within a few microtasks; no time passes.
    for (let i = 0; i < 20 && reads === before; i++) await Promise.resolve();
    assert.equal(reads, before + 1, "the timer started a sync");
    await limiter.sync();
    assert.equal((await stored(kv, "c"))?.tokens, 8);
    assert.equal(timers.countTimers(), 0);

    await limiter.take(limitOf("c", 10));
    assert.equal(timers.countTimers(), 1);
    await limiter.close();
    assert.equal(timers.countTimers(), 0, "close stops the timer");
    assert.equal((await stored(kv, "c"))?.tokens, 7, "close merged the rest");
    await limiter.take(limitOf("c", 10));
    assert.equal(timers.countTimers(), 0, "nothing is armed after close");
  } finally {
    timers.uninstall();
    kv.close();
  }
});
