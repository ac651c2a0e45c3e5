import { WattfareError } from "../errors.ts";
import {
  connectionKey,
  grantKey,
  grantUsageKey,
  holdKey,
  holdsPrefix,
  ledgerKey,
  usageKey,
} from "../kv/keys.ts";
import type { Connection } from "../connections/connection.ts";
import type { Grant } from "../grants/grant.ts";
import type { Sealed } from "../crypto/secret_box.ts";
import { periodStart } from "./period.ts";
import { EMPTY_LEDGER, type LedgerRecord } from "./ledger_record.ts";
import type { Hold, HoldExpiryMessage, UsageEntry } from "./hold.ts";
import { KeyLock } from "./key_lock.ts";
import { requestId } from "./request_id.ts";
import type { Metrics } from "../observability/metrics.ts";

/** What a settled request is charged. */
export interface Charge {
  costNano: bigint;
  promptTokens: number;
  completionTokens: number;
  basis: UsageEntry["basis"];
}

/** A committed settlement: what it changed, for whoever watches spend. */
export interface Settled {
  hold: Hold;
  /** The grant as committed, for a grant's hold. */
  grant: Grant | null;
  spentBefore: bigint;
  spentAfter: bigint;
}

/** The budget a hold was placed on, as read inside the hold's commit. */
export interface HoldContext {
  /** Cap − spent − held before this hold; `null` when uncapped. */
  remainingNano: bigint | null;
  /** The funding key of the connection or grant. */
  funding: Sealed;
}

/**
 * The money path. Every change to a ledger is one atomic KV commit that
 * checks the versionstamps it read, so `spent + held ≤ cap` holds at every
 * commit, across processes; within a process, commits for one connection
 * queue on a lock instead of colliding.
 */
export class Ledger {
  readonly #kv: Deno.Kv;
  readonly #clock: () => number;
  readonly #holdTtlMs: number;
  readonly #lock = new KeyLock();
  readonly #metrics: Metrics | undefined;
  readonly #onSettled: ((settled: Settled) => void) | undefined;
  /** Holds this process placed and has not finished. */
  #open = 0;

  constructor(
    kv: Deno.Kv,
    options: {
      clock: () => number;
      holdTtlMs: number;
      metrics?: Metrics;
      /** Told of each committed settlement (for alerts); must not throw. */
      onSettled?: (settled: Settled) => void;
    },
  ) {
    this.#kv = kv;
    this.#clock = options.clock;
    this.#holdTtlMs = options.holdTtlMs;
    this.#metrics = options.metrics;
    this.#onSettled = options.onSettled;
    this.#metrics?.gauge(
      "wattfare_holds_open",
      "Holds placed by this process and not yet settled or released.",
      () => this.#open,
    );
    this.#metrics?.describe(
      "wattfare_kv_commit_retries_total",
      "Ledger commits retried after a versionstamp conflict.",
    );
    this.#metrics?.describe(
      "wattfare_settle_seconds",
      "Time to commit a settlement or release.",
    );
  }

  /**
   * Reserves the bound `size` returns for the remaining budget, in one commit
   * that also checks the connection is still active and unchanged. `size`
   * throws (e.g. `budget_exceeded`) when nothing fits; then nothing is
   * written.
   */
  async placeHold<T extends { boundNano: bigint }>(
    appId: string,
    userId: string,
    model: string,
    size: (context: HoldContext) => T,
  ): Promise<{ hold: Hold; sized: T; context: HoldContext }> {
    return await this.#lock.run(lockKey(appId, userId), async () => {
      while (true) {
        const now = this.#clock();
        const connectionEntry = await this.#kv.get<Connection>(
          connectionKey(appId, userId),
        );
        const connection = activeConnection(connectionEntry.value);
        const period = periodStart(connection.approvedAt, now);
        const ledgerEntry = await this.#kv.get<LedgerRecord>(
          ledgerKey(appId, userId, period),
        );
        const ledger = ledgerEntry.value ?? EMPTY_LEDGER;
        const remainingNano = connection.capNano === null
          ? null
          : connection.capNano - ledger.spent - ledger.held;
        const context = { remainingNano, funding: connection.funding };
        const sized = fitted(size(context), remainingNano);
        const hold = this.#newHold(now, {
          appId,
          userId,
          grantId: null,
          period,
          capNano: connection.capNano,
          model,
          boundNano: sized.boundNano,
        });
        const result = await this.#kv.atomic()
          .check(connectionEntry)
          .check(ledgerEntry)
          .set(
            ledgerKey(appId, userId, period),
            {
              spent: ledger.spent,
              held: ledger.held + sized.boundNano,
            } satisfies LedgerRecord,
          )
          .set(holdKey(hold.id), hold)
          .enqueue(expiryMessage(hold), { delay: this.#holdTtlMs })
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
   * Takes one request of a grant and reserves the bound `size` returns
   * within its dollar cap, in one commit: the count and the money move
   * together, so neither can be overspent by concurrent redemptions. Any
   * grant that cannot pay (unknown, another app's, expired, used up, over
   * its cap) is `402 grant_invalid`.
   */
  async placeGrantHold<T extends { boundNano: bigint }>(
    appId: string,
    grantId: string,
    model: string,
    size: (context: HoldContext) => T,
  ): Promise<{ hold: Hold; sized: T; context: HoldContext }> {
    return await this.#lock.run(
      JSON.stringify(["grant", grantId]),
      async () => {
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
          const hold = this.#newHold(now, {
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
            .enqueue(expiryMessage(hold), { delay: this.#holdTtlMs })
            .commit();
          if (result.ok) {
            this.#open++;
            return { hold, sized, context };
          }
          this.#metrics?.count("wattfare_kv_commit_retries_total", {
            op: "hold",
          });
        }
      },
    );
  }

  /**
   * Moves a hold into `spent` at its exact cost and writes the request's
   * usage entry, in one commit. Returns false when the hold was already
   * settled (e.g. by its expiry), in which case nothing changes.
   */
  async settle(hold: Hold, charge: Charge): Promise<boolean> {
    if (charge.costNano > hold.boundNano) {
      console.warn(JSON.stringify({
        level: "warn",
        msg: "cost above hold bound (upstream price changed?)",
        requestId: hold.id,
        model: hold.model,
        overshootNano: String(charge.costNano - hold.boundNano),
      }));
    }
    return await this.#finish(hold, charge);
  }

  /** Returns a hold's budget untouched: the upstream served nothing. */
  async release(hold: Hold): Promise<boolean> {
    return await this.#finish(hold, null);
  }

  /**
   * Settles a hold that outlived its expiry at its full bound: the process
   * that placed it died, or lost track of it. A no-op if it was settled.
   */
  async expire(holdId: string): Promise<boolean> {
    const hold = (await this.#kv.get<Hold>(holdKey(holdId))).value;
    return hold ? await this.#finish(hold, "bound") : false;
  }

  /** Expires every hold past its expiry (at start-up, in case the queue lags). */
  async expireOverdue(): Promise<number> {
    let count = 0;
    const now = this.#clock();
    for await (const entry of this.#kv.list<Hold>({ prefix: holdsPrefix() })) {
      if (entry.value.expiresAt <= now && await this.expire(entry.value.id)) {
        count++;
      }
    }
    return count;
  }

  /** The queue handler's part: settles expired holds, ignores other messages. */
  async handleQueueMessage(message: unknown): Promise<void> {
    const expiry = message as Partial<HoldExpiryMessage> | null;
    if (expiry?.kind === "hold_expiry" && typeof expiry.holdId === "string") {
      await this.expire(expiry.holdId);
    }
  }

  /**
   * Settles or releases `placed`. It is read again inside the lock: the
   * stored hold, if still there, is the one that counts.
   */
  async #finish(
    placed: Hold,
    charge: Charge | "bound" | null,
  ): Promise<boolean> {
    const started = performance.now();
    return await this.#lock.run(holdLockKey(placed), async () => {
      while (true) {
        const holdEntry = await this.#kv.get<Hold>(holdKey(placed.id));
        const hold = holdEntry.value;
        if (!hold) return false;
        const applied: Charge | null = charge === "bound"
          ? {
            costNano: hold.boundNano,
            promptTokens: 0,
            completionTokens: 0,
            basis: "expired",
          }
          : charge;
        const cost = applied?.costNano ?? 0n;
        const op = this.#kv.atomic().check(holdEntry).delete(holdKey(hold.id));
        let usage: Deno.KvKey;
        let settled: Settled;
        if (hold.grantId !== null) {
          const key = grantKey(hold.grantId);
          const grantEntry = await this.#kv.get<Grant>(key);
          const grant = grantEntry.value;
          if (!grant) throw new Error(`grant of hold ${hold.id} is gone`);
          const next: Grant = {
            ...grant,
            spent: grant.spent + cost,
            held: grant.held - hold.boundNano,
            // A request the upstream never served is given back.
            remaining: grant.remaining + (applied ? 0 : 1),
          };
          op.check(grantEntry).set(key, next);
          settled = {
            hold,
            grant: next,
            spentBefore: grant.spent,
            spentAfter: next.spent,
          };
          usage = grantUsageKey(hold.grantId, hold.id);
        } else {
          const key = ledgerKey(hold.appId, hold.userId!, hold.period);
          const ledgerEntry = await this.#kv.get<LedgerRecord>(key);
          const ledger = ledgerEntry.value ?? EMPTY_LEDGER;
          op.check(ledgerEntry).set(
            key,
            {
              spent: ledger.spent + cost,
              held: ledger.held - hold.boundNano,
            } satisfies LedgerRecord,
          );
          settled = {
            hold,
            grant: null,
            spentBefore: ledger.spent,
            spentAfter: ledger.spent + cost,
          };
          usage = usageKey(hold.appId, hold.userId!, hold.period, hold.id);
        }
        if (applied) {
          const entry: UsageEntry = {
            requestId: hold.id,
            appId: hold.appId,
            userId: hold.userId,
            grantId: hold.grantId,
            model: hold.model,
            promptTokens: applied.promptTokens,
            completionTokens: applied.completionTokens,
            costNano: cost,
            basis: applied.basis,
            overshootNano: cost > hold.boundNano ? cost - hold.boundNano : 0n,
            createdAt: this.#clock(),
          };
          op.check({ key: usage, versionstamp: null }).set(usage, entry);
        }
        if ((await op.commit()).ok) {
          this.#open = Math.max(0, this.#open - 1);
          if (applied) this.#onSettled?.(settled);
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

  #newHold(
    now: number,
    fields: Omit<Hold, "id" | "createdAt" | "expiresAt">,
  ): Hold {
    return {
      id: requestId(now),
      ...fields,
      createdAt: now,
      expiresAt: now + this.#holdTtlMs,
    };
  }
}

function lockKey(appId: string, userId: string): string {
  return JSON.stringify([appId, userId]);
}

function holdLockKey(hold: Hold): string {
  return hold.grantId !== null
    ? JSON.stringify(["grant", hold.grantId])
    : lockKey(hold.appId, hold.userId!);
}

function expiryMessage(hold: Hold): HoldExpiryMessage {
  return { kind: "hold_expiry", holdId: hold.id };
}

/** A sized hold, checked against the budget it must fit. */
function fitted<T extends { boundNano: bigint }>(
  sized: T,
  remainingNano: bigint | null,
): T {
  if (
    sized.boundNano < 0n ||
    (remainingNano !== null && sized.boundNano > remainingNano)
  ) {
    throw new RangeError("a hold must fit the remaining budget");
  }
  return sized;
}

function grantInvalid(): WattfareError {
  return new WattfareError(
    "grant_invalid",
    "This grant is unknown, expired, used up or over its dollar cap.",
  );
}

function activeConnection(connection: Connection | null): Connection {
  if (connection?.state === "revoked") {
    throw new WattfareError(
      "revoked",
      "The user revoked this app's access to their AI budget.",
    );
  }
  if (connection?.state === "paused") {
    throw new WattfareError(
      "not_connected",
      connection.pausedBy === "anomaly"
        ? "Paused automatically after an unusual burst of requests; the user can resume it."
        : "The user paused this app's access to their AI budget.",
    );
  }
  if (!connection || connection.state !== "active") {
    throw new WattfareError(
      "not_connected",
      "This user has not connected an AI budget to your app.",
    );
  }
  return connection;
}
