import DashboardFunding from "../../islands/dashboard_funding.tsx";
import { dayLabel } from "./format.ts";
import type { OwnerDashboard } from "./owner_dashboard.ts";

/** The wallet's funding source: what pays for every live app, and how to (re)link it. */
export function FundingPanel(props: { funding: OwnerDashboard["funding"] }) {
  const { funding } = props;
  return (
    <section class="card panel funding" data-testid="funding">
      <div>
        <h2>Funding source</h2>
        {funding
          ? (
            <p>
              <code data-testid="funding-label">{funding.label}</code>
              <span class="muted">
                {" · "}
                {funding.source === "oauth"
                  ? "linked with OpenRouter"
                  : "pasted OpenRouter key"}
                {" · since "}
                {dayLabel(
                  new Date(funding.linkedAt).toISOString().slice(0, 10),
                )}
              </span>
            </p>
          )
          : (
            <p class="muted">
              None yet. Live apps bill your own OpenRouter account: link it once
              and every app you approve uses it. Test-mode apps run on
              Wattfare's sandbox and need none.
            </p>
          )}
      </div>
      <DashboardFunding funded={funding !== null} />
    </section>
  );
}
