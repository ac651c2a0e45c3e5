/**
 * The KV key layout. Every key the service reads or writes is built here, so
 * this file is the map of what lives in the store.
 *
 * | prefix        | key                                        | value             |
 * | ------------- | ------------------------------------------ | ----------------- |
 * | `apps`        | `[apps, appId]`                            | `AppRecord`       |
 * | `connections` | `[connections, appId, userId]`             | `Connection`      |
 * | `ledger`      | `[ledger, appId, userId, periodStart]`     | `LedgerRecord`    |
 * | `holds`       | `[holds, holdId]`                          | `HoldRecord` (expires) |
 * | `usage`       | `[usage, appId, userId, periodStart, requestId]` | `UsageEntry` (immutable) |
 * | `grants`      | `[grants, grantId]`                        | `Grant` (id = SHA-256 of the token) |
 * | `grant_usage` | `[grant_usage, grantId, requestId]`        | `UsageEntry` of a grant (immutable) |
 * | `wallets`     | `[wallets, walletId]`                      | `Wallet` (budget owner; funding sealed) |
 * | `passkeys`    | `[passkeys, credentialId]`                 | `Passkey` |
 * | `wallet_sessions` | `[wallet_sessions, tokenHash]`         | `WalletSession` (expires) |
 * | `wallet_connections` | `[wallet_connections, walletId, appId, userId]` | `true`: the wallet funds that connection |
 * | `webauthn_challenges` | `[webauthn_challenges, challenge]` | `true` (expires; single use) |
 * | `pkce`        | `[pkce, state]`                            | `PkceRequest` (expires) |
 * | `rate`        | `[rate, scope, id]`                        | `Bucket`: a token bucket (expires when idle) |
 */

/** Key of an app's record. */
export function appKey(appId: string): Deno.KvKey {
  return ["apps", appId];
}

/** Prefix listing every app. */
export function appsPrefix(): Deno.KvKey {
  return ["apps"];
}

/** Key of the connection between an app and one of its users. */
export function connectionKey(appId: string, userId: string): Deno.KvKey {
  return ["connections", appId, userId];
}

/** Key of a connection's ledger for the period starting on `periodStart` (YYYY-MM-DD). */
export function ledgerKey(
  appId: string,
  userId: string,
  periodStart: string,
): Deno.KvKey {
  return ["ledger", appId, userId, periodStart];
}

/** Key of an open hold. */
export function holdKey(holdId: string): Deno.KvKey {
  return ["holds", holdId];
}

/** Prefix listing every open hold. */
export function holdsPrefix(): Deno.KvKey {
  return ["holds"];
}

/** Key of one settled request's usage entry. */
export function usageKey(
  appId: string,
  userId: string,
  periodStart: string,
  requestId: string,
): Deno.KvKey {
  return ["usage", appId, userId, periodStart, requestId];
}

/** Prefix listing the usage entries of one connection's period. */
export function usagePrefix(
  appId: string,
  userId: string,
  periodStart: string,
): Deno.KvKey {
  return ["usage", appId, userId, periodStart];
}

/** Key of a one-time grant, by the hash of its token. */
export function grantKey(grantId: string): Deno.KvKey {
  return ["grants", grantId];
}

/** Key of one settled request's usage entry under a grant. */
export function grantUsageKey(grantId: string, requestId: string): Deno.KvKey {
  return ["grant_usage", grantId, requestId];
}

/** Prefix listing a grant's usage entries. */
export function grantUsagePrefix(grantId: string): Deno.KvKey {
  return ["grant_usage", grantId];
}

/** Key of a budget owner's wallet. */
export function walletKey(walletId: string): Deno.KvKey {
  return ["wallets", walletId];
}

/** Key of a passkey, by its credential id. */
export function passkeyKey(credentialId: string): Deno.KvKey {
  return ["passkeys", credentialId];
}

/** Key of a signed-in browser's wallet session, by the hash of its cookie. */
export function walletSessionKey(tokenHash: string): Deno.KvKey {
  return ["wallet_sessions", tokenHash];
}

/** Key marking that a wallet funds one connection. */
export function walletConnectionKey(
  walletId: string,
  appId: string,
  userId: string,
): Deno.KvKey {
  return ["wallet_connections", walletId, appId, userId];
}

/** Prefix listing the connections a wallet funds. */
export function walletConnectionsPrefix(walletId: string): Deno.KvKey {
  return ["wallet_connections", walletId];
}

/** Key of an outstanding WebAuthn challenge. */
export function webauthnChallengeKey(challenge: string): Deno.KvKey {
  return ["webauthn_challenges", challenge];
}

/** Key of an OAuth PKCE request in progress, by its state. */
export function pkceKey(state: string): Deno.KvKey {
  return ["pkce", state];
}

/** Key of a rate-limit token bucket (`scope`: `app` or `connection`). */
export function rateBucketKey(scope: string, id: string): Deno.KvKey {
  return ["rate", scope, id];
}
