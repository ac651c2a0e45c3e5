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
