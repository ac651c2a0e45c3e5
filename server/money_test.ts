import assert from "node:assert/strict";
import {
  costOf,
  formatUsd,
  nanoToUsd,
  parseDecimal,
  parsePrice,
  parseUsd,
  PRICE_DECIMALS,
  tokenCost,
  usdToNano,
} from "./money.ts";

/** A seeded generator (mulberry32), so that a failing case can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Random bigints of widely varying size, both signs, zero included. */
function randomBigints(seed: number, count: number): bigint[] {
  const next = random(seed);
  const values: bigint[] = [0n, 1n, -1n, 999_999_999n, 1_000_000_000n];
  while (values.length < count) {
    let value = 0n;
    const limbs = 1 + Math.floor(next() * 5);
    for (let i = 0; i < limbs; i++) {
      value = (value << 32n) | BigInt(Math.floor(next() * 2 ** 32));
    }
    // Shift right by a random amount so that small values are common too.
    value >>= BigInt(Math.floor(next() * 32 * limbs));
    values.push(next() < 0.5 ? -value : value);
  }
  return values;
}

/** Floor and ceiling of a / b for b > 0, on bigints (which truncate toward zero). */
function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}
function ceilDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a > 0n ? q + 1n : q;
}

/** `value / 10^decimals` as plain decimal text, written independently of money.ts. */
function decimalText(value: bigint, decimals: number): string {
  const sign = value < 0n ? "-" : "";
  const digits = (value < 0n ? -value : value).toString().padStart(
    decimals + 1,
    "0",
  );
  const point = digits.length - decimals;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

Deno.test("parseDecimal reads plain decimals exactly", () => {
  assert.equal(parseDecimal("0", 9, "up"), 0n);
  assert.equal(parseDecimal("-0", 9, "down"), 0n);
  assert.equal(parseDecimal("0.0000123", 9, "up"), 12300n);
  assert.equal(parseDecimal("42", 0, "up"), 42n);
  assert.equal(parseDecimal("-42.5", 1, "up"), -425n);
  assert.equal(parseDecimal("0.10", 1, "up"), 1n);
  assert.equal(
    parseDecimal("123.456789012345678901", 18, "up"),
    123456789012345678901n,
  );
  assert.equal(
    parseDecimal("123.456789012345678901", 18, "down"),
    123456789012345678901n,
  );
  assert.equal(
    parseDecimal("0.000000000000000001", 18, "down"),
    1n,
  );
});

Deno.test("parseDecimal reads exponent forms", () => {
  assert.equal(parseDecimal("1e-7", 9, "up"), 100n);
  assert.equal(parseDecimal("1.5E+3", 9, "up"), 1_500_000_000_000n);
  assert.equal(parseDecimal("1E9", 0, "up"), 1_000_000_000n);
  assert.equal(parseDecimal("100e-2", 0, "down"), 1n);
  assert.equal(parseDecimal("0.001e3", 0, "down"), 1n);
  assert.equal(parseDecimal("1e+0", 0, "down"), 1n);
  assert.equal(parseDecimal("-2.5e-9", 9, "up"), -2n);
  assert.equal(parseDecimal("-2.5e-9", 9, "down"), -3n);
  assert.equal(parseDecimal("1.234e-0007", 9, "down"), 123n);
  assert.equal(parseDecimal("0e999999999999999999999", 9, "up"), 0n);
  // Just under the largest accepted magnitude.
  assert.equal(parseDecimal("9.99e308", 0, "up"), 999n * 10n ** 306n);
});

Deno.test("parseDecimal rounds toward +∞ or −∞ only when digits are dropped", () => {
  const cases: [string, bigint, bigint][] = [
    // text, up, down (at 9 decimals)
    ["0.000000001", 1n, 1n],
    ["0.0000000010000", 1n, 1n],
    ["0.0000000011", 2n, 1n],
    ["0.0000000019999", 2n, 1n],
    ["0.0000000000000000001", 1n, 0n],
    ["-0.000000001", -1n, -1n],
    ["-0.0000000011", -1n, -2n],
    ["-0.0000000000000000001", 0n, -1n],
    ["1.9999999999", 2_000_000_000n, 1_999_999_999n],
    ["1e-400", 1n, 0n],
    ["-1e-400", 0n, -1n],
    ["1e-99999999999999999999999", 1n, 0n],
  ];
  for (const [text, up, down] of cases) {
    assert.equal(parseDecimal(text, 9, "up"), up, text);
    assert.equal(parseDecimal(text, 9, "down"), down, text);
  }
});

Deno.test("parseDecimal refuses anything but a JSON number", () => {
  const bad = [
    "",
    " 1",
    "1 ",
    "+1",
    "01",
    "-01",
    "1.",
    ".5",
    "-",
    "-.5",
    "1e",
    "1e+",
    "1.e5",
    "NaN",
    "Infinity",
    "-Infinity",
    "0x10",
    "1_000",
    "1,5",
    "1/2",
    "١",
    "1e400",
    "1e309",
    "-1e309",
    "1e99999999999999999999999",
  ];
  for (const text of bad) {
    assert.throws(() => parseDecimal(text, 9, "up"), RangeError, text);
  }
  assert.throws(() => parseDecimal("1", -1, "up"), RangeError);
  assert.throws(() => parseDecimal("1", 1.5, "up"), RangeError);
  assert.throws(
    () => parseDecimal("12abc", 9, "up"),
    /not a JSON number: "12abc"/,
  );
});

Deno.test("parseDecimal does bounded work on very long input", () => {
  const tiny = `0.${"0".repeat(1_000_000)}1`;
  assert.equal(parseDecimal(tiny, 9, "up"), 1n);
  assert.equal(parseDecimal(tiny, 9, "down"), 0n);
  assert.throws(() => parseDecimal("1".repeat(400), 0, "up"), RangeError);
});

Deno.test("parseUsd scales to nano-dollars, rounding up by default", () => {
  assert.equal(parseUsd("0.0000123"), 12300n);
  assert.equal(parseUsd("1e-7"), 100n);
  assert.equal(parseUsd("0.000001234567891"), 1235n);
  assert.equal(parseUsd("0.000001234567891", "down"), 1234n);
  assert.equal(parseUsd("0.000000000001"), 1n);
  assert.equal(parseUsd("10"), 10_000_000_000n);
});

Deno.test("parsePrice reads OpenRouter price strings into 1e-18 USD", () => {
  assert.equal(PRICE_DECIMALS, 18);
  assert.equal(parsePrice("0.00000015"), 150_000_000_000n);
  assert.equal(parsePrice("0.0000000375"), 37_500_000_000n);
  assert.equal(parsePrice("0"), 0n);
  assert.equal(parsePrice("0.000000000000000001"), 1n);
  assert.equal(parsePrice("0.0000000000000000001"), 1n);
  assert.equal(parsePrice("1e-6"), 1_000_000_000_000n);
  for (const text of ["-1", "-0", "-0.0000000000000000001", "abc", ""]) {
    assert.throws(() => parsePrice(text), RangeError, text);
  }
});

Deno.test("costOf multiplies exactly and rounds up to the nano-dollar", () => {
  assert.equal(costOf(1000, parsePrice("0.00000015")), 150_000n);
  assert.equal(costOf(1000n, parsePrice("0.00000015")), 150_000n);
  assert.equal(costOf(1, parsePrice("0.0000000375")), 38n);
  assert.equal(costOf(2, parsePrice("0.0000000375")), 75n);
  assert.equal(costOf(1, 1n), 1n);
  assert.equal(costOf(0, parsePrice("0.001")), 0n);
  assert.equal(costOf(5, 0n), 0n);
  assert.equal(
    costOf(10n ** 30n, parsePrice("0.000001")),
    10n ** 33n,
  );
  assert.throws(() => costOf(-1, 1n), RangeError);
  assert.throws(() => costOf(-1n, 1n), RangeError);
  assert.throws(() => costOf(1.5, 1n), RangeError);
  assert.throws(() => costOf(Number.NaN, 1n), RangeError);
  assert.throws(() => costOf(1, -1n), RangeError);
});

Deno.test("tokenCost sums every price before rounding up once", () => {
  const half = parsePrice("0.0000000005"); // half a nano-dollar per token
  assert.equal(costOf(1, half) + costOf(1, half), 2n);
  assert.equal(
    tokenCost({ promptTokens: 1, completionTokens: 1 }, {
      prompt: half,
      completion: half,
    }),
    1n,
  );
  const prices = {
    prompt: parsePrice("0.00000015"),
    completion: parsePrice("0.0000006"),
    request: parsePrice("0.0001"),
  };
  // 1234 × 150 + 567 × 600 nano-dollars, plus 100,000 for the request.
  assert.equal(
    tokenCost({ promptTokens: 1234, completionTokens: 567n }, prices),
    185_100n + 340_200n + 100_000n,
  );
  assert.equal(
    tokenCost({ promptTokens: 0, completionTokens: 0 }, prices),
    100_000n,
  );
  assert.throws(
    () =>
      tokenCost({ promptTokens: -1, completionTokens: 0 }, {
        prompt: 1n,
        completion: 1n,
      }),
    RangeError,
  );
  assert.throws(
    () =>
      tokenCost({ promptTokens: 0, completionTokens: 0 }, {
        prompt: 1n,
        completion: 1n,
        request: -1n,
      }),
    RangeError,
  );
});

Deno.test("usdToNano takes the decimal the user wrote, not the double", () => {
  assert.equal(usdToNano(10, "down"), 10_000_000_000n);
  assert.equal(usdToNano(0.01, "down"), 10_000_000n);
  assert.equal(usdToNano(0.01, "up"), 10_000_000n);
  assert.equal(usdToNano(1e-7, "up"), 100n);
  assert.equal(usdToNano(0, "up"), 0n);
  assert.equal(usdToNano(-0, "up"), 0n);
  assert.equal(usdToNano(1e21, "down"), 10n ** 30n);
  // 0.1 + 0.2 is the double 0.30000000000000004: its digits beyond the nano-dollar round.
  assert.equal(usdToNano(0.1 + 0.2, "up"), 300_000_001n);
  assert.equal(usdToNano(0.1 + 0.2, "down"), 300_000_000n);
  assert.equal(usdToNano(1.5e-10, "up"), 1n);
  assert.equal(usdToNano(1.5e-10, "down"), 0n);
  for (const value of [Number.NaN, Infinity, -Infinity, -1, -1e-300]) {
    assert.throws(() => usdToNano(value, "up"), RangeError, String(value));
  }
});

Deno.test("nanoToUsd rounds half up to 6 decimals without float error", () => {
  assert.equal(nanoToUsd(0n), 0);
  assert.equal(nanoToUsd(12300n), 0.000012);
  assert.equal(nanoToUsd(12499n), 0.000012);
  assert.equal(nanoToUsd(12500n), 0.000013);
  assert.equal(nanoToUsd(499n), 0);
  assert.equal(nanoToUsd(500n), 0.000001);
  assert.equal(nanoToUsd(1_000_000_000n), 1);
  assert.equal(nanoToUsd(300_000_000n), 0.3);
  assert.equal(nanoToUsd(123456789012345678n), 123456789.012346);
  assert.equal(nanoToUsd(-12500n), -0.000013);
  assert.ok(Object.is(nanoToUsd(-100n), 0), "no negative zero");
});

Deno.test("nanoToUsd matches a correctly rounded division, for many values", () => {
  for (const nano of randomBigints(7, 2000)) {
    const magnitude = nano < 0n ? -nano : nano;
    const micros = magnitude / 1000n + (magnitude % 1000n >= 500n ? 1n : 0n);
    if (micros >= 2n ** 53n) continue; // beyond exact doubles; the division below would round twice
    // Number(micros) is exact and IEEE division rounds correctly, so this is the nearest double.
    const expected = (nano < 0n ? -Number(micros) : Number(micros)) / 1e6;
    assert.equal(nanoToUsd(nano), expected === 0 ? 0 : expected, String(nano));
  }
});

Deno.test("formatUsd writes exact decimals without trailing zeros", () => {
  assert.equal(formatUsd(12300n), "0.0000123");
  assert.equal(formatUsd(0n), "0");
  assert.equal(formatUsd(1n), "0.000000001");
  assert.equal(formatUsd(-5n), "-0.000000005");
  assert.equal(formatUsd(1_000_000_000n), "1");
  assert.equal(formatUsd(1_500_000_000n), "1.5");
  assert.equal(formatUsd(-10_000_000_000n), "-10");
  assert.equal(
    formatUsd(123456789012345678901234567890n),
    "123456789012345678901.23456789",
  );
});

Deno.test("parseUsd reads back formatUsd exactly, for many values", () => {
  for (const nano of randomBigints(1, 5000)) {
    const text = formatUsd(nano);
    assert.equal(parseUsd(text, "up"), nano, text);
    assert.equal(parseUsd(text, "down"), nano, text);
  }
});

Deno.test("parseUsd reads every exponent form of the same value alike", () => {
  for (const nano of randomBigints(2, 2000)) {
    if (nano === 0n) continue;
    const sign = nano < 0n ? "-" : "";
    const digits = (nano < 0n ? -nano : nano).toString();
    // d.ddd × 10^(n - 1 - 9): scientific notation with the point after the first digit.
    const mantissa = digits.length > 1
      ? `${digits[0]}.${digits.slice(1)}`
      : digits;
    const scientific = `${sign}${mantissa}e${digits.length - 1 - 9}`;
    assert.equal(parseUsd(scientific), nano, scientific);
    assert.equal(parseUsd(`${sign}${digits}e-9`), nano);
    assert.equal(parseUsd(`${sign}${digits}E-0009`, "down"), nano);
    assert.equal(parseUsd(`${sign}0.${digits}e${digits.length - 9}`), nano);
  }
});

Deno.test("parseDecimal rounds 12-decimal values like exact division, for many values", () => {
  for (const picoUsd of randomBigints(3, 5000)) {
    const text = decimalText(picoUsd, 12);
    assert.equal(parseUsd(text, "up"), ceilDiv(picoUsd, 1000n), text);
    assert.equal(parseUsd(text, "down"), floorDiv(picoUsd, 1000n), text);
  }
});

Deno.test("usdToNano reads back nanoToUsd for micro-dollar amounts", () => {
  const next = random(4);
  for (let i = 0; i < 2000; i++) {
    const micros = BigInt(Math.floor(next() * 1e15));
    const nano = micros * 1000n;
    assert.equal(usdToNano(nanoToUsd(nano), "up"), nano, String(nano));
    assert.equal(usdToNano(nanoToUsd(nano), "down"), nano, String(nano));
  }
});
