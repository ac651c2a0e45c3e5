import { connectionKey, walletConnectionKey } from "../kv/keys.ts";
import { randomHex } from "../crypto/random.ts";
import type { Sealed, SecretBox } from "../crypto/secret_box.ts";
import type { AppRecord } from "../apps/apps.ts";
import type { Connection } from "./connection.ts";

/** Reads a connection with its versionstamp. */
export async function readConnection(
  kv: Deno.Kv,
  appId: string,
  userId: string,
): Promise<Deno.KvEntryMaybe<Connection>> {
  return await kv.get<Connection>(connectionKey(appId, userId));
}

/** A fresh sandbox key, sealed: how test-mode connections and grants are funded. */
export async function sandboxFunding(box: SecretBox): Promise<Sealed> {
  return await box.seal(`sk-or-v1-${randomHex(32)}`);
}

/**
 * Approves (or re-approves) a connection with a cap and the key that pays
 * for it. A user who was connected before keeps the original approval day,
 * so re-approving never starts a fresh period (and a fresh budget) early.
 */
export async function approveConnection(
  kv: Deno.Kv,
  app: AppRecord,
  userId: string,
  capNano: bigint | null,
  payer: { funding: Sealed; walletId: string | null },
  now = Date.now(),
): Promise<Connection> {
  while (true) {
    const entry = await readConnection(kv, app.id, userId);
    const connection: Connection = {
      appId: app.id,
      userId,
      mode: app.mode,
      state: "active",
      capNano,
      approvedAt: entry.value?.approvedAt ?? now,
      funding: payer.walletId || !entry.value
        ? payer.funding
        : entry.value.funding,
      walletId: payer.walletId ?? entry.value?.walletId ?? null,
      updatedAt: now,
    };
    const op = kv.atomic().check(entry).set(
      connectionKey(app.id, userId),
      connection,
    );
    if (connection.walletId) {
      op.set(walletConnectionKey(connection.walletId, app.id, userId), true);
    }
    if ((await op.commit()).ok) return connection;
  }
}

/**
 * Pauses an active connection after an anomalous burst; its owner resumes
 * it. False when it was not active.
 */
export async function pauseForAnomaly(
  kv: Deno.Kv,
  appId: string,
  userId: string,
  now = Date.now(),
): Promise<boolean> {
  return await leaveActive(kv, appId, userId, {
    state: "paused",
    pausedBy: "anomaly",
    updatedAt: now,
  });
}

/** Ends a connection from the app's side; false when there was none active. */
export async function disconnect(
  kv: Deno.Kv,
  appId: string,
  userId: string,
  now = Date.now(),
): Promise<boolean> {
  return await leaveActive(kv, appId, userId, {
    state: "disconnected",
    updatedAt: now,
  });
}

/** Moves an active connection to another state, in one checked commit. */
async function leaveActive(
  kv: Deno.Kv,
  appId: string,
  userId: string,
  change: Partial<Connection>,
): Promise<boolean> {
  while (true) {
    const entry = await readConnection(kv, appId, userId);
    if (!entry.value || entry.value.state !== "active") return false;
    const result = await kv.atomic().check(entry)
      .set(connectionKey(appId, userId), { ...entry.value, ...change })
      .commit();
    if (result.ok) return true;
  }
}
