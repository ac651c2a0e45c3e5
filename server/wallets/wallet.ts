import type { Sealed } from "../crypto/secret_box.ts";

/**
 * A budget owner: a person on Wattfare's own origin, known by their
 * passkeys, with one funding source that pays for every app they connect.
 */
export interface Wallet {
  id: string;
  createdAt: number;
  funding: Funding | null;
}

/** The key that pays: the owner's OpenRouter key, sealed at rest. */
export interface Funding {
  sealed: Sealed;
  /** How it was linked. */
  source: "oauth" | "pasted";
  /** A safe label: the key's first and last characters. */
  label: string;
  linkedAt: number;
}

/** A WebAuthn credential registered to a wallet. */
export interface Passkey {
  /** Base64url credential id. */
  id: string;
  walletId: string;
  publicKey: Uint8Array;
  counter: number;
  transports: string[];
  createdAt: number;
}

/** A browser signed in to a wallet (the cookie holds the token; KV its hash). */
export interface WalletSession {
  walletId: string;
  createdAt: number;
  expiresAt: number;
}

/** An OAuth PKCE funding link in progress. */
export interface PkceRequest {
  walletId: string;
  verifier: string;
  /** Where to send the owner back to (a path on Wattfare). */
  returnTo: string;
}
