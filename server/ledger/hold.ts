import { requestId } from "./request_id.ts";

/** An upper bound of one request's cost, reserved in the ledger while it runs. */
export interface Hold {
  id: string;
  appId: string;
  /** The connection's user, or `null` for a grant's hold. */
  userId: string | null;
  /** The grant whose budget holds it, or `null` for a connection's hold. */
  grantId: string | null;
  /** The period (`YYYY-MM-DD`) whose ledger holds it (connections only). */
  period: string;
  /** The connection's cap when the hold was placed (for budget alerts). */
  capNano: bigint | null;
  model: string;
  /** Reserved nano-dollars, counted in the ledger's `held`. */
  boundNano: bigint;
  createdAt: number;
  /** When the expiry queue message settles it at the bound, if nothing else did. */
  expiresAt: number;
}

/** A new hold of `fields`, placed at `now`, expiring `ttlMs` later. */
export function newHold(
  now: number,
  ttlMs: number,
  fields: Omit<Hold, "id" | "createdAt" | "expiresAt">,
): Hold {
  return {
    id: requestId(now),
    ...fields,
    createdAt: now,
    expiresAt: now + ttlMs,
  };
}

/** What the hold-expiry queue message carries. */
export interface HoldExpiryMessage {
  kind: "hold_expiry";
  holdId: string;
}

/** The immutable record of one settled request. */
export interface UsageEntry {
  requestId: string;
  appId: string;
  userId: string | null;
  grantId: string | null;
  model: string;
  promptTokens: number;
  completionTokens: number;
  costNano: bigint;
  /**
   * `usage`: the upstream's reported usage; `output_bound`: no usage came (a cut
   * stream), charged from the output seen; `expired`: the hold
   * expired unsettled and was charged in full.
   */
  basis: "usage" | "output_bound" | "expired";
  /** Cost above the hold's bound (only when an upstream price changed). */
  overshootNano: bigint;
  createdAt: number;
}
