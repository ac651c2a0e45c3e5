/**
 * The consent popup's message protocol: what the app page (this SDK) and the
 * popup (served by Wattfare at `/connect`) say to each other, and the checks
 * each side makes. Both sides import this module, so the protocol is written
 * down once.
 *
 * ## The exchange
 *
 * 1. **Open.** In the user's click, the SDK opens a window at `about:blank`
 *    (synchronously, so popup blockers allow it), fetches a session token,
 *    then navigates that window to the popup URL from {@link popupUrl}:
 *    `${baseUrl}/connect#session=<jwt>`, plus `&intent=grant&requests=N`
 *    (and `&maxUsd=X`) for a one-time grant. The token rides in the
 *    fragment, which browsers never send to servers; the popup reads it with
 *    {@link readPopupFragment} and should then clear it
 *    (`history.replaceState`).
 * 2. **Hello.** The popup posts {@link HelloMessage} to `window.opener` with
 *    target origin `"*"`: it does not know the opener's origin yet, and the
 *    hello carries nothing secret. It repeats the hello (every 250 ms or so)
 *    until an acknowledgement arrives, and again after any reload.
 * 3. **Acknowledge.** The SDK accepts a message only when `event.origin` is
 *    exactly the Wattfare origin and `event.source` is the window it opened
 *    ({@link createOpenerHandler}). To each hello it answers
 *    {@link HelloAckMessage}, posted to the popup with the Wattfare origin as
 *    the exact target origin (never `"*"`), so no other page can read it.
 * 4. **Verify.** The popup accepts the acknowledgement only when
 *    `event.source` is its opener and `event.origin` (set by the browser,
 *    unforgeable) is one of the app's registered origins
 *    ({@link readHelloAck}); only then may the user approve. The `origin`
 *    field inside the message is informational and must equal
 *    `event.origin`.
 * 5. **Result.** The popup posts {@link ResultMessage} to the opener with
 *    the verified app origin as the exact target origin, echoing the
 *    acknowledgement's `nonce`. The SDK accepts it under the same origin and
 *    source checks (and ignores a result whose nonce differs), then closes
 *    the popup. `v` and `nonce` may be left out by a popup that predates
 *    them; they are read as version 1 and "no nonce".
 * 6. **Close.** The SDK polls `popup.closed`; a popup closed before a
 *    result counts as a denial.
 *
 * @module
 */
import type { ConnectionStatus, GrantResult } from "./types.ts";

/** Protocol version carried in every message as `v`. */
export const PROTOCOL_VERSION = 1;

/** Message types. */
export const HELLO = "wattfare:hello";
/** @see HELLO */
export const HELLO_ACK = "wattfare:hello-ack";
/** @see HELLO */
export const RESULT = "wattfare:result";

/** Popup → opener, target origin `"*"`: "who opened me?". */
export interface HelloMessage {
  type: typeof HELLO;
  /** Protocol version; a message without one is read as version 1. */
  v?: typeof PROTOCOL_VERSION;
}

/** Opener → popup, target origin exactly the Wattfare origin. */
export interface HelloAckMessage {
  type: typeof HELLO_ACK;
  v: typeof PROTOCOL_VERSION;
  /** The app page's origin (`location.origin`); must equal `event.origin`. */
  origin: string;
  /** The app's publishable key, `pk_{mode}_{appId}`. */
  publishableKey: string;
  /** Random; the result must echo it. */
  nonce: string;
}

/** How the user answered. */
export type PopupOutcome = "approved" | "denied" | "error";

/** Popup → opener, target origin exactly the verified app origin. */
export interface ResultMessage {
  type: typeof RESULT;
  /** Protocol version; a message without one is read as version 1. */
  v?: typeof PROTOCOL_VERSION;
  /**
   * The acknowledgement's nonce. The popup should echo it; a result that
   * carries a different one is ignored.
   */
  nonce?: string;
  outcome: PopupOutcome;
  /** After approving a connection: the new status. */
  status?: ConnectionStatus;
  /** After approving a grant: the grant. */
  grant?: GrantResult;
  /** When `outcome` is `"error"`: a Wattfare error code and message (e.g. `origin_not_allowed`). */
  error?: { code: string; message: string };
}

/** What the popup is asked to do. */
export type PopupIntent =
  | { kind: "connect" }
  | { kind: "grant"; requests: number; maxUsd: number | null };

/** The parts of a `MessageEvent` the handlers read. */
export interface MessageEventLike {
  origin: string;
  source: unknown;
  data: unknown;
}

/** A window the handlers can post to. */
export interface MessageTarget {
  postMessage(message: unknown, targetOrigin: string): void;
}

/** The popup's URL: `${base}/connect#session=<jwt>[&intent=grant&requests=N[&maxUsd=X]]`. */
export function popupUrl(
  base: string,
  session: string,
  intent: PopupIntent,
): string {
  const fragment = new URLSearchParams({ session });
  if (intent.kind === "grant") {
    fragment.set("intent", "grant");
    fragment.set("requests", String(intent.requests));
    if (intent.maxUsd !== null) fragment.set("maxUsd", String(intent.maxUsd));
  }
  return `${base.replace(/\/+$/, "")}/connect#${fragment}`;
}

/**
 * Reads the popup's fragment (`location.hash`, with or without `#`); `null`
 * when it has no session or a malformed grant request.
 */
export function readPopupFragment(
  hash: string,
): { session: string; intent: PopupIntent } | null {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  const session = params.get("session");
  if (!session) return null;
  const kind = params.get("intent") ?? "connect";
  if (kind === "connect") return { session, intent: { kind: "connect" } };
  if (kind !== "grant") return null;
  const requests = Number(params.get("requests"));
  const maxText = params.get("maxUsd");
  const maxUsd = maxText === null ? null : Number(maxText);
  if (!isRequestCount(requests) || (maxUsd !== null && !isUsd(maxUsd))) {
    return null;
  }
  return { session, intent: { kind: "grant", requests, maxUsd } };
}

/** Whether `data` is a hello. */
export function isHello(data: unknown): data is HelloMessage {
  return isRecord(data) && data.type === HELLO && isVersion(data.v);
}

/** The acknowledgement the SDK sends. */
export function helloAck(
  origin: string,
  publishableKey: string,
  nonce: string,
): HelloAckMessage {
  return {
    type: HELLO_ACK,
    v: PROTOCOL_VERSION,
    origin,
    publishableKey,
    nonce,
  };
}

/**
 * Popup side: reads an acknowledgement, accepting it only from the opener
 * and from one of the app's registered origins. Returns the verified app
 * origin (from `event.origin`), the publishable key and the nonce, or `null`.
 */
export function readHelloAck(
  event: MessageEventLike,
  opener: unknown,
  allowedOrigins: readonly string[],
): { appOrigin: string; publishableKey: string; nonce: string } | null {
  if (opener == null || event.source !== opener) return null;
  if (!allowedOrigins.includes(event.origin)) return null;
  const data = event.data;
  if (
    !isRecord(data) || data.type !== HELLO_ACK ||
    data.v !== PROTOCOL_VERSION || data.origin !== event.origin ||
    typeof data.publishableKey !== "string" ||
    typeof data.nonce !== "string" || data.nonce.length === 0
  ) {
    return null;
  }
  return {
    appOrigin: event.origin,
    publishableKey: data.publishableKey,
    nonce: data.nonce,
  };
}

/** Popup side: the result message to post to the opener. */
export function resultMessage(
  nonce: string,
  result: Omit<ResultMessage, "type" | "v" | "nonce">,
): ResultMessage {
  return { type: RESULT, v: PROTOCOL_VERSION, nonce, ...result };
}

/**
 * Reads a result; `null` unless it is well formed and carries no nonce but
 * `nonce`.
 */
export function readResult(data: unknown, nonce: string): ResultMessage | null {
  if (
    !isRecord(data) || data.type !== RESULT || !isVersion(data.v) ||
    (data.nonce !== undefined && data.nonce !== nonce)
  ) {
    return null;
  }
  const outcome = data.outcome;
  if (outcome !== "approved" && outcome !== "denied" && outcome !== "error") {
    return null;
  }
  const result: ResultMessage = {
    type: RESULT,
    v: PROTOCOL_VERSION,
    nonce,
    outcome,
  };
  if (data.status !== undefined) {
    if (!isStatus(data.status)) return null;
    result.status = data.status;
  }
  if (data.grant !== undefined) {
    if (!isGrant(data.grant)) return null;
    result.grant = data.grant;
  }
  if (data.error !== undefined) {
    const error = data.error;
    if (
      !isRecord(error) || typeof error.code !== "string" ||
      typeof error.message !== "string"
    ) {
      return null;
    }
    result.error = { code: error.code, message: error.message };
  }
  return result;
}

/** Options of {@link createOpenerHandler}. */
export interface OpenerHandlerOptions {
  /** The Wattfare origin, e.g. `https://wattfare.com`. */
  wattfareOrigin: string;
  /** The popup this page opened (read on every message). */
  popup(): MessageTarget | null;
  /** This page's origin (`location.origin`). */
  appOrigin: string;
  publishableKey: string;
  nonce: string;
  /** Called with each accepted result. */
  onResult(result: ResultMessage): void;
}

/**
 * App-page side: the `message` listener. It ignores every message that is
 * not from the Wattfare origin and the popup window, answers hellos with an
 * acknowledgement posted to the Wattfare origin exactly, and hands
 * well-formed results (with the right nonce, or none) to `onResult`.
 */
export function createOpenerHandler(
  options: OpenerHandlerOptions,
): (event: MessageEventLike) => void {
  return (event) => {
    const popup = options.popup();
    if (!popup || event.source !== popup) return;
    if (event.origin !== options.wattfareOrigin) return;
    if (isHello(event.data)) {
      popup.postMessage(
        helloAck(options.appOrigin, options.publishableKey, options.nonce),
        options.wattfareOrigin,
      );
      return;
    }
    const result = readResult(event.data, options.nonce);
    if (result) options.onResult(result);
  };
}

/** Whether `n` is a grant's request count: a whole number from 1. */
export function isRequestCount(n: unknown): n is number {
  return typeof n === "number" && Number.isSafeInteger(n) && n >= 1;
}

/** Whether `n` is a non-negative, finite dollar amount up to 1,000,000. */
export function isUsd(n: unknown): n is number {
  return typeof n === "number" && Number.isFinite(n) && n >= 0 &&
    n <= 1_000_000;
}

function isStatus(value: unknown): value is ConnectionStatus {
  if (!isRecord(value) || typeof value.connected !== "boolean") return false;
  const limits = value.limits;
  const usage = value.usage;
  return (limits === null ||
    (isRecord(limits) &&
      (limits.monthlyUsd === null || typeof limits.monthlyUsd === "number"))) &&
    isRecord(usage) && typeof usage.monthlyUsd === "number" &&
    (value.remainingUsd === null || typeof value.remainingUsd === "number");
}

function isGrant(value: unknown): value is GrantResult {
  return isRecord(value) && typeof value.grantToken === "string" &&
    value.grantToken.length > 0 && typeof value.expiresAt === "number" &&
    typeof value.requests === "number";
}

function isVersion(v: unknown): boolean {
  return v === undefined || v === PROTOCOL_VERSION;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}
