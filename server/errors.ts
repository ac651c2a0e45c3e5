/** Every error code a client of the API may see, with its HTTP status. */
export const ERROR_STATUS = {
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
} as const;

/** A code from the table in DESIGN.md. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/**
 * An error a caller is expected to handle. Its message is shown to the
 * client, so it never carries secrets or internals.
 */
export class WattfareError extends Error {
  override name = "WattfareError";
  readonly code: ErrorCode;
  /** The request field at fault, when there is one. */
  readonly param: string | null;
  /** Seconds until a retry may succeed (rate limits). */
  readonly retryAfter: number | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: { param?: string; retryAfter?: number } = {},
  ) {
    super(message);
    this.code = code;
    this.param = options.param ?? null;
    this.retryAfter = options.retryAfter;
  }

  /** The HTTP status this error maps to. */
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}
