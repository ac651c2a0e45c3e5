import type {
  WebhookEventDataMap,
  WebhookEventOf,
  WebhookEventType,
} from "../../sdk/webhooks.ts";
import type { Webhooks } from "./webhooks.ts";

/**
 * Emits an event only if `key` does not exist yet, writing `record(event)`
 * there in the same commit as the event and its deliveries. Concurrent
 * callers race on that one commit: exactly one wins, and the event is sent
 * if and only if its marker was written. Returns the event when this call
 * fired it, `null` when it had fired before.
 */
export async function fireOnce<T extends WebhookEventType>(
  kv: Deno.Kv,
  webhooks: Webhooks,
  key: Deno.KvKey,
  record: (event: WebhookEventOf<T>) => unknown,
  event: { appId: string; type: T; data: WebhookEventDataMap[T] },
): Promise<WebhookEventOf<T> | null> {
  // A cheap read first: once fired, later calls cost one get and no
  // endpoint listing.
  if ((await kv.get(key)).versionstamp !== null) return null;
  const staged = await webhooks.stage(event.appId, event.type, event.data);
  const op = kv.atomic()
    .check({ key, versionstamp: null })
    .set(key, record(staged.event));
  const result = await staged.addTo(op).commit();
  return result.ok ? staged.event : null;
}
