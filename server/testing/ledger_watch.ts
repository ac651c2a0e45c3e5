import assert from "node:assert/strict";
import { readLedgerView } from "./ledger_probe.ts";

/**
 * Reads a connection's ledger from the store over and over while a load
 * runs, asserting `spent + held ≤ cap` at every read. `stop()` ends it,
 * rethrows the first failed read, and returns how many reads there were.
 */
export function watchLedger(
  kv: Deno.Kv,
  appId: string,
  userId: string,
): { stop(): Promise<number> } {
  let watching = true;
  let reads = 0;
  const loop = (async () => {
    while (watching) {
      const view = await readLedgerView(kv, appId, userId);
      assert.ok(view.spent + view.held <= view.capNano!, "spent + held ≤ cap");
      reads++;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  })();
  return {
    async stop() {
      watching = false;
      await loop;
      return reads;
    },
  };
}
