import { useState } from "preact/hooks";
import { post } from "../browser/passkeys.ts";

/** Signs this browser out of its wallet (the passkey stays), then shows the page signed out. */
export default function DashboardSignOut() {
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      class="quiet"
      disabled={busy}
      onClick={async () => {
        setBusy(true);
        try {
          await post("/wallet/api/logout", {});
        } finally {
          location.reload();
        }
      }}
    >
      Sign out
    </button>
  );
}
