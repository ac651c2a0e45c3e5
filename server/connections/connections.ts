import { connectionKey } from "../kv/keys.ts";
import { randomHex } from "../crypto/random.ts";
import type { SecretBox } from "../crypto/secret_box.ts";
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

/**
 * Approves a sandbox-funded connection for a test app. A user who was
 * connected before keeps the original approval day, so re-approving never
 * starts a fresh period (and a fresh budget) early.
 */
export async function approveTestConnection(
  kv: Deno.Kv,
  box: SecretBox,
  app: AppRecord,
  userId: string,
  capNano: bigint | null,
  now = Date.now(),
): Promise<Connection> {
  const funding = await box.seal(`sk-or-v1-${randomHex(32)}`);
  while (true) {
    const entry = await readConnection(kv, app.id, userId);
    const connection: Connection = {
      appId: app.id,
      userId,
      mode: app.mode,
      state: "active",
      capNano,
      approvedAt: entry.value?.approvedAt ?? now,
      funding: entry.value?.funding ?? funding,
      updatedAt: now,
    };
    const result = await kv.atomic().check(entry)
      .set(connectionKey(app.id, userId), connection).commit();
    if (result.ok) return connection;
  }
}

/** Ends a connection from the app's side; false when there was none active. */
export async function disconnect(
  kv: Deno.Kv,
  appId: string,
  userId: string,
  now = Date.now(),
): Promise<boolean> {
  while (true) {
    const entry = await readConnection(kv, appId, userId);
    if (!entry.value || entry.value.state !== "active") return false;
    const result = await kv.atomic().check(entry).set(
      connectionKey(appId, userId),
      { ...entry.value, state: "disconnected", updatedAt: now },
    ).commit();
    if (result.ok) return true;
  }
}
