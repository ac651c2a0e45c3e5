import type { Mode } from "../../sdk/secret_key.ts";
import type { Sealed } from "../crypto/secret_box.ts";

/** The consent between one app and one of its users. */
export interface Connection {
  appId: string;
  userId: string;
  mode: Mode;
  /**
   * `active` serves requests; `paused`: the user stopped it for now;
   * `disconnected`: the app ended it; `revoked`: the user did.
   */
  state: "active" | "paused" | "disconnected" | "revoked";
  /** Why it is paused: by its owner, or automatically after a burst. */
  pausedBy?: "owner" | "anomaly";
  /** Monthly cap in nano-dollars; `null` is unlimited (test mode only). */
  capNano: bigint | null;
  /** First approval; the monthly period restarts on this day. */
  approvedAt: number;
  /** The funding key the upstream bills, sealed under the master key. */
  funding: Sealed;
  /** The budget owner's wallet that funds it (always, for live apps). */
  walletId: string | null;
  updatedAt: number;
}
