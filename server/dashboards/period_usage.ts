import type { LeaseView } from "../connections/status.ts";
import { usagePrefix } from "../kv/keys.ts";
import { periodEnd, periodStart } from "../ledger/period.ts";
import { EMPTY_LEDGER, readLedger } from "../ledger/ledger_record.ts";
import type { UsageEntry } from "../ledger/hold.ts";
import type { Connection } from "../connections/connection.ts";

/** A connection's current period as stored: its ledger and, if asked, its entries. */
export interface PeriodUsage {
  /** First day of the period (UTC, `YYYY-MM-DD`). */
  start: string;
  /** When the next period starts (ms). */
  resetsAt: number;
  spentNano: bigint;
  heldNano: bigint;
  /** The period's usage entries, oldest first (empty unless asked for). */
  entries: UsageEntry[];
}

/** Reads the current period of a connection; `withEntries` also lists its usage entries. */
export async function periodUsage(
  kv: Deno.Kv,
  connection: Connection,
  now: number,
  withEntries: boolean,
  leases?: LeaseView,
): Promise<PeriodUsage> {
  const { appId, userId, approvedAt } = connection;
  const start = periodStart(approvedAt, now);
  const unused = await leases?.unusedLeaseNano(appId, userId, start) ?? 0n;
  const ledger = (await readLedger(kv, appId, userId, start)).value ??
    EMPTY_LEDGER;
  const entries: UsageEntry[] = [];
  if (withEntries) {
    for await (
      const entry of kv.list<UsageEntry>({
        prefix: usagePrefix(appId, userId, start),
      })
    ) entries.push(entry.value);
  }
  return {
    start,
    resetsAt: periodEnd(approvedAt, start),
    spentNano: ledger.spent,
    heldNano: ledger.held - unused,
    entries,
  };
}
