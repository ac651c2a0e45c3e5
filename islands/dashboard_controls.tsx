import { useState } from "preact/hooks";
import { post } from "../browser/passkeys.ts";

interface Props {
  appId: string;
  userId: string;
  appName: string;
  mode: "test" | "live";
  state: "active" | "paused";
  capUsd: number | null;
}

/**
 * A connection's controls on the owner's dashboard: change the cap, pause
 * or resume, and revoke (asked once more, in the page, before it happens).
 * Each is one POST; the page then reloads to show the server's truth.
 */
export default function DashboardControls(props: Props) {
  const [cap, setCap] = useState(capText(props.capUsd));
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [failure, setFailure] = useState("");

  async function run(action: string, extra: Record<string, unknown> = {}) {
    setBusy(true);
    setFailure("");
    try {
      await post(`/dashboard/api/connections/${action}`, {
        appId: props.appId,
        userId: props.userId,
        ...extra,
      });
      location.reload();
    } catch (error) {
      setFailure(
        error instanceof Error
          ? error.message
          : "That did not work; try again.",
      );
      setBusy(false);
    }
  }

  function saveCap(event: Event) {
    event.preventDefault();
    const text = cap.trim().replace(/^\$/, "").replaceAll(",", "");
    // Only test mode may run without a cap, as in the popup.
    const monthlyUsd = text === "" && props.mode === "test"
      ? null
      : Number(text);
    if (monthlyUsd !== null && !(monthlyUsd >= 0.01 && monthlyUsd <= 10_000)) {
      setFailure("Enter a monthly cap between $0.01 and $10,000.");
      return;
    }
    run("cap", { monthlyUsd });
  }

  if (confirming) {
    return (
      <div class="controls controls-confirm" role="alertdialog">
        <p>
          <strong>Revoke {props.appName}?</strong>{" "}
          Its next request is refused, and it cannot spend again unless it asks
          you in its popup.
        </p>
        <div class="row">
          <button
            type="button"
            disabled={busy}
            onClick={() => setConfirming(false)}
          >
            Keep access
          </button>
          <button
            type="button"
            class="danger"
            disabled={busy}
            onClick={() => run("revoke")}
          >
            {busy ? "Revoking…" : "Revoke now"}
          </button>
        </div>
        {failure && (
          <div class="banner banner-error" role="alert">{failure}</div>
        )}
      </div>
    );
  }
  return (
    <div class="controls">
      <form class="cap-form" data-testid="cap-form" onSubmit={saveCap}>
        <label class="cap-field">
          <span class="field-name">Monthly cap</span>
          <span class="money-input">
            <span>$</span>
            <input
              name="cap"
              inputMode="decimal"
              value={cap}
              placeholder={props.mode === "test" ? "no cap" : "10.00"}
              onInput={(event) =>
                setCap((event.target as HTMLInputElement).value)}
            />
          </span>
        </label>
        <button type="submit" disabled={busy}>Save cap</button>
      </form>
      <div class="row control-buttons">
        {props.state === "active"
          ? (
            <button type="button" disabled={busy} onClick={() => run("pause")}>
              Pause
            </button>
          )
          : (
            <button
              type="button"
              class="primary"
              disabled={busy}
              onClick={() => run("resume")}
            >
              Resume
            </button>
          )}
        <button
          type="button"
          class="danger"
          disabled={busy}
          onClick={() => setConfirming(true)}
        >
          Revoke access
        </button>
      </div>
      {failure && <div class="banner banner-error" role="alert">{failure}</div>}
    </div>
  );
}

/** The cap as the input shows it: cents, unless that would change it. */
function capText(capUsd: number | null): string {
  if (capUsd === null) return "";
  const cents = capUsd.toFixed(2);
  return Number(cents) === capUsd ? cents : String(capUsd);
}
