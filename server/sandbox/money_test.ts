import assert from "node:assert/strict";
import { ceilToNano, formatUsd, parseUsd } from "./money.ts";

Deno.test("parseUsd reads decimals exactly into atto-USD", () => {
  assert.equal(parseUsd("0.00000015"), 150_000_000_000n);
  assert.equal(parseUsd("5"), 5_000_000_000_000_000_000n);
  assert.equal(parseUsd("0.000000000000000001"), 1n);
  assert.equal(parseUsd("1e-7"), 100_000_000_000n);
  assert.equal(parseUsd("2.5E+2"), 250_000_000_000_000_000_000n);
  assert.throws(() => parseUsd("0.0000000000000000001"), RangeError);
  for (const bad of ["-1", "", ".5", "1.", "0x10", "NaN", "Infinity"]) {
    assert.throws(() => parseUsd(bad), RangeError, bad);
  }
});

Deno.test("formatUsd writes the shortest exact decimal", () => {
  assert.equal(formatUsd(0n), "0");
  assert.equal(formatUsd(12_300_000_000_000n), "0.0000123");
  assert.equal(formatUsd(1n), "0.000000000000000001");
  assert.equal(formatUsd(5_027_000_000_000_000n), "0.005027");
  assert.equal(formatUsd(3_000_000_000_000_000_000n), "3");
  for (
    const text of ["0.00000015", "0.0000006", "12.5", "0.000012345678901234"]
  ) {
    assert.equal(formatUsd(parseUsd(text)), text);
  }
});

Deno.test("ceilToNano rounds up to whole nano-USD", () => {
  assert.equal(ceilToNano(0n), 0n);
  assert.equal(ceilToNano(1n), 1n);
  assert.equal(ceilToNano(1_000_000_000n), 1n);
  assert.equal(ceilToNano(1_000_000_001n), 2n);
});
