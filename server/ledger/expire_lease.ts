import { leaseKey, ledgerKey, usageKey } from "../kv/keys.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { UsageEntry } from "./hold.ts";
import type { Lease } from "./lease.ts";
import { EMPTY_LEDGER, type LedgerRecord } from "./ledger_record.ts";

/** The model named on the usage entry of an expired lease. */
export const UNSETTLED_MODEL = "(requests unsettled when a process stopped)";

/**
 * Charges what an expired lease still reserved, as one `expired` usage
 * entry, and deletes it: its process died, and the requests it admitted may
 * have been billed by the upstream. False if the lease changed meanwhile
 * (renewed, or expired by someone else).
 */
export async function expireLease(
  kv: Deno.Kv,
  entry: Deno.KvEntry<Lease>,
  now: number,
  metrics?: Metrics,
): Promise<boolean> {
  const lease = entry.value;
  while (true) {
    const key = ledgerKey(lease.appId, lease.userId, lease.period);
    const ledgerEntry = await kv.get<LedgerRecord>(key);
    const ledger = ledgerEntry.value ?? EMPTY_LEDGER;
    const op = kv.atomic()
      .check(entry)
      .check(ledgerEntry)
      .delete(leaseKey(lease.id))
      .set(
        key,
        {
          spent: ledger.spent + lease.amountNano,
          held: ledger.held - lease.amountNano,
        } satisfies LedgerRecord,
      );
    if (lease.amountNano > 0n) {
      op.set(
        usageKey(lease.appId, lease.userId, lease.period, lease.id),
        {
          requestId: lease.id,
          appId: lease.appId,
          userId: lease.userId,
          grantId: null,
          model: UNSETTLED_MODEL,
          promptTokens: 0,
          completionTokens: 0,
          costNano: lease.amountNano,
          basis: "expired",
          overshootNano: 0n,
          createdAt: now,
        } satisfies UsageEntry,
      );
    }
    if ((await op.commit()).ok) return true;
    const again = await kv.get<Lease>(leaseKey(lease.id));
    if (again.versionstamp !== entry.versionstamp) return false;
    metrics?.count("wattfare_kv_commit_retries_total", { op: "expire" });
  }
}
