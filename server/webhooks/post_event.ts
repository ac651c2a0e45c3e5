import {
  signWebhook,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
  type WebhookEvent,
} from "../../sdk/webhooks.ts";
import type { WebhookEndpoint } from "./endpoint.ts";

/** How one attempt ended. */
export type AttemptOutcome =
  | { ok: true; status: number }
  | { ok: false; status: number | null; error: string };

/**
 * One delivery attempt: a signed POST, answered within `timeoutMs`. Only a
 * 2xx counts; redirects are not followed, since a receiver that moved
 * should be re-registered rather than have signed events chase it.
 */
export async function postEvent(
  endpoint: WebhookEndpoint,
  event: WebhookEvent,
  options: { fetch: typeof fetch; timeoutMs: number; now: number },
): Promise<AttemptOutcome> {
  const body = JSON.stringify(event);
  // Signed per attempt, so the timestamp says when this attempt was sent
  // and a retry hours later still passes the receiver's freshness check.
  const signature = await signWebhook(body, endpoint.secret, {
    timestamp: Math.floor(options.now / 1000),
  });
  let response: Response;
  try {
    response = await options.fetch(endpoint.url, {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        "user-agent": "Wattfare-Webhooks/1.0",
        [WEBHOOK_ID_HEADER]: event.id,
        [WEBHOOK_SIGNATURE_HEADER]: signature,
      },
      redirect: "manual",
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    return { ok: false, status: null, error: describe(error, options) };
  }
  // The receiver's answer is not read: only its status matters, and a
  // large or slow body must not hold the attempt open.
  await response.body?.cancel().catch(() => {});
  if (response.status >= 200 && response.status < 300) {
    return { ok: true, status: response.status };
  }
  return {
    ok: false,
    status: response.status,
    error: `HTTP ${response.status}`,
  };
}

function describe(error: unknown, options: { timeoutMs: number }): string {
  if (error instanceof DOMException && error.name === "TimeoutError") {
    return `timed out after ${options.timeoutMs / 1000} s`;
  }
  const text = error instanceof Error
    ? `${error.name}: ${error.message}`
    : String(error);
  return text.slice(0, 200);
}
