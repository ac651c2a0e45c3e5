import { nanoToUsd } from "../money.ts";
import { budgetAlertKey, budgetAlertsPrefix } from "../kv/keys.ts";
import { fireOnce } from "./fire_once.ts";
import type { Webhooks } from "./webhooks.ts";

/** The budget owner's dashboard notice of one alert; its presence means it fired. */
export interface BudgetNotice {
  type: "budget.low" | "budget.exhausted";
  appId: string;
  userId: string;
  /** First day (UTC, `YYYY-MM-DD`) of the period. */
  period: string;
  thresholdPercent: 80 | 100;
  capNano: bigint;
  /** Spent when the threshold was crossed. */
  spentNano: bigint;
  /** The webhook event sent with it (the same id apps receive). */
  eventId: string;
  createdAt: number;
}

/** What {@link checkBudgetAlerts} needs to know about one settlement. */
export interface BudgetAlertInput {
  appId: string;
  userId: string;
  /** The settled hold's period (`YYYY-MM-DD`). */
  period: string;
  /** The connection's cap; `null` (uncapped) never alerts. */
  capNano: bigint | null;
  /** The period's `spent` after the settlement committed. */
  spentAfter: bigint;
  /**
   * The period's `spent` before it. Optional and not needed for
   * correctness: whether a threshold is due is read from `spentAfter` and
   * the markers in KV, so a settlement whose check never ran (a crash) is
   * caught up by the next one.
   */
  spentBefore?: bigint;
}

const LEVELS = [
  { level: "low", type: "budget.low", percent: 80 },
  { level: "exhausted", type: "budget.exhausted", percent: 100 },
] as const;

/**
 * Fires `budget.low` once `spentAfter` reaches 80 % of the cap and
 * `budget.exhausted` once it reaches 100 %, each at most once per
 * connection and period, however many settlements race: the owner's notice
 * is the marker, written with an atomic "absent" check in the same commit
 * that queues the webhook. Returns the types this call fired. Below 80 % it
 * touches no KV at all, so it is cheap to call after every settlement.
 */
export async function checkBudgetAlerts(
  kv: Deno.Kv,
  webhooks: Webhooks,
  input: BudgetAlertInput,
): Promise<BudgetNotice["type"][]> {
  const cap = input.capNano;
  // A zero cap is a deliberate "nothing": alerting on it would be noise.
  if (cap === null || cap <= 0n) return [];
  const fired: BudgetNotice["type"][] = [];
  for (const { level, type, percent } of LEVELS) {
    if (input.spentAfter * 100n < cap * BigInt(percent)) break;
    const remaining = cap - input.spentAfter;
    const event = await fireOnce(
      kv,
      webhooks,
      budgetAlertKey(input.appId, input.userId, input.period, level),
      (event): BudgetNotice => ({
        type,
        appId: input.appId,
        userId: input.userId,
        period: input.period,
        thresholdPercent: percent,
        capNano: cap,
        spentNano: input.spentAfter,
        eventId: event.id,
        createdAt: event.createdAt,
      }),
      {
        appId: input.appId,
        type,
        data: {
          userId: input.userId,
          period: input.period,
          thresholdPercent: percent,
          limits: { monthlyUsd: nanoToUsd(cap) },
          usage: { monthlyUsd: nanoToUsd(input.spentAfter) },
          remainingUsd: nanoToUsd(remaining > 0n ? remaining : 0n),
        },
      },
    );
    if (event) fired.push(type);
  }
  return fired;
}

/** The notices of one connection's period, 80 % before 100 %. */
export async function noticesFor(
  kv: Deno.Kv,
  appId: string,
  userId: string,
  period: string,
): Promise<BudgetNotice[]> {
  const notices: BudgetNotice[] = [];
  for await (
    const entry of kv.list<BudgetNotice>({
      prefix: budgetAlertsPrefix(appId, userId, period),
    })
  ) notices.push(entry.value);
  return notices.sort((a, b) => a.thresholdPercent - b.thresholdPercent);
}
