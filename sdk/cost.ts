/**
 * USD amounts as the ledger records them: decimals rounded up to whole
 * nano-dollars, computed on the decimal text so no float error creeps in.
 * Internal to the package.
 *
 * @module
 */

const DECIMAL = /^(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const NANO_DIGITS = 9;

/**
 * `value` (a non-negative decimal, as text or a number) rounded up to the
 * next nano-dollar, as the number nearest to that decimal; `undefined` when
 * it is not a non-negative finite amount.
 *
 * A number goes through `String(value)`, the shortest decimal that reads
 * back as the same double, i.e. the text the upstream sent.
 */
export function ceilToNanoUsd(value: unknown): number | undefined {
  const text = typeof value === "number"
    ? (Number.isFinite(value) && value >= 0 ? String(value) : "")
    : typeof value === "string"
    ? value.trim()
    : "";
  const match = DECIMAL.exec(text);
  if (!match) return undefined;
  const [, whole, fraction = "", exponentText = "0"] = match;
  const exponent = Number(exponentText);
  if (!Number.isSafeInteger(exponent) || Math.abs(exponent) > 400) {
    return undefined;
  }
  // digits × 10^(exponent − fraction length) in units of 10^-9.
  const digits = BigInt(whole + fraction);
  const shift = exponent - fraction.length + NANO_DIGITS;
  let nano: bigint;
  if (shift >= 0) {
    nano = digits * 10n ** BigInt(shift);
  } else {
    const divisor = 10n ** BigInt(-shift);
    nano = (digits + divisor - 1n) / divisor;
  }
  return Number(nano) / 10 ** NANO_DIGITS;
}
