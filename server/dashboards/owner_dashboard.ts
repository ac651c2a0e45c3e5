import type { LeaseView } from "../connections/status.ts";
import type { Mode } from "../../sdk/secret_key.ts";
import { getApp } from "../apps/apps.ts";
import { readConnection } from "../connections/connections.ts";
import type { Connection } from "../connections/connection.ts";
import { nanoToUsd } from "../money.ts";
import { fundedConnections, getWallet } from "../wallets/wallets.ts";
import type { Funding } from "../wallets/wallet.ts";
import { dailySpend } from "./daily_spend.ts";
import { periodUsage } from "./period_usage.ts";
import { noticesFor } from "../webhooks/budget_alerts.ts";

/** How many of a connection's latest requests the dashboard lists. */
const RECENT = 10;

/** One settled request, as the owner sees it. */
export interface UsageView {
  requestId: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  costUsd: number;
  createdAt: number;
}

/** One connection a wallet pays for, with this period's money. */
export interface FundedConnectionView {
  appId: string;
  appName: string;
  mode: Mode;
  /** The app's own id for the owner (what the app calls them). */
  userId: string;
  state: Connection["state"];
  /** Who paused it: the owner, or the service after an unusual burst. */
  pausedBy: Connection["pausedBy"] | null;
  /** `null`: no cap (test mode only). */
  capUsd: number | null;
  spentUsd: number;
  /** Reserved by requests in flight. */
  heldUsd: number;
  /** Cap − spent − held, never negative; `null` without a cap. */
  remainingUsd: number | null;
  /** First day of the period (UTC, `YYYY-MM-DD`). */
  periodStart: string;
  /** First day of the next period (UTC, `YYYY-MM-DD`). */
  resetsOn: string;
  /** Spend of every day of the period, oldest first. */
  daily: { date: string; usd: number }[];
  /** The latest requests, newest first. */
  recent: UsageView[];
  /** Budget alerts of this period (80 % and 100 % of the cap), oldest first. */
  notices: { thresholdPercent: 80 | 100; createdAt: number }[];
  updatedAt: number;
}

/** What `/dashboard` shows a budget owner (and `GET /dashboard/api/connections` returns). */
export interface OwnerDashboard {
  funding: Pick<Funding, "label" | "source" | "linkedAt"> | null;
  /** Spent this period over every connection. */
  spentUsd: number;
  connections: FundedConnectionView[];
}

/** Live states first, then ended ones; by app name within each, so cards stay put. */
const ORDER: Record<Connection["state"], number> = {
  active: 0,
  paused: 0,
  revoked: 1,
  disconnected: 1,
};

/** The dashboard of a wallet; null when there is no such wallet. */
export async function ownerDashboard(
  kv: Deno.Kv,
  walletId: string,
  now: number,
  leases?: LeaseView,
): Promise<OwnerDashboard | null> {
  const wallet = await getWallet(kv, walletId);
  if (!wallet) return null;
  const connections: FundedConnectionView[] = [];
  let spentNano = 0n;
  for (const { appId, userId } of await fundedConnections(kv, walletId)) {
    const connection = (await readConnection(kv, appId, userId)).value;
    // The index outlives a re-approval paid by another wallet: the record decides.
    if (connection?.walletId !== walletId) continue;
    const app = await getApp(kv, appId);
    const usage = await periodUsage(kv, connection, now, true, leases);
    spentNano += usage.spentNano;
    const cap = connection.capNano;
    const left = cap === null ? null : cap - usage.spentNano - usage.heldNano;
    connections.push({
      appId,
      appName: app?.name ?? appId,
      mode: connection.mode,
      userId,
      state: connection.state,
      pausedBy: connection.state === "paused"
        ? connection.pausedBy ?? "owner"
        : null,
      capUsd: cap === null ? null : nanoToUsd(cap),
      spentUsd: nanoToUsd(usage.spentNano),
      heldUsd: nanoToUsd(usage.heldNano),
      remainingUsd: left === null ? null : nanoToUsd(left > 0n ? left : 0n),
      periodStart: usage.start,
      resetsOn: new Date(usage.resetsAt).toISOString().slice(0, 10),
      daily: dailySpend(usage.entries, usage.start, usage.resetsAt).map((
        day,
      ) => ({ date: day.date, usd: nanoToUsd(day.nano) })),
      recent: usage.entries.slice(-RECENT).reverse().map((entry) => ({
        requestId: entry.requestId,
        model: entry.model,
        promptTokens: entry.promptTokens,
        completionTokens: entry.completionTokens,
        costUsd: nanoToUsd(entry.costNano),
        createdAt: entry.createdAt,
      })),
      notices: (await noticesFor(kv, appId, userId, usage.start)).map((
        notice,
      ) => ({
        thresholdPercent: notice.thresholdPercent,
        createdAt: notice.createdAt,
      })),
      updatedAt: connection.updatedAt,
    });
  }
  connections.sort((a, b) =>
    ORDER[a.state] - ORDER[b.state] || a.appName.localeCompare(b.appName) ||
    a.userId.localeCompare(b.userId)
  );
  return {
    funding: wallet.funding && {
      label: wallet.funding.label,
      source: wallet.funding.source,
      linkedAt: wallet.funding.linkedAt,
    },
    spentUsd: nanoToUsd(spentNano),
    connections,
  };
}
