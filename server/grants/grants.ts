import { grantKey } from "../kv/keys.ts";
import { randomHex } from "../crypto/random.ts";
import { sha256Hex } from "../crypto/digest.ts";
import type { Sealed } from "../crypto/secret_box.ts";
import type { AppRecord } from "../apps/apps.ts";
import type { Grant } from "./grant.ts";

/** How long a grant token stays redeemable. */
export const GRANT_TTL_MS = 10 * 60_000;

/** A grant token: `wfg_` and 256 bits of randomness. */
const GRANT_TOKEN = /^wfg_[0-9a-f]{64}$/;

/** What `POST /api/v1/grants` answers. */
export interface GrantResult {
  grantToken: string;
  /** Unix seconds. */
  expiresAt: number;
  requests: number;
}

/**
 * Approves a grant paid from `funding`. The token is returned once; only
 * its hash is stored.
 */
export async function createGrant(
  kv: Deno.Kv,
  app: AppRecord,
  input: { requests: number; maxNano: bigint | null; funding: Sealed },
  now = Date.now(),
  ttlMs = GRANT_TTL_MS,
): Promise<GrantResult> {
  const grantToken = `wfg_${randomHex(32)}`;
  const grant: Grant = {
    id: await sha256Hex(grantToken),
    appId: app.id,
    mode: app.mode,
    requests: input.requests,
    remaining: input.requests,
    maxNano: input.maxNano,
    spent: 0n,
    held: 0n,
    funding: input.funding,
    createdAt: now,
    expiresAt: now + ttlMs,
  };
  // Kept a day past expiry so late settlements and audits still find it.
  await kv.set(grantKey(grant.id), grant, { expireIn: ttlMs + 86_400_000 });
  return {
    grantToken,
    expiresAt: Math.floor(grant.expiresAt / 1000),
    requests: grant.requests,
  };
}

/** The id (hash) of a well-formed grant token, or null for anything else. */
export async function grantIdOf(token: string): Promise<string | null> {
  return GRANT_TOKEN.test(token) ? await sha256Hex(token) : null;
}
