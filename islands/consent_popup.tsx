import { useEffect, useState } from "preact/hooks";

/** What `GET /api/v1/consent` tells the popup about the request. */
interface ConsentContext {
  app: { name: string; mode: "live" | "test"; origins: string[] };
  userId: string;
  limits: { monthlyUsd: number | null } | null;
  status: { connected: boolean };
}

type Screen =
  | { kind: "loading" }
  | { kind: "error"; title: string; detail: string }
  | { kind: "waiting"; context: ConsentContext }
  | { kind: "not_allowed"; context: ConsentContext; origin: string | null }
  | { kind: "ready"; context: ConsentContext; origin: string }
  | { kind: "done"; approved: boolean };

const HELLO = "wattfare:hello";
const HELLO_ACK = "wattfare:hello-ack";
const RESULT = "wattfare:result";
/** How long the opener has to answer the hello before we stop waiting. */
const HANDSHAKE_MS = 5_000;

/**
 * The consent popup. It reads the session from the URL fragment (never
 * sent to any server), asks the service what is being requested, greets its
 * opener and only offers approval when the opener's origin, as the browser
 * reports it, is one the app registered.
 */
export default function ConsentPopup() {
  const [screen, setScreen] = useState<Screen>({ kind: "loading" });
  const [token, setToken] = useState("");
  const [cap, setCap] = useState("");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState("");

  useEffect(() => {
    const session = new URLSearchParams(location.hash.slice(1)).get("session");
    // The token has done its job in the URL; keep it out of history.
    history.replaceState(null, "", location.pathname);
    if (!session) {
      setScreen({
        kind: "error",
        title: "Nothing to approve",
        detail: "This window opens from an app's “Connect AI budget” button.",
      });
      return;
    }
    setToken(session);
    let stop = () => {};
    (async () => {
      const response = await fetch("/api/v1/consent", {
        headers: { authorization: `Bearer ${session}` },
      });
      if (!response.ok) {
        setScreen({
          kind: "error",
          title: "This request has expired",
          detail:
            "Close this window and press “Connect AI budget” in the app again.",
        });
        return;
      }
      const context: ConsentContext = await response.json();
      const asked = context.limits?.monthlyUsd;
      setCap(asked === null || asked === undefined ? "" : String(asked));
      stop = greetOpener(context, setScreen);
    })().catch(() =>
      setScreen({
        kind: "error",
        title: "Something went wrong",
        detail: "Check your connection, then try again from the app.",
      })
    );
    return () => stop();
  }, []);

  function finish(approved: boolean, origin: string, status?: unknown) {
    globalThis.opener?.postMessage(
      { type: RESULT, outcome: approved ? "approved" : "denied", status },
      origin,
    );
    setScreen({ kind: "done", approved });
    globalThis.close();
  }

  async function approve(origin: string) {
    const monthlyUsd = cap.trim() === "" ? null : Number(cap);
    if (monthlyUsd !== null && !(monthlyUsd >= 0.01 && monthlyUsd <= 10_000)) {
      setFailure("Enter a monthly cap between $0.01 and $10,000.");
      return;
    }
    setBusy(true);
    setFailure("");
    const response = await fetch("/api/v1/consent", {
      method: "POST",
      headers: {
        authorization: `Bearer ${token}`,
        "content-type": "application/json",
      },
      body: JSON.stringify({ monthlyUsd, origin }),
    });
    setBusy(false);
    if (!response.ok) {
      const body = await response.json().catch(() => null);
      setFailure(body?.error?.message ?? "Approval failed; try again.");
      return;
    }
    finish(true, origin, await response.json());
  }

  return (
    <div class="card" data-screen={screen.kind}>
      <div class="brand">
        <span class="brand-mark" aria-hidden="true" /> Wattfare
      </div>
      {"context" in screen && screen.context.app.mode === "test" && (
        <div class="banner banner-test" role="note">
          Test mode: no real money moves. Requests go to Wattfare's sandbox.
        </div>
      )}
      {screen.kind === "loading" && (
        <div
          class="spinner"
          aria-label="Loading"
        />
      )}
      {screen.kind === "error" && (
        <div role="alert">
          <h1>{screen.title}</h1>
          <p class="origin">{screen.detail}</p>
        </div>
      )}
      {screen.kind === "waiting" && (
        <div>
          <h1>Checking who is asking…</h1>
          <div class="spinner" aria-label="Checking" />
        </div>
      )}
      {screen.kind === "not_allowed" && (
        <div role="alert">
          <div class="banner banner-error">
            This site is not allowed to ask.
          </div>
          <h1>
            {screen.origin ?? "The page that opened this window"} is not{" "}
            {screen.context.app.name}
          </h1>
          <p class="origin">
            {screen.context.app.name} only asks from{" "}
            {screen.context.app.origins.join(", ")}. Nothing was approved; close
            this window.
          </p>
        </div>
      )}
      {screen.kind === "ready" && (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            approve(screen.origin);
          }}
        >
          <p class="origin">Connect your AI budget to</p>
          <div class="app-name">{screen.context.app.name}</div>
          <p class="origin">{screen.origin}</p>
          <div class="field">
            <label for="cap">Monthly spending cap</label>
            <div class="money-input">
              <span>$</span>
              <input
                id="cap"
                name="cap"
                inputMode="decimal"
                value={cap}
                onInput={(event) =>
                  setCap((event.target as HTMLInputElement).value)}
                placeholder={screen.context.app.mode === "test"
                  ? "no cap"
                  : "10"}
              />
              <span>/ month</span>
            </div>
            <div class="hint">
              The app asked for {screen.context.limits?.monthlyUsd == null
                ? "no cap"
                : `$${screen.context.limits.monthlyUsd}`}. You can change it
              here or later.
            </div>
          </div>
          <ul class="terms">
            <li class="can">
              Run AI models for you, up to this cap each month
            </li>
            <li class="can">See how much of the cap is left</li>
            <li class="cannot">See your funding source or any key</li>
            <li class="cannot">Spend past the cap, or after you revoke</li>
          </ul>
          {failure && (
            <div class="banner banner-error" role="alert">{failure}</div>
          )}
          <div class="actions">
            <button
              type="button"
              disabled={busy}
              onClick={() => finish(false, screen.origin)}
            >
              Deny
            </button>
            <button type="submit" class="primary" disabled={busy}>
              {busy ? "Approving…" : "Approve"}
            </button>
          </div>
          <p class="fine">You can revoke this app at any time.</p>
        </form>
      )}
      {screen.kind === "done" && (
        <div class="center">
          <h1>{screen.approved ? "Connected" : "Not connected"}</h1>
          <p class="origin">You can close this window.</p>
        </div>
      )}
    </div>
  );
}

/**
 * Says hello to the opener and waits for its answer. The browser stamps the
 * answer with the opener's true origin; only a registered one gets the form.
 */
function greetOpener(
  context: ConsentContext,
  setScreen: (screen: Screen) => void,
): () => void {
  const opener = globalThis.opener as Window | null;
  if (!opener) {
    setScreen({ kind: "not_allowed", context, origin: null });
    return () => {};
  }
  setScreen({ kind: "waiting", context });
  const onMessage = (event: MessageEvent) => {
    if (event.source !== opener || event.data?.type !== HELLO_ACK) return;
    clearTimeout(timer);
    globalThis.removeEventListener("message", onMessage);
    setScreen(
      context.app.origins.includes(event.origin)
        ? { kind: "ready", context, origin: event.origin }
        : { kind: "not_allowed", context, origin: event.origin },
    );
  };
  const timer = setTimeout(() => {
    globalThis.removeEventListener("message", onMessage);
    setScreen({ kind: "not_allowed", context, origin: null });
  }, HANDSHAKE_MS);
  globalThis.addEventListener("message", onMessage);
  // The hello carries nothing secret, and we do not know the opener's origin yet.
  opener.postMessage({ type: HELLO }, "*");
  return () => {
    clearTimeout(timer);
    globalThis.removeEventListener("message", onMessage);
  };
}
