/**
 * The KV key layout. Every key the service reads or writes is built here, so
 * this file is the map of what lives in the store.
 *
 * | prefix        | key                                        | value             |
 * | ------------- | ------------------------------------------ | ----------------- |
 * | `apps`        | `[apps, appId]`                            | `AppRecord`       |
 * | `connections` | `[connections, appId, userId]`             | `Connection`      |
 * | `ledger`      | `[ledger, appId, userId, periodStart]`     | `LedgerRecord`    |
 * | `holds`       | `[holds, holdId]`                          | `Hold` of a grant (expires) |
 * | `leases`      | `[leases, leaseId]`                        | `Lease`: budget one process reserved for a connection (expires) |
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
 * | `wallet_apps` | `[wallet_apps, walletId, appId]`           | `true`: the wallet registered that app on /developers |
 * | `webhooks`    | `[webhooks, appId, endpointId]`            | `WebhookEndpoint` (its signing secret in clear: it must sign) |
 * | `webhook_events` | `[webhook_events, appId, eventId]`      | `WebhookEvent` as sent (expires after 30 days) |
 * | `webhook_deliveries` | `[webhook_deliveries, appId, endpointId, eventId]` | `DeliveryRecord`: attempts and outcome (expires after 30 days) |
 * | `budget_alerts` | `[budget_alerts, appId, userId, periodStart, level]` | `BudgetNotice`: the owner's notice; its presence means the alert fired |
 * | `webhook_once` | `[webhook_once, appId, type, subjectId]`  | `true`: a once-only event (`grant.used_up`) fired |
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

/** Prefix listing every connection (user) of one app. */
export function connectionsOfAppPrefix(appId: string): Deno.KvKey {
  return ["connections", appId];
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

/** Key of a budget lease. */
export function leaseKey(leaseId: string): Deno.KvKey {
  return ["leases", leaseId];
}

/** Prefix listing every budget lease. */
export function leasesPrefix(): Deno.KvKey {
  return ["leases"];
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

/** Key marking that a wallet owns (registered) an app. */
export function walletAppKey(walletId: string, appId: string): Deno.KvKey {
  return ["wallet_apps", walletId, appId];
}

/** Prefix listing the apps a wallet owns. */
export function walletAppsPrefix(walletId: string): Deno.KvKey {
  return ["wallet_apps", walletId];
}

/** Key of an app's webhook endpoint. */
export function webhookEndpointKey(
  appId: string,
  endpointId: string,
): Deno.KvKey {
  return ["webhooks", appId, endpointId];
}

/** Prefix listing an app's webhook endpoints. */
export function webhookEndpointsPrefix(appId: string): Deno.KvKey {
  return ["webhooks", appId];
}

/** Key of a webhook event as it was sent. */
export function webhookEventKey(appId: string, eventId: string): Deno.KvKey {
  return ["webhook_events", appId, eventId];
}

/** Key of one event's delivery to one endpoint. */
export function webhookDeliveryKey(
  appId: string,
  endpointId: string,
  eventId: string,
): Deno.KvKey {
  return ["webhook_deliveries", appId, endpointId, eventId];
}

/** Prefix listing an endpoint's deliveries, oldest first (event ids sort by time). */
export function webhookDeliveriesPrefix(
  appId: string,
  endpointId: string,
): Deno.KvKey {
  return ["webhook_deliveries", appId, endpointId];
}

/** Key of a budget alert (`level`: `low` or `exhausted`) of one connection's period. */
export function budgetAlertKey(
  appId: string,
  userId: string,
  periodStart: string,
  level: string,
): Deno.KvKey {
  return ["budget_alerts", appId, userId, periodStart, level];
}

/** Prefix listing the budget alerts of one connection's period. */
export function budgetAlertsPrefix(
  appId: string,
  userId: string,
  periodStart: string,
): Deno.KvKey {
  return ["budget_alerts", appId, userId, periodStart];
}

/** Key marking that a once-only event (e.g. `grant.used_up`) fired for a subject. */
export function webhookOnceKey(
  appId: string,
  type: string,
  subjectId: string,
): Deno.KvKey {
  return ["webhook_once", appId, type, subjectId];
}

/** Prefix listing every usage entry of one connection, all periods. */
export function usageOfUserPrefix(appId: string, userId: string): Deno.KvKey {
  return ["usage", appId, userId];
}

/** Prefix listing every wallet. */
export function walletsPrefix(): Deno.KvKey {
  return ["wallets"];
}

/** Prefix listing every connection of every app. */
export function connectionsPrefix(): Deno.KvKey {
  return ["connections"];
}

/** Prefix listing every grant. */
export function grantsPrefix(): Deno.KvKey {
  return ["grants"];
}

/** Prefix listing every usage entry of one app, all users and periods. */
export function usageOfAppPrefix(appId: string): Deno.KvKey {
  return ["usage", appId];
}
