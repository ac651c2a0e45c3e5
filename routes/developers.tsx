import type { Context } from "hono";
import DevelopersConsole from "../islands/developers_console.tsx";
import WalletSignIn from "../islands/wallet_sign_in.tsx";
import type { Env } from "../server/http/env.ts";
import type { PageProps } from "../server/pages/page.ts";
import { walletOfRequest } from "../server/wallets/wallet_sessions.ts";
import {
  developerApps,
  type DeveloperAppView,
} from "../server/dashboards/developer_apps.ts";
import { PageHeader } from "../server/dashboards/page_header.tsx";

/** The page's title. */
export const title = "Developers · Wattfare";

/** `null`: nobody is signed in on this browser. */
type Data = { apps: DeveloperAppView[] } | null;

/** Reads the signed-in wallet's apps, if any. */
export async function load(c: Context<Env>): Promise<Data> {
  const now = c.var.clock();
  const walletId = await walletOfRequest(
    c.var.kv,
    c.req.header("cookie"),
    now,
  );
  return walletId
    ? { apps: await developerApps(c.var.kv, walletId, now, c.var.leases) }
    : null;
}

/** The app developer's page: register apps, manage keys and origins, see users' spend. */
export default function Developers({ data }: PageProps<Data>) {
  if (!data) {
    return (
      <div class="dashboard">
        <PageHeader current="developers" signedIn={false} />
        <div class="page">
          <WalletSignIn
            heading="Build on Wattfare"
            lead="Sign in with a passkey to register apps, get their keys and see what your users spend. The wallet you use as a budget owner works here too."
          />
        </div>
      </div>
    );
  }
  return (
    <div class="dashboard" data-testid="developers">
      <PageHeader current="developers" signedIn />
      <div class="page wide">
        <div class="page-title">
          <div>
            <h1>Developers</h1>
            <p class="muted">
              Your users fund their own inference: register an app, put its
              publishable key in your page and its secret key on your server.
            </p>
          </div>
        </div>
        <DevelopersConsole apps={data.apps} />
      </div>
    </div>
  );
}
