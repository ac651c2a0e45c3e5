import { appKey } from "../kv/keys.ts";
import type { AppRecord } from "./apps.ts";

/** How long a cached app record is trusted. */
const TTL_MS = 1_000;

const stores = new WeakMap<
  Deno.Kv,
  Map<string, { app: AppRecord | null; until: number }>
>();

/**
 * Reads an app through a cache of at most a second, for the proxy's hot
 * path. App records are hints, never money: a change made by this process
 * forgets its copy at once (so a rotated secret fails on the very next
 * request here), and one made by another instance shows within a second.
 */
export async function cachedApp(
  kv: Deno.Kv,
  appId: string,
): Promise<AppRecord | null> {
  let cache = stores.get(kv);
  if (!cache) {
    cache = new Map();
    stores.set(kv, cache);
  }
  const now = performance.now();
  const hit = cache.get(appId);
  if (hit && hit.until > now) return hit.app;
  const app = (await kv.get<AppRecord>(appKey(appId))).value;
  // Stale entries go when the cache grows, so it never outgrows the apps in use.
  if (cache.size >= 10_000) {
    for (const [id, entry] of cache) if (entry.until <= now) cache.delete(id);
  }
  cache.set(appId, { app, until: now + TTL_MS });
  return app;
}

/** Drops this process's copy of an app after it changed. */
export function forgetApp(kv: Deno.Kv, appId: string): void {
  stores.get(kv)?.delete(appId);
}
