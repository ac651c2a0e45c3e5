import ConsentPopup from "../islands/consent_popup.tsx";

/** The page's title. */
export const title = "Connect AI budget · Wattfare";

/** The consent popup, opened by `connect()` in `wattfare/client`. */
export default function Connect() {
  return (
    <div class="page">
      <ConsentPopup />
    </div>
  );
}
