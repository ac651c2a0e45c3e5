import { useState } from "preact/hooks";
import { pasteFundingKey } from "../browser/passkeys.ts";

/**
 * Links the wallet's funding source: through OpenRouter's own consent page
 * (a plain link; the server runs the OAuth PKCE flow and brings the owner
 * back here), or by pasting an OpenRouter key, which the server checks
 * before sealing it.
 */
export default function DashboardFunding(props: { funded: boolean }) {
  const [pasting, setPasting] = useState(false);
  const [key, setKey] = useState("");
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState("");

  async function save(event: Event) {
    event.preventDefault();
    setBusy(true);
    setFailure("");
    try {
      await pasteFundingKey(key.trim());
      location.reload();
    } catch (error) {
      setFailure(
        error instanceof Error ? error.message : "That key was not saved.",
      );
      setBusy(false);
    }
  }

  if (!pasting) {
    return (
      <div class="funding-actions">
        <a
          class="button primary"
          href="/wallet/funding/openrouter?return=/dashboard"
        >
          {props.funded ? "Relink OpenRouter" : "Link OpenRouter"}
        </a>
        <button type="button" onClick={() => setPasting(true)}>
          Paste a key
        </button>
      </div>
    );
  }
  return (
    <form class="funding-paste" onSubmit={save}>
      <label class="small" for="funding-key">Your OpenRouter API key</label>
      <div class="row">
        <input
          id="funding-key"
          type="password"
          autoComplete="off"
          spellcheck={false}
          placeholder="sk-or-v1-…"
          value={key}
          onInput={(event) => setKey((event.target as HTMLInputElement).value)}
        />
        <button type="submit" class="primary" disabled={busy || !key.trim()}>
          {busy ? "Checking…" : "Save key"}
        </button>
        <button type="button" disabled={busy} onClick={() => setPasting(false)}>
          Cancel
        </button>
      </div>
      {failure && <div class="banner banner-error" role="alert">{failure}</div>}
      <p class="hint">
        Checked with OpenRouter, then stored encrypted. Apps never see it.
      </p>
    </form>
  );
}
