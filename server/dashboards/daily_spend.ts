import type { UsageEntry } from "../ledger/hold.ts";

const DAY_MS = 86_400_000;

/**
 * The spend of each UTC day of a period, from its first day to the day
 * before it resets, summed exactly in nano-dollars. Days without requests
 * are there with 0, so a chart shows the whole month.
 */
export function dailySpend(
  entries: UsageEntry[],
  start: string,
  resetsAt: number,
): { date: string; nano: bigint }[] {
  const days = new Map<string, bigint>();
  for (
    let day = Date.parse(`${start}T00:00:00Z`);
    day < resetsAt;
    day += DAY_MS
  ) {
    days.set(new Date(day).toISOString().slice(0, 10), 0n);
  }
  for (const entry of entries) {
    const date = new Date(entry.createdAt).toISOString().slice(0, 10);
    const sum = days.get(date);
    if (sum !== undefined) days.set(date, sum + entry.costNano);
  }
  return [...days].map(([date, nano]) => ({ date, nano }));
}
