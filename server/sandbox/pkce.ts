/**
 * PKCE (RFC 7636) as OpenRouter's OAuth flow uses it: the app sends a
 * `code_challenge` to `/auth` and proves it holds the matching
 * `code_verifier` when it exchanges the code at `/api/v1/auth/keys`.
 */

/** The two methods OpenRouter accepts, spelled as RFC 7636 spells them. */
export type PkceMethod = "S256" | "plain";

export function isPkceMethod(value: unknown): value is PkceMethod {
  return value === "S256" || value === "plain";
}

// An S256 challenge is base64url(SHA-256), unpadded: always 43 characters.
// Anything else (padding, `+`/`/`, hex) can never match a verifier, so it is
// refused up front where the developer can see why.
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
// A plain challenge is the verifier itself: 43–128 unreserved characters.
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

/** Why `challenge` is unusable with `method`, or undefined if it is fine. */
export function challengeProblem(
  challenge: string,
  method: PkceMethod,
): string | undefined {
  if (method === "S256" && !S256_CHALLENGE.test(challenge)) {
    return "code_challenge must be the unpadded base64url SHA-256 of the " +
      "code_verifier (43 characters of A–Z, a–z, 0–9, - and _).";
  }
  if (method === "plain" && !VERIFIER.test(challenge)) {
    return "A plain code_challenge is the code_verifier itself: 43–128 " +
      "characters of A–Z, a–z, 0–9, - . _ and ~.";
  }
  return undefined;
}

/**
 * Whether `verifier` answers `challenge`. The comparison need not be
 * constant-time: the challenge was public in the `/auth` URL all along.
 */
export async function verifierMatches(
  verifier: string,
  challenge: string,
  method: PkceMethod,
): Promise<boolean> {
  if (method === "plain") return verifier === challenge;
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(verifier),
  );
  return base64url(new Uint8Array(digest)) === challenge;
}

/** Unpadded base64url, as PKCE and OpenRouter's examples use. */
export function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}
