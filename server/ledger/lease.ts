/**
 * A durable reservation of part of a connection's remaining budget, taken by
 * one process, which then admits requests against it in memory. Its amount
 * is counted in the period ledger's `held`, so `spent + held ≤ cap` holds at
 * every commit however the process spends it.
 */
export interface Lease {
  id: string;
  appId: string;
  userId: string;
  /** The period (`YYYY-MM-DD`) whose ledger counts it. */
  period: string;
  /** Reserved nano-dollars not yet settled into `spent`. */
  amountNano: bigint;
  createdAt: number;
  /**
   * Renewed while its process lives; past it, the process is presumed dead
   * and the whole amount is charged (the requests it admitted may have been
   * billed by the upstream).
   */
  expiresAt: number;
}

/** What the lease-expiry queue message carries. */
export interface LeaseExpiryMessage {
  kind: "lease_expiry";
  leaseId: string;
}
