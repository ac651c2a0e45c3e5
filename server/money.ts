/**
 * Exact money. Every amount is a `bigint` of nano-dollars (1e-9 USD); every
 * decimal that comes from outside (upstream costs, model prices, user caps) is
 * parsed from its text, so no float ever touches the money path.
 *
 * @module
 */

/**
 * Direction of rounding when a decimal has more fraction digits than its
 * target scale: `"up"` is toward +∞, `"down"` toward −∞.
 */
export type Rounding = "up" | "down";

/** Fraction digits of a nano-dollar amount. */
const NANO_DECIMALS = 9;

/**
 * Fraction digits of a per-token price: one unit is 1e-18 USD, which holds
 * OpenRouter's price strings ("0.0000000375") exactly.
 */
export const PRICE_DECIMALS = 18;

/** Price units (1e-18 USD) in one nano-dollar. */
const PRICE_UNITS_PER_NANO = 10n ** BigInt(PRICE_DECIMALS - NANO_DECIMALS);

/** The JSON number grammar (RFC 8259 §6), captured as sign, integer, fraction, exponent. */
const JSON_NUMBER = /^(-?)(0|[1-9]\d*)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * Most integer digits a parsed value may have. Values of 1e309 and above lie
 * beyond every finite double, so they are never real amounts; refusing them
 * keeps the work a hostile exponent ("1e999999999") can cause bounded.
 */
const MAX_INTEGER_DIGITS = 309;

/**
 * Parses a decimal in the JSON number grammar exactly, scaled to `decimals`
 * fraction digits: `parseDecimal("1.5", 2, "up") === 150n`.
 *
 * Accepted: an optional `-`, an integer part without leading zeros, an
 * optional `.` with at least one digit, an optional exponent (`e`/`E`, optional
 * sign). So "0.0000123", "1e-7", "1.5E+3" parse; "+1", "01", "1.", ".5", "NaN",
 * "Infinity" and surrounding whitespace do not. When digits fall beyond the
 * scale, the result is rounded in the `rounding` direction; values too small
 * to reach the scale round to 0 or to one unit like any other.
 *
 * @throws {RangeError} when `text` is not a JSON number, when its magnitude is
 * 1e309 or more, or when `decimals` is not a non-negative integer.
 */
export function parseDecimal(
  text: string,
  decimals: number,
  rounding: Rounding,
): bigint {
  if (!Number.isSafeInteger(decimals) || decimals < 0) {
    throw new RangeError(
      `decimals must be a non-negative integer, got ${decimals}`,
    );
  }
  const match = JSON_NUMBER.exec(text);
  if (match === null) {
    throw new RangeError(`not a JSON number: ${quote(text)}`);
  }
  const [, sign, whole, fraction = "", exponent = "0"] = match;
  const digits = whole + fraction;
  const significant = digits.replace(/^0+/, "");
  if (significant === "") return 0n;
  // Where the decimal point sits, counted in digits from the start of
  // `significant`. The exponent counts places, not money: as a Number it is
  // exact up to 2^53, and past that it only has to compare as huge or tiny.
  const point = whole.length - (digits.length - significant.length) +
    Number(exponent);
  if (point > MAX_INTEGER_DIGITS) {
    throw new RangeError(`out of range: ${quote(text)}`);
  }
  // Digits that stay left of the scaled point; the rest are dropped.
  const cut = Math.max(0, point + decimals);
  const kept = significant.slice(0, cut).padEnd(cut, "0");
  const magnitude = kept === "" ? 0n : BigInt(kept);
  const inexact = /[1-9]/.test(significant.slice(cut));
  // Truncation moves toward zero, so only one direction needs a bump per sign.
  const negative = sign === "-";
  const bump = inexact && rounding === (negative ? "down" : "up");
  const rounded = bump ? magnitude + 1n : magnitude;
  return negative ? -rounded : rounded;
}

/**
 * Parses a USD decimal (e.g. an upstream `usage.cost` as JSON text) into
 * nano-dollars, rounding up by default so that a charge is never understated.
 *
 * @throws {RangeError} as {@link parseDecimal}.
 */
export function parseUsd(text: string, rounding: Rounding = "up"): bigint {
  return parseDecimal(text, NANO_DECIMALS, rounding);
}

/**
 * Parses a USD-per-token price string (OpenRouter's `pricing.prompt`, e.g.
 * "0.00000015") into 1e-18 USD units, rounding up any digit beyond that.
 *
 * @throws {RangeError} for anything but a non-negative JSON number, including
 * a minus sign on zero: OpenRouter marks variable-priced models with "-1", and
 * such a model must count as unpriced rather than free.
 */
export function parsePrice(text: string): bigint {
  if (text.startsWith("-")) {
    throw new RangeError(`negative price: ${quote(text)}`);
  }
  return parseDecimal(text, PRICE_DECIMALS, "up");
}

/**
 * Cost in nano-dollars of `tokens` at `pricePerToken` (1e-18 USD units),
 * rounded up.
 *
 * @throws {RangeError} for a negative or fractional token count or a
 * negative price.
 */
export function costOf(tokens: bigint | number, pricePerToken: bigint): bigint {
  return priceUnitsToNano(count(tokens) * nonNegativePrice(pricePerToken));
}

/** Token counts of one request, as {@link tokenCost} reads them. */
export interface TokenCounts {
  /** Input tokens. */
  promptTokens: bigint | number;
  /** Output tokens, reasoning included. */
  completionTokens: bigint | number;
}

/** A model's prices in 1e-18 USD units, as {@link parsePrice} returns them. */
export interface TokenPrices {
  /** Per prompt token. */
  prompt: bigint;
  /** Per completion token. */
  completion: bigint;
  /** Per request, when the model charges one. */
  request?: bigint;
}

/**
 * Exact cost in nano-dollars of a request: prompt, completion and request
 * prices summed in price units and rounded up once, so that rounding never
 * adds more than one nano-dollar.
 *
 * @throws {RangeError} as {@link costOf}.
 */
export function tokenCost(tokens: TokenCounts, prices: TokenPrices): bigint {
  const units = count(tokens.promptTokens) * nonNegativePrice(prices.prompt) +
    count(tokens.completionTokens) * nonNegativePrice(prices.completion) +
    nonNegativePrice(prices.request ?? 0n);
  return priceUnitsToNano(units);
}

/**
 * Converts a USD amount a user sent as a JSON number (a cap of 10, 0.01) to
 * nano-dollars. It goes through `String(value)`, the shortest text that reads
 * back as the same double, which is the decimal the user wrote; so 0.01 is
 * exactly 10,000,000 nano-dollars, not the double's binary expansion.
 *
 * @throws {RangeError} for a non-finite or negative value.
 */
export function usdToNano(value: number, rounding: Rounding): bigint {
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`not a non-negative finite USD amount: ${value}`);
  }
  return parseUsd(String(value), rounding);
}

/**
 * USD as a JS number rounded to 6 decimals (half away from zero), for display
 * in the API. The rounding is done on the integer, and the number is read from
 * the exact decimal text, so no float error creeps in.
 */
export function nanoToUsd(nano: bigint): number {
  const magnitude = nano < 0n ? -nano : nano;
  const micros = (magnitude + 500n) / 1000n;
  return Number(formatDecimal(nano < 0n ? -micros : micros, 6));
}

/**
 * Exact decimal USD text of a nano-dollar amount, trailing zeros trimmed:
 * `formatUsd(12300n) === "0.0000123"`. {@link parseUsd} reads it back exactly.
 */
export function formatUsd(nano: bigint): string {
  return formatDecimal(nano, NANO_DECIMALS);
}

/** `value / 10^decimals` as exact decimal text without trailing zeros. */
function formatDecimal(value: bigint, decimals: number): string {
  const digits = (value < 0n ? -value : value).toString().padStart(
    decimals + 1,
    "0",
  );
  const point = digits.length - decimals;
  const fraction = digits.slice(point).replace(/0+$/, "");
  return (value < 0n ? "-" : "") + digits.slice(0, point) +
    (fraction === "" ? "" : `.${fraction}`);
}

/** Price units to nano-dollars, rounded up (the units are never negative here). */
function priceUnitsToNano(units: bigint): bigint {
  return (units + PRICE_UNITS_PER_NANO - 1n) / PRICE_UNITS_PER_NANO;
}

/** A token count as a bigint, refusing what cannot be a count. */
function count(tokens: bigint | number): bigint {
  if (typeof tokens === "number" && !Number.isSafeInteger(tokens)) {
    throw new RangeError(`token count must be an integer, got ${tokens}`);
  }
  const value = BigInt(tokens);
  if (value < 0n) {
    throw new RangeError(`token count must not be negative, got ${tokens}`);
  }
  return value;
}

/** Refuses a negative price, which would turn a charge into a credit. */
function nonNegativePrice(price: bigint): bigint {
  if (price < 0n) {
    throw new RangeError(`price must not be negative, got ${price}`);
  }
  return price;
}

/** `text` quoted for an error message, cut short if long. */
function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}
