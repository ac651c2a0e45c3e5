import type { Mode } from "../../sdk/secret_key.ts";
import type { Sealed } from "../crypto/secret_box.ts";

/**
 * A one-time grant: a fixed number of requests, optionally capped in
 * dollars, approved by a visitor for one app. Stored under the SHA-256 of
 * its token; the token itself is never kept.
 */
export interface Grant {
  /** SHA-256 of the grant token, hex. */
  id: string;
  appId: string;
  mode: Mode;
  /** Requests approved. */
  requests: number;
  /** Requests not yet started (a failed one is given back). */
  remaining: number;
  /** Dollar cap in nano-dollars; `null` when only the count limits it. */
  maxNano: bigint | null;
  spent: bigint;
  held: bigint;
  /** The funding key the upstream bills, sealed under the master key. */
  funding: Sealed;
  createdAt: number;
  expiresAt: number;
}
