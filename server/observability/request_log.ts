import { createMiddleware } from "hono/factory";
import { routePath } from "hono/route";
import type { Env } from "../http/env.ts";
import type { Metrics } from "./metrics.ts";

const INCOMING_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Gives every request an id (the caller's `x-request-id` when well formed),
 * returns it as a response header, counts the request by route and status,
 * and writes one JSON log line. Logs never carry the query
 * string, headers or body, so no key, token or prompt reaches them; and
 * the route pattern, not the path, so user ids in paths stay out too.
 */
export function requestLog(
  metrics: Metrics,
  log: ((line: string) => void) | null,
) {
  return createMiddleware<Env>(async (c, next) => {
    const incoming = c.req.header("x-request-id");
    const id = incoming && INCOMING_ID.test(incoming)
      ? incoming
      : crypto.randomUUID();
    const started = performance.now();
    await next();
    c.res.headers.set("x-request-id", id);
    const matched = routePath(c, -1);
    const route = matched && !matched.endsWith("*") ? matched : "unmatched";
    metrics.count("wattfare_http_requests_total", {
      method: c.req.method,
      route,
      status: String(c.res.status),
    });
    log?.(JSON.stringify({
      level: "info",
      msg: "request",
      requestId: id,
      method: c.req.method,
      route,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    }));
  });
}
