import { walletSessionKey } from "../kv/keys.ts";
import { randomHex } from "../crypto/random.ts";
import { sha256Hex } from "../crypto/digest.ts";
import type { WalletSession } from "./wallet.ts";

/** The cookie that remembers a signed-in budget owner on Wattfare's origin. */
export const WALLET_COOKIE = "wattfare_wallet";

/** How long a browser stays signed in. */
export const WALLET_SESSION_MS = 30 * 86_400_000;

/**
 * Starts a wallet session and returns the `Set-Cookie` value: HttpOnly (no
 * script reads it), Secure, SameSite=Lax (not sent on cross-site posts).
 */
export async function startWalletSession(
  kv: Deno.Kv,
  walletId: string,
  now = Date.now(),
): Promise<string> {
  const token = randomHex(32);
  const session: WalletSession = {
    walletId,
    createdAt: now,
    expiresAt: now + WALLET_SESSION_MS,
  };
  await kv.set(walletSessionKey(await sha256Hex(token)), session, {
    expireIn: WALLET_SESSION_MS,
  });
  return `${WALLET_COOKIE}=${token}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=${
    WALLET_SESSION_MS / 1000
  }`;
}

/** The wallet a request's cookie is signed in to, if any. */
export async function walletOfRequest(
  kv: Deno.Kv,
  cookieHeader: string | undefined,
  now = Date.now(),
): Promise<string | null> {
  const token = cookieToken(cookieHeader);
  if (!token) return null;
  const session = (await kv.get<WalletSession>(
    walletSessionKey(await sha256Hex(token)),
  )).value;
  return session && session.expiresAt > now ? session.walletId : null;
}

/** Ends a wallet session; returns the `Set-Cookie` value that clears it. */
export async function endWalletSession(
  kv: Deno.Kv,
  cookieHeader: string | undefined,
): Promise<string> {
  const token = cookieToken(cookieHeader);
  if (token) await kv.delete(walletSessionKey(await sha256Hex(token)));
  return `${WALLET_COOKIE}=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0`;
}

const COOKIE = new RegExp(`(?:^|;\\s*)${WALLET_COOKIE}=([0-9a-f]{64})(?:;|$)`);

function cookieToken(cookieHeader: string | undefined): string | null {
  return COOKIE.exec(cookieHeader ?? "")?.[1] ?? null;
}
