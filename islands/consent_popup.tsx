import { useEffect, useState } from "preact/hooks";
import type { ConnectionStatus, GrantResult } from "../sdk/types.ts";
import {
  pasteFundingKey,
  registerPasskey,
  signInWithPasskey,
  type WalletMe,
  walletMe,
} from "../browser/passkeys.ts";
import {
  HELLO,
  HELLO_ACK,
  type PopupIntent,
  popupUrl,
  PROTOCOL_VERSION,
  readHelloAck,
  readPopupFragment,
  type ResultMessage,
  resultMessage,
} from "../sdk/popup_protocol.ts";

/** What `GET /api/v1/consent` tells the popup about the request. */
interface ConsentContext {
  app: {
    name: string;
    mode: "live" | "test";
    origins: string[];
    publishableKey: string;
  };
  userId: string;
  limits: { monthlyUsd: number | null } | null;
  status: ConnectionStatus;
}

/** The verified opener: its origin (from the browser) and the handshake's nonce. */
interface Opener {
  origin: string;
  nonce: string;
}

type Screen =
  | { kind: "loading" }
  | { kind: "error"; title: string; detail: string }
  | { kind: "waiting"; context: ConsentContext }
  | { kind: "not_allowed"; context: ConsentContext; origin: string | null }
  | {
    kind: "ready";
    context: ConsentContext;
    opener: Opener;
    wallet: WalletMe | null;
  }
  | { kind: "done"; approved: boolean };

/** How long the opener has to answer the hello before we stop waiting. */
const HANDSHAKE_MS = 5_000;
/** The hello is repeated until answered (the opener may still be loading). */
const HELLO_EVERY_MS = 250;
/**
 * Where the request waits while the owner links funding on OpenRouter and
 * comes back: this tab's session storage, on Wattfare's origin only.
 */
const PENDING = "wattfare:popup";

/**
 * The consent popup. It reads the session from the URL fragment (never
 * sent to any server), asks the service what is being requested, greets its
 * opener and only offers approval when the opener's origin, as the browser
 * reports it, is one the app registered. It asks either for a connection
 * with a monthly cap, or for a one-time grant of a few requests.
 */
export default function ConsentPopup() {
  const [screen, setScreen] = useState<Screen>({ kind: "loading" });
  const [token, setToken] = useState("");
  const [intent, setIntent] = useState<PopupIntent>({ kind: "connect" });
  const [cap, setCap] = useState("");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState("");

  useEffect(() => {
    const fragment = readPopupFragment(location.hash) ??
      readPopupFragment(sessionStorage.getItem(PENDING) ?? "");
    // The token has done its job in the URL; keep it out of history.
    history.replaceState(null, "", location.pathname);
    if (!fragment) {
      setScreen({
        kind: "error",
        title: "Nothing to approve",
        detail: "This window opens from an app's “Connect AI budget” button.",
      });
      return;
    }
    setToken(fragment.session);
    setIntent(fragment.intent);
    let stop = () => {};
    (async () => {
      const response = await fetch("/api/v1/consent", {
        headers: { authorization: `Bearer ${fragment.session}` },
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
      setCap(asked == null ? "" : String(asked));
      // Live apps are paid by the owner's wallet: learn who is signed in.
      const wallet = context.app.mode === "live" ? await walletMe() : null;
      stop = greetOpener(context, wallet, setScreen);
    })().catch(() =>
      setScreen({
        kind: "error",
        title: "Something went wrong",
        detail: "Check your connection, then try again from the app.",
      })
    );
    return () => stop();
  }, []);

  function finish(
    opener: Opener,
    result: Omit<ResultMessage, "type" | "v" | "nonce">,
  ) {
    globalThis.opener?.postMessage(
      resultMessage(opener.nonce, result),
      opener.origin,
    );
    setScreen({ kind: "done", approved: result.outcome === "approved" });
    globalThis.close();
  }

  async function post(path: string, body: unknown): Promise<unknown | null> {
    setBusy(true);
    setFailure("");
    try {
      const response = await fetch(path, {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": "application/json",
        },
        body: JSON.stringify(body),
      });
      const answer = await response.json().catch(() => null);
      if (!response.ok) {
        setFailure(answer?.error?.message ?? "Approval failed; try again.");
        return null;
      }
      return answer;
    } finally {
      setBusy(false);
    }
  }

  async function approveConnection(opener: Opener) {
    const monthlyUsd = cap.trim() === "" ? null : Number(cap);
    if (monthlyUsd !== null && !(monthlyUsd >= 0.01 && monthlyUsd <= 10_000)) {
      setFailure("Enter a monthly cap between $0.01 and $10,000.");
      return;
    }
    const status = await post("/api/v1/consent", {
      monthlyUsd,
      origin: opener.origin,
    });
    if (status) {
      finish(opener, {
        outcome: "approved",
        status: status as ConnectionStatus,
      });
    }
  }

  async function approveGrant(
    opener: Opener,
    grant: { requests: number; maxUsd: number | null },
  ) {
    const result = await post("/api/v1/grants", {
      requests: grant.requests,
      maxUsd: grant.maxUsd,
      origin: opener.origin,
    });
    if (result) {
      finish(opener, { outcome: "approved", grant: result as GrantResult });
    }
  }

  async function walletStep(step: () => Promise<void>) {
    if (screen.kind !== "ready") return;
    setBusy(true);
    setFailure("");
    try {
      await step();
      setScreen({ ...screen, wallet: await walletMe() });
    } catch (error) {
      setFailure(
        error instanceof Error && error.name !== "NotAllowedError"
          ? error.message
          : "The passkey was not used; try again.",
      );
    } finally {
      setBusy(false);
    }
  }

  function linkOpenRouter() {
    // Keep the request for our return, then let OpenRouter ask the owner.
    sessionStorage.setItem(
      PENDING,
      popupFragment(token, intent),
    );
    location.assign("/wallet/funding/openrouter?return=/connect");
  }

  const needsWallet = screen.kind === "ready" && screen.wallet &&
    !screen.wallet.signedIn;
  const needsFunding = screen.kind === "ready" && screen.wallet?.signedIn &&
    !screen.wallet.funding;

  return (
    <div
      class="card"
      data-screen={needsWallet
        ? "wallet"
        : needsFunding
        ? "funding"
        : screen.kind}
    >
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
      {screen.kind === "ready" && needsWallet && (
        <div>
          <p class="origin">
            {screen.context.app.name} asks to use your AI budget.
          </p>
          <h1>Your Wattfare wallet</h1>
          <p class="origin">
            Your budget lives in a wallet on Wattfare, opened with a passkey: no
            password, nothing to remember.
          </p>
          {failure && (
            <div class="banner banner-error" role="alert">{failure}</div>
          )}
          <div class="actions">
            <button
              type="button"
              disabled={busy}
              onClick={() => walletStep(signInWithPasskey)}
            >
              Sign in with a passkey
            </button>
            <button
              type="button"
              class="primary"
              disabled={busy}
              onClick={() => walletStep(registerPasskey)}
            >
              Create a wallet
            </button>
          </div>
        </div>
      )}
      {screen.kind === "ready" && needsFunding && (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            const key = new FormData(event.currentTarget).get("key");
            walletStep(() => pasteFundingKey(String(key ?? "")));
          }}
        >
          <h1>Link how you pay</h1>
          <p class="origin">
            Your OpenRouter account pays for the AI you use, in every app you
            connect. Wattfare keeps its key encrypted and never shows it to
            apps.
          </p>
          <div class="actions">
            <button
              type="button"
              class="primary"
              disabled={busy}
              onClick={linkOpenRouter}
            >
              Link OpenRouter
            </button>
          </div>
          <div class="field">
            <label for="key">…or paste an OpenRouter key</label>
            <div class="money-input">
              <input
                id="key"
                name="key"
                autocomplete="off"
                placeholder="sk-or-v1-…"
              />
            </div>
          </div>
          {failure && (
            <div class="banner banner-error" role="alert">{failure}</div>
          )}
          <div class="actions">
            <button type="submit" disabled={busy}>Save key</button>
          </div>
        </form>
      )}
      {screen.kind === "ready" && !needsWallet && !needsFunding &&
        intent.kind === "connect" && (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            approveConnection(screen.opener);
          }}
        >
          <p class="origin">Connect your AI budget to</p>
          <div class="app-name">{screen.context.app.name}</div>
          <p class="origin">{screen.opener.origin}</p>
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
          <Decision
            busy={busy}
            failure={failure}
            onDeny={() => finish(screen.opener, { outcome: "denied" })}
          />
          <p class="fine">You can revoke this app at any time.</p>
        </form>
      )}
      {screen.kind === "ready" && !needsWallet && !needsFunding &&
        intent.kind === "grant" && (
        <form
          onSubmit={(event) => {
            event.preventDefault();
            approveGrant(screen.opener, intent);
          }}
        >
          <p class="origin">Allow a one-time use of your AI budget by</p>
          <div class="app-name">{screen.context.app.name}</div>
          <p class="origin">{screen.opener.origin}</p>
          <div class="grant-summary">
            <div>
              <strong data-testid="grant-requests">{intent.requests}</strong>
              {" "}
              {intent.requests === 1 ? "request" : "requests"}
            </div>
            <div class="hint">
              {intent.maxUsd === null
                ? "No dollar limit beyond the request count."
                : `At most $${intent.maxUsd.toFixed(2)} in total.`}
            </div>
          </div>
          <ul class="terms">
            <li class="can">Run this many AI requests, within 10 minutes</li>
            <li class="cannot">Keep any access afterwards</li>
            <li class="cannot">See your funding source or any key</li>
          </ul>
          <Decision
            busy={busy}
            failure={failure}
            onDeny={() => finish(screen.opener, { outcome: "denied" })}
          />
        </form>
      )}
      {screen.kind === "done" && (
        <div class="center">
          <h1>{screen.approved ? "Approved" : "Nothing was approved"}</h1>
          <p class="origin">You can close this window.</p>
        </div>
      )}
    </div>
  );
}

/** The failure, if any, and Deny / Approve (the form's submit). */
function Decision(
  props: { busy: boolean; failure: string; onDeny: () => void },
) {
  return (
    <>
      {props.failure && (
        <div class="banner banner-error" role="alert">{props.failure}</div>
      )}
      <div class="actions">
        <button type="button" disabled={props.busy} onClick={props.onDeny}>
          Deny
        </button>
        <button type="submit" class="primary" disabled={props.busy}>
          {props.busy ? "Approving…" : "Approve"}
        </button>
      </div>
    </>
  );
}

/**
 * Says hello to the opener until it answers. The browser stamps the answer
 * with the opener's true origin; only a registered one, answering for this
 * very app, gets the form. Anyone else is told so, and nothing else.
 */
function greetOpener(
  context: ConsentContext,
  wallet: WalletMe | null,
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
    stop();
    const ack = readHelloAck(event, opener, context.app.origins);
    if (ack && ack.publishableKey === context.app.publishableKey) {
      setScreen({
        kind: "ready",
        context,
        opener: { origin: ack.appOrigin, nonce: ack.nonce },
        wallet,
      });
      return;
    }
    setScreen({ kind: "not_allowed", context, origin: event.origin });
    const nonce = typeof event.data?.nonce === "string" ? event.data.nonce : "";
    opener.postMessage(
      resultMessage(nonce, {
        outcome: "error",
        error: {
          code: "origin_not_allowed",
          message: `${event.origin} is not registered for ${context.app.name}.`,
        },
      }),
      event.origin,
    );
  };
  // The hello carries nothing secret, and we do not know the opener's origin yet.
  const hello = () =>
    opener.postMessage({ type: HELLO, v: PROTOCOL_VERSION }, "*");
  const repeat = setInterval(hello, HELLO_EVERY_MS);
  const timer = setTimeout(() => {
    stop();
    setScreen({ kind: "not_allowed", context, origin: null });
  }, HANDSHAKE_MS);
  const stop = () => {
    clearInterval(repeat);
    clearTimeout(timer);
    globalThis.removeEventListener("message", onMessage);
  };
  globalThis.addEventListener("message", onMessage);
  hello();
  return stop;
}

/** The popup's fragment for `intent`, without the leading `#`. */
function popupFragment(session: string, intent: PopupIntent): string {
  return popupUrl("", session, intent).split("#")[1];
}
