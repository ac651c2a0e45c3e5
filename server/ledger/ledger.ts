import { WattfareError } from "../errors.ts";
import { holdKey, holdsPrefix, leaseKey, leasesPrefix } from "../kv/keys.ts";
import type { Connection } from "../connections/connection.ts";
import { logError } from "../observability/log_error.ts";
import type { Metrics } from "../observability/metrics.ts";
import {
  type Charge,
  expiredCharge,
  type Settled,
  usageEntry,
} from "./charge.ts";
import { ConnectionReads } from "./connection_reads.ts";
import { expireLease } from "./expire_lease.ts";
import { GrantHolds } from "./grant_holds.ts";
import { type Hold, type HoldExpiryMessage, newHold } from "./hold.ts";
import { fitted, type HoldContext } from "./hold_context.ts";
import type { Lease, LeaseExpiryMessage } from "./lease.ts";
import { LedgerWriter } from "./ledger_writer.ts";
import { LiveLease } from "./live_lease.ts";
import { periodStart } from "./period.ts";
import { requestId } from "./request_id.ts";

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
  readonly #metrics: Metrics | undefined;
  readonly #onSettled: ((settled: Settled) => void) | undefined;
  readonly #writer: LedgerWriter;
  /** The lease each connection's new requests draw on. */
  readonly #leases = new Map<string, LiveLease>();
  /** Every lease this process holds (current or draining), by id. */
  readonly #byId = new Map<string, LiveLease>();
  /** A connection's requests in flight, by request id. */
  readonly #holds = new Map<string, { hold: Hold; lease: LiveLease }>();
  readonly #reads: ConnectionReads;
  readonly #grants: GrantHolds;
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
    this.#reads = new ConnectionReads(kv);
    this.#grants = new GrantHolds(kv, options);
    this.#writer = new LedgerWriter(kv, {
      clock: options.clock,
      leaseTtlMs: options.holdTtlMs,
      metrics: options.metrics,
      onSettled: (settled) => this.#onSettled?.({ ...settled, grant: null }),
    });
    this.#metrics?.gauge(
      "wattfare_holds_open",
      "Holds placed by this process and not yet settled or released.",
      () => this.#holds.size + this.#grants.open,
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
      const hold = newHold(now, this.#holdTtlMs, {
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
    return this.#reads.read(appId, userId);
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

  /** Takes one request of a grant: see {@link GrantHolds.place}. */
  placeGrantHold<T extends { boundNano: bigint }>(
    appId: string,
    grantId: string,
    model: string,
    size: (context: HoldContext) => T,
  ): Promise<{ hold: Hold; sized: T; context: HoldContext }> {
    return this.#grants.place(appId, grantId, model, size);
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
    if (hold.grantId !== null) return await this.#grants.finish(hold, charge);
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
    if (hold.grantId !== null) return await this.#grants.finish(hold, null);
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
    return hold ? await this.#grants.finish(hold, "bound") : false;
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
        await expireLease(this.#kv, entry, this.#clock(), this.#metrics)
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
    await expireLease(this.#kv, entry, this.#clock(), this.#metrics);
  }
}

function lockKey(appId: string, userId: string): string {
  return JSON.stringify([appId, userId]);
}

function logFailure(error: unknown): void {
  logError("ledger upkeep failed", error);
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
