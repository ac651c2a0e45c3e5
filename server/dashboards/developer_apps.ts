import type { LeaseView } from "../connections/status.ts";
import type { Mode } from "../../sdk/secret_key.ts";
import {
  type AppRecord,
  appsOwnedBy,
  type RateLimits,
  summarize,
} from "../apps/apps.ts";
import type { Connection } from "../connections/connection.ts";
import { connectionsOfAppPrefix } from "../kv/keys.ts";
import { nanoToUsd } from "../money.ts";
import { periodUsage } from "./period_usage.ts";

/** One user of an app, as its developer sees them: no wallet, no funding. */
export interface AppUserView {
  userId: string;
  state: Connection["state"];
  /** Who paused it, when paused: its owner, or the service after a burst. */
  pausedBy: Connection["pausedBy"] | null;
  capUsd: number | null;
  /** Spent in the user's current period (each user's month starts on their approval day). */
  spentUsd: number;
  periodStart: string;
}

/** An app on `/developers`: its public keys, origins and users. */
export interface DeveloperAppView {
  appId: string;
  name: string;
  mode: Mode;
  origins: string[];
  publishableKey: string;
  createdAt: number;
  /** The app's own rate limits (requests per minute); unset: the service default. */
  rateLimits: RateLimits;
  /** Every user who ever connected, active ones first. */
  users: AppUserView[];
}

/** The apps a wallet registered, with their users' spend this period. */
export async function developerApps(
  kv: Deno.Kv,
  walletId: string,
  now: number,
  leases?: LeaseView,
): Promise<DeveloperAppView[]> {
  const apps = await appsOwnedBy(kv, walletId);
  return await Promise.all(
    apps.map((app) => developerApp(kv, app, now, leases)),
  );
}

/** One app's view (the app's ownership is the caller's to check). */
export async function developerApp(
  kv: Deno.Kv,
  app: AppRecord,
  now: number,
  leases?: LeaseView,
): Promise<DeveloperAppView> {
  const users: AppUserView[] = [];
  for await (
    const entry of kv.list<Connection>({
      prefix: connectionsOfAppPrefix(app.id),
    })
  ) {
    const usage = await periodUsage(kv, entry.value, now, false, leases);
    users.push({
      userId: entry.value.userId,
      state: entry.value.state,
      pausedBy: entry.value.state === "paused"
        ? entry.value.pausedBy ?? "owner"
        : null,
      capUsd: entry.value.capNano === null
        ? null
        : nanoToUsd(entry.value.capNano),
      spentUsd: nanoToUsd(usage.spentNano),
      periodStart: usage.start,
    });
  }
  users.sort((a, b) =>
    Number(b.state === "active") - Number(a.state === "active") ||
    b.spentUsd - a.spentUsd
  );
  const { appId, name, mode, origins, publishableKey } = summarize(app);
  return {
    appId,
    name,
    mode,
    origins,
    publishableKey,
    createdAt: app.createdAt,
    rateLimits: app.rateLimits ?? {},
    users,
  };
}
