import type { Grant } from "../grants/grant.ts";
import { webhookOnceKey } from "../kv/keys.ts";
import { nanoToUsd } from "../money.ts";
import { fireOnce } from "./fire_once.ts";
import type { Webhooks } from "./webhooks.ts";

/**
 * Fires `grant.used_up` once per grant, when it has no requests left or
 * has spent its dollar cap. Call it with the grant as committed after a
 * settlement; a request still in flight at that moment is not in `usage`.
 * Returns whether this call fired it.
 */
export async function checkGrantUsedUp(
  kv: Deno.Kv,
  webhooks: Webhooks,
  grant: Grant,
): Promise<boolean> {
  const usedUp = grant.remaining <= 0 ||
    (grant.maxNano !== null && grant.spent >= grant.maxNano);
  if (!usedUp) return false;
  const event = await fireOnce(
    kv,
    webhooks,
    webhookOnceKey(grant.appId, "grant.used_up", grant.id),
    () => true,
    {
      appId: grant.appId,
      type: "grant.used_up",
      data: {
        grantId: grant.id,
        requests: grant.requests,
        usage: { usd: nanoToUsd(grant.spent) },
        maxUsd: grant.maxNano === null ? null : nanoToUsd(grant.maxNano),
      },
    },
  );
  return event !== null;
}
