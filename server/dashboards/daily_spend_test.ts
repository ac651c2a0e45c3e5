import assert from "node:assert/strict";
import type { UsageEntry } from "../ledger/hold.ts";
import { dailySpend } from "./daily_spend.ts";

function entry(at: string, costNano: bigint): UsageEntry {
  return {
    requestId: `req_${at}`,
    appId: "app",
    userId: "u",
    grantId: null,
    model: "m",
    promptTokens: 1,
    completionTokens: 1,
    costNano,
    basis: "usage",
    overshootNano: 0n,
    createdAt: Date.parse(at),
  };
}

Deno.test("daily spend covers every UTC day of the period, summed exactly", () => {
  const days = dailySpend(
    [
      entry("2025-02-28T23:59:59Z", 1n),
      entry("2025-03-01T00:00:00Z", 2n),
      entry("2025-03-01T12:00:00Z", 100_000_000_001n),
      entry("2025-03-30T23:00:00Z", 7n),
    ],
    "2025-03-01",
    Date.parse("2025-03-31T00:00:00Z"),
  );
  assert.equal(days.length, 30);
  assert.deepEqual(days[0], { date: "2025-03-01", nano: 100_000_000_003n });
  assert.deepEqual(days[1], { date: "2025-03-02", nano: 0n });
  assert.deepEqual(days.at(-1), { date: "2025-03-30", nano: 7n });
});
