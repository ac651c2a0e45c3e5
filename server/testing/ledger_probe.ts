import { connectionKey, holdsPrefix, usagePrefix } from "../kv/keys.ts";
import { periodStart } from "../ledger/period.ts";
import { EMPTY_LEDGER, readLedger } from "../ledger/ledger_record.ts";
import type { Hold, UsageEntry } from "../ledger/hold.ts";
import type { Connection } from "../connections/connection.ts";

/** A connection's current period as stored, for assertions about money. */
export interface LedgerView {
  capNano: bigint | null;
  spent: bigint;
  held: bigint;
  entries: UsageEntry[];
  /** Σ of the usage entries' costs. */
  entriesSum: bigint;
  /** Holds still open for this connection. */
  openHolds: Hold[];
}

/** Reads a connection's ledger, usage entries and open holds. */
export async function readLedgerView(
  kv: Deno.Kv,
  appId: string,
  userId: string,
  now = Date.now(),
): Promise<LedgerView> {
  const connection = (await kv.get<Connection>(connectionKey(appId, userId)))
    .value;
  if (!connection) throw new Error(`no connection for ${userId}`);
  const period = periodStart(connection.approvedAt, now);
  const ledger = (await readLedger(kv, appId, userId, period)).value ??
    EMPTY_LEDGER;
  const entries: UsageEntry[] = [];
  for await (
    const entry of kv.list<UsageEntry>({
      prefix: usagePrefix(appId, userId, period),
    })
  ) entries.push(entry.value);
  const openHolds: Hold[] = [];
  for await (const entry of kv.list<Hold>({ prefix: holdsPrefix() })) {
    if (entry.value.appId === appId && entry.value.userId === userId) {
      openHolds.push(entry.value);
    }
  }
  return {
    capNano: connection.capNano,
    spent: ledger.spent,
    held: ledger.held,
    entries,
    entriesSum: entries.reduce((sum, e) => sum + e.costNano, 0n),
    openHolds,
  };
}

/** The sandbox funding key of a connection (decrypted), to read the sandbox's own accounts. */
export async function fundingKeyOf(
  kv: Deno.Kv,
  box: { open(sealed: Connection["funding"]): Promise<string> },
  appId: string,
  userId: string,
): Promise<string> {
  const connection = (await kv.get<Connection>(connectionKey(appId, userId)))
    .value;
  if (!connection) throw new Error(`no connection for ${userId}`);
  return await box.open(connection.funding);
}
