import { ledgerKey } from "../kv/keys.ts";

/** A connection's money for one period, in nano-dollars. */
export interface LedgerRecord {
  /** Settled cost of every request in the period. */
  spent: bigint;
  /** Upper bounds of requests in flight. */
  held: bigint;
}

/** The empty ledger of a period nothing has been spent in yet. */
export const EMPTY_LEDGER: LedgerRecord = { spent: 0n, held: 0n };

/** Reads a period's ledger (empty when absent) with its versionstamp. */
export async function readLedger(
  kv: Deno.Kv,
  appId: string,
  userId: string,
  period: string,
): Promise<Deno.KvEntryMaybe<LedgerRecord>> {
  return await kv.get<LedgerRecord>(ledgerKey(appId, userId, period));
}
