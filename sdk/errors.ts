/**
 * Typed errors of the Wattfare SDK, and {@link toWattfareError}, which finds
 * them inside whatever the AI SDK threw.
 *
 * This module has no dependencies, so the browser entry can re-export it
 * without pulling the AI SDK into a page.
 *
 * @module
 */

/**
 * Every error code the Wattfare API answers with, and its HTTP status.
 *
 * @example
 * ```ts
 * ERROR_STATUS.budget_exceeded; // 402
 * ```
 */
export const ERROR_STATUS: Readonly<Record<ServiceErrorCode, number>> = {
  invalid_request: 400,
  model_not_priced: 400,
  invalid_api_key: 401,
  invalid_session: 401,
  budget_exceeded: 402,
  grant_invalid: 402,
  not_connected: 403,
  revoked: 403,
  origin_not_allowed: 403,
  mode_mismatch: 403,
  not_found: 404,
  payload_too_large: 413,
  rate_limited: 429,
  upstream_error: 502,
  upstream_timeout: 504,
};

/**
 * A code the Wattfare API sends in `error.code`.
 *
 * @example
 * ```ts
 * const code: ServiceErrorCode = "not_connected";
 * ```
 */
export type ServiceErrorCode =
  | "invalid_request"
  | "model_not_priced"
  | "invalid_api_key"
  | "invalid_session"
  | "budget_exceeded"
  | "grant_invalid"
  | "not_connected"
  | "revoked"
  | "origin_not_allowed"
  | "mode_mismatch"
  | "not_found"
  | "payload_too_large"
  | "rate_limited"
  | "upstream_error"
  | "upstream_timeout";

/**
 * Codes the SDK raises itself: `popup_blocked` (the browser refused to open
 * the consent popup) and `unexpected_response` (the service answered
 * something the SDK does not understand, e.g. a proxy's HTML error page).
 *
 * @example
 * ```ts
 * const code: SdkErrorCode = "popup_blocked";
 * ```
 */
export type SdkErrorCode = "popup_blocked" | "unexpected_response";

/**
 * The `code` of a {@link WattfareError}. Codes a newer service may add still
 * arrive as strings, so compare with `===` rather than switching exhaustively.
 *
 * @example
 * ```ts
 * if (toWattfareError(err)?.code === "budget_exceeded") askForMoreBudget();
 * ```
 */
export type WattfareErrorCode =
  | ServiceErrorCode
  | SdkErrorCode
  // deno-lint-ignore ban-types
  | (string & {});

/**
 * Options of the {@link WattfareError} constructor.
 *
 * @example
 * ```ts
 * new WattfareRateLimitError("rate_limited", "Slow down.", { retryAfter: 2 });
 * ```
 */
export interface WattfareErrorOptions {
  /** HTTP status; defaults to the code's status from {@link ERROR_STATUS}, or 0. */
  status?: number;
  /** The request field at fault, when the service named one. */
  param?: string | null;
  /** Seconds to wait before retrying, from `Retry-After`. */
  retryAfter?: number;
  /** The underlying error. */
  cause?: unknown;
}

const MARKER = Symbol.for("wattfare.error");

/**
 * An error the Wattfare API (or the SDK) reports, with a stable `code`, the
 * HTTP `status` it came with (0 when no response was involved) and a
 * human-readable `message`. Subclasses group the codes an app handles alike.
 *
 * @example
 * ```ts
 * import { toWattfareError, WattfareError } from "wattfare/server";
 *
 * try {
 *   await wf.user("user_123").status();
 * } catch (err) {
 *   if (err instanceof WattfareError) console.log(err.code, err.status);
 * }
 * ```
 */
export class WattfareError extends Error {
  /** The machine-readable reason, e.g. `"budget_exceeded"`. */
  readonly code: WattfareErrorCode;
  /** HTTP status of the response, or 0 for errors raised without one. */
  readonly status: number;
  /** The request field at fault, when the service named one. */
  readonly param: string | null;
  /** Seconds to wait before retrying (rate limits), when known. */
  readonly retryAfter: number | undefined;

  /**
   * Creates an error; `status` defaults to the code's status, or 0.
   *
   * @example
   * ```ts
   * const err = new WattfareError("not_found", "No such route.");
   * err.status; // 404
   * ```
   */
  constructor(
    code: WattfareErrorCode,
    message: string,
    options: WattfareErrorOptions = {},
  ) {
    super(
      message,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "WattfareError";
    this.code = code;
    this.status = options.status ??
      (ERROR_STATUS as Record<string, number>)[code] ?? 0;
    this.param = options.param ?? null;
    this.retryAfter = options.retryAfter;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /**
   * Whether `value` is a `WattfareError`, also when it comes from another
   * copy of this package (where `instanceof` fails).
   *
   * @example
   * ```ts
   * WattfareError.isInstance(new WattfareError("not_found", "…")); // true
   * ```
   */
  static isInstance(value: unknown): value is WattfareError {
    return typeof value === "object" && value !== null &&
      (value as Record<symbol, unknown>)[MARKER] === true;
  }
}

/**
 * The credentials were refused: `invalid_api_key` (missing, malformed,
 * unknown or rotated secret key) or `invalid_session` (expired or forged
 * session token). Also thrown by `wf.grant("")`.
 *
 * @example
 * ```ts
 * if (toWattfareError(err) instanceof WattfareAuthError) rotateOrFixKey();
 * ```
 */
export class WattfareAuthError extends WattfareError {
  /** The class name, as logs and stack traces show it. */
  override name = "WattfareAuthError";
}

/**
 * The user's budget cannot pay for the request (`budget_exceeded`): the
 * monthly cap is reached, or the funding source is out of credits. Nothing
 * was forwarded, and retrying will not help until the budget grows.
 *
 * @example
 * ```ts
 * if (toWattfareError(err) instanceof WattfareBudgetError) {
 *   return Response.json({ error: "Your AI budget is used up." }, { status: 402 });
 * }
 * ```
 */
export class WattfareBudgetError extends WattfareError {
  /** The class name, as logs and stack traces show it. */
  override name = "WattfareBudgetError";
}

/**
 * The user has no active connection to the app: never connected
 * (`not_connected`) or revoked it (`revoked`). Show the connect button.
 *
 * @example
 * ```ts
 * if (toWattfareError(err) instanceof WattfareNotConnectedError) {
 *   return Response.json({ needsConnect: true }, { status: 403 });
 * }
 * ```
 */
export class WattfareNotConnectedError extends WattfareError {
  /** The class name, as logs and stack traces show it. */
  override name = "WattfareNotConnectedError";
}

/**
 * A one-time grant is unknown, expired, used up or over its dollar cap
 * (`grant_invalid`). Ask the user to approve a new one.
 *
 * @example
 * ```ts
 * if (toWattfareError(err) instanceof WattfareGrantError) askForNewGrant();
 * ```
 */
export class WattfareGrantError extends WattfareError {
  /** The class name, as logs and stack traces show it. */
  override name = "WattfareGrantError";
}

/**
 * Too many requests (`rate_limited`); `retryAfter` says how many seconds to
 * wait. The AI SDK's own retries already honour it.
 *
 * @example
 * ```ts
 * const e = toWattfareError(err);
 * if (e instanceof WattfareRateLimitError) await sleep((e.retryAfter ?? 1) * 1000);
 * ```
 */
export class WattfareRateLimitError extends WattfareError {
  /** The class name, as logs and stack traces show it. */
  override name = "WattfareRateLimitError";
}

/**
 * The model provider failed (`upstream_error`) or did not answer in time
 * (`upstream_timeout`). Before the first byte nothing is charged; an error in
 * the middle of a stream arrives as this class too.
 *
 * @example
 * ```ts
 * if (toWattfareError(err) instanceof WattfareUpstreamError) tryAnotherModel();
 * ```
 */
export class WattfareUpstreamError extends WattfareError {
  /** The class name, as logs and stack traces show it. */
  override name = "WattfareUpstreamError";
}

/**
 * Every other refusal: `invalid_request`, `model_not_priced`,
 * `origin_not_allowed`, `mode_mismatch`, `not_found`, `payload_too_large`,
 * and codes this SDK version does not know yet. These are bugs or
 * configuration to fix rather than states to handle.
 *
 * @example
 * ```ts
 * const e = toWattfareError(err);
 * if (e instanceof WattfareRequestError && e.code === "model_not_priced") useDefaultModel();
 * ```
 */
export class WattfareRequestError extends WattfareError {
  /** The class name, as logs and stack traces show it. */
  override name = "WattfareRequestError";
}

type ErrorClass = new (
  code: WattfareErrorCode,
  message: string,
  options?: WattfareErrorOptions,
) => WattfareError;

const CLASS_OF: Readonly<Record<string, ErrorClass>> = {
  invalid_api_key: WattfareAuthError,
  invalid_session: WattfareAuthError,
  budget_exceeded: WattfareBudgetError,
  not_connected: WattfareNotConnectedError,
  revoked: WattfareNotConnectedError,
  grant_invalid: WattfareGrantError,
  rate_limited: WattfareRateLimitError,
  upstream_error: WattfareUpstreamError,
  upstream_timeout: WattfareUpstreamError,
};

/**
 * The error of the right class for `code`.
 *
 * @example
 * ```ts
 * createWattfareError("budget_exceeded", "Cap reached.") instanceof WattfareBudgetError; // true
 * ```
 */
export function createWattfareError(
  code: WattfareErrorCode,
  message: string,
  options: WattfareErrorOptions = {},
): WattfareError {
  const Class = Object.hasOwn(CLASS_OF, code)
    ? CLASS_OF[code]
    : WattfareRequestError;
  return new Class(code, message, options);
}

/**
 * Reads a Wattfare error body (`{"error": {"type": "wattfare_error", "code",
 * "message", "param"}}`, as text or parsed) into its typed error; `null` when
 * it is not one.
 *
 * @example
 * ```ts
 * const res = await fetch(`${api}/status?userId=u`, { headers });
 * if (!res.ok) throw errorFromBody(await res.text(), res.status) ?? new Error(res.statusText);
 * ```
 */
export function errorFromBody(
  body: unknown,
  status?: number,
  retryAfter?: number,
): WattfareError | null {
  let value = body;
  if (typeof value === "string") {
    try {
      value = JSON.parse(value);
    } catch {
      return null;
    }
  }
  if (!isRecord(value)) return null;
  const inner = isRecord(value.error) ? value.error : value;
  if (
    inner.type !== "wattfare_error" || typeof inner.code !== "string" ||
    typeof inner.message !== "string"
  ) {
    return null;
  }
  return createWattfareError(inner.code, inner.message, {
    status: status ??
      (ERROR_STATUS as Record<string, number>)[inner.code] ?? 0,
    param: typeof inner.param === "string" ? inner.param : null,
    retryAfter,
  });
}

/**
 * Finds the Wattfare error inside anything a call may throw or report: a
 * {@link WattfareError} itself, the AI SDK's `APICallError` (from its
 * `responseBody` and `statusCode`), a `RetryError` (its `lastError`, then the
 * other attempts), a stream error part (`{ type: "error", error }`), a raw
 * error body, or an error's `cause` chain. Returns `null` for anything else,
 * so unknown errors can be rethrown.
 *
 * @example
 * ```ts
 * import { toWattfareError } from "wattfare/server";
 *
 * try {
 *   await generateText({ model: ai.model("openai/gpt-4o-mini"), prompt });
 * } catch (err) {
 *   const wf = toWattfareError(err);
 *   if (wf?.code === "grant_invalid") return Response.json({ error: "grant_used" }, { status: 402 });
 *   throw err;
 * }
 * ```
 */
export function toWattfareError(err: unknown): WattfareError | null {
  return find(err, 0, new Set());
}

const MAX_DEPTH = 8;

function find(
  value: unknown,
  depth: number,
  seen: Set<object>,
): WattfareError | null {
  if (!isRecord(value) || depth > MAX_DEPTH || seen.has(value)) return null;
  seen.add(value);
  if (WattfareError.isInstance(value)) return value;

  // The AI SDK's RetryError: the last attempt first, then the earlier ones.
  if (hasMarker(value, "vercel.ai.error.AI_RetryError") || isRetryLike(value)) {
    const attempts = Array.isArray(value.errors) ? [...value.errors] : [];
    for (const attempt of [value.lastError, ...attempts.reverse()]) {
      const found = find(attempt, depth + 1, seen);
      if (found) return found;
    }
    return null;
  }

  // The AI SDK's APICallError: our typed error may ride as its cause (the
  // Wattfare model puts it there); otherwise read the response it kept.
  if (
    hasMarker(value, "vercel.ai.error.AI_APICallError") || isApiCallLike(value)
  ) {
    const fromCause = find(value.cause, depth + 1, seen);
    if (fromCause) return fromCause;
    const status = typeof value.statusCode === "number"
      ? value.statusCode
      : undefined;
    const retryAfter = retryAfterOf(value.responseHeaders);
    return errorFromBody(value.responseBody, status, retryAfter) ??
      errorFromBody(value.data, status, retryAfter);
  }

  // A stream part: { type: "error", error }.
  if (value.type === "error" && "error" in value) {
    return find(value.error, depth + 1, seen);
  }

  const fromBody = errorFromBody(value);
  if (fromBody) return fromBody;

  return "cause" in value ? find(value.cause, depth + 1, seen) : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function hasMarker(value: Record<string, unknown>, marker: string): boolean {
  return (value as Record<symbol, unknown>)[Symbol.for(marker)] === true;
}

function isRetryLike(value: Record<string, unknown>): boolean {
  return value.name === "AI_RetryError" && Array.isArray(value.errors);
}

function isApiCallLike(value: Record<string, unknown>): boolean {
  return value.name === "AI_APICallError" && "responseBody" in value;
}

function retryAfterOf(headers: unknown): number | undefined {
  if (!isRecord(headers)) return undefined;
  const raw = headers["retry-after"];
  const seconds = typeof raw === "string" ? Number(raw) : NaN;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}
