import { ERROR_STATUS, type ServiceErrorCode } from "../sdk/errors.ts";

/**
 * Every error code a client of the API may see, with its HTTP status: one
 * table, shared with the SDK that maps the codes back to typed errors.
 */
export { ERROR_STATUS };

/** A code from the table in DESIGN.md. */
export type ErrorCode = ServiceErrorCode;

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
