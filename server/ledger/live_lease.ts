import type { Lease } from "./lease.ts";

/**
 * This process's view of one of its leases: the committed amount, and what
 * the requests it admitted in memory take out of it. For an uncapped
 * connection there is nothing to reserve, and no lease record is written.
 */
export class LiveLease {
  readonly id: string;
  readonly appId: string;
  readonly userId: string;
  readonly period: string;
  /** The connection's cap as read when the lease was made; `null`: uncapped. */
  readonly capNano: bigint | null;
  /** The connection's versionstamp then: any change to it retires the lease. */
  readonly connectionVersionstamp: string;
  /** The amount as committed (in the ledger's `held`). */
  amountNano = 0n;
  /** The lease record's versionstamp as committed; `null` until written. */
  versionstamp: string | null = null;
  expiresAt = 0;
  readonly createdAt: number;
  /** Bounds of the requests admitted and not yet finished. */
  inFlightNano = 0n;
  requests = 0;
  /** Costs of finished requests whose settlement is not yet committed. */
  unsettledNano = 0n;
  /** How many such settlements there are. */
  settling = 0;
  /** Cap − spent − held as of this process's last commit to the ledger. */
  knownRemainingNano: bigint | null = null;
  /** Takes no new requests; released once drained. */
  retired = false;
  /** Gone from KV (expired by another process): its requests were charged. */
  dead = false;
  /** A renewal or release is queued. */
  upkeepQueued = false;
  /** `performance.now()` of the last admission or settlement, for idle release. */
  lastUsed = performance.now();
  /** Bounds admitted in the current and the previous second, to size growth. */
  #window = { start: 0, current: 0n, previous: 0n };

  constructor(
    fields: {
      id: string;
      appId: string;
      userId: string;
      period: string;
      capNano: bigint | null;
      connectionVersionstamp: string;
      createdAt: number;
    },
  ) {
    this.id = fields.id;
    this.appId = fields.appId;
    this.userId = fields.userId;
    this.period = fields.period;
    this.capNano = fields.capNano;
    this.connectionVersionstamp = fields.connectionVersionstamp;
    this.createdAt = fields.createdAt;
  }

  /** Counts an admitted request's bound towards the lease's recent traffic. */
  noteAdmitted(boundNano: bigint): void {
    const now = performance.now();
    this.#roll(now);
    this.#window.current += boundNano;
    this.lastUsed = now;
  }

  /** Bounds admitted over about the last second. */
  get recentNano(): bigint {
    this.#roll(performance.now());
    return this.#window.current + this.#window.previous;
  }

  #roll(now: number): void {
    const window = this.#window;
    if (now - window.start < 1_000) return;
    window.previous = now - window.start < 2_000 ? window.current : 0n;
    window.current = 0n;
    window.start = now;
  }

  /** What new requests may still take without a commit. */
  get availableNano(): bigint {
    return this.amountNano - this.inFlightNano - this.unsettledNano;
  }

  /** Nothing in flight and nothing waiting to commit. */
  get drained(): boolean {
    return this.requests === 0 && this.settling === 0;
  }

  /** The record as it would be stored with `amountNano` and `expiresAt`. */
  record(amountNano: bigint, expiresAt: number): Lease {
    return {
      id: this.id,
      appId: this.appId,
      userId: this.userId,
      period: this.period,
      amountNano,
      createdAt: this.createdAt,
      expiresAt,
    };
  }
}
