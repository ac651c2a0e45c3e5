/**
 * Exact USD arithmetic for the sandbox: amounts are bigint atto-dollars
 * (1e-18 USD), fine enough to hold any per-token price exactly, so a bill is
 * the exact decimal product of tokens and prices, never a float.
 *
 * Deliberately separate from `server/money.ts`: the sandbox is the oracle
 * tests check the ledger against, so it must not share the ledger's code.
 */
import type { ModelPricing } from "./catalogue.ts";

const SCALE_DIGITS = 18;
const SCALE = 10n ** BigInt(SCALE_DIGITS);
const NANO_PER_ATTO = 10n ** 9n;

/** Parses a non-negative decimal (`"0.00000015"`, `"5"`, `"1e-7"`) into atto-USD. */
export function parseUsd(text: string): bigint {
  const match = /^(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match) throw new RangeError(`not a non-negative decimal: ${text}`);
  const [, whole, fraction = "", exponentText = "0"] = match;
  const digits = BigInt(whole + fraction);
  const shift = SCALE_DIGITS - fraction.length + Number(exponentText);
  if (shift >= 0) return digits * 10n ** BigInt(shift);
  const divisor = 10n ** BigInt(-shift);
  if (digits % divisor !== 0n) {
    throw new RangeError(`more precise than 1e-18 USD: ${text}`);
  }
  return digits / divisor;
}

/** Formats non-negative atto-USD as the shortest exact decimal (`"0.0000123"`). */
export function formatUsd(atto: bigint): string {
  const fraction = (atto % SCALE).toString().padStart(SCALE_DIGITS, "0")
    .replace(/0+$/, "");
  return `${atto / SCALE}${fraction ? `.${fraction}` : ""}`;
}

// V8 ships JSON.rawJSON (TC39 "JSON.parse source text access"); TypeScript's
// lib does not declare it yet.
const { rawJSON } = JSON as unknown as { rawJSON(text: string): unknown };

/**
 * A value that JSON.stringify writes as the exact decimal number, so a cost
 * of 0.0000123 never turns into 1.23e-5 or a binary-float artifact.
 */
export function usdJson(atto: bigint): unknown {
  return rawJSON(formatUsd(atto));
}

/** Atto-USD rounded up to whole nano-USD, as Wattfare's ledger charges. */
export function ceilToNano(atto: bigint): bigint {
  return (atto + NANO_PER_ATTO - 1n) / NANO_PER_ATTO;
}

/** Exact cost of one request: tokens × per-token prices + the per-request price. */
export function costOf(
  pricing: ModelPricing,
  promptTokens: number,
  completionTokens: number,
): bigint {
  return BigInt(promptTokens) * parseUsd(pricing.prompt) +
    BigInt(completionTokens) * parseUsd(pricing.completion) +
    parseUsd(pricing.request);
}
