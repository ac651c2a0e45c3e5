import assert from "node:assert/strict";
import { createApp } from "../apps/apps.ts";
import { readLedgerView } from "../testing/ledger_probe.ts";
import { UNSETTLED_MODEL } from "./expire_lease.ts";
import { spawnService } from "../testing/spawn_service.ts";

Deno.test("the budget a killed process leased is charged in full after a restart", async () => {
  const dir = await Deno.makeTempDir();
  const env = {
    WATTFARE_KV: `${dir}/wattfare.kv`,
    WATTFARE_HOLD_TTL_MS: "1500",
  };
  try {
    const setup = await Deno.openKv(env.WATTFARE_KV);
    const app = await createApp(setup, {
      name: "crash",
      origins: ["http://localhost:5173"],
      mode: "test",
    });
    setup.close();
    const auth = {
      authorization: `Bearer ${app.secretKey}`,
      "content-type": "application/json",
    };

    const first = await spawnService(env);
    const connected = await fetch(`${first.url}/api/v1/test/connections`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ userId: "u", monthlyUsd: 1 }),
    });
    assert.equal(connected.status, 201);
    await connected.body?.cancel();

    // Two streams in flight when the process dies.
    const streams = await Promise.all([1, 2].map(async () => {
      const response = await fetch(`${first.url}/api/v1/chat/completions`, {
        method: "POST",
        headers: { ...auth, "x-wattfare-user": "u" },
        body: JSON.stringify({
          model: "openai/gpt-4o-mini",
          messages: [{ role: "user", content: "a long answer please" }],
          stream: true,
          max_tokens: 100,
          sandbox: { chunkDelayMs: 100, completionTokens: 100 },
        }),
      });
      assert.equal(response.status, 200);
      const reader = response.body!.getReader();
      await reader.read();
      return reader;
    }));
    await first.stop("SIGKILL");
    for (const reader of streams) await reader.cancel().catch(() => {});

    const second = await spawnService(env);
    // Wait until nothing is held: cap = usage + remaining (the lease here
    // is tens of micro-dollars, far above the status's 6-decimal rounding).
    let held = Infinity;
    const deadline = Date.now() + 20_000;
    while (held > 2e-6 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const status = await fetch(`${second.url}/api/v1/status?userId=u`, {
        headers: auth,
      });
      const { usage, remainingUsd } = await status.json();
      held = 1 - usage.monthlyUsd - remainingUsd;
    }
    await second.stop();

    const kv = await Deno.openKv(env.WATTFARE_KV);
    try {
      const view = await readLedgerView(kv, app.appId, "u");
      assert.equal(view.held, 0n, "the lease was settled");
      assert.equal(view.openHolds.length, 0);
      assert.equal(view.openLeases.length, 0);
      // The dead process's two requests may have been billed upstream, and
      // nothing says how far they got: the whole lease is charged, once.
      assert.equal(view.entries.length, 1);
      assert.equal(view.entries[0].basis, "expired");
      assert.equal(view.entries[0].model, UNSETTLED_MODEL);
      assert.equal(view.entriesSum, view.spent, "Σ usage entries = spent");
      assert.ok(view.spent > 0n && view.spent <= view.capNano!);
    } finally {
      kv.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
