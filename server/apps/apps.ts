import {
  appKey,
  appsPrefix,
  walletAppKey,
  walletAppsPrefix,
} from "../kv/keys.ts";
import { randomHex, randomId } from "../crypto/random.ts";
import { sha256Hex } from "../crypto/digest.ts";
import { forgetApp } from "./app_cache.ts";
import { deriveSigningKey } from "../../sdk/session_token.ts";
import type { Mode } from "../../sdk/secret_key.ts";

/** An app as stored: the secret itself is never kept, only its hash. */
export interface AppRecord {
  id: string;
  name: string;
  mode: Mode;
  /** Origins allowed to open the consent popup, e.g. `https://acme.com`. */
  origins: string[];
  /** SHA-256 of the current secret, hex. */
  secretHash: string;
  /** Session-signing key derived from the current secret. */
  signingKey: Uint8Array;
  createdAt: number;
  /**
   * The wallet of the developer who registered it on `/developers`, the only
   * one who may see or change it there; absent for apps made with the CLI.
   */
  ownerWalletId?: string;
  /** Per-app rate limits, over the service's defaults. */
  rateLimits?: RateLimits;
}

/** An app's own rate limits, in requests per minute; unset means the service default. */
export interface RateLimits {
  appRequestsPerMinute?: number;
  connectionRequestsPerMinute?: number;
}

/** What the CLI prints about an app. */
export interface AppSummary {
  appId: string;
  name: string;
  mode: Mode;
  origins: string[];
  publishableKey: string;
  /** Present only right after creation or rotation. */
  secretKey?: string;
}

/** Registers an app and returns its keys; the secret key is shown only now. */
export async function createApp(
  kv: Deno.Kv,
  input: {
    name: string;
    origins: string[];
    mode: Mode;
    ownerWalletId?: string;
  },
): Promise<AppSummary> {
  const name = input.name.trim();
  if (!name || name.length > 100) {
    throw new RangeError("app name must be 1 to 100 characters");
  }
  const origins = input.origins.map(normalizeOrigin);
  const id = randomId(20);
  const secret = randomHex(32);
  const record: AppRecord = {
    id,
    name,
    mode: input.mode,
    origins,
    secretHash: await sha256Hex(secret),
    signingKey: deriveSigningKey(secret),
    createdAt: Date.now(),
    ...(input.ownerWalletId ? { ownerWalletId: input.ownerWalletId } : {}),
  };
  const op = kv.atomic().check({ key: appKey(id), versionstamp: null })
    .set(appKey(id), record);
  // The owner's index is written with the app, so neither exists alone.
  if (input.ownerWalletId) op.set(walletAppKey(input.ownerWalletId, id), true);
  const result = await op.commit();
  if (!result.ok) throw new Error("app id collision");
  return { ...summarize(record), secretKey: secretKeyOf(record, secret) };
}

/** Replaces an app's secret; the old one stops working on the next request. */
export async function rotateSecret(
  kv: Deno.Kv,
  appId: string,
): Promise<AppSummary | null> {
  const secret = randomHex(32);
  const secretHash = await sha256Hex(secret);
  const signingKey = deriveSigningKey(secret);
  while (true) {
    const entry = await kv.get<AppRecord>(appKey(appId));
    if (!entry.value) return null;
    const record = { ...entry.value, secretHash, signingKey };
    const result = await kv.atomic().check(entry).set(appKey(appId), record)
      .commit();
    if (result.ok) {
      forgetApp(kv, appId);
      return { ...summarize(record), secretKey: secretKeyOf(record, secret) };
    }
  }
}

/** Replaces an app's allowed origins; null when there is no such app. */
export async function updateOrigins(
  kv: Deno.Kv,
  appId: string,
  origins: string[],
): Promise<AppSummary | null> {
  const normalized = [...new Set(origins.map(normalizeOrigin))];
  if (normalized.length === 0) {
    throw new RangeError("an app needs at least one origin");
  }
  while (true) {
    const entry = await kv.get<AppRecord>(appKey(appId));
    if (!entry.value) return null;
    const record = { ...entry.value, origins: normalized };
    const result = await kv.atomic().check(entry).set(appKey(appId), record)
      .commit();
    if (result.ok) {
      forgetApp(kv, appId);
      return summarize(record);
    }
  }
}

/** Sets (or, with `{}`, clears) an app's own rate limits; null when there is no such app. */
export async function setRateLimits(
  kv: Deno.Kv,
  appId: string,
  rateLimits: RateLimits,
): Promise<AppRecord | null> {
  while (true) {
    const entry = await kv.get<AppRecord>(appKey(appId));
    if (!entry.value) return null;
    const record = { ...entry.value, rateLimits };
    const result = await kv.atomic().check(entry).set(appKey(appId), record)
      .commit();
    if (result.ok) {
      forgetApp(kv, appId);
      return record;
    }
  }
}

/** Reads one app. */
export async function getApp(
  kv: Deno.Kv,
  appId: string,
): Promise<AppRecord | null> {
  return (await kv.get<AppRecord>(appKey(appId))).value;
}

/** Every registered app, oldest first. */
export async function listApps(kv: Deno.Kv): Promise<AppSummary[]> {
  const apps: AppRecord[] = [];
  for await (const entry of kv.list<AppRecord>({ prefix: appsPrefix() })) {
    apps.push(entry.value);
  }
  return apps.sort((a, b) => a.createdAt - b.createdAt).map(summarize);
}

/** The apps a wallet registered, oldest first. */
export async function appsOwnedBy(
  kv: Deno.Kv,
  walletId: string,
): Promise<AppRecord[]> {
  const apps: AppRecord[] = [];
  for await (const entry of kv.list({ prefix: walletAppsPrefix(walletId) })) {
    const app = await getApp(kv, entry.key[2] as string);
    if (app?.ownerWalletId === walletId) apps.push(app);
  }
  return apps.sort((a, b) => a.createdAt - b.createdAt);
}

/** The public view of an app, without any secret. */
export function summarize(record: AppRecord): AppSummary {
  return {
    appId: record.id,
    name: record.name,
    mode: record.mode,
    origins: record.origins,
    publishableKey: `pk_${record.mode}_${record.id}`,
  };
}

function secretKeyOf(record: AppRecord, secret: string): string {
  return `sk_${record.mode}_${record.id}_${secret}`;
}

/** `https://acme.com/` → `https://acme.com`; anything but an http(s) origin is a RangeError. */
export function normalizeOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new RangeError(
      `origin must be a URL like https://acme.com: ${value}`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new RangeError(`origin must be http(s): ${value}`);
  }
  return url.origin;
}
