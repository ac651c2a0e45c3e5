/**
 * Webhooks: the events Wattfare sends to your endpoints, and
 * {@link verifyWebhook}, which checks their signature before you trust them.
 *
 * Every delivery is a `POST` with a JSON body `{id, type, createdAt, data}`
 * and two headers: `x-wattfare-webhook-id` (the event id) and
 * `x-wattfare-signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`, where the
 * HMAC key is your endpoint's signing secret (`whsec_…`, as UTF-8) and the
 * signed text is `"<t>.<raw body>"`.
 *
 * Web Crypto only: runs on Node 22+, Deno, Bun, Workers and browsers.
 *
 * @module
 */
import { createWattfareError, type WattfareError } from "./errors.ts";

/**
 * Every event type an endpoint can subscribe to.
 *
 * @example
 * ```ts
 * await fetch(`${api}/webhooks`, {
 *   method: "POST",
 *   headers,
 *   body: JSON.stringify({ url, events: [...WEBHOOK_EVENT_TYPES] }),
 * });
 * ```
 */
export const WEBHOOK_EVENT_TYPES: readonly WebhookEventType[] = [
  "connection.approved",
  "connection.revoked",
  "budget.low",
  "budget.exhausted",
  "grant.used_up",
];

/**
 * The `type` of a {@link WebhookEvent}. A newer service may send types this
 * SDK version does not know: ignore those rather than failing.
 *
 * @example
 * ```ts
 * const type: WebhookEventType = "budget.low";
 * ```
 */
export type WebhookEventType =
  | "connection.approved"
  | "connection.revoked"
  | "budget.low"
  | "budget.exhausted"
  | "grant.used_up";

/**
 * `data` of `connection.approved`: a user approved (or re-approved) a
 * monthly cap for your app.
 *
 * @example
 * ```ts
 * if (event.type === "connection.approved") enableAi(event.data.userId);
 * ```
 */
export interface ConnectionApprovedData {
  /** Your id for the user. */
  userId: string;
  /** The approved cap; `monthlyUsd: null` means no cap (test apps only). */
  limits: { monthlyUsd: number | null };
}

/**
 * `data` of `connection.revoked`: a user's connection ended, by the user
 * (`by: "user"`, from their Wattfare dashboard) or by your app
 * (`by: "app"`, `DELETE /api/v1/connections/{userId}`).
 *
 * @example
 * ```ts
 * if (event.type === "connection.revoked") disableAi(event.data.userId);
 * ```
 */
export interface ConnectionRevokedData {
  /** Your id for the user. */
  userId: string;
  /** Who ended it. */
  by: "user" | "app";
}

/**
 * `data` of `budget.low` (80 % of the cap spent) and `budget.exhausted`
 * (100 %). Each fires at most once per user and monthly period.
 *
 * @example
 * ```ts
 * if (event.type === "budget.low") {
 *   notify(event.data.userId, `Only $${event.data.remainingUsd} of AI budget left this month.`);
 * }
 * ```
 */
export interface BudgetAlertData {
  /** Your id for the user. */
  userId: string;
  /** First day (UTC, `YYYY-MM-DD`) of the monthly period the alert is about. */
  period: string;
  /** The threshold crossed: 80 or 100 (percent of the cap). */
  thresholdPercent: 80 | 100;
  /** The cap, in USD. */
  limits: { monthlyUsd: number };
  /** Spent in the period when the threshold was crossed, in USD. */
  usage: { monthlyUsd: number };
  /** Cap − spent at that moment, never negative, in USD. */
  remainingUsd: number;
}

/**
 * `data` of `grant.used_up`: a one-time grant has no requests (or no
 * dollars) left. Fires once per grant.
 *
 * @example
 * ```ts
 * if (event.type === "grant.used_up") console.log(event.data.grantId, event.data.usage.usd);
 * ```
 */
export interface GrantUsedUpData {
  /** The grant's id: SHA-256 (hex) of the grant token you redeemed. */
  grantId: string;
  /** Requests the grant authorized. */
  requests: number;
  /** What the grant's requests cost, in USD. */
  usage: { usd: number };
  /** The grant's dollar cap, or `null` when only the count limited it. */
  maxUsd: number | null;
}

/**
 * The `data` of each event type.
 *
 * @example
 * ```ts
 * const data: WebhookEventDataMap["budget.low"] = event.data;
 * ```
 */
export interface WebhookEventDataMap {
  /** See {@link ConnectionApprovedData}. */
  "connection.approved": ConnectionApprovedData;
  /** See {@link ConnectionRevokedData}. */
  "connection.revoked": ConnectionRevokedData;
  /** See {@link BudgetAlertData}. */
  "budget.low": BudgetAlertData;
  /** See {@link BudgetAlertData}. */
  "budget.exhausted": BudgetAlertData;
  /** See {@link GrantUsedUpData}. */
  "grant.used_up": GrantUsedUpData;
}

/**
 * One event of type `T`.
 *
 * @example
 * ```ts
 * const event: WebhookEventOf<"budget.low"> = await verifyWebhook(body, signature, secret) as WebhookEventOf<"budget.low">;
 * ```
 */
export interface WebhookEventOf<T extends WebhookEventType> {
  /**
   * `evt_…`, unique per event and the same on every retry and endpoint:
   * store the ids you handled and skip repeats, since a delivery can
   * arrive more than once.
   */
  id: string;
  /** What happened. */
  type: T;
  /** When it happened, in milliseconds since the epoch. */
  createdAt: number;
  /** What it is about; its shape depends on `type`. */
  data: WebhookEventDataMap[T];
}

/**
 * An event as {@link verifyWebhook} returns it: switch on `type` and
 * TypeScript narrows `data`.
 *
 * @example
 * ```ts
 * const event: WebhookEvent = await verifyWebhook(body, signature, secret);
 * switch (event.type) {
 *   case "budget.exhausted": pauseAiFeatures(event.data.userId); break;
 *   case "connection.revoked": disableAi(event.data.userId); break;
 * }
 * ```
 */
export type WebhookEvent = {
  [T in WebhookEventType]: WebhookEventOf<T>;
}[WebhookEventType];

/**
 * The header carrying the event id.
 *
 * @example
 * ```ts
 * const eventId = request.headers.get(WEBHOOK_ID_HEADER);
 * ```
 */
export const WEBHOOK_ID_HEADER = "x-wattfare-webhook-id";

/**
 * The header carrying the timestamp and signature.
 *
 * @example
 * ```ts
 * const signature = request.headers.get(WEBHOOK_SIGNATURE_HEADER);
 * ```
 */
export const WEBHOOK_SIGNATURE_HEADER = "x-wattfare-signature";

/**
 * Options of {@link verifyWebhook}.
 *
 * @example
 * ```ts
 * const options: VerifyWebhookOptions = { toleranceSeconds: 600 };
 * ```
 */
export interface VerifyWebhookOptions {
  /**
   * How far the signature's timestamp may be from now, either way, in
   * seconds; default 300. Older deliveries are refused as replays.
   */
  toleranceSeconds?: number;
  /** The current time in milliseconds since the epoch (as `Date.now()`); for tests. */
  now?: number;
}

/**
 * Checks that a webhook delivery comes from Wattfare and is recent, and
 * returns its event. Pass the **raw** request body, exactly as received
 * (`await request.text()`), before any JSON parsing: re-serialized JSON no
 * longer matches the signature.
 *
 * Refused with a {@link WattfareError} of code `invalid_request` (class
 * `WattfareRequestError`, `status` 0, `param` naming the header) when the
 * signature header is missing or malformed, no signature matches (tampered
 * body, wrong secret), or the timestamp is outside the tolerance (a replay
 * or a very late delivery). Answer those with a 400 and do nothing.
 *
 * A valid signature proves origin and freshness, not uniqueness: within the
 * tolerance, the same delivery may arrive again (retries, or a replay).
 * `event.id` is unique per event, so record the ids you handled and skip
 * repeats.
 *
 * @param body The raw request body.
 * @param signatureHeader The `x-wattfare-signature` header, or `null`.
 * @param secret Your endpoint's signing secret, `whsec_…`.
 * @throws {TypeError} when `secret` is empty or `toleranceSeconds` is negative.
 *
 * @example
 * ```ts
 * import { verifyWebhook, WattfareError } from "wattfare/server";
 *
 * app.post("/webhooks/wattfare", async (c) => {
 *   const body = await c.req.text();
 *   let event;
 *   try {
 *     event = await verifyWebhook(body, c.req.header("x-wattfare-signature") ?? null, process.env.WATTFARE_WEBHOOK_SECRET!);
 *   } catch (err) {
 *     if (err instanceof WattfareError) return c.text("bad signature", 400);
 *     throw err;
 *   }
 *   if (await alreadyHandled(event.id)) return c.body(null, 200);
 *   if (event.type === "budget.low") await emailUser(event.data.userId);
 *   return c.body(null, 200);
 * });
 * ```
 */
export async function verifyWebhook(
  body: string,
  signatureHeader: string | null,
  secret: string,
  options: VerifyWebhookOptions = {},
): Promise<WebhookEvent> {
  assertSecret(secret);
  const tolerance = options.toleranceSeconds ?? 300;
  if (!(tolerance >= 0)) {
    throw new TypeError("Wattfare: toleranceSeconds must be 0 or more");
  }
  if (typeof body !== "string") {
    throw refused(
      "Pass the raw request body as a string (await request.text()).",
      "body",
    );
  }
  const parsed = parseSignatureHeader(signatureHeader);
  const now = Math.floor((options.now ?? Date.now()) / 1000);
  if (Math.abs(now - parsed.timestamp) > tolerance) {
    throw refused(
      `The webhook's timestamp is more than ${tolerance} s from now: a replay or a late delivery.`,
      WEBHOOK_SIGNATURE_HEADER,
    );
  }
  const expected = await hmac(secret, `${parsed.timestamp}.${body}`);
  // Every candidate is compared in full, so timing tells nothing about
  // which one, or how much of it, matched.
  let matched = false;
  for (const candidate of parsed.signatures) {
    if (constantTimeEqual(expected, hexBytes(candidate))) matched = true;
  }
  if (!matched) {
    throw refused(
      "The webhook's signature does not match: the body was changed, or this is not the endpoint's signing secret.",
      WEBHOOK_SIGNATURE_HEADER,
    );
  }
  return readEvent(body);
}

/**
 * Signs a body as Wattfare does and returns the `x-wattfare-signature`
 * header value. Wattfare uses it to send webhooks; use it to test your own
 * handler with deliveries you make up.
 *
 * @param options `timestamp`: unix seconds to sign with (default: now).
 *
 * @example
 * ```ts
 * const body = JSON.stringify({ id: "evt_test", type: "budget.low", createdAt: Date.now(), data });
 * const signature = await signWebhook(body, "whsec_test");
 * await handler(new Request("http://localhost/webhooks", {
 *   method: "POST",
 *   body,
 *   headers: { "x-wattfare-signature": signature },
 * }));
 * ```
 */
export async function signWebhook(
  body: string,
  secret: string,
  options: { timestamp?: number } = {},
): Promise<string> {
  assertSecret(secret);
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new TypeError("Wattfare: timestamp must be whole unix seconds");
  }
  const signature = await hmac(secret, `${timestamp}.${body}`);
  return `t=${timestamp},v1=${hex(signature)}`;
}

interface ParsedSignature {
  timestamp: number;
  signatures: string[];
}

/** `t=<digits>,v1=<hex>[,v1=<hex>…]`; unknown schemes are skipped for forward compatibility. */
function parseSignatureHeader(header: string | null): ParsedSignature {
  if (typeof header !== "string" || header.trim() === "") {
    throw refused(
      `The ${WEBHOOK_SIGNATURE_HEADER} header is missing: this request was not sent by Wattfare.`,
      WEBHOOK_SIGNATURE_HEADER,
    );
  }
  let timestamp: number | undefined;
  const signatures: string[] = [];
  for (const part of header.split(",")) {
    const at = part.indexOf("=");
    const key = part.slice(0, at).trim();
    const value = part.slice(at + 1).trim();
    if (at < 0) continue;
    if (key === "t" && /^\d{1,15}$/.test(value)) timestamp = Number(value);
    if (key === "v1") signatures.push(value);
  }
  if (timestamp === undefined || signatures.length === 0) {
    throw refused(
      `The ${WEBHOOK_SIGNATURE_HEADER} header is malformed; expected t=<unix seconds>,v1=<hex signature>.`,
      WEBHOOK_SIGNATURE_HEADER,
    );
  }
  return { timestamp, signatures };
}

function readEvent(body: string): WebhookEvent {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw refused("The webhook body is not JSON.", "body");
  }
  const event = value as Partial<WebhookEventOf<WebhookEventType>> | null;
  if (
    typeof event !== "object" || event === null ||
    typeof event.id !== "string" || typeof event.type !== "string" ||
    typeof event.createdAt !== "number" || typeof event.data !== "object" ||
    event.data === null
  ) {
    throw refused(
      "The webhook body is not an event ({id, type, createdAt, data}).",
      "body",
    );
  }
  return event as WebhookEvent;
}

function refused(message: string, param: string): WattfareError {
  return createWattfareError("invalid_request", `Wattfare: ${message}`, {
    status: 0,
    param,
  });
}

function assertSecret(secret: unknown): void {
  if (typeof secret !== "string" || secret === "") {
    throw new TypeError(
      "Wattfare: the webhook signing secret is missing; pass the whsec_… secret shown when the endpoint was created",
    );
  }
}

const encoder = new TextEncoder();

async function hmac(secret: string, text: string): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return new Uint8Array(
    await crypto.subtle.sign("HMAC", key, encoder.encode(text)),
  );
}

/**
 * Equal-length inputs take the same time whatever their contents; a length
 * mismatch returns at once, which reveals only that the candidate was not a
 * SHA-256 signature at all.
 */
function constantTimeEqual(a: Uint8Array, b: Uint8Array | null): boolean {
  if (!b || a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function hexBytes(text: string): Uint8Array | null {
  if (!/^(?:[0-9a-f]{2})+$/i.test(text)) return null;
  const bytes = new Uint8Array(text.length / 2);
  for (let i = 0; i < bytes.length; i++) {
    bytes[i] = parseInt(text.slice(i * 2, i * 2 + 2), 16);
  }
  return bytes;
}
