/**
 * The sandbox upstream: an in-memory, deterministic simulator of OpenRouter's
 * API. Its Hono app serves routes relative to an OpenRouter base URL; mount it
 * at `/api/v1` (standalone) or `/sandbox/api/v1` (inside Wattfare). OpenRouter's
 * OAuth consent page lives outside `/api/v1`, so it is a second app,
 * `authApp`: mount it at `/` (standalone) or `/sandbox` (inside Wattfare), so
 * that its `/auth` sits beside `/api/v1` as `https://openrouter.ai/auth` does.
 *
 * Per-request switches ride in the body's `sandbox` field (see request.ts):
 * latencyMs, chunkDelayMs, completionTokens, fault (error_before_first_byte,
 * status_500, drop_mid_stream, error_chunk, hang), afterChunks, replay,
 * lineEnding, comments, splitBytes.
 */
import { pathToFileURL } from "node:url";
import { Hono } from "hono";
import { z } from "zod";
import { AuthCodes } from "./auth_codes.ts";
import { catalogue } from "./catalogue.ts";
import { completeChat } from "./chat.ts";
import { createConsentApp } from "./consent.ts";
import { openRouterError } from "./errors.ts";
import { exchangeAuthCode, newUserId } from "./exchange.ts";
import { KeyStore, type KeyUsage } from "./keys.ts";

export interface SandboxOptions {
  /** Directory of recorded `<name>.chunks.txt` streams for `sandbox.replay`:
   * a URL or a file path. Defaults to the shared fixtures. */
  fixturesDir?: string | URL;
  /** Delay before every completion starts, unless a request sets `latencyMs`. */
  latencyMs?: number;
  /** Delay between stream events, unless a request sets `chunkDelayMs`. */
  chunkDelayMs?: number;
  /** Epoch milliseconds; tests pass a fake one to expire OAuth codes. */
  clock?: () => number;
}

export interface Sandbox {
  /** OpenRouter's API: mount at `/api/v1` or `/sandbox/api/v1`. */
  app: Hono;
  /** OpenRouter's OAuth consent page, `GET|POST /auth`: mount at `/` or
   * `/sandbox`, the parent of where `app` is mounted. */
  authApp: Hono;
  /** In-process key management: `create({limit?, label?})` issues a key. */
  keys: Pick<KeyStore, "create" | "usageOf">;
  /** Exact accounting of one key (zero for unknown keys). */
  usageOf(key: string): KeyUsage;
}

const DEFAULT_FIXTURES = new URL(
  "../../../shared/fixtures/recorded-streams/",
  import.meta.url,
);

const newKeySchema = z.strictObject({
  limit: z.number().min(0).max(1e9).optional(),
  label: z.string().max(200).optional(),
});

export function createSandbox(options: SandboxOptions = {}): Sandbox {
  const keys = new KeyStore();
  const codes = new AuthCodes(options.clock);
  // One simulated OpenRouter account approves every consent, as one signed-in
  // user would; its keys are still separate, each with its own limit.
  const userId = newUserId();
  const settings = {
    keys,
    fixturesDir: directoryUrl(options.fixturesDir ?? DEFAULT_FIXTURES),
    latencyMs: options.latencyMs ?? 0,
    chunkDelayMs: options.chunkDelayMs ?? 0,
  };
  const app = new Hono();

  app.get("/models", () => Response.json(catalogue));

  app.post("/keys", async (c) => {
    const text = await c.req.text();
    const parsed = newKeySchema.safeParse(
      text.trim() === "" ? {} : parseJson(text),
    );
    if (!parsed.success) {
      return openRouterError(400, "Expected {limit?: number, label?: string}");
    }
    let key: string;
    try {
      key = keys.create(parsed.data);
    } catch (error) {
      if (error instanceof RangeError) {
        return openRouterError(400, `limit: ${error.message}`);
      }
      throw error;
    }
    return Response.json({ key, data: keys.describe(key) }, { status: 201 });
  });

  // OpenRouter serves the current key's details under both paths.
  for (const path of ["/key", "/auth/key"]) {
    app.get(path, (c) => {
      const key = bearerKey(c.req.raw, keys);
      if (key instanceof Response) return key;
      return Response.json({ data: keys.describe(key) });
    });
  }

  app.post("/auth/keys", async (c) => {
    const body = parseJson(await c.req.text());
    return await exchangeAuthCode({ codes, keys, userId }, body);
  });
  // OpenRouter documents 405 for anything but POST here.
  app.all("/auth/keys", () => {
    const response = openRouterError(405, "Method Not Allowed");
    response.headers.set("allow", "POST");
    return response;
  });

  app.post("/chat/completions", async (c) => {
    const key = bearerKey(c.req.raw, keys);
    if (key instanceof Response) return key;
    const body = parseJson(await c.req.text());
    if (body === undefined) {
      return openRouterError(400, "Request body must be JSON");
    }
    return completeChat(settings, key, body, () => c.req.raw.signal);
  });

  app.notFound(() => openRouterError(404, "Not Found"));
  app.onError((error) => {
    console.error("sandbox:", error);
    return openRouterError(500, "Internal Server Error");
  });

  return {
    app,
    authApp: createConsentApp(codes),
    keys,
    usageOf: (key) => keys.usageOf(key),
  };
}

function bearerKey(request: Request, keys: KeyStore): string | Response {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(
    request.headers.get("authorization") ?? "",
  );
  if (!match) return openRouterError(401, "No auth credentials found");
  if (!keys.accept(match[1])) return openRouterError(401, "User not found.");
  return match[1];
}

/** The parsed JSON, or undefined if `text` is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function directoryUrl(dir: string | URL): URL {
  const url = typeof dir === "string" ? pathToFileURL(dir) : new URL(dir);
  if (!url.pathname.endsWith("/")) url.pathname += "/";
  return url;
}
