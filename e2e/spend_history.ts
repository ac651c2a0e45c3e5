import { createApp, getApp } from "../server/apps/apps.ts";
import { approveConnection } from "../server/connections/connections.ts";
import { ledgerKey, usageKey } from "../server/kv/keys.ts";
import type { UsageEntry } from "../server/ledger/hold.ts";
import type { LedgerRecord } from "../server/ledger/ledger_record.ts";
import { periodStart } from "../server/ledger/period.ts";
import { requestId } from "../server/ledger/request_id.ts";
import { usdToNano } from "../server/money.ts";
import type { TestService } from "../server/testing/test_service.ts";

const DAY_MS = 86_400_000;
/** The models used, with their prices in nano-dollars per prompt and completion token. */
const MODELS: [string, bigint, bigint][] = [
  ["anthropic/claude-sonnet-4", 3000n, 15_000n],
  ["openai/gpt-4o-mini", 150n, 600n],
  ["anthropic/claude-sonnet-4", 3000n, 15_000n],
];

/**
 * Gives a wallet another app with `days` days of settled usage, written as
 * settlement writes it (entries that sum to the ledger's `spent`), so a
 * dashboard shows a month in progress rather than a single day. The amounts
 * are fixed, so screenshots compare.
 */
export async function seedSpendHistory(
  service: TestService,
  walletId: string,
  options: { name: string; days: number; capUsd: number },
): Promise<{ appId: string; spentNano: bigint }> {
  const now = Date.now();
  const { appId } = await createApp(service.kv, {
    name: options.name,
    origins: ["https://notes.example"],
    mode: "test",
  });
  const approvedAt = now - options.days * DAY_MS;
  await approveConnection(
    service.kv,
    (await getApp(service.kv, appId))!,
    "owner",
    usdToNano(options.capUsd, "down"),
    { funding: await service.box.seal("sk-or-v1-seeded"), walletId },
    approvedAt,
  );
  const period = periodStart(approvedAt, now);
  let spent = 0n;
  for (let day = 0; day <= options.days; day++) {
    // A working week's rhythm: busier midweek, quiet weekends.
    const requests = 2 + ((day * 7) % 5);
    for (let i = 0; i < requests; i++) {
      const createdAt = approvedAt + day * DAY_MS + i * 3_600_000;
      if (createdAt > now) break;
      const promptTokens = 1200 + ((day * 131 + i * 577) % 5400);
      const completionTokens = 150 + ((day * 71 + i * 29) % 700);
      const [model, promptPrice, completionPrice] =
        MODELS[(day + i) % MODELS.length];
      const costNano = BigInt(promptTokens) * promptPrice +
        BigInt(completionTokens) * completionPrice;
      const id = requestId(createdAt);
      const entry: UsageEntry = {
        requestId: id,
        appId,
        userId: "owner",
        grantId: null,
        model,
        promptTokens,
        completionTokens,
        costNano,
        basis: "usage",
        overshootNano: 0n,
        createdAt,
      };
      await service.kv.set(usageKey(appId, "owner", period, id), entry);
      spent += costNano;
    }
  }
  await service.kv.set(
    ledgerKey(appId, "owner", period),
    { spent, held: 0n } satisfies LedgerRecord,
  );
  return { appId, spentNano: spent };
}
