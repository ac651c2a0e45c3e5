import { createMiddleware } from "hono/factory";
import type { Env } from "./env.ts";

const ALLOWED_HEADERS =
  "authorization, content-type, x-wattfare-user, x-wattfare-grant, x-request-id";
const EXPOSED_HEADERS = "x-wattfare-cost, x-wattfare-request-id, x-request-id";

/**
 * CORS for the JSON API. Browsers hold only session tokens, sent as bearer
 * headers and never as cookies, so any origin may ask; which origins a
 * session is honoured from is decided per app when it is verified.
 */
export function apiCors() {
  return createMiddleware<Env>(async (c, next) => {
    const origin = c.req.header("origin");
    if (c.req.method === "OPTIONS") {
      return c.body(null, 204, {
        "access-control-allow-origin": origin ?? "*",
        "access-control-allow-methods": "GET, POST, DELETE",
        "access-control-allow-headers": ALLOWED_HEADERS,
        "access-control-max-age": "600",
        vary: "origin",
      });
    }
    await next();
    c.res.headers.set("access-control-allow-origin", origin ?? "*");
    c.res.headers.set("access-control-expose-headers", EXPOSED_HEADERS);
    c.res.headers.append("vary", "origin");
  });
}
