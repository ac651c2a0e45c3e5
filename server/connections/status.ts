import { nanoToUsd } from "../money.ts";
import { periodStart } from "../ledger/period.ts";
import { EMPTY_LEDGER, readLedger } from "../ledger/ledger_record.ts";
import { readConnection } from "./connections.ts";

/** What an app may know about one of its users' budget (the seeds' shape). */
export interface ConnectionStatus {
  connected: boolean;
  limits: { monthlyUsd: number | null } | null;
  usage: { monthlyUsd: number };
  /** Cap − spent − held, never negative; `null` when there is no cap. */
  remainingUsd: number | null;
}

/** Budget this process leased for a connection and has not used. */
export interface LeaseView {
  unusedLeaseNano(
    appId: string,
    userId: string,
    period: string,
  ): Promise<bigint>;
}

/**
 * The status of `userId`'s connection to `appId`; not connected is a value,
 * not an error. Given this process's ledger, budget it leased and has not
 * used counts as remaining, so a user sees their own requests settle.
 */
export async function connectionStatus(
  kv: Deno.Kv,
  appId: string,
  userId: string,
  now = Date.now(),
  leases?: LeaseView,
): Promise<ConnectionStatus> {
  const connection = (await readConnection(kv, appId, userId)).value;
  if (!connection || connection.state !== "active") {
    return {
      connected: false,
      limits: null,
      usage: { monthlyUsd: 0 },
      remainingUsd: 0,
    };
  }
  const period = periodStart(connection.approvedAt, now);
  const unused = await leases?.unusedLeaseNano(appId, userId, period) ?? 0n;
  const ledger = (await readLedger(kv, appId, userId, period)).value ??
    EMPTY_LEDGER;
  const cap = connection.capNano;
  const left = cap === null ? null : cap - ledger.spent - ledger.held + unused;
  return {
    connected: true,
    limits: { monthlyUsd: cap === null ? null : nanoToUsd(cap) },
    usage: { monthlyUsd: nanoToUsd(ledger.spent) },
    remainingUsd: left === null ? null : nanoToUsd(left > 0n ? left : 0n),
  };
}
