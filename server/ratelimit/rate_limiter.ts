import { rateBucketKey } from "../kv/keys.ts";
import { WattfareError } from "../errors.ts";
import { LocalBucket, type Merge, type StoredBucket } from "./local_bucket.ts";

export { BURST_WINDOW_MS } from "./local_bucket.ts";

/** One bucket to draw from: its key and how many requests a minute it allows. */
interface Limit {
  scope: "app" | "connection";
  id: string;
  perMinute: number;
  /**
   * Attempts per burst window that mark an anomaly; counted even when the
   * bucket refuses them, since a runaway client keeps knocking.
   */
  burst?: number;
}

/** Options of a `RateLimiter`. */
export interface RateLimiterOptions {
  /** How often buckets used here are merged into KV, in ms (default 1,000). */
  syncIntervalMs?: number;
  /**
   * Receives a failed background sync or read (the request path never sees
   * one; the use stays unmerged and the next sync retries). A closed store is
   * not reported. Default: `console.error`.
   */
  onError?: (error: unknown) => void;
}

/** Deno KV reads at most 10 keys per `getMany`. */
const KEYS_PER_READ = 10;
/** One check and one set per bucket: within 100 checks and 1,000 mutations. */
const BUCKETS_PER_COMMIT = 100;
/** Conflicts with other instances before a merge waits for the next sync. */
const MAX_CONFLICTS = 10;
/** Sync intervals a bucket may go unmerged before it reads others' use again. */
const RESEED_SYNC_INTERVALS = 10;
/** How often (clock ms) a sync looks for buckets to forget. */
const SWEEP_EVERY_MS = 5_000;

/**
 * Token buckets that decide admission in memory and hold across instances
 * through KV. Each bucket holds a minute's worth of requests and refills
 * continuously; one request takes a token from its app's bucket and its
 * connection's (or grant's), with no KV operation on the way.
 *
 * In the background, every `syncIntervalMs` while some bucket has unmerged
 * use, each used bucket is merged into its stored copy: read it, refill it to
 * now, subtract what this process took since its last merge, add its burst
 * attempts, commit (checked, retried on conflict), and adopt the result here.
 * A bucket new here (or quiet for ten sync intervals) reads the stored copy in
 * the background and adopts it, keeping what it took meanwhile.
 *
 * Across instances a limit can be overshot by what the others took and have
 * not merged yet: one sync interval of each other instance's use for a
 * bucket in use here (ten for one that was quiet here), plus what a bucket new here admits before its first read returns (at most
 * its capacity; in practice the requests of one KV read). Since the merged
 * level may go below zero, such an overshoot is paid back: every instance
 * refuses until the shared bucket has refilled. Burst detection is exact within
 * one instance; across instances a burst is reported with the first
 * attempt after a merge shows it, possibly by more than one instance.
 */
export class RateLimiter {
  readonly #kv: Deno.Kv;
  readonly #clock: () => number;
  readonly #syncIntervalMs: number;
  readonly #onError: (error: unknown) => void;
  readonly #buckets = new Map<string, LocalBucket>();
  /** Buckets with use or attempts not yet merged into KV. */
  readonly #dirty = new Set<string>();
  /** Buckets waiting for a background read of their stored copy. */
  readonly #unseeded = new Set<string>();
  #seedQueued = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Background KV work, one task at a time so a read never undoes a merge. */
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  #sweptAt = -Infinity;

  constructor(
    kv: Deno.Kv,
    clock: () => number,
    options: RateLimiterOptions = {},
  ) {
    this.#kv = kv;
    this.#clock = clock;
    this.#syncIntervalMs = options.syncIntervalMs ?? 1_000;
    this.#onError = options.onError ??
      ((error) => console.error("rate limit sync failed:", error));
  }

  /** How many buckets this process holds in memory. */
  get size(): number {
    return this.#buckets.size;
  }

  /**
   * Takes one token from each bucket, or throws `429 rate_limited`. Returns
   * true the moment a bucket with a `burst` first crosses it in a window.
   * Resolves without waiting on KV.
   */
  take(limits: Limit[]): Promise<boolean> {
    try {
      return Promise.resolve(this.#take(limits));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Merges every bucket used here into KV now (the timer does it on its own). */
  sync(): Promise<void> {
    return this.#enqueue(() => this.#syncDirty());
  }

  /** Stops the timer and merges what is left; call before closing the store. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.sync();
  }

  #take(limits: Limit[]): boolean {
    const now = this.#clock();
    const ids = limits.map((limit) => JSON.stringify([limit.scope, limit.id]));
    const buckets = limits.map((limit, i) => this.#bucket(ids[i], limit, now));
    const waitMs = Math.max(0, ...buckets.map((bucket) => bucket.waitMs()));
    const allowed = waitMs === 0;
    let anomaly = false;
    buckets.forEach((bucket, i) => {
      if (bucket.attempt(now, allowed)) anomaly = true;
      this.#dirty.add(ids[i]);
    });
    this.#arm();
    if (anomaly || allowed) return anomaly;
    throw new WattfareError(
      "rate_limited",
      "Too many requests; slow down and retry after the time in Retry-After.",
      { retryAfter: Math.max(1, Math.ceil(waitMs / 1000)) },
    );
  }

  /** The local bucket of a limit, refilled to `now` at its current rate. */
  #bucket(id: string, limit: Limit, now: number): LocalBucket {
    let bucket = this.#buckets.get(id);
    if (!bucket) {
      bucket = new LocalBucket(
        rateBucketKey(limit.scope, limit.id),
        limit.perMinute,
        now,
      );
      this.#buckets.set(id, bucket);
    }
    bucket.perMinute = limit.perMinute;
    bucket.burst = limit.burst;
    bucket.refill(now);
    // New here, or quiet long enough that others' use may be missing: read
    // the stored copy beside the request rather than in its way. (A bucket
    // in steady use learns others' use from its own merges.)
    if (
      !this.#dirty.has(id) &&
      now - bucket.syncedAt >= RESEED_SYNC_INTERVALS * this.#syncIntervalMs
    ) {
      this.#unseeded.add(id);
      this.#queueSeed();
    }
    return bucket;
  }

  /** Runs background KV work after the work before it, failed or not. */
  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#chain.then(task);
    this.#chain = run.catch(() => {});
    return run;
  }

  /** Schedules a sync while some bucket has unmerged use. */
  #arm(): void {
    if (this.#timer !== undefined || this.#closed || !this.#dirty.size) return;
    const timer = setTimeout(() => {
      this.#timer = undefined;
      // After a failure the next request arms it again: no retry loop on a
      // store that is gone.
      this.sync().then(() => this.#arm(), (error) => this.#report(error));
    }, this.#syncIntervalMs);
    // A pending sync must not keep the process alive; `close` does the last one.
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  #queueSeed(): void {
    if (this.#seedQueued || this.#closed) return;
    this.#seedQueued = true;
    this.#enqueue(() => {
      this.#seedQueued = false;
      return this.#seed();
    }).catch((error) => this.#report(error));
  }

  /** Reads the stored copies of new buckets and adopts them. */
  async #seed(): Promise<void> {
    const ids = [...this.#unseeded].filter((id) => this.#buckets.has(id));
    this.#unseeded.clear();
    for (let i = 0; i < ids.length; i += BUCKETS_PER_COMMIT) {
      const batch = ids.slice(i, i + BUCKETS_PER_COMMIT);
      const entries = await this.#read(batch);
      const t = this.#clock();
      batch.forEach((id, j) =>
        this.#buckets.get(id)!.adopt(entries[j].value, t)
      );
    }
  }

  async #syncDirty(): Promise<void> {
    const ids = [...this.#dirty].filter((id) => {
      if (this.#buckets.get(id)?.dirty) return true;
      this.#dirty.delete(id);
      return false;
    });
    for (let i = 0; i < ids.length; i += BUCKETS_PER_COMMIT) {
      await this.#merge(ids.slice(i, i + BUCKETS_PER_COMMIT));
    }
    this.#sweep();
  }

  /** Merges a batch of buckets into KV in one checked commit, then adopts it. */
  async #merge(ids: string[]): Promise<void> {
    const buckets = ids.map((id) => this.#buckets.get(id)!);
    for (let conflicts = 0; conflicts < MAX_CONFLICTS; conflicts++) {
      const entries = await this.#read(ids);
      const t = this.#clock();
      const merges = buckets.map((bucket, j) =>
        bucket.beginMerge(entries[j].value, t)
      );
      const op = this.#kv.atomic();
      entries.forEach((entry, j) => {
        // Gone a minute after it is full again (two at least): an idle
        // bucket is as good as none.
        const expireIn = 60_000 +
          Math.max(60_000, buckets[j].msToFull(merges[j].record));
        op.check(entry).set(entry.key, merges[j].record, { expireIn });
      });
      let ok = false;
      try {
        ok = (await op.commit()).ok;
      } finally {
        if (!ok) abortAll(buckets, merges);
      }
      if (!ok) continue;
      buckets.forEach((bucket, j) => {
        bucket.adopt(merges[j].record, t);
        if (!bucket.dirty) this.#dirty.delete(ids[j]);
        this.#unseeded.delete(ids[j]);
      });
      return;
    }
  }

  async #read(ids: string[]): Promise<Deno.KvEntryMaybe<StoredBucket>[]> {
    const keys = ids.map((id) => this.#buckets.get(id)!.key);
    const reads = [];
    for (let i = 0; i < keys.length; i += KEYS_PER_READ) {
      reads.push(
        this.#kv.getMany<StoredBucket[]>(keys.slice(i, i + KEYS_PER_READ)),
      );
    }
    return (await Promise.all(reads)).flat();
  }

  /** Forgets buckets that are full and idle, so memory follows recent use. */
  #sweep(): void {
    const now = this.#clock();
    if (now - this.#sweptAt < SWEEP_EVERY_MS) return;
    this.#sweptAt = now;
    for (const [id, bucket] of this.#buckets) {
      if (
        !this.#dirty.has(id) && !this.#unseeded.has(id) && bucket.isIdle(now)
      ) this.#buckets.delete(id);
    }
  }

  #report(error: unknown): void {
    const closed = error instanceof Deno.errors.BadResource ||
      (error instanceof TypeError && /closed/i.test(error.message));
    if (!closed) this.#onError(error);
  }
}

function abortAll(buckets: LocalBucket[], merges: Merge[]): void {
  buckets.forEach((bucket, j) => bucket.abortMerge(merges[j]));
}
