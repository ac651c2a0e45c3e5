/**
 * One-time authorization codes of the sandbox's OAuth PKCE flow: issued by
 * the consent page, redeemed once by `POST /api/v1/auth/keys`.
 */
import { base64url, type PkceMethod } from "./pkce.ts";

/** How long a code can be exchanged after the user approved. */
export const CODE_TTL_MS = 10 * 60_000;

/** What the user approved, bound to the code. */
export interface Grant {
  /** The challenge from `/auth`, or null if the app sent none (allowed). */
  challenge: { value: string; method: PkceMethod } | null;
  /** Credit limit for the new key, an exact USD decimal; none if absent. */
  limit?: string;
  /** Shown as the key's label, e.g. `localhost:3000 (OAuth)`. */
  label: string;
}

export class AuthCodes {
  #grants = new Map<string, Grant & { expiresAt: number }>();
  #clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
  }

  /** A fresh, unguessable code for `grant`. */
  issue(grant: Grant): string {
    this.#sweep();
    const code = base64url(crypto.getRandomValues(new Uint8Array(32)));
    this.#grants.set(code, {
      ...grant,
      expiresAt: this.#clock() + CODE_TTL_MS,
    });
    return code;
  }

  /**
   * The grant of `code`, used up by this call whatever the caller does next;
   * undefined if the code is unknown, expired or already redeemed.
   */
  redeem(code: string): Grant | undefined {
    const entry = this.#grants.get(code);
    this.#grants.delete(code);
    if (!entry || entry.expiresAt <= this.#clock()) return undefined;
    const { expiresAt: _, ...grant } = entry;
    return grant;
  }

  // Codes nobody redeems would otherwise pile up for the process's lifetime.
  #sweep(): void {
    const now = this.#clock();
    for (const [code, { expiresAt }] of this.#grants) {
      if (expiresAt <= now) this.#grants.delete(code);
    }
  }
}
