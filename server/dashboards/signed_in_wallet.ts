import type { Context } from "hono";
import { WattfareError } from "../errors.ts";
import type { Env } from "../http/env.ts";
import { walletOfRequest } from "../wallets/wallet_sessions.ts";

/** The wallet this request's cookie is signed in to; `401 invalid_session` if none. */
export async function signedInWallet(c: Context<Env>): Promise<string> {
  const walletId = await walletOfRequest(
    c.var.kv,
    c.req.header("cookie"),
    c.var.clock(),
  );
  if (!walletId) {
    throw new WattfareError(
      "invalid_session",
      "Sign in to your Wattfare wallet with your passkey first.",
    );
  }
  return walletId;
}
