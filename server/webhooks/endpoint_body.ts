import { z } from "zod";
import type { Mode } from "../../sdk/secret_key.ts";
import { WEBHOOK_EVENT_TYPES } from "../../sdk/webhooks.ts";
import type { WebhookEventType } from "../../sdk/webhooks.ts";
import { WattfareError } from "../errors.ts";

/** An absolute http(s) URL with no credentials or fragment, normalized. */
const endpointUrl = z.string().max(2048).transform((text, ctx) => {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    ctx.addIssue({ code: "custom", message: "must be an absolute URL" });
    return z.NEVER;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    ctx.addIssue({ code: "custom", message: "must be an http or https URL" });
    return z.NEVER;
  }
  // Credentials in a URL end up in logs and in the listing; a fragment is
  // never sent. Both are mistakes worth refusing rather than carrying.
  if (url.username || url.password) {
    ctx.addIssue({
      code: "custom",
      message: "must not carry a user name or password",
    });
    return z.NEVER;
  }
  if (url.hash) {
    ctx.addIssue({ code: "custom", message: "must not have a #fragment" });
    return z.NEVER;
  }
  return url.href;
});

/** `POST /api/v1/webhooks`. */
export const createEndpointBody = z.strictObject({
  url: endpointUrl,
  /** Omitted: every event type. */
  events: z.array(
    z.enum(WEBHOOK_EVENT_TYPES as [WebhookEventType, ...WebhookEventType[]]),
  ).min(1).max(WEBHOOK_EVENT_TYPES.length * 2).optional(),
});

/**
 * Live apps deliver over the public internet only: `https`, and not to
 * this machine or a private network, which would let an API key aim the
 * service's own requests inward. Test apps may use `http` and `localhost`,
 * to receive events in local development. Host names are checked as
 * written; one that resolves to a private address is not caught here.
 */
export function assertDeliverable(url: string, mode: Mode): void {
  if (mode === "test") return;
  const { protocol, hostname } = new URL(url);
  if (protocol !== "https:") {
    throw new WattfareError(
      "invalid_request",
      "url: live apps need an https URL (test apps may use http).",
      { param: "url" },
    );
  }
  if (isInternalHost(hostname)) {
    throw new WattfareError(
      "invalid_request",
      "url: live apps cannot deliver to localhost or private network addresses.",
      { param: "url" },
    );
  }
}

function isInternalHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host)?.slice(1).map(Number);
  if (v4) {
    const [a, b] = v4;
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) ||
      (a === 100 && b >= 64 && b <= 127) || a >= 224;
  }
  if (host.startsWith("[")) {
    const v6 = host.slice(1, -1);
    return v6 === "::" || v6 === "::1" || /^f[cd]/.test(v6) ||
      /^fe[89ab]/.test(v6) || v6.startsWith("::ffff:");
  }
  return false;
}
