import {
  connectionKey,
  holdsPrefix,
  leasesPrefix,
  usagePrefix,
} from "../kv/keys.ts";
import { periodStart } from "../ledger/period.ts";
import { EMPTY_LEDGER, readLedger } from "../ledger/ledger_record.ts";
import type { Hold, UsageEntry } from "../ledger/hold.ts";
import type { Lease } from "../ledger/lease.ts";
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
  /** Budget leases still open on this connection. */
  openLeases: Lease[];
}

/**
 * Reads a connection's ledger, usage entries, open holds and leases. Given
 * a service, it first waits for its settlements and idle leases (what a
 * user sees a moment after their requests); given a store, it reads it as
 * it is.
 */
export async function readLedgerView(
  source: Deno.Kv | { kv: Deno.Kv; settled(): Promise<void> },
  appId: string,
  userId: string,
  now = Date.now(),
): Promise<LedgerView> {
  let kv: Deno.Kv;
  if (source instanceof Deno.Kv) {
    kv = source;
  } else {
    await source.settled();
    kv = source.kv;
  }
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
  const openLeases: Lease[] = [];
  for await (const entry of kv.list<Lease>({ prefix: leasesPrefix() })) {
    if (entry.value.appId === appId && entry.value.userId === userId) {
      openLeases.push(entry.value);
    }
  }
  return {
    capNano: connection.capNano,
    spent: ledger.spent,
    held: ledger.held,
    entries,
    entriesSum: entries.reduce((sum, e) => sum + e.costNano, 0n),
    openHolds,
    openLeases,
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
