import { rateBucketKey } from "../kv/keys.ts";
import { WattfareError } from "../errors.ts";
import { KeyLock } from "../ledger/key_lock.ts";

/** A token bucket as stored: tokens left at `at` (ms). */
interface Bucket {
  tokens: number;
  at: number;
}

/** One bucket to draw from: its key and how many requests a minute it allows. */
interface Limit {
  scope: "app" | "connection";
  id: string;
  perMinute: number;
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

  /** Takes one token from each bucket, or throws `429 rate_limited`. */
  async take(limits: Limit[]): Promise<void> {
    await this.#lock.run(`${limits[0].scope}:${limits[0].id}`, async () => {
      while (true) {
        const now = this.#clock();
        const keys = limits.map((limit) =>
          rateBucketKey(limit.scope, limit.id)
        );
        const entries = await this.#kv.getMany<Bucket[]>(keys);
        const op = this.#kv.atomic();
        let waitMs = 0;
        limits.forEach((limit, i) => {
          const perMs = limit.perMinute / 60_000;
          const stored = entries[i].value;
          const tokens = stored
            ? Math.min(
              limit.perMinute,
              stored.tokens + (now - stored.at) * perMs,
            )
            : limit.perMinute;
          if (tokens < 1) waitMs = Math.max(waitMs, (1 - tokens) / perMs);
          op.check(entries[i]).set(
            keys[i],
            { tokens: tokens - 1, at: now } satisfies Bucket,
            {
              // An idle bucket is full again after a minute: let it go.
              expireIn: 120_000,
            },
          );
        });
        if (waitMs > 0) {
          throw new WattfareError(
            "rate_limited",
            "Too many requests; slow down and retry after the time in Retry-After.",
            { retryAfter: Math.max(1, Math.ceil(waitMs / 1000)) },
          );
        }
        if ((await op.commit()).ok) return;
      }
    });
  }
}
