import { connectionKey } from "../kv/keys.ts";
import type { Connection } from "../connections/connection.ts";
import type { Settled } from "../ledger/ledger.ts";
import { checkBudgetAlerts } from "./budget_alerts.ts";
import { checkGrantUsedUp } from "./grant_used_up.ts";
import type { Webhooks } from "./webhooks.ts";

/**
 * After a settlement: budget alerts for a connection crossing 80 % or 100 %
 * of its cap, `grant.used_up` for a grant with nothing left.
 */
export async function alertOn(
  kv: Deno.Kv,
  webhooks: Webhooks,
  settled: Settled,
): Promise<void> {
  if (settled.grant) {
    await checkGrantUsedUp(kv, webhooks, settled.grant);
    return;
  }
  const { hold } = settled;
  const connection = (await kv.get<Connection>(
    connectionKey(hold.appId, hold.userId!),
  )).value;
  if (!connection) return;
  await checkBudgetAlerts(kv, webhooks, {
    appId: hold.appId,
    userId: hold.userId!,
    period: hold.period,
    capNano: connection.capNano,
    spentBefore: settled.spentBefore,
    spentAfter: settled.spentAfter,
  });
}
