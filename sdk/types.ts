/**
 * Shapes shared by the server, client and React entry points.
 *
 * @module
 */

/**
 * A user's connection to your app, as `GET /api/v1/status` returns it. "Not
 * connected" is a value of this type, never an error.
 *
 * @example
 * ```ts
 * const status: ConnectionStatus = await wf.user("user_123").status();
 * if (!status.connected) showConnectButton();
 * ```
 */
export interface ConnectionStatus {
  /** Whether the user has an active, funded connection to your app. */
  connected: boolean;
  /** The approved cap; `monthlyUsd: null` means no cap (test apps only). `null` when not connected. */
  limits: { monthlyUsd: number | null } | null;
  /** Spend in the current monthly period, in USD (rounded to 6 decimals). */
  usage: { monthlyUsd: number };
  /** Cap − spent − in flight, never negative; `null` when there is no cap. */
  remainingUsd: number | null;
}

/**
 * What the user approved in a one-time grant; forward `grantToken` to your
 * backend, which redeems it with `wf.grant(grantToken)`.
 *
 * @example
 * ```ts
 * const grant: GrantResult | null = await wf.requestGrant({ requests: 1 });
 * if (grant) await fetch("/api/convert", { method: "POST", body: JSON.stringify({ grantToken: grant.grantToken }) });
 * ```
 */
export interface GrantResult {
  /** The one-time token (`wfg_…`) your backend redeems. */
  grantToken: string;
  /** When the token expires, in unix seconds. */
  expiresAt: number;
  /** How many inference calls it authorizes. */
  requests: number;
}

/**
 * What to ask the user to approve in a one-time grant.
 *
 * @example
 * ```ts
 * const request: GrantRequest = { requests: 3, maxUsd: 0.5 };
 * ```
 */
export interface GrantRequest {
  /** How many inference calls to authorize (a whole number from 1). */
  requests: number;
  /** Optional dollar backstop; omit or `null` for a request-count-only grant. */
  maxUsd?: number | null;
}

export type {
  /**
   * A session token for the browser and its expiry (unix seconds), as your
   * token route returns it.
   */
  Session as SessionToken,
  SessionLimits,
} from "./session_token.ts";
