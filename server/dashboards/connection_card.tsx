import DashboardControls from "../../islands/dashboard_controls.tsx";
import { dayLabel, dollars } from "./format.ts";
import type { FundedConnectionView } from "./owner_dashboard.ts";
import { SpendChart } from "./spend_chart.tsx";
import { SpendMeter } from "./spend_meter.tsx";
import { UsageTable } from "./usage_table.tsx";

const STATE_LABEL: Record<FundedConnectionView["state"], string> = {
  active: "Active",
  paused: "Paused",
  revoked: "Revoked",
  disconnected: "Disconnected",
};

/** One app that spends from the owner's budget: its spend, its days, its requests, its controls. */
export function ConnectionCard(
  props: { connection: FundedConnectionView; today: string },
) {
  const c = props.connection;
  const ended = c.state === "revoked" || c.state === "disconnected";
  return (
    <article
      class={`card connection connection-${c.state}`}
      data-app-id={c.appId}
      data-testid="connection"
      data-state={c.state}
    >
      <header class="connection-head">
        <div>
          <h2 class="connection-name">{c.appName}</h2>
          <p class="muted small">
            You are <code>{c.userId}</code> in this app
          </p>
        </div>
        <div class="pills">
          {c.mode === "test" && <span class="pill pill-test">Test mode</span>}
          <span class={`pill pill-${c.state}`} data-testid="state">
            {STATE_LABEL[c.state]}
          </span>
        </div>
      </header>
      {c.pausedBy === "anomaly" && (
        <div class="banner banner-warn" role="note">
          Paused automatically after an unusual burst of requests. Resume it if
          that was you.
        </div>
      )}
      {c.notices.length > 0 && !ended && (
        <div class="banner banner-warn" role="note" data-testid="budget-notice">
          {c.notices.at(-1)!.thresholdPercent === 100
            ? `${c.appName} has used your whole monthly cap.`
            : `${c.appName} has used 80 % of your monthly cap.`}{" "}
          Raise the cap below, or it stops until {dayLabel(c.resetsOn)}.
        </div>
      )}
      <div class="spend">
        <p class="spend-figures">
          <span class="spend-now" data-testid="spent">
            {dollars(c.spentUsd)}
          </span>
          {c.capUsd === null
            ? <span class="muted">spent · no cap</span>
            : (
              <span class="muted">
                of <strong data-testid="cap">{dollars(c.capUsd)}</strong>{" "}
                this month
              </span>
            )}
        </p>
        <SpendMeter
          spentUsd={c.spentUsd}
          heldUsd={c.heldUsd}
          capUsd={c.capUsd}
        />
        <p class="muted small">
          {ended
            ? "Cannot spend from your budget"
            : c.remainingUsd !== null && `${dollars(c.remainingUsd)} left`}
          {c.heldUsd > 0 && ` · ${dollars(c.heldUsd)} in flight`}
          {` · resets ${dayLabel(c.resetsOn)}`}
        </p>
      </div>
      <section class="connection-section">
        <h3>Daily spend</h3>
        <SpendChart daily={c.daily} today={props.today} />
      </section>
      <section class="connection-section">
        <h3>Recent requests</h3>
        <UsageTable entries={c.recent} />
        <p class="small">
          <a
            href={`/dashboard/api/usage.csv?appId=${
              encodeURIComponent(c.appId)
            }&userId=${encodeURIComponent(c.userId)}`}
          >
            Download every request as CSV
          </a>
        </p>
      </section>
      {c.state === "active" || c.state === "paused"
        ? (
          <DashboardControls
            appId={c.appId}
            userId={c.userId}
            appName={c.appName}
            mode={c.mode}
            state={c.state}
            capUsd={c.capUsd}
          />
        )
        : (
          <p class="ended" data-testid="ended">
            {c.state === "revoked"
              ? `You revoked ${c.appName}: it cannot spend from your budget.`
              : `${c.appName} ended this connection.`}{" "}
            To use it again, press its “Connect AI budget” button.
          </p>
        )}
    </article>
  );
}
