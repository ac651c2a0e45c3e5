import { leaseKey, ledgerKey, usageKey } from "../kv/keys.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Hold, UsageEntry } from "./hold.ts";
import type { LeaseExpiryMessage } from "./lease.ts";
import { EMPTY_LEDGER, type LedgerRecord } from "./ledger_record.ts";
import type { LiveLease } from "./live_lease.ts";

/** A committed settlement: what it changed, for whoever watches spend. */
export interface SettledEntry {
  hold: Hold;
  spentBefore: bigint;
  spentAfter: bigint;
}

/** What a grow asks of the writer's committed view of the ledger. */
export type GrowOutcome = "admitted" | "retry";

interface Deferred<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

type Op =
  | {
    kind: "grow";
    lease: LiveLease;
    connection: Deno.KvEntry<unknown>;
    /** Sizes the request for a remaining budget; throws when nothing fits. */
    bound: (remainingNano: bigint) => bigint;
    done: Deferred<GrowOutcome>;
  }
  | {
    kind: "settle";
    lease: LiveLease;
    hold: Hold;
    entry: UsageEntry;
    done: Deferred<boolean>;
  }
  | { kind: "renew" | "release"; lease: LiveLease; done: Deferred<void> };

/** Per lease, what a batch would commit. */
interface LeaseDraft {
  amount: bigint;
  release: boolean;
  expiresAt: number;
}

/** Per ledger, what a batch would commit. */
interface LedgerDraft {
  read: Deno.KvEntryMaybe<LedgerRecord>;
  spent: bigint;
  held: bigint;
}

// Deno KV allows 100 checks and 1,000 mutations per atomic operation.
const MAX_CHECKS = 90;
const MAX_OPS = 200;

/**
 * The one writer of this process's connection ledgers: every lease growth,
 * settlement, renewal and release queues here, and whatever queued while a
 * commit was in flight goes out together in the next atomic operation (group
 * commit). One writer means no two commits of this process ever collide;
 * the versionstamp checks in each still guard against other processes.
 */
export class LedgerWriter {
  readonly #kv: Deno.Kv;
  readonly #clock: () => number;
  readonly #leaseTtlMs: number;
  readonly #metrics: Metrics | undefined;
  readonly #onSettled: (settled: SettledEntry) => void;
  /** How long settlements wait for company before committing. */
  readonly #settleDelayMs: number;
  #queue: Op[] = [];
  #draining: Promise<void> | null = null;
  /** Grows queued: a request waits on each, so they commit at once. */
  #grows = 0;
  /** Ends the wait for company early (a grow arrived). */
  #wake: (() => void) | null = null;
  /** Ledgers as this process last committed or read them, by key. */
  readonly #ledgers = new Map<string, Deno.KvEntryMaybe<LedgerRecord>>();

  constructor(
    kv: Deno.Kv,
    options: {
      clock: () => number;
      leaseTtlMs: number;
      /**
       * How long a settlement may wait for others to share its commit
       * (default 2 ms); nobody waits on it, and fewer commits leave the
       * store free for the reads requests do wait on.
       */
      settleDelayMs?: number;
      metrics?: Metrics;
      onSettled: (settled: SettledEntry) => void;
    },
  ) {
    this.#settleDelayMs = options.settleDelayMs ?? 2;
    this.#kv = kv;
    this.#clock = options.clock;
    this.#leaseTtlMs = options.leaseTtlMs;
    this.#metrics = options.metrics;
    this.#onSettled = options.onSettled;
  }

  /**
   * Admits one request on `lease`, growing the lease from the ledger as
   * far as it must, in a commit that also checks `connection` is unchanged.
   * `"retry"` when the connection or the lease changed under it. The caller
   * counts the request in `lease.requests` while it waits.
   */
  grow(
    lease: LiveLease,
    connection: Deno.KvEntry<unknown>,
    bound: (remainingNano: bigint) => bigint,
  ): Promise<GrowOutcome> {
    return this.#push((done) => ({
      kind: "grow",
      lease,
      connection,
      bound,
      done,
    }));
  }

  /**
   * Moves a finished request's cost from the lease into `spent` and writes
   * its usage entry. The caller has moved the hold's bound out of the
   * lease's in-flight sum and its cost into `unsettledNano`; false when the
   * lease was expired by another process (which charged it in full).
   */
  settle(lease: LiveLease, hold: Hold, entry: UsageEntry): Promise<boolean> {
    return this.#push((done) => ({ kind: "settle", lease, hold, entry, done }));
  }

  /** Pushes a lease's expiry out, so a living process keeps it. */
  renew(lease: LiveLease): Promise<void> {
    return this.#push((done) => ({ kind: "renew", lease, done }));
  }

  /** Gives a drained lease's whole amount back to the ledger and deletes it. */
  release(lease: LiveLease): Promise<void> {
    return this.#push((done) => ({ kind: "release", lease, done }));
  }

  /** Resolves once everything queued so far has committed. */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  /** Drops the cached ledger of a lease this process no longer holds. */
  forget(lease: LiveLease): void {
    this.#ledgers.delete(ledgerId(lease));
  }

  #push<T>(make: (done: Deferred<T>) => Op): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const op = make({ resolve, reject } as Deferred<T>);
      this.#queue.push(op);
      if (op.kind === "grow") {
        this.#grows++;
        this.#wake?.();
      }
      this.#draining ??= this.#drain();
    });
  }

  /** Waits `settleDelayMs`, or less if a grow arrives. */
  #gather(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = null;
        resolve();
      };
      const timer = setTimeout(done, this.#settleDelayMs);
      this.#wake = done;
    });
  }

  async #drain(): Promise<void> {
    // Ops queued in the same turn of the event loop join the first batch.
    await Promise.resolve();
    while (this.#queue.length) {
      if (this.#grows === 0 && this.#settleDelayMs > 0) await this.#gather();
      const batch = this.#takeBatch();
      for (const op of batch) if (op.kind === "grow") this.#grows--;
      try {
        await this.#commit(batch);
      } catch (error) {
        for (const op of batch) op.done.reject(error);
      }
    }
    this.#draining = null;
  }

  #takeBatch(): Op[] {
    const checks = new Set<string>();
    let count = 0;
    for (const op of this.#queue) {
      if (count === MAX_OPS) break;
      const keys = [ledgerId(op.lease), op.lease.id];
      if (op.kind === "grow") keys.push(JSON.stringify(op.connection.key));
      const added = keys.filter((key) => !checks.has(key));
      if (count > 0 && checks.size + added.length > MAX_CHECKS) break;
      for (const key of added) checks.add(key);
      count++;
    }
    return this.#queue.splice(0, count);
  }

  async #commit(batch: Op[]): Promise<void> {
    let open = batch;
    while (open.length) {
      await this.#readUnknownLedgers(open);
      const now = this.#clock();
      const ledgers = new Map<string, LedgerDraft>();
      const leases = new Map<LiveLease, LeaseDraft>();
      const connections = new Map<string, Deno.KvEntry<unknown>>();
      const atomic = this.#kv.atomic();
      const after: Array<() => void> = [];
      const closed = new Set<Op>();
      const claims: Array<[LiveLease, bigint]> = [];
      const unclaim = () => {
        for (const [lease, bound] of claims) lease.inFlightNano -= bound;
      };
      for (const op of open) {
        const { lease } = op;
        if (lease.dead) {
          closed.add(op);
          this.#resolveDead(op);
          continue;
        }
        const id = ledgerId(lease);
        let ledger = ledgers.get(id);
        if (!ledger) {
          const read = this.#ledgers.get(id)!;
          const value = read.value ?? EMPTY_LEDGER;
          ledger = { read, spent: value.spent, held: value.held };
          ledgers.set(id, ledger);
        }
        let draft = leases.get(lease);
        if (!draft) {
          draft = {
            amount: lease.amountNano,
            release: false,
            expiresAt: lease.expiresAt,
          };
          leases.set(lease, draft);
        }
        switch (op.kind) {
          case "grow": {
            const remaining = lease.capNano! - ledger.spent - ledger.held;
            const available = draft.amount - lease.inFlightNano -
              lease.unsettledNano;
            let bound: bigint;
            try {
              bound = op.bound(available + remaining);
            } catch (error) {
              closed.add(op);
              op.done.reject(error);
              continue;
            }
            const need = bound - available;
            if (need > 0n) {
              // Room beyond the need for what is in flight or about a
              // second of recent traffic, so a busy lease grows about once a
              // second; never more than half of what is left, so other
              // processes find budget too.
              const slack = maxOf(
                maxOf(lease.inFlightNano, lease.recentNano),
                2n * bound,
              );
              const half = remaining / 2n;
              const extra = maxOf(
                need,
                need + slack < half ? need + slack : half,
              );
              ledger.held += extra;
              draft.amount += extra;
            }
            // Claimed at once, so requests admitted in memory while the
            // commit is in flight cannot count on the same budget.
            lease.inFlightNano += bound;
            claims.push([lease, bound]);
            connections.set(JSON.stringify(op.connection.key), op.connection);
            after.push(() => op.done.resolve("admitted"));
            break;
          }
          case "settle": {
            const cost = op.entry.costNano;
            // Only the bound's part leaves `held`: a cost above it (an
            // upstream price change) was never reserved.
            let reduce = cost < op.hold.boundNano ? cost : op.hold.boundNano;
            if (reduce > draft.amount) reduce = draft.amount;
            const spentBefore = ledger.spent;
            ledger.spent += cost;
            ledger.held -= reduce;
            draft.amount -= reduce;
            atomic.set(
              usageKey(lease.appId, lease.userId, lease.period, op.hold.id),
              op.entry,
            );
            after.push(() => {
              lease.unsettledNano -= cost;
              lease.settling--;
              this.#onSettled({
                hold: op.hold,
                spentBefore,
                spentAfter: spentBefore + cost,
              });
              op.done.resolve(true);
            });
            break;
          }
          case "renew":
            after.push(() => op.done.resolve());
            break;
          case "release":
            // A request admitted since the release was asked keeps it.
            if (!lease.drained || lease.inFlightNano > 0n) {
              after.push(() => op.done.resolve());
              break;
            }
            ledger.held -= draft.amount;
            draft.amount = 0n;
            draft.release = true;
            after.push(() => op.done.resolve());
            break;
        }
      }
      open = open.filter((op) => !closed.has(op));
      if (!open.length) return;
      try {
        await this.#write(atomic, now, ledgers, leases, connections, after);
        return;
      } catch (error) {
        unclaim();
        if (!(error instanceof Conflict)) throw error;
      }
      this.#metrics?.count("wattfare_kv_commit_retries_total", {
        op: "ledger",
      });
      open = await this.#afterConflict(open, ledgers.keys());
    }
  }

  /** Adds the drafts to `atomic` and commits it; throws `Conflict` when a check fails. */
  async #write(
    atomic: Deno.AtomicOperation,
    now: number,
    ledgers: Map<string, LedgerDraft>,
    leases: Map<LiveLease, LeaseDraft>,
    connections: Map<string, Deno.KvEntry<unknown>>,
    after: Array<() => void>,
  ): Promise<void> {
    for (const [lease, draft] of leases) {
      if (lease.capNano === null) continue;
      const key = leaseKey(lease.id);
      const check = { key, versionstamp: lease.versionstamp };
      if (draft.release) {
        if (lease.versionstamp !== null) atomic.check(check).delete(key);
        continue;
      }
      if (draft.expiresAt - now < this.#leaseTtlMs / 2) {
        draft.expiresAt = now + this.#leaseTtlMs;
      }
      atomic.check(check).set(
        key,
        lease.record(draft.amount, draft.expiresAt),
      );
      if (lease.versionstamp === null) {
        atomic.enqueue(
          {
            kind: "lease_expiry",
            leaseId: lease.id,
          } satisfies LeaseExpiryMessage,
          { delay: this.#leaseTtlMs },
        );
      }
    }
    for (const ledger of ledgers.values()) {
      atomic.check(ledger.read).set(
        ledger.read.key,
        { spent: ledger.spent, held: ledger.held } satisfies LedgerRecord,
      );
    }
    for (const connection of connections.values()) atomic.check(connection);

    const result = await atomic.commit();
    if (!result.ok) throw new Conflict();
    for (const [id, ledger] of ledgers) {
      this.#ledgers.set(id, {
        key: ledger.read.key,
        value: { spent: ledger.spent, held: ledger.held },
        versionstamp: result.versionstamp,
      });
    }
    for (const [lease, draft] of leases) {
      const ledger = ledgers.get(ledgerId(lease))!;
      lease.amountNano = draft.amount;
      lease.expiresAt = draft.expiresAt;
      lease.knownRemainingNano = lease.capNano === null
        ? null
        : lease.capNano - ledger.spent - ledger.held;
      if (draft.release) {
        lease.dead = true;
        lease.versionstamp = null;
        this.#ledgers.delete(ledgerId(lease));
      } else if (lease.capNano !== null) {
        lease.versionstamp = result.versionstamp;
      }
    }
    for (const apply of after) apply();
  }

  /** Reads the ledgers this process has no committed view of. */
  async #readUnknownLedgers(ops: Op[]): Promise<void> {
    const unknown = new Map<string, LiveLease>();
    for (const op of ops) {
      const id = ledgerId(op.lease);
      if (!this.#ledgers.has(id)) unknown.set(id, op.lease);
    }
    await Promise.all(
      [...unknown].map(async ([id, lease]) => {
        this.#ledgers.set(
          id,
          await this.#kv.get<LedgerRecord>(
            ledgerKey(lease.appId, lease.userId, lease.period),
          ),
        );
      }),
    );
  }

  /**
   * Another process changed something the batch checked: forget the
   * ledgers, mark leases that were expired under us, and send back grows
   * whose connection changed. Returns the ops still to commit.
   */
  async #afterConflict(ops: Op[], ledgerIds: Iterable<string>): Promise<Op[]> {
    for (const id of ledgerIds) this.#ledgers.delete(id);
    const leases = new Set(ops.map((op) => op.lease));
    const changed = new Set<Op>();
    await Promise.all([
      this.#readUnknownLedgers(ops),
      ...[...leases].filter((lease) => lease.versionstamp !== null).map(
        async (lease) => {
          const stored = await this.#kv.get(leaseKey(lease.id));
          if (stored.versionstamp !== lease.versionstamp) {
            lease.dead = true;
            lease.retired = true;
          }
        },
      ),
      ...ops.map(async (op) => {
        if (op.kind !== "grow") return;
        const now = await this.#kv.get(op.connection.key);
        if (now.versionstamp !== op.connection.versionstamp) changed.add(op);
      }),
    ]);
    for (const op of changed) {
      if (op.kind === "grow") op.done.resolve("retry");
    }
    return ops.filter((op) => !changed.has(op));
  }

  /** An op on a lease another process expired: its requests were charged. */
  #resolveDead(op: Op): void {
    switch (op.kind) {
      case "grow":
        op.done.resolve("retry");
        break;
      case "settle":
        op.lease.unsettledNano -= op.entry.costNano;
        op.lease.settling--;
        op.done.resolve(false);
        break;
      default:
        op.done.resolve();
    }
  }
}

/** A versionstamp check failed: another process wrote first. */
class Conflict extends Error {}

function ledgerId(lease: LiveLease): string {
  return JSON.stringify([lease.appId, lease.userId, lease.period]);
}

function maxOf(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
