import assert from "node:assert/strict";
import { ceilToNanoUsd } from "./cost.ts";

Deno.test("costs are rounded up to the nano-dollar on their decimal text, as the ledger does", () => {
  const cases: [unknown, number | undefined][] = [
    [0.00000915, 0.00000915],
    ["0.0000123", 0.0000123],
    [0, 0],
    ["0", 0],
    [1.23e-7, 1.23e-7],
    ["1e-10", 1e-9],
    ["0.0000000001", 1e-9],
    ["0.0000000010000001", 2e-9],
    [0.1 + 0.2, 0.300000001], // 0.30000000000000004 has digits past the nano
    ["12.5", 12.5],
    ["1.5E+3", 1500],
    [-1, undefined],
    ["-0.5", undefined],
    [Number.NaN, undefined],
    [Infinity, undefined],
    ["abc", undefined],
    ["", undefined],
    [null, undefined],
    [undefined, undefined],
    ["1e999", undefined],
  ];
  for (const [input, expected] of cases) {
    assert.equal(ceilToNanoUsd(input), expected, String(input));
  }
});
