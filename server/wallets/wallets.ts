import {
  connectionKey,
  walletConnectionsPrefix,
  walletKey,
} from "../kv/keys.ts";
import { randomId } from "../crypto/random.ts";
import type { SecretBox } from "../crypto/secret_box.ts";
import type { Connection } from "../connections/connection.ts";
import type { Funding, Wallet } from "./wallet.ts";

/** Creates an empty wallet (its first passkey is registered alongside). */
export function newWallet(now = Date.now()): Wallet {
  return { id: `w_${randomId(20)}`, createdAt: now, funding: null };
}

/** Reads a wallet. */
export async function getWallet(
  kv: Deno.Kv,
  walletId: string,
): Promise<Wallet | null> {
  return (await kv.get<Wallet>(walletKey(walletId))).value;
}

/**
 * Links (or replaces) a wallet's funding key, sealed at rest, and moves every
 * live connection the wallet funds onto it, so the next request uses it.
 */
export async function setFunding(
  kv: Deno.Kv,
  box: SecretBox,
  walletId: string,
  key: string,
  source: Funding["source"],
  now = Date.now(),
): Promise<Funding> {
  const funding: Funding = {
    sealed: await box.seal(key),
    source,
    label: `${key.slice(0, 12)}…${key.slice(-4)}`,
    linkedAt: now,
  };
  while (true) {
    const entry = await kv.get<Wallet>(walletKey(walletId));
    if (!entry.value) throw new RangeError(`no wallet ${walletId}`);
    const result = await kv.atomic().check(entry)
      .set(walletKey(walletId), { ...entry.value, funding }).commit();
    if (result.ok) break;
  }
  for (const { appId, userId } of await fundedConnections(kv, walletId)) {
    while (true) {
      const entry = await kv.get<Connection>(connectionKey(appId, userId));
      if (!entry.value || entry.value.mode !== "live") break;
      const result = await kv.atomic().check(entry).set(
        connectionKey(appId, userId),
        { ...entry.value, funding: funding.sealed, updatedAt: now },
      ).commit();
      if (result.ok) break;
    }
  }
  return funding;
}

/** The connections a wallet funds. */
export async function fundedConnections(
  kv: Deno.Kv,
  walletId: string,
): Promise<{ appId: string; userId: string }[]> {
  const found = [];
  for await (
    const entry of kv.list({ prefix: walletConnectionsPrefix(walletId) })
  ) {
    const [, , appId, userId] = entry.key as [string, string, string, string];
    found.push({ appId, userId });
  }
  return found;
}
