import { loadConfig } from "../config.ts";
import { type AppSummary, createApp } from "../apps/apps.ts";
import { type Service, startService } from "../start_service.ts";
import type { Mode } from "../../sdk/secret_key.ts";

/** A service on a random 127.0.0.1 port with an in-memory store, for tests. */
export interface TestService extends Service {
  /** Registers an app directly in the store (as the CLI does). */
  createApp(mode?: Mode, origins?: string[]): Promise<Required<AppSummary>>;
  /** Approves a sandbox connection through the API; returns the user id. */
  connect(
    secretKey: string,
    userId: string,
    monthlyUsd: number | null,
  ): Promise<string>;
  /** `fetch` relative to the service's URL. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts a fresh service; dispose it with `await using`. */
export async function startTestService(
  options: {
    env?: Record<string, string>;
    clock?: () => number;
    /** Receives the service's request log lines. */
    log?: (line: string) => void;
    /** A store shared with another test service (left open at dispose). */
    kv?: Deno.Kv;
  } = {},
): Promise<TestService> {
  const config = loadConfig({
    PORT: "0",
    WATTFARE_KV: ":memory:",
    ...options.env,
  });
  const service = await startService(config, {
    clock: options.clock,
    quiet: true,
    log: options.log,
    kv: options.kv,
  });
  return {
    ...service,
    async createApp(mode = "test", origins = ["http://localhost:5173"]) {
      const app = await createApp(service.kv, {
        name: `${mode} app`,
        origins,
        mode,
      });
      return app as Required<AppSummary>;
    },
    async connect(secretKey, userId, monthlyUsd) {
      const response = await fetch(
        new URL("/api/v1/test/connections", service.url),
        {
          method: "POST",
          headers: bearer(secretKey),
          body: JSON.stringify({ userId, monthlyUsd }),
        },
      );
      if (response.status !== 201) {
        throw new Error(
          `connect failed: ${response.status} ${await response.text()}`,
        );
      }
      await response.body?.cancel();
      return userId;
    },
    fetch(path, init) {
      return fetch(new URL(path, service.url), init);
    },
    [Symbol.asyncDispose]: service.close,
  };
}

/** Headers of a proxied chat request for `userId`. */
export function chatHeaders(
  secretKey: string,
  userId: string,
): Record<string, string> {
  return { ...bearer(secretKey), "x-wattfare-user": userId };
}

/** JSON request headers with a bearer token. */
export function bearer(token: string): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    "content-type": "application/json",
  };
}

/** Asserts an OpenAI-shaped Wattfare error and returns its body. */
export async function expectError(
  response: Response,
  status: number,
  code: string,
): Promise<{ error: { code: string; message: string; param: string | null } }> {
  const text = await response.text();
  if (response.status !== status) {
    throw new Error(
      `expected ${status} ${code}, got ${response.status}: ${text}`,
    );
  }
  const body = JSON.parse(text);
  if (
    body?.error?.type !== "wattfare_error" || body.error.code !== code ||
    typeof body.error.message !== "string" || !("param" in body.error)
  ) {
    throw new Error(`expected error code ${code}, got ${text}`);
  }
  if (
    response.headers.get("content-type")?.includes("application/json") !== true
  ) {
    throw new Error("error response is not JSON");
  }
  return body;
}
