import { PRICE_DECIMALS, tokenCost } from "../money.ts";
import { WattfareError } from "../errors.ts";
import type { ModelPrice } from "./price_book.ts";

/** How a request fits the budget: its completion limit and the bound to hold. */
export interface HoldSize {
  /** The `max_tokens` the upstream will be sent. */
  maxTokens: number;
  /** Cost of the prompt bound plus `maxTokens` completion tokens, rounded up. */
  boundNano: bigint;
}

const UNITS_PER_NANO = 10n ** BigInt(PRICE_DECIMALS - 9);

/**
 * Sizes a hold: the largest completion limit (up to what the client asked
 * for and the model allows) whose worst case fits the remaining budget, so
 * the upstream itself stops at the cap. `402 budget_exceeded` when not even
 * the prompt and one completion token fit.
 */
export function sizeHold(
  model: ModelPrice,
  promptTokens: number,
  requested: number | undefined,
  remainingNano: bigint | null,
): HoldSize {
  const { prices } = model;
  let maxTokens = Math.min(
    requested ?? model.maxCompletionTokens,
    model.maxCompletionTokens,
  );
  if (remainingNano !== null) {
    const budget = remainingNano * UNITS_PER_NANO;
    const fixed = BigInt(promptTokens) * prices.prompt + (prices.request ?? 0n);
    if (fixed + prices.completion > budget) {
      throw new WattfareError(
        "budget_exceeded",
        "This request does not fit the user's remaining monthly budget.",
      );
    }
    if (prices.completion > 0n) {
      const fit = (budget - fixed) / prices.completion;
      if (fit < BigInt(maxTokens)) maxTokens = Number(fit);
    }
  }
  return {
    maxTokens,
    boundNano: tokenCost(
      { promptTokens, completionTokens: maxTokens },
      prices,
    ),
  };
}
