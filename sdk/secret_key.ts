/**
 * The two modes of an app: test apps reach only the sandbox upstream.
 *
 * @example
 * ```ts
 * const mode: Mode = "test";
 * ```
 */
export type Mode = "live" | "test";

/** The parts of a secret key `sk_{mode}_{appId}_{secret}`. */
export interface SecretKeyParts {
  mode: Mode;
  appId: string;
  secret: string;
}

const SECRET_KEY = /^sk_(live|test)_([0-9a-z]{16,32})_([0-9a-f]{64})$/;
const PUBLISHABLE_KEY = /^pk_(live|test)_([0-9a-z]{16,32})$/;

/**
 * Splits a secret key into its parts, or returns `null` when it is not one.
 *
 * @example
 * ```ts
 * const parts = parseSecretKey(Deno.env.get("WATTFARE_SECRET_KEY") ?? "");
 * if (!parts) throw new TypeError("not a Wattfare secret key");
 * ```
 */
export function parseSecretKey(key: string): SecretKeyParts | null {
  const match = SECRET_KEY.exec(key);
  if (!match) return null;
  return { mode: match[1] as Mode, appId: match[2], secret: match[3] };
}

/**
 * Splits a publishable key `pk_{mode}_{appId}`, or returns `null`.
 *
 * @example
 * ```ts
 * parsePublishableKey("pk_test_0123456789abcdef"); // { mode: "test", appId: "0123456789abcdef" }
 * ```
 */
export function parsePublishableKey(
  key: string,
): { mode: Mode; appId: string } | null {
  const match = PUBLISHABLE_KEY.exec(key);
  if (!match) return null;
  return { mode: match[1] as Mode, appId: match[2] };
}
