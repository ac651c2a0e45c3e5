import { WEBHOOK_EVENT_TYPES } from "../../sdk/webhooks.ts";
import type { WebhookEventType } from "../../sdk/webhooks.ts";
import { randomHex, randomId } from "../crypto/random.ts";
import { WattfareError } from "../errors.ts";
import { webhookEndpointKey, webhookEndpointsPrefix } from "../kv/keys.ts";
import type { WebhookEndpoint } from "./endpoint.ts";

/**
 * Endpoints one app may register. Each event is sent to every subscribed
 * endpoint in one commit, and KV caps a commit at 1,000 mutations: a small
 * number keeps that far away and delivery fan-out cheap.
 */
export const MAX_ENDPOINTS_PER_APP = 16;

/** Registers an endpoint with a fresh signing secret; returns it with the secret. */
export async function createEndpoint(
  kv: Deno.Kv,
  appId: string,
  input: { url: string; events?: WebhookEventType[] },
  now: number,
): Promise<WebhookEndpoint> {
  // The count is read, not locked: two racing registrations may overshoot
  // the limit by one, which is harmless; the limit only bounds fan-out.
  if ((await listEndpoints(kv, appId)).length >= MAX_ENDPOINTS_PER_APP) {
    throw new WattfareError(
      "invalid_request",
      `An app may register at most ${MAX_ENDPOINTS_PER_APP} webhook endpoints; delete one first.`,
      { param: "url" },
    );
  }
  const endpoint: WebhookEndpoint = {
    id: `wh_${randomId(20)}`,
    appId,
    url: input.url,
    events: input.events
      ? WEBHOOK_EVENT_TYPES.filter((type) => input.events!.includes(type))
      : [...WEBHOOK_EVENT_TYPES],
    secret: `whsec_${randomHex(32)}`,
    createdAt: now,
  };
  const key = webhookEndpointKey(appId, endpoint.id);
  const result = await kv.atomic()
    .check({ key, versionstamp: null })
    .set(key, endpoint)
    .commit();
  if (!result.ok) throw new Error("webhook endpoint id collision");
  return endpoint;
}

/** An app's endpoints, in id order. */
export async function listEndpoints(
  kv: Deno.Kv,
  appId: string,
): Promise<WebhookEndpoint[]> {
  const endpoints: WebhookEndpoint[] = [];
  for await (
    const entry of kv.list<WebhookEndpoint>({
      prefix: webhookEndpointsPrefix(appId),
    })
  ) endpoints.push(entry.value);
  return endpoints;
}

/** One of an app's endpoints, or `null`. */
export async function getEndpoint(
  kv: Deno.Kv,
  appId: string,
  endpointId: string,
): Promise<WebhookEndpoint | null> {
  return (await kv.get<WebhookEndpoint>(webhookEndpointKey(appId, endpointId)))
    .value;
}

/**
 * Removes an endpoint; false when the app has none by that id. Deliveries
 * already queued for it are dropped when their turn comes.
 */
export async function deleteEndpoint(
  kv: Deno.Kv,
  appId: string,
  endpointId: string,
): Promise<boolean> {
  const key = webhookEndpointKey(appId, endpointId);
  while (true) {
    const entry = await kv.get<WebhookEndpoint>(key);
    if (!entry.value) return false;
    if ((await kv.atomic().check(entry).delete(key).commit()).ok) return true;
  }
}
