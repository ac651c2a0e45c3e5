import { requestCost, timeLabel } from "./format.ts";
import type { UsageView } from "./owner_dashboard.ts";

/** A connection's latest requests: when, which model, how many tokens, what they cost. */
export function UsageTable(props: { entries: UsageView[] }) {
  if (props.entries.length === 0) {
    return <p class="muted small empty">No requests yet this period.</p>;
  }
  return (
    <div class="table-scroll">
      <table class="usage">
        <thead>
          <tr>
            <th scope="col">Time (UTC)</th>
            <th scope="col">Model</th>
            <th scope="col" class="num tokens">Tokens in / out</th>
            <th scope="col" class="num">Cost</th>
          </tr>
        </thead>
        <tbody>
          {props.entries.map((entry) => (
            <tr key={entry.requestId} data-testid="usage-row">
              <td class="nowrap">{timeLabel(entry.createdAt)}</td>
              <td>
                <code>{entry.model}</code>
              </td>
              <td class="num tokens">
                {entry.promptTokens.toLocaleString("en-US")} /{" "}
                {entry.completionTokens.toLocaleString("en-US")}
              </td>
              <td class="num" data-testid="usage-cost">
                {requestCost(entry.costUsd)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
