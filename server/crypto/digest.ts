import { createHash } from "node:crypto";

/** SHA-256 of a UTF-8 string, as lowercase hex, without leaving the thread (for hot paths). */
export function sha256HexSync(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

/** SHA-256 of a UTF-8 string, as lowercase hex. */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(text),
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

/**
 * Compares two strings in time that depends only on their length. Callers
 * compare digests of equal length, so the length itself leaks nothing.
 */
export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
