import type { Context } from "hono";
import WalletSignIn from "../islands/wallet_sign_in.tsx";
import type { Env } from "../server/http/env.ts";
import type { PageProps } from "../server/pages/page.ts";
import { walletOfRequest } from "../server/wallets/wallet_sessions.ts";
import {
  type OwnerDashboard,
  ownerDashboard,
} from "../server/dashboards/owner_dashboard.ts";
import { ConnectionCard } from "../server/dashboards/connection_card.tsx";
import { FundingPanel } from "../server/dashboards/funding_panel.tsx";
import { PageHeader } from "../server/dashboards/page_header.tsx";
import { dollars } from "../server/dashboards/format.ts";

/** The page's title. */
export const title = "Your AI budget · Wattfare";

interface Data {
  /** `null`: nobody is signed in on this browser. */
  dashboard: OwnerDashboard | null;
  /** Today, UTC (`YYYY-MM-DD`), so every chart marks the same day. */
  today: string;
}

/** Reads the signed-in wallet's dashboard, if any. */
export async function load(c: Context<Env>): Promise<Data> {
  const now = c.var.clock();
  const walletId = await walletOfRequest(
    c.var.kv,
    c.req.header("cookie"),
    now,
  );
  return {
    dashboard: walletId
      ? await ownerDashboard(c.var.kv, walletId, now, c.var.leases)
      : null,
    today: new Date(now).toISOString().slice(0, 10),
  };
}

/** The budget owner's dashboard: every app that spends from the wallet, and the controls to stop it. */
export default function Dashboard({ data }: PageProps<Data>) {
  const { dashboard, today } = data;
  if (!dashboard) {
    return (
      <div class="dashboard">
        <PageHeader current="dashboard" signedIn={false} />
        <div class="page">
          <WalletSignIn
            heading="Your AI budget, in one place"
            lead="Sign in to see what every connected app spends, change caps, and cut any app off at once."
          />
        </div>
      </div>
    );
  }
  const live = dashboard.connections.filter((c) =>
    c.state === "active" || c.state === "paused"
  );
  return (
    <div class="dashboard" data-testid="dashboard">
      <PageHeader current="dashboard" signedIn />
      <div class="page wide">
        <div class="page-title">
          <div>
            <h1>Your AI budget</h1>
            <p class="muted">
              Every app that spends from your wallet. Each app's month starts on
              the day you approved it.
            </p>
          </div>
          <dl class="stats">
            <div>
              <dt>Spent this month</dt>
              <dd data-testid="total-spent">{dollars(dashboard.spentUsd)}</dd>
            </div>
            <div>
              <dt>Apps connected</dt>
              <dd>{live.length}</dd>
            </div>
          </dl>
        </div>
        <FundingPanel funding={dashboard.funding} />
        {dashboard.connections.length === 0
          ? (
            <section class="card panel empty-state">
              <h2>No apps yet</h2>
              <p class="muted">
                When you approve an app's “Connect AI budget” popup while signed
                in, it shows up here with everything it spends.
              </p>
            </section>
          )
          : dashboard.connections.map((connection) => (
            <ConnectionCard
              key={`${connection.appId}/${connection.userId}`}
              connection={connection}
              today={today}
            />
          ))}
      </div>
    </div>
  );
}
