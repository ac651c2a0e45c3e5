import assert from "node:assert/strict";
import { fundingKeyOf, readLedgerView } from "../testing/ledger_probe.ts";
import { watchLedger } from "../testing/ledger_watch.ts";
import { chatHeaders, startTestService } from "../testing/test_service.ts";

/** A small seeded PRNG (mulberry32), so every run of a seed is the same load. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const REQUESTS = 300;
// Roughly a third of what the 300 requests below would cost if all ran.
const CAP_USD = 0.0025;

for (const seed of [1, 7, 42]) {
  Deno.test(`the cap holds under ${REQUESTS} concurrent requests (seed ${seed})`, async () => {
    await using service = await startTestService();
    const app = await service.createApp();
    const user = await service.connect(app.secretKey, "hot-user", CAP_USD);
    const fundingKey = await fundingKeyOf(
      service.kv,
      service.box,
      app.appId,
      user,
    );
    const random = prng(seed);

    // Watch the ledger while the load runs: the invariant holds at every read.
    const watch = watchLedger(service.kv, app.appId, user);

    const results = await Promise.all(
      Array.from({ length: REQUESTS }, async (_, i) => {
        const stream = random() < 0.5;
        const body: Record<string, unknown> = {
          model: "openai/gpt-4o-mini",
          messages: [{
            role: "user",
            content: `request ${i}: ${
              "word ".repeat(Math.floor(random() * 40))
            }`,
          }],
          stream,
          sandbox: {
            completionTokens: 5 + Math.floor(random() * 75),
            latencyMs: Math.floor(random() * 5),
          },
        };
        // Most ask for a limit. The few that do not are sized to the whole
        // remaining budget (the model's worst case), so they briefly hold it
        // all; they come after the first burst, which they would otherwise
        // refuse almost entirely.
        const limited = random() < 0.97;
        if (limited) body.max_tokens = 20 + Math.floor(random() * 40);
        // Half arrive in one burst; half spread out, so holds and
        // settlements interleave.
        if (random() < 0.5 || !limited) {
          await new Promise((resolve) => setTimeout(resolve, random() * 150));
        }
        const response = await service.fetch("/api/v1/chat/completions", {
          method: "POST",
          headers: chatHeaders(app.secretKey, user),
          body: JSON.stringify(body),
        });
        const text = await response.text();
        return {
          status: response.status,
          text,
          requestId: response.headers.get("x-wattfare-request-id"),
        };
      }),
    );
    await service.settled();
    const samples = await watch.stop();

    const served = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status !== 200);
    for (const r of refused) {
      assert.equal(r.status, 402, r.text);
      assert.equal(JSON.parse(r.text).error.code, "budget_exceeded");
    }
    assert.ok(served.length > 10, `only ${served.length} served`);
    assert.ok(
      refused.length > 10,
      `only ${refused.length} refused: the cap never bit`,
    );

    const view = await readLedgerView(service, app.appId, user);
    const upstream = service.sandbox!.usageOf(fundingKey);
    assert.ok(
      view.spent <= view.capNano!,
      `spent ${view.spent} > cap ${view.capNano}`,
    );
    assert.equal(view.held, 0n);
    assert.equal(view.openHolds.length, 0);
    assert.equal(view.openLeases.length, 0);
    assert.equal(view.entriesSum, view.spent, "Σ usage entries = spent");
    assert.equal(
      view.spent,
      upstream.costNano,
      "spent = Σ costs the sandbox reported",
    );
    assert.equal(
      upstream.requests,
      served.length,
      "refused requests reached no upstream",
    );
    assert.equal(upstream.completed, served.length);
    assert.deepEqual(
      new Set(view.entries.map((e) => e.requestId)),
      new Set(served.map((r) => r.requestId)),
      "one usage entry per served request",
    );
    assert.ok(samples > 0);
  });
}
