import { rateBucketKey } from "../kv/keys.ts";
import { WattfareError } from "../errors.ts";
import { KeyLock } from "../ledger/key_lock.ts";

/** A token bucket as stored: tokens left at `at` (ms). */
interface Bucket {
  tokens: number;
  at: number;
  /** Attempts (served or not) since `windowStart`, for burst detection. */
  windowStart?: number;
  windowCount?: number;
}

/** The window in which a burst is counted. */
export const BURST_WINDOW_MS = 10_000;

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

/**
 * Token buckets in KV, so a limit holds across instances: each bucket holds
 * a minute's worth of requests and refills continuously. One request takes
 * a token from its app's bucket and its connection's (or grant's) in one
 * commit; within a process, an app's requests queue on a lock instead of
 * colliding on the bucket.
 */
export class RateLimiter {
  readonly #kv: Deno.Kv;
  readonly #clock: () => number;
  readonly #lock = new KeyLock();

  constructor(kv: Deno.Kv, clock: () => number) {
    this.#kv = kv;
    this.#clock = clock;
  }

  /**
   * Takes one token from each bucket, or throws `429 rate_limited`. Returns
   * true the moment a bucket with a `burst` first crosses it in a window.
   */
  async take(limits: Limit[]): Promise<boolean> {
    const lockKey = `${limits[0].scope}:${limits[0].id}`;
    return await this.#lock.run(lockKey, async (): Promise<boolean> => {
      while (true) {
        const now = this.#clock();
        const keys = limits.map((limit) =>
          rateBucketKey(limit.scope, limit.id)
        );
        const entries = await this.#kv.getMany<Bucket[]>(keys);
        const perMs = limits.map((limit) => limit.perMinute / 60_000);
        const refilled = limits.map((limit, i) => {
          const stored = entries[i].value;
          return stored
            ? Math.min(
              limit.perMinute,
              stored.tokens + (now - stored.at) * perMs[i],
            )
            : limit.perMinute;
        });
        const waitMs = Math.max(
          0,
          ...refilled.map((tokens, i) =>
            tokens < 1 ? (1 - tokens) / perMs[i] : 0
          ),
        );
        const allowed = waitMs === 0;
        let anomaly = false;
        const op = this.#kv.atomic();
        limits.forEach((limit, i) => {
          const stored = entries[i].value;
          const fresh = !stored?.windowStart ||
            now - stored.windowStart >= BURST_WINDOW_MS;
          const windowCount = (fresh ? 0 : stored!.windowCount ?? 0) + 1;
          if (limit.burst !== undefined && windowCount === limit.burst + 1) {
            anomaly = true;
          }
          const bucket: Bucket = {
            tokens: refilled[i] - (allowed ? 1 : 0),
            at: now,
            windowStart: fresh ? now : stored!.windowStart,
            windowCount,
          };
          // An idle bucket is full again after a minute: let it go.
          op.check(entries[i]).set(keys[i], bucket, { expireIn: 120_000 });
        });
        if (!(await op.commit()).ok) continue;
        if (anomaly || allowed) return anomaly;
        throw new WattfareError(
          "rate_limited",
          "Too many requests; slow down and retry after the time in Retry-After.",
          { retryAfter: Math.max(1, Math.ceil(waitMs / 1000)) },
        );
      }
    });
  }
}
