/**
 * Every environment variable the service reads, parsed and validated in one
 * place at start-up. Nothing else in the service reads `Deno.env`.
 */

/** Validated service configuration. */
export interface Config {
  port: number;
  host: string;
  /** KV path; `undefined` opens the platform default (Deno Deploy). */
  kvPath: string | undefined;
  publicUrl: string;
  upstreamUrl: string;
  /** OpenRouter's OAuth consent page, where users link their funding. */
  openRouterAuthUrl: string;
  /** Upstream for test mode; `undefined` means the in-process sandbox. */
  sandboxUrl: string | undefined;
  /** 32 raw bytes, or `undefined` to use the development key file. */
  masterKey: Uint8Array | undefined;
  /** Earlier master keys, still able to open what they sealed, during a rotation. */
  previousMasterKeys: Uint8Array[];
  /** Requests larger than this get `413 payload_too_large`. */
  maxBodyBytes: number;
  /** How long the proxy waits for the upstream's response headers. */
  upstreamTimeoutMs: number;
  /** Longest silence allowed between upstream chunks once it answered. */
  upstreamIdleTimeoutMs: number;
  /** How long a hold lives before its expiry settles it at the bound. */
  holdTtlMs: number;
  /** How long a budget lease may sit unused before it goes back to the ledger. */
  leaseIdleMs: number;
  /** Requests per minute one app may send through the proxy (its bucket's size). */
  appRequestsPerMinute: number;
  /** Requests per minute one connection or grant may use. */
  connectionRequestsPerMinute: number;
  /** Proxy attempts within 10 s that pause a connection as an anomaly. */
  burstRequests: number;
  /** True on Deno Deploy, where the master key is required. */
  production: boolean;
}

/** A configuration value that cannot be used; `main.ts` exits with code 2. */
export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Reads and validates the configuration from an environment. */
export function loadConfig(
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Config {
  const production = Boolean(env.DENO_DEPLOYMENT_ID);
  const port = integer(env, "PORT", 8000, 0, 65535);
  const host = env.HOST || "127.0.0.1";
  const kvPath = env.WATTFARE_KV ??
    (production ? undefined : ".data/wattfare.kv");
  const publicUrl = url(env, "WATTFARE_PUBLIC_URL") ??
    `http://localhost:${port}`;
  const upstreamUrl = url(env, "WATTFARE_UPSTREAM_URL") ??
    "https://openrouter.ai/api/v1";
  const sandboxUrl = url(env, "WATTFARE_SANDBOX_URL");
  const openRouterAuthUrl = url(env, "WATTFARE_OPENROUTER_AUTH_URL") ??
    "https://openrouter.ai/auth";
  const masterKey = base64Key("WATTFARE_MASTER_KEY", env.WATTFARE_MASTER_KEY);
  const previousMasterKeys = (env.WATTFARE_MASTER_KEY_PREVIOUS ?? "")
    .split(",").filter((text) => text.trim() !== "")
    .map((text) => base64Key("WATTFARE_MASTER_KEY_PREVIOUS", text.trim())!);
  if (production && !masterKey) {
    throw new ConfigError(
      "WATTFARE_MASTER_KEY is required in production: 32 random bytes, base64 (openssl rand -base64 32)",
    );
  }
  return {
    port,
    host,
    kvPath: kvPath === "" ? undefined : kvPath,
    publicUrl,
    upstreamUrl,
    openRouterAuthUrl,
    sandboxUrl,
    masterKey,
    previousMasterKeys,
    maxBodyBytes: integer(
      env,
      "WATTFARE_MAX_BODY_BYTES",
      1024 * 1024,
      1024,
      64 * 1024 * 1024,
    ),
    upstreamTimeoutMs: integer(
      env,
      "WATTFARE_UPSTREAM_TIMEOUT_MS",
      60_000,
      1,
      600_000,
    ),
    upstreamIdleTimeoutMs: integer(
      env,
      "WATTFARE_UPSTREAM_IDLE_TIMEOUT_MS",
      60_000,
      1,
      600_000,
    ),
    holdTtlMs: integer(
      env,
      "WATTFARE_HOLD_TTL_MS",
      15 * 60_000,
      100,
      24 * 3_600_000,
    ),
    leaseIdleMs: integer(
      env,
      "WATTFARE_LEASE_IDLE_MS",
      30_000,
      0,
      3_600_000,
    ),
    appRequestsPerMinute: integer(
      env,
      "WATTFARE_APP_RPM",
      60_000,
      1,
      10_000_000,
    ),
    connectionRequestsPerMinute: integer(
      env,
      "WATTFARE_CONNECTION_RPM",
      600,
      1,
      1_000_000,
    ),
    burstRequests: integer(env, "WATTFARE_BURST_REQUESTS", 1000, 2, 10_000_000),
    production,
  };
}

function integer(
  env: Record<string, string | undefined>,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new ConfigError(
      `${name} must be an integer from ${min} to ${max}, got "${raw}"`,
    );
  }
  return Number(raw);
}

function url(
  env: Record<string, string | undefined>,
  name: string,
): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw === "") return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(`${name} must be an absolute URL, got "${raw}"`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new ConfigError(`${name} must be an http(s) URL, got "${raw}"`);
  }
  return raw.replace(/\/+$/, "");
}

function base64Key(
  name: string,
  raw: string | undefined,
): Uint8Array | undefined {
  if (raw === undefined || raw === "") return undefined;
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(raw), (c) => c.charCodeAt(0));
  } catch {
    throw new ConfigError(`${name} must be base64 (32 bytes)`);
  }
  if (bytes.length !== 32) {
    throw new ConfigError(
      `${name} must decode to 32 bytes, got ${bytes.length}`,
    );
  }
  return bytes;
}
