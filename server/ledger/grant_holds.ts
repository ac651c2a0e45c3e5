import { WattfareError } from "../errors.ts";
import { grantKey, grantUsageKey, holdKey } from "../kv/keys.ts";
import type { Grant } from "../grants/grant.ts";
import type { Metrics } from "../observability/metrics.ts";
import {
  type Charge,
  expiredCharge,
  type Settled,
  usageEntry,
} from "./charge.ts";
import { type Hold, type HoldExpiryMessage, newHold } from "./hold.ts";
import { fitted, type HoldContext } from "./hold_context.ts";
import { KeyLock } from "./key_lock.ts";

/**
 * Holds on one-time grants: rare and single-use, so each hold and each
 * settlement is its own checked commit on the grant, and each hold is
 * stored with an expiry message that settles it at its bound if its process
 * dies. Within a process, a grant's commits queue on a lock.
 */
export class GrantHolds {
  readonly #kv: Deno.Kv;
  readonly #clock: () => number;
  readonly #holdTtlMs: number;
  readonly #metrics: Metrics | undefined;
  readonly #onSettled: ((settled: Settled) => void) | undefined;
  readonly #lock = new KeyLock();
  /** Holds placed here and not finished. */
  #open = 0;

  constructor(
    kv: Deno.Kv,
    options: {
      clock: () => number;
      holdTtlMs: number;
      metrics?: Metrics;
      onSettled?: (settled: Settled) => void;
    },
  ) {
    this.#kv = kv;
    this.#clock = options.clock;
    this.#holdTtlMs = options.holdTtlMs;
    this.#metrics = options.metrics;
    this.#onSettled = options.onSettled;
  }

  /** Grant holds placed here and not finished. */
  get open(): number {
    return this.#open;
  }

  /**
   * Takes one request of a grant and reserves the bound `size` returns
   * within its dollar cap, in one commit: the count and the money move
   * together, so neither can be overspent by concurrent redemptions. Any
   * grant that cannot pay (unknown, another app's, expired, used up, over
   * its cap) is `402 grant_invalid`.
   */
  async place<T extends { boundNano: bigint }>(
    appId: string,
    grantId: string,
    model: string,
    size: (context: HoldContext) => T,
  ): Promise<{ hold: Hold; sized: T; context: HoldContext }> {
    return await this.#lock.run(grantLockKey(grantId), async () => {
      while (true) {
        const now = this.#clock();
        const entry = await this.#kv.get<Grant>(grantKey(grantId));
        const grant = entry.value;
        if (
          !grant || grant.appId !== appId || grant.expiresAt <= now ||
          grant.remaining <= 0
        ) {
          throw grantInvalid();
        }
        const remainingNano = grant.maxNano === null
          ? null
          : grant.maxNano - grant.spent - grant.held;
        const context = { remainingNano, funding: grant.funding };
        let sized: T;
        try {
          sized = fitted(size(context), remainingNano);
        } catch (error) {
          if (
            error instanceof WattfareError && error.code === "budget_exceeded"
          ) {
            throw grantInvalid();
          }
          throw error;
        }
        const hold = newHold(now, this.#holdTtlMs, {
          appId,
          userId: null,
          grantId,
          period: "",
          capNano: grant.maxNano,
          model,
          boundNano: sized.boundNano,
        });
        const result = await this.#kv.atomic()
          .check(entry)
          .set(
            grantKey(grantId),
            {
              ...grant,
              remaining: grant.remaining - 1,
              held: grant.held + sized.boundNano,
            } satisfies Grant,
          )
          .set(holdKey(hold.id), hold)
          .enqueue(
            {
              kind: "hold_expiry",
              holdId: hold.id,
            } satisfies HoldExpiryMessage,
            { delay: this.#holdTtlMs },
          )
          .commit();
        if (result.ok) {
          this.#open++;
          return { hold, sized, context };
        }
        this.#metrics?.count("wattfare_kv_commit_retries_total", {
          op: "hold",
        });
      }
    });
  }

  /**
   * Settles a grant's hold with `charge`, at its bound (`"bound"`: it
   * expired), or gives it back (`null`: nothing was served, and the request
   * returns to the grant). The stored hold, read again under the lock, is
   * the one that counts; false when it was already finished.
   */
  async finish(
    placed: Hold,
    charge: Charge | "bound" | null,
  ): Promise<boolean> {
    const started = performance.now();
    return await this.#lock.run(grantLockKey(placed.grantId!), async () => {
      while (true) {
        const holdEntry = await this.#kv.get<Hold>(holdKey(placed.id));
        const hold = holdEntry.value;
        if (!hold?.grantId) return false;
        const applied = charge === "bound" ? expiredCharge(hold) : charge;
        const cost = applied?.costNano ?? 0n;
        const key = grantKey(hold.grantId);
        const grantEntry = await this.#kv.get<Grant>(key);
        const grant = grantEntry.value;
        if (!grant) throw new Error(`grant of hold ${hold.id} is gone`);
        const next: Grant = {
          ...grant,
          spent: grant.spent + cost,
          held: grant.held - hold.boundNano,
          remaining: grant.remaining + (applied ? 0 : 1),
        };
        const op = this.#kv.atomic()
          .check(holdEntry)
          .delete(holdKey(hold.id))
          .check(grantEntry)
          .set(key, next);
        if (applied) {
          const usage = grantUsageKey(hold.grantId, hold.id);
          op.check({ key: usage, versionstamp: null })
            .set(usage, usageEntry(hold, applied, this.#clock()));
        }
        if ((await op.commit()).ok) {
          this.#open = Math.max(0, this.#open - 1);
          if (applied) {
            this.#onSettled?.({
              hold,
              grant: next,
              spentBefore: grant.spent,
              spentAfter: next.spent,
            });
          }
          this.#metrics?.observe(
            "wattfare_settle_seconds",
            (performance.now() - started) / 1000,
          );
          return true;
        }
        this.#metrics?.count("wattfare_kv_commit_retries_total", {
          op: "settle",
        });
      }
    });
  }
}

function grantLockKey(grantId: string): string {
  return JSON.stringify(["grant", grantId]);
}

function grantInvalid(): WattfareError {
  return new WattfareError(
    "grant_invalid",
    "This grant is unknown, expired, used up or over its dollar cap.",
  );
}
