import { useState } from "preact/hooks";
import { registerPasskey, signInWithPasskey } from "../browser/passkeys.ts";

/**
 * Passkey sign-in to a Wattfare wallet, for any page that needs one: sign
 * in with an existing passkey, or create a wallet with a new one. The page
 * reloads signed in (the session is an HttpOnly cookie, so only the server
 * can tell).
 */
export default function WalletSignIn(props: { heading: string; lead: string }) {
  const [busy, setBusy] = useState<"" | "sign-in" | "create">("");
  const [failure, setFailure] = useState("");

  async function run(kind: "sign-in" | "create", step: () => Promise<void>) {
    setBusy(kind);
    setFailure("");
    try {
      await step();
      location.reload();
    } catch (error) {
      // The browser's own refusal (cancelled, timed out) says nothing useful.
      setFailure(
        error instanceof Error && error.name !== "NotAllowedError"
          ? error.message
          : "The passkey was not used; try again.",
      );
      setBusy("");
    }
  }

  return (
    <div class="card sign-in" data-screen="sign-in">
      <div class="brand">
        <span class="brand-mark" aria-hidden="true" /> Wattfare
      </div>
      <h1>{props.heading}</h1>
      <p class="origin">{props.lead}</p>
      {failure && <div class="banner banner-error" role="alert">{failure}</div>}
      <div class="sign-in-actions">
        <button
          type="button"
          class="primary"
          disabled={busy !== ""}
          onClick={() => run("sign-in", signInWithPasskey)}
        >
          {busy === "sign-in"
            ? "Waiting for your passkey…"
            : "Sign in with a passkey"}
        </button>
        <button
          type="button"
          disabled={busy !== ""}
          onClick={() => run("create", registerPasskey)}
        >
          {busy === "create" ? "Creating your wallet…" : "Create a wallet"}
        </button>
      </div>
      <p class="fine">
        No passwords: your passkey stays on this device or in your password
        manager, and signs you in anywhere you keep it.
      </p>
    </div>
  );
}
