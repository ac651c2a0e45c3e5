import { connectionKey } from "../kv/keys.ts";
import { readConnection } from "../connections/connections.ts";
import type { Connection } from "../connections/connection.ts";
import { WattfareError } from "../errors.ts";

/** What a budget owner can do to a connection from the dashboard. */
export type OwnerAction =
  | { kind: "cap"; capNano: bigint | null }
  | { kind: "pause" }
  | { kind: "resume" }
  | { kind: "revoke" };

/**
 * Applies an owner's action to a connection their wallet pays for, in one
 * commit checked against the record it read. The proxy's hold checks the
 * same record in its own commit, so the change governs the very next
 * request. Another wallet's connection is reported as missing, never shown.
 * Returns the connection before and after.
 */
export async function applyOwnerAction(
  kv: Deno.Kv,
  walletId: string,
  appId: string,
  userId: string,
  action: OwnerAction,
  now: number,
): Promise<{ before: Connection; after: Connection }> {
  while (true) {
    const entry = await readConnection(kv, appId, userId);
    const connection = entry.value;
    if (!connection || connection.walletId !== walletId) {
      throw new WattfareError(
        "not_found",
        "None of the connections your wallet pays for matches that app and user.",
      );
    }
    const next = { ...changed(connection, action), updatedAt: now };
    const result = await kv.atomic().check(entry)
      .set(connectionKey(appId, userId), next).commit();
    if (result.ok) return { before: connection, after: next };
  }
}

function changed(connection: Connection, action: OwnerAction): Connection {
  if (action.kind === "revoke") return { ...connection, state: "revoked" };
  if (connection.state === "revoked" || connection.state === "disconnected") {
    throw new WattfareError(
      "invalid_request",
      "This connection has ended; the app has to ask again in its popup.",
    );
  }
  switch (action.kind) {
    case "pause":
      return { ...connection, state: "paused", pausedBy: "owner" };
    case "resume": {
      const { pausedBy: _, ...rest } = connection;
      return { ...rest, state: "active" };
    }
    case "cap":
      if (action.capNano === null && connection.mode === "live") {
        throw new WattfareError(
          "invalid_request",
          "A live app needs a monthly cap.",
          { param: "monthlyUsd" },
        );
      }
      return { ...connection, capNano: action.capNano };
  }
}
