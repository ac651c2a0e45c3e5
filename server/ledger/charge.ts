import type { Grant } from "../grants/grant.ts";
import type { Hold, UsageEntry } from "./hold.ts";

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

/** The charge of a hold that expired unsettled: its whole bound. */
export function expiredCharge(hold: Hold): Charge {
  return {
    costNano: hold.boundNano,
    promptTokens: 0,
    completionTokens: 0,
    basis: "expired",
  };
}

/** The immutable record of `hold` settled with `charge`. */
export function usageEntry(
  hold: Hold,
  charge: Charge,
  now: number,
): UsageEntry {
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
