/**
 * The sandbox upstream alone (`deno task sandbox`): the API at `/api/v1`, the
 * OAuth consent page at `/auth`, as on openrouter.ai.
 */
import { Hono } from "hono";
import { openRouterError } from "./errors.ts";
import { createSandbox } from "./sandbox.ts";

const sandbox = createSandbox();
const root = new Hono();
root.route("/api/v1", sandbox.app);
root.route("/", sandbox.authApp);
// A mounted app's notFound does not apply under its parent.
root.notFound(() => openRouterError(404, "Not Found"));

Deno.serve({
  hostname: Deno.env.get("HOST") ?? "127.0.0.1",
  port: Number(Deno.env.get("PORT") ?? 8000),
  onListen({ hostname, port }) {
    const host = hostname.includes(":") ? `[${hostname}]` : hostname;
    console.log(
      `Wattfare sandbox (OpenRouter-compatible) at http://${host}:${port}/api/v1`,
    );
  },
}, root.fetch);
