import { WattfareError } from "../errors.ts";
import {
  connectionKey,
  grantKey,
  grantUsageKey,
  holdKey,
  holdsPrefix,
  leaseKey,
  leasesPrefix,
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
import type { Lease, LeaseExpiryMessage } from "./lease.ts";
import { LedgerWriter } from "./ledger_writer.ts";
import { LiveLease } from "./live_lease.ts";
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

/** The budget a hold was placed on. */
export interface HoldContext {
  /** What the hold may take at most; `null` when uncapped. */
  remainingNano: bigint | null;
  /** The funding key of the connection or grant. */
  funding: Sealed;
}

/**
 * The money path. A connection's requests are admitted against a budget
 * lease: a slice of the remaining budget this process reserved in one
 * commit, so most requests reach the upstream without any commit at all;
 * settlements and lease changes go out in group commits from one writer.
 * Grants, rare and single-use, commit each hold. Every commit checks the
 * versionstamps it read, so `spent + held ≤ cap` holds at every commit,
 * across processes.
 */
export class Ledger {
  readonly #kv: Deno.Kv;
  readonly #clock: () => number;
  readonly #holdTtlMs: number;
  readonly #leaseIdleMs: number;
  readonly #lock = new KeyLock();
  readonly #metrics: Metrics | undefined;
  readonly #onSettled: ((settled: Settled) => void) | undefined;
  readonly #writer: LedgerWriter;
  /** The lease each connection's new requests draw on. */
  readonly #leases = new Map<string, LiveLease>();
  /** Every lease this process holds (current or draining), by id. */
  readonly #byId = new Map<string, LiveLease>();
  /** A connection's requests in flight, by request id. */
  readonly #holds = new Map<string, { hold: Hold; lease: LiveLease }>();
  /** Connection reads not sent yet, by connection (see `readConnection`). */
  readonly #reads = new Map<string, PendingRead>();
  /** `getMany` calls of connection reads not yet answered. */
  #readsInFlight = 0;
  /** Grant holds this process placed and has not finished. */
  #grantHolds = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    kv: Deno.Kv,
    options: {
      clock: () => number;
      holdTtlMs: number;
      /** How long a lease may sit unused before it goes back (default 30 s). */
      leaseIdleMs?: number;
      metrics?: Metrics;
      /** Told of each committed settlement (for alerts); must not throw. */
      onSettled?: (settled: Settled) => void;
    },
  ) {
    this.#kv = kv;
    this.#clock = options.clock;
    this.#holdTtlMs = options.holdTtlMs;
    this.#leaseIdleMs = options.leaseIdleMs ?? 30_000;
    this.#metrics = options.metrics;
    this.#onSettled = options.onSettled;
    this.#writer = new LedgerWriter(kv, {
      clock: options.clock,
      leaseTtlMs: options.holdTtlMs,
      metrics: options.metrics,
      onSettled: (settled) => this.#onSettled?.({ ...settled, grant: null }),
    });
    this.#metrics?.gauge(
      "wattfare_holds_open",
      "Holds placed by this process and not yet settled or released.",
      () => this.#holds.size + this.#grantHolds,
    );
    this.#metrics?.gauge(
      "wattfare_leases_open",
      "Budget leases this process holds.",
      () => this.#byId.size,
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
   * Admits a request on the connection's lease, with the bound `size`
   * returns for the remaining budget. The connection is read on every
   * request, so a revoke, pause or cap change stops the next one. Most
   * requests fit the lease and commit nothing; otherwise the lease grows in
   * a commit that checks the connection is unchanged. `size` throws (e.g.
   * `budget_exceeded`) when nothing fits; then nothing is written.
   */
  async placeHold<T extends { boundNano: bigint }>(
    appId: string,
    userId: string,
    model: string,
    size: (context: HoldContext) => T,
    /** The connection, if the caller started reading it earlier (see `readConnection`). */
    read?: Promise<Deno.KvEntryMaybe<Connection>>,
  ): Promise<{ hold: Hold; sized: T; context: HoldContext }> {
    while (true) {
      const entry = await (read ?? this.readConnection(appId, userId));
      read = undefined;
      const now = this.#clock();
      const connection = activeConnection(entry.value);
      const period = periodStart(connection.approvedAt, now);
      const lease = this.#leaseFor(
        appId,
        userId,
        period,
        connection.capNano,
        entry.versionstamp!,
        now,
      );
      const contextFor = (remainingNano: bigint | null): HoldContext => ({
        remainingNano,
        funding: connection.funding,
      });
      let admitted: { sized: T; context: HoldContext } | undefined;
      lease.requests++;
      try {
        admitted = lease.capNano === null
          ? this.#admitUncapped(lease, size, contextFor(null))
          : this.#admitFromLease(lease, size, contextFor) ??
            await this.#admitByGrowing(
              lease,
              entry as Deno.KvEntry<Connection>,
              size,
              contextFor,
            );
      } finally {
        if (!admitted) {
          lease.requests--;
          this.#releaseIfDrained(lease);
        }
      }
      if (!admitted) continue;
      lease.noteAdmitted(admitted.sized.boundNano);
      const hold = this.#newHold(now, {
        appId,
        userId,
        grantId: null,
        period,
        capNano: connection.capNano,
        model,
        boundNano: admitted.sized.boundNano,
      });
      this.#holds.set(hold.id, { hold, lease });
      this.#tickSoon();
      return { hold, ...admitted };
    }
  }

  /**
   * Reads a connection for `placeHold`. A caller may start this as soon as
   * it knows the user, so the read overlaps its other work.
   */
  readConnection(
    appId: string,
    userId: string,
  ): Promise<Deno.KvEntryMaybe<Connection>> {
    // A read goes out at once when none is in flight; reads asked for while
    // one is go out together when it returns, one per connection (10
    // connections a `getMany`). A read is sent only after every request it
    // serves has asked, so each still sees the connection as stored after
    // it arrived; under load, at a fraction of the CPU.
    const id = lockKey(appId, userId);
    return new Promise((resolve, reject) => {
      let read = this.#reads.get(id);
      if (!read) {
        read = { key: connectionKey(appId, userId), waiters: [] };
        this.#reads.set(id, read);
      }
      read.waiters.push({ resolve, reject });
      if (this.#readsInFlight === 0) this.#sendReads();
    });
  }

  /** Sends the connection reads asked for since the last call. */
  #sendReads(): void {
    const reads = [...this.#reads.values()];
    this.#reads.clear();
    for (let i = 0; i < reads.length; i += KEYS_PER_READ) {
      const chunk = reads.slice(i, i + KEYS_PER_READ);
      this.#readsInFlight++;
      this.#kv.getMany<Connection[]>(chunk.map((read) => read.key)).then(
        (entries) =>
          chunk.forEach((read, j) => {
            for (const waiter of read.waiters) waiter.resolve(entries[j]);
          }),
        (error) =>
          chunk.forEach((read) => {
            for (const waiter of read.waiters) waiter.reject(error);
          }),
      ).finally(() => {
        if (--this.#readsInFlight === 0 && this.#reads.size) this.#sendReads();
      });
    }
  }

  #admitUncapped<T extends { boundNano: bigint }>(
    lease: LiveLease,
    size: (context: HoldContext) => T,
    context: HoldContext,
  ): { sized: T; context: HoldContext } {
    const sized = fitted(size(context), null);
    lease.inFlightNano += sized.boundNano;
    return { sized, context };
  }

  /** In memory: the request fits what the lease has left. */
  #admitFromLease<T extends { boundNano: bigint }>(
    lease: LiveLease,
    size: (context: HoldContext) => T,
    contextFor: (remainingNano: bigint | null) => HoldContext,
  ): { sized: T; context: HoldContext } | undefined {
    if (lease.knownRemainingNano === null || lease.versionstamp === null) {
      return undefined;
    }
    const available = lease.availableNano;
    const context = contextFor(available + lease.knownRemainingNano);
    let sized: T;
    try {
      sized = size(context);
    } catch {
      // Decided by the writer, against the ledger as committed.
      return undefined;
    }
    if (sized.boundNano < 0n || sized.boundNano > available) return undefined;
    lease.inFlightNano += sized.boundNano;
    return { sized, context };
  }

  /** Through the writer: the lease grows from the ledger as the request needs. */
  async #admitByGrowing<T extends { boundNano: bigint }>(
    lease: LiveLease,
    connection: Deno.KvEntry<Connection>,
    size: (context: HoldContext) => T,
    contextFor: (remainingNano: bigint | null) => HoldContext,
  ): Promise<{ sized: T; context: HoldContext } | undefined> {
    let last: { sized: T; context: HoldContext } | undefined;
    const outcome = await this.#writer.grow(lease, connection, (remaining) => {
      const context = contextFor(remaining);
      last = { sized: fitted(size(context), remaining), context };
      return last.sized.boundNano;
    });
    return outcome === "admitted" ? last : undefined;
  }

  /** The connection's current lease, or a new one if it changed. */
  #leaseFor(
    appId: string,
    userId: string,
    period: string,
    capNano: bigint | null,
    connectionVersionstamp: string,
    now: number,
  ): LiveLease {
    const key = lockKey(appId, userId);
    const current = this.#leases.get(key);
    if (
      current && !current.dead && current.period === period &&
      current.connectionVersionstamp === connectionVersionstamp
    ) {
      return current;
    }
    if (current) this.#retire(current);
    const lease = new LiveLease({
      id: requestId(now, "lease"),
      appId,
      userId,
      period,
      capNano,
      connectionVersionstamp,
      createdAt: now,
    });
    this.#leases.set(key, lease);
    this.#byId.set(lease.id, lease);
    return lease;
  }

  /** No new requests on `lease`; its budget goes back once it drains. */
  #retire(lease: LiveLease): void {
    lease.retired = true;
    const key = lockKey(lease.appId, lease.userId);
    if (this.#leases.get(key) === lease) this.#leases.delete(key);
    this.#releaseIfDrained(lease);
  }

  #releaseIfDrained(lease: LiveLease): void {
    if (!lease.retired || !lease.drained || lease.upkeepQueued) return;
    if (lease.dead || lease.capNano === null || lease.versionstamp === null) {
      this.#drop(lease);
      return;
    }
    lease.upkeepQueued = true;
    this.#writer.release(lease).finally(() => {
      lease.upkeepQueued = false;
      if (lease.dead) this.#drop(lease);
    });
  }

  #drop(lease: LiveLease): void {
    this.#byId.delete(lease.id);
    const key = lockKey(lease.appId, lease.userId);
    if (this.#leases.get(key) === lease) this.#leases.delete(key);
    this.#writer.forget(lease);
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
      grantLockKey(grantId),
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
            this.#grantHolds++;
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
   * usage entry, in one (group) commit. Returns false when the hold was
   * already finished (e.g. by its expiry), in which case nothing changes.
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
    if (hold.grantId !== null) return await this.#finishGrant(hold, charge);
    const open = this.#holds.get(hold.id);
    if (!open) return false;
    const started = performance.now();
    this.#holds.delete(hold.id);
    const { lease } = open;
    lease.inFlightNano -= open.hold.boundNano;
    lease.requests--;
    lease.unsettledNano += charge.costNano;
    lease.settling++;
    lease.lastUsed = performance.now();
    const settled = await this.#writer.settle(
      lease,
      open.hold,
      usageEntry(open.hold, charge, this.#clock()),
    );
    this.#releaseIfDrained(lease);
    this.#metrics?.observe(
      "wattfare_settle_seconds",
      (performance.now() - started) / 1000,
    );
    return settled;
  }

  /** Returns a hold's budget untouched: the upstream served nothing. */
  async release(hold: Hold): Promise<boolean> {
    if (hold.grantId !== null) return await this.#finishGrant(hold, null);
    const open = this.#holds.get(hold.id);
    if (!open) return false;
    this.#holds.delete(hold.id);
    // Nothing was spent: the bound simply goes back to the lease.
    open.lease.inFlightNano -= open.hold.boundNano;
    open.lease.requests--;
    this.#releaseIfDrained(open.lease);
    return true;
  }

  /**
   * Settles a grant's hold that outlived its expiry at its full bound: the
   * process that placed it died, or lost track of it. A no-op if it was
   * settled.
   */
  async expire(holdId: string): Promise<boolean> {
    const hold = (await this.#kv.get<Hold>(holdKey(holdId))).value;
    return hold ? await this.#finishGrant(hold, "bound") : false;
  }

  /**
   * Expires every grant hold and lease past its expiry (at start-up, in case
   * the queue lags).
   */
  async expireOverdue(): Promise<number> {
    let count = 0;
    const now = this.#clock();
    for await (const entry of this.#kv.list<Hold>({ prefix: holdsPrefix() })) {
      if (entry.value.expiresAt <= now && await this.expire(entry.value.id)) {
        count++;
      }
    }
    for await (
      const entry of this.#kv.list<Lease>({ prefix: leasesPrefix() })
    ) {
      if (
        entry.value.expiresAt <= now && !this.#byId.has(entry.value.id) &&
        await this.#expireLease(entry)
      ) {
        count++;
      }
    }
    return count;
  }

  /** The queue handler's part: expires holds and leases, ignores other messages. */
  async handleQueueMessage(message: unknown): Promise<void> {
    const expiry = message as
      | Partial<HoldExpiryMessage>
      | Partial<LeaseExpiryMessage>
      | null;
    if (expiry?.kind === "hold_expiry" && typeof expiry.holdId === "string") {
      await this.expire(expiry.holdId);
    }
    if (
      expiry?.kind === "lease_expiry" && typeof expiry.leaseId === "string"
    ) {
      await this.#onLeaseExpiry(expiry.leaseId);
    }
  }

  /**
   * What this process holds of a connection's period budget beyond its
   * requests in flight: leased, unused, and shown as remaining by status
   * pages. Waits for settlements queued so far, so a caller reads its own
   * writes.
   */
  async unusedLeaseNano(
    appId: string,
    userId: string,
    period: string,
  ): Promise<bigint> {
    await this.#writer.idle();
    let unused = 0n;
    for (const lease of this.#byId.values()) {
      if (
        lease.appId === appId && lease.userId === userId &&
        lease.period === period && !lease.dead && lease.capNano !== null &&
        lease.availableNano > 0n
      ) {
        unused += lease.availableNano;
      }
    }
    return unused;
  }

  /**
   * Commits every queued settlement and gives back every lease with nothing
   * in flight (for tests and shutdown).
   */
  async quiesce(): Promise<void> {
    await this.#writer.idle();
    for (const lease of [...this.#byId.values()]) {
      if (lease.drained) this.#retire(lease);
    }
    await this.#writer.idle();
  }

  /** Stops the upkeep timer and gives every drained lease back. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.quiesce();
  }

  /** Starts the upkeep timer if it is not running. */
  #tickSoon(): void {
    if (this.#timer !== undefined) return;
    const every = Math.max(10, Math.min(250, this.#holdTtlMs / 4));
    const timer = setInterval(() => this.#tick(), every);
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /**
   * Upkeep: expires holds past their expiry (a request this process lost
   * track of), renews leases nearing theirs, and gives idle leases back.
   */
  #tick(): void {
    const now = this.#clock();
    for (const { hold } of [...this.#holds.values()]) {
      if (hold.expiresAt <= now) {
        this.settle(hold, expiredCharge(hold)).catch(logFailure);
      }
    }
    const idleSince = performance.now() - this.#leaseIdleMs;
    for (const lease of [...this.#byId.values()]) {
      if (lease.retired || lease.dead) continue;
      if (lease.drained && lease.lastUsed < idleSince) {
        this.#retire(lease);
      } else if (
        lease.versionstamp !== null && !lease.upkeepQueued &&
        lease.expiresAt - now < this.#holdTtlMs / 2
      ) {
        lease.upkeepQueued = true;
        this.#writer.renew(lease).catch(logFailure).finally(() => {
          lease.upkeepQueued = false;
        });
      }
    }
    if (!this.#holds.size && !this.#byId.size) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  /**
   * A lease's expiry message: a lease of this process is renewed and
   * checked again later; another living process's lease too; a lease past
   * its expiry belongs to a dead process and is charged in full.
   */
  async #onLeaseExpiry(leaseId: string): Promise<void> {
    const entry = await this.#kv.get<Lease>(leaseKey(leaseId));
    if (!entry.value) return;
    const message: LeaseExpiryMessage = { kind: "lease_expiry", leaseId };
    const ours = this.#byId.get(leaseId);
    if (ours && !ours.dead) {
      await this.#writer.renew(ours);
      await this.#kv.enqueue(message, {
        delay: Math.max(0, ours.expiresAt - this.#clock()),
      });
      return;
    }
    const left = entry.value.expiresAt - this.#clock();
    if (left > 0) {
      await this.#kv.enqueue(message, { delay: left });
      return;
    }
    await this.#expireLease(entry);
  }

  /**
   * Charges what an expired lease still reserved, as one `expired` usage
   * entry, and deletes it. False if it changed meanwhile (renewed, or
   * expired by someone else).
   */
  async #expireLease(entry: Deno.KvEntry<Lease>): Promise<boolean> {
    const lease = entry.value;
    while (true) {
      const key = ledgerKey(lease.appId, lease.userId, lease.period);
      const ledgerEntry = await this.#kv.get<LedgerRecord>(key);
      const ledger = ledgerEntry.value ?? EMPTY_LEDGER;
      const op = this.#kv.atomic()
        .check(entry)
        .check(ledgerEntry)
        .delete(leaseKey(lease.id))
        .set(
          key,
          {
            spent: ledger.spent + lease.amountNano,
            held: ledger.held - lease.amountNano,
          } satisfies LedgerRecord,
        );
      if (lease.amountNano > 0n) {
        op.set(
          usageKey(lease.appId, lease.userId, lease.period, lease.id),
          {
            requestId: lease.id,
            appId: lease.appId,
            userId: lease.userId,
            grantId: null,
            model: UNSETTLED_MODEL,
            promptTokens: 0,
            completionTokens: 0,
            costNano: lease.amountNano,
            basis: "expired",
            overshootNano: 0n,
            createdAt: this.#clock(),
          } satisfies UsageEntry,
        );
      }
      if ((await op.commit()).ok) return true;
      const again = await this.#kv.get<Lease>(leaseKey(lease.id));
      if (again.versionstamp !== entry.versionstamp) return false;
      this.#metrics?.count("wattfare_kv_commit_retries_total", {
        op: "expire",
      });
    }
  }

  /**
   * Settles or releases a grant's hold. It is read again inside the lock:
   * the stored hold, if still there, is the one that counts.
   */
  async #finishGrant(
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
          // A request the upstream never served is given back.
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
          this.#grantHolds = Math.max(0, this.#grantHolds - 1);
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

/** The model named on the usage entry of an expired lease. */
export const UNSETTLED_MODEL = "(requests unsettled when a process stopped)";

/** Deno KV reads at most 10 keys per `getMany`. */
const KEYS_PER_READ = 10;

/** A connection read asked for and not sent yet, with everyone waiting on it. */
interface PendingRead {
  key: Deno.KvKey;
  waiters: {
    resolve(entry: Deno.KvEntryMaybe<Connection>): void;
    reject(error: unknown): void;
  }[];
}

function lockKey(appId: string, userId: string): string {
  return JSON.stringify([appId, userId]);
}

function grantLockKey(grantId: string): string {
  return JSON.stringify(["grant", grantId]);
}

/** The charge of a hold that expired unsettled: its whole bound. */
function expiredCharge(hold: Hold): Charge {
  return {
    costNano: hold.boundNano,
    promptTokens: 0,
    completionTokens: 0,
    basis: "expired",
  };
}

/** The immutable record of `hold` settled with `charge`. */
function usageEntry(hold: Hold, charge: Charge, now: number): UsageEntry {
  return {
    requestId: hold.id,
    appId: hold.appId,
    userId: hold.userId,
    grantId: hold.grantId,
    model: hold.model,
    promptTokens: charge.promptTokens,
    completionTokens: charge.completionTokens,
    costNano: charge.costNano,
    basis: charge.basis,
    overshootNano: charge.costNano > hold.boundNano
      ? charge.costNano - hold.boundNano
      : 0n,
    createdAt: now,
  };
}

function logFailure(error: unknown): void {
  console.error(JSON.stringify({
    level: "error",
    msg: "ledger upkeep failed",
    error: error instanceof Error
      ? `${error.name}: ${error.message}`
      : String(error),
  }));
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
