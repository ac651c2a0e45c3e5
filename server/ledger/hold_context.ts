import type { Sealed } from "../crypto/secret_box.ts";

/** The budget a hold was placed on. */
export interface HoldContext {
  /** What the hold may take at most; `null` when uncapped. */
  remainingNano: bigint | null;
  /** The funding key of the connection or grant. */
  funding: Sealed;
}

/** A sized hold, checked against the budget it must fit. */
export function fitted<T extends { boundNano: bigint }>(
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
