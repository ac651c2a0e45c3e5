import type { WebhookEventType } from "../../sdk/webhooks.ts";

/** An app's webhook endpoint as stored. */
export interface WebhookEndpoint {
  /** `wh_…` */
  id: string;
  appId: string;
  url: string;
  /** The event types it receives. */
  events: WebhookEventType[];
  /**
   * `whsec_…`, kept in clear because every delivery is signed with it; it
   * is returned once, at creation, and never again by any route.
   */
  secret: string;
  createdAt: number;
}

/** What the API shows of an endpoint: everything but the secret. */
export interface EndpointSummary {
  id: string;
  url: string;
  events: WebhookEventType[];
  createdAt: number;
}

/** An endpoint without its secret. */
export function summarizeEndpoint(endpoint: WebhookEndpoint): EndpointSummary {
  return {
    id: endpoint.id,
    url: endpoint.url,
    events: endpoint.events,
    createdAt: endpoint.createdAt,
  };
}
