import { base64url, hmacSha256 } from "./hmac_sha256.ts";
import { type Mode, parseSecretKey } from "./secret_key.ts";

/** Audience claim of every session token. */
export const SESSION_AUDIENCE = "wattfare:session";

/** Lifetime of a session token, in seconds. */
export const SESSION_TTL_SECONDS = 600;

/** Label mixed into the secret to derive the session-signing key. */
const SIGNING_LABEL = "wattfare:session-signing-key:v1";

/**
 * The spending limit an app asks its user to approve.
 *
 * @example
 * ```ts
 * const limits: SessionLimits = { monthlyUsd: 10 };
 * ```
 */
export interface SessionLimits {
  /** Monthly cap in USD; `null` asks for no cap (test mode only). */
  monthlyUsd: number | null;
}

/** Claims carried by a session token. */
export interface SessionClaims {
  appId: string;
  appUserId: string;
  limits: SessionLimits | null;
  mode: Mode;
  aud: string;
  iat: number;
  exp: number;
}

/**
 * A minted session token and its expiry in unix seconds, as an app's token
 * route returns it to the browser.
 *
 * @example
 * ```ts
 * const { token, expiresAt }: Session = mintSessionToken(secretKey, "user_123");
 * ```
 */
export interface Session {
  /** The session JWT. */
  token: string;
  /** Its expiry, in unix seconds. */
  expiresAt: number;
}

/**
 * Derives the key that signs an app's session tokens from its secret. The
 * service stores only this derived key, so it can verify tokens the SDK
 * mints without holding the secret.
 *
 * @example
 * ```ts
 * const key = deriveSigningKey("0f".repeat(32)); // 32 bytes
 * ```
 */
export function deriveSigningKey(secret: string): Uint8Array {
  return hmacSha256(secret, SIGNING_LABEL);
}

/**
 * Mints a session token for one of the app's users, locally and
 * synchronously: an HS256 JWT signed with the key derived from the secret.
 *
 * @example
 * ```ts
 * const { token, expiresAt } = mintSessionToken(secretKey, "user_123", {
 *   limits: { monthlyUsd: 10 },
 * });
 * ```
 */
export function mintSessionToken(
  secretKey: string,
  userId: string,
  options: { limits?: SessionLimits | null; now?: number } = {},
): Session {
  const parts = parseSecretKey(secretKey);
  if (!parts) {
    throw new TypeError(
      "Wattfare: secretKey must look like sk_test_<appId>_<secret> or sk_live_<appId>_<secret>",
    );
  }
  assertUserId(userId);
  const limits = options.limits ?? null;
  if (limits) assertMonthlyUsd(limits.monthlyUsd);
  const iat = Math.floor((options.now ?? Date.now()) / 1000);
  const claims: SessionClaims = {
    appId: parts.appId,
    appUserId: userId,
    limits,
    mode: parts.mode,
    aud: SESSION_AUDIENCE,
    iat,
    exp: iat + SESSION_TTL_SECONDS,
  };
  const header = base64urlText(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = base64urlText(JSON.stringify(claims));
  const signature = base64url(
    hmacSha256(deriveSigningKey(parts.secret), `${header}.${payload}`),
  );
  return { token: `${header}.${payload}.${signature}`, expiresAt: claims.exp };
}

/**
 * Throws a `TypeError` unless `userId` is an app user id Wattfare accepts:
 * 1 to 256 characters, no control characters.
 *
 * @example
 * ```ts
 * assertUserId("user_123");
 * ```
 */
export function assertUserId(userId: unknown): asserts userId is string {
  // deno-lint-ignore no-control-regex
  if (typeof userId !== "string" || !/^[^\x00-\x1f\x7f]{1,256}$/.test(userId)) {
    throw new TypeError(
      "Wattfare: userId must be a string of 1 to 256 characters without control characters",
    );
  }
}

function assertMonthlyUsd(value: unknown): void {
  if (
    value !== null &&
    (typeof value !== "number" || !Number.isFinite(value) || value < 0 ||
      value > 1_000_000)
  ) {
    throw new RangeError(
      "Wattfare: limits.monthlyUsd must be a number from 0 to 1000000, or null",
    );
  }
}

function base64urlText(text: string): string {
  return base64url(new TextEncoder().encode(text));
}
