import { usageOfAppPrefix, usageOfUserPrefix } from "../kv/keys.ts";
import { formatUsd } from "../money.ts";
import type { UsageEntry } from "./hold.ts";

/** One usage entry as the API shows it: exact USD as a decimal string. */
export interface UsageRow {
  requestId: string;
  userId: string;
  createdAt: string;
  model: string;
  promptTokens: number;
  completionTokens: number;
  costUsd: string;
  basis: UsageEntry["basis"];
}

/**
 * Usage entries created in `[from, to)`, oldest first, and their exact
 * total: one user's, or with `userId` null every user's of the app.
 */
export async function usageBetween(
  kv: Deno.Kv,
  appId: string,
  userId: string | null,
  from: number,
  to: number,
): Promise<{ rows: UsageRow[]; totalUsd: string }> {
  const rows: UsageRow[] = [];
  let total = 0n;
  const prefix = userId === null
    ? usageOfAppPrefix(appId)
    : usageOfUserPrefix(appId, userId);
  for await (const entry of kv.list<UsageEntry>({ prefix })) {
    const usage = entry.value;
    if (usage.createdAt < from || usage.createdAt >= to) continue;
    total += usage.costNano;
    rows.push({
      requestId: usage.requestId,
      userId: usage.userId ?? "",
      createdAt: new Date(usage.createdAt).toISOString(),
      model: usage.model,
      promptTokens: usage.promptTokens,
      completionTokens: usage.completionTokens,
      costUsd: formatUsd(usage.costNano),
      basis: usage.basis,
    });
  }
  rows.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  return { rows, totalUsd: formatUsd(total) };
}

/** The rows as CSV (RFC 4180), with a header line. */
export function usageCsv(rows: UsageRow[]): string {
  const header =
    "request_id,user_id,created_at,model,prompt_tokens,completion_tokens,cost_usd,basis";
  const cell = (value: string | number) => {
    const text = String(value);
    // Quote what needs it, and defuse spreadsheet formulas.
    const safe = /^[=+\-@]/.test(text) ? `'${text}` : text;
    return /[",\n\r]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
  };
  const lines = rows.map((r) =>
    [
      r.requestId,
      r.userId,
      r.createdAt,
      r.model,
      r.promptTokens,
      r.completionTokens,
      r.costUsd,
      r.basis,
    ]
      .map(cell).join(",")
  );
  return [header, ...lines].join("\r\n") + "\r\n";
}
