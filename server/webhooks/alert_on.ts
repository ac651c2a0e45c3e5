import type { Settled } from "../ledger/charge.ts";
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
  // The cap as of the hold: no read on every settlement.
  await checkBudgetAlerts(kv, webhooks, {
    appId: hold.appId,
    userId: hold.userId!,
    period: hold.period,
    // Holds placed before caps were recorded on them carry none.
    capNano: hold.capNano ?? null,
    spentBefore: settled.spentBefore,
    spentAfter: settled.spentAfter,
  });
}
