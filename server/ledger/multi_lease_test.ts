import assert from "node:assert/strict";
import { fundingKeyOf, readLedgerView } from "../testing/ledger_probe.ts";
import { watchLedger } from "../testing/ledger_watch.ts";
import { startSandboxServer } from "../testing/sandbox_server.ts";
import {
  chatHeaders,
  expectError,
  startTestService,
} from "../testing/test_service.ts";

const REQUESTS = 200;
// About a third of what the requests below would cost if all ran.
const CAP_USD = 0.0015;

Deno.test("two instances leasing from one connection never overspend it together", async () => {
  await using upstream = startSandboxServer();
  // Two services on one store, as two instances on one database: each has
  // its own leases, ledger writer, queue listener and HTTP server.
  const kv = await Deno.openKv(":memory:");
  const env = {
    WATTFARE_SANDBOX_URL: upstream.apiUrl,
    WATTFARE_MASTER_KEY: btoa(
      String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))),
    ),
  };
  try {
    await using first = await startTestService({ env, kv });
    await using second = await startTestService({ env, kv });
    const app = await first.createApp();
    const user = await first.connect(app.secretKey, "shared-user", CAP_USD);
    const fundingKey = await fundingKeyOf(
      first.kv,
      first.box,
      app.appId,
      user,
    );

    const chat = (service: typeof first, i: number, stream: boolean) =>
      service.fetch("/api/v1/chat/completions", {
        method: "POST",
        headers: chatHeaders(app.secretKey, user),
        body: JSON.stringify({
          model: "openai/gpt-4o-mini",
          messages: [{ role: "user", content: `request ${i}` }],
          stream,
          max_tokens: 20 + (i % 30),
          sandbox: { completionTokens: 5 + (i % 50), latencyMs: i % 4 },
        }),
      });
    // One request each first, so both instances hold a lease when the
    // burst comes (in a burst the instance whose commits land first may
    // take most of a tight budget; that is fair enough, but not this test).
    for (const service of [first, second]) {
      const warm = await chat(service, 0, false);
      assert.equal(warm.status, 200);
      await warm.body?.cancel();
    }

    const watch = watchLedger(second.kv, app.appId, user);

    const results = await Promise.all(
      Array.from({ length: REQUESTS }, async (_, i) => {
        const service = i % 2 ? second : first;
        await new Promise((resolve) => setTimeout(resolve, (i * 7) % 120));
        const response = await chat(service, i, i % 3 === 0);
        const text = await response.text();
        return {
          instance: i % 2,
          status: response.status,
          text,
          requestId: response.headers.get("x-wattfare-request-id"),
        };
      }),
    );
    await first.settled();
    await second.settled();
    const samples = await watch.stop();

    const served = results.filter((r) => r.status === 200);
    for (const r of results.filter((r) => r.status !== 200)) {
      assert.equal(r.status, 402, r.text);
      assert.equal(JSON.parse(r.text).error.code, "budget_exceeded");
    }
    assert.ok(
      served.some((r) => r.instance === 0) &&
        served.some((r) => r.instance === 1),
      "both instances served from their own leases",
    );
    assert.ok(served.length < REQUESTS, "the cap never bit");

    const view = await readLedgerView(first.kv, app.appId, user);
    const billed = upstream.sandbox.usageOf(fundingKey);
    assert.ok(view.spent <= view.capNano!, `spent ${view.spent} > cap`);
    assert.equal(view.held, 0n);
    assert.equal(view.openLeases.length, 0);
    assert.equal(view.entriesSum, view.spent, "Σ usage entries = spent");
    assert.equal(view.spent, billed.costNano, "spent = Σ the sandbox billed");
    assert.equal(billed.requests, served.length + 2);
    assert.equal(view.entries.length, served.length + 2);
    const entryIds = new Set(view.entries.map((e) => e.requestId));
    assert.ok(
      served.every((r) => entryIds.has(r.requestId!)),
      "one usage entry per served request",
    );
    assert.ok(samples > 0);

    // A revocation through one instance stops the other's next request.
    const revoked = await first.fetch(`/api/v1/connections/${user}`, {
      method: "DELETE",
      headers: chatHeaders(app.secretKey, user),
    });
    assert.equal(revoked.status, 200);
    await revoked.body?.cancel();
    await expectError(
      await second.fetch("/api/v1/chat/completions", {
        method: "POST",
        headers: chatHeaders(app.secretKey, user),
        body: JSON.stringify({
          model: "openai/gpt-4o-mini",
          messages: [{ role: "user", content: "still there?" }],
        }),
      }),
      403,
      "not_connected",
    );
  } finally {
    kv.close();
  }
});
