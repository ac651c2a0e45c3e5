import { mintSessionToken } from "../../sdk/session_token.ts";
import { walletKey } from "../kv/keys.ts";
import { bearer, type TestService } from "../testing/test_service.ts";
import { startWalletSession } from "../wallets/wallet_sessions.ts";
import { newWallet } from "../wallets/wallets.ts";

/** A wallet signed in by cookie, as a passkey sign-in leaves it. */
export async function newSignedInWallet(
  service: TestService,
): Promise<{ walletId: string; cookie: string }> {
  const wallet = newWallet();
  await service.kv.set(walletKey(wallet.id), wallet);
  const setCookie = await startWalletSession(service.kv, wallet.id);
  return { walletId: wallet.id, cookie: setCookie.split(";")[0] };
}

/** Headers of a request from a page on Wattfare's own origin, signed in by `cookie`. */
export function ownPage(
  service: TestService,
  cookie: string,
): Record<string, string> {
  return {
    cookie,
    origin: service.publicUrl,
    "content-type": "application/json",
  };
}

/**
 * Approves a connection as the consent popup does for a signed-in owner:
 * the session from the app, the owner's cookie, Wattfare's own origin.
 */
export async function approveAsOwner(
  service: TestService,
  app: { secretKey: string },
  appOrigin: string,
  userId: string,
  cookie: string,
  monthlyUsd: number,
): Promise<void> {
  const { token } = mintSessionToken(app.secretKey, userId, {
    limits: { monthlyUsd },
  });
  const response = await service.fetch("/api/v1/consent", {
    method: "POST",
    headers: { ...bearer(token), origin: service.publicUrl, cookie },
    body: JSON.stringify({ monthlyUsd, origin: appOrigin }),
  });
  if (response.status !== 200) {
    throw new Error(`approval failed: ${await response.text()}`);
  }
  await response.body?.cancel();
}
