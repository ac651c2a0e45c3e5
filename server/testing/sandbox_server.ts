import { Hono } from "hono";
import { createSandbox, type Sandbox } from "../sandbox/sandbox.ts";

/** A sandbox on its own port, standing in for OpenRouter as the live upstream. */
export interface SandboxServer {
  sandbox: Sandbox;
  /** Its API base, as `WATTFARE_UPSTREAM_URL`. */
  apiUrl: string;
  /** Its OAuth consent page, as `WATTFARE_OPENROUTER_AUTH_URL`. */
  authUrl: string;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts a sandbox server on a random 127.0.0.1 port. */
export function startSandboxServer(): SandboxServer {
  const sandbox = createSandbox();
  const root = new Hono();
  root.route("/api/v1", sandbox.app);
  root.route("/", sandbox.authApp);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    root.fetch,
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  return {
    sandbox,
    apiUrl: `${base}/api/v1`,
    authUrl: `${base}/auth`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
