import type { WebhookEventType } from "../../sdk/webhooks.ts";
import { webhookDeliveriesPrefix } from "../kv/keys.ts";

/** One event's delivery to one endpoint: what was tried and how it ended. */
export interface DeliveryRecord {
  eventId: string;
  endpointId: string;
  type: WebhookEventType;
  /** `pending` until a 2xx (`delivered`) or the last attempt fails (`failed`). */
  state: "pending" | "delivered" | "failed";
  /** Attempts made so far. */
  attempts: number;
  /** HTTP status of the last attempt; `null` before one, or when it got no response. */
  lastStatus: number | null;
  /** Why the last attempt failed (`HTTP 500`, `timed out after 10 s`, …), else `null`. */
  lastError: string | null;
  /** When the next attempt is due, while `pending` after a failure. */
  nextAttemptAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** The queue message of one delivery attempt (`attempt` counts from 1). */
export interface DeliveryMessage {
  kind: "webhook_delivery";
  appId: string;
  endpointId: string;
  eventId: string;
  attempt: number;
}

/** Whether a queue message is a delivery attempt. */
export function isDeliveryMessage(
  message: unknown,
): message is DeliveryMessage {
  const m = message as Partial<DeliveryMessage> | null;
  return typeof m === "object" && m !== null && m.kind === "webhook_delivery" &&
    typeof m.appId === "string" && typeof m.endpointId === "string" &&
    typeof m.eventId === "string" && typeof m.attempt === "number";
}

/** An endpoint's most recent deliveries, newest first. */
export async function listDeliveries(
  kv: Deno.Kv,
  appId: string,
  endpointId: string,
  limit = 50,
): Promise<DeliveryRecord[]> {
  const records: DeliveryRecord[] = [];
  for await (
    const entry of kv.list<DeliveryRecord>(
      { prefix: webhookDeliveriesPrefix(appId, endpointId) },
      { reverse: true, limit },
    )
  ) records.push(entry.value);
  return records;
}
