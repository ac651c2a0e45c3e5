import assert from "node:assert/strict";
import { connectionKey } from "../kv/keys.ts";
import type { Connection } from "../connections/connection.ts";
import { fundingKeyOf, readLedgerView } from "../testing/ledger_probe.ts";
import {
  chatHeaders,
  expectError,
  startTestService,
  type TestService,
} from "../testing/test_service.ts";

const MODEL = "openai/gpt-4o-mini";
const MESSAGES = [{ role: "user", content: "Tell me a long story." }];

async function setup(service: TestService) {
  const app = await service.createApp();
  const user = await service.connect(app.secretKey, "u1", 1);
  const fundingKey = await fundingKeyOf(
    service.kv,
    service.box,
    app.appId,
    user,
  );
  const chat = (body: Record<string, unknown>, init: RequestInit = {}) =>
    service.fetch("/api/v1/chat/completions", {
      method: "POST",
      headers: chatHeaders(app.secretKey, user),
      body: JSON.stringify({ model: MODEL, messages: MESSAGES, ...body }),
      ...init,
    });
  const ledger = async () => {
    await service.settled();
    const view = await readLedgerView(service, app.appId, user);
    assert.equal(view.held, 0n, "nothing stays held");
    assert.equal(view.openHolds.length, 0, "no hold stays open");
    assert.equal(view.entriesSum, view.spent, "Σ usage entries = spent");
    return view;
  };
  return { app, user, fundingKey, chat, ledger };
}

Deno.test("upstream error before the first byte: 502, hold released, nothing charged", async () => {
  await using service = await startTestService();
  const { chat, ledger } = await setup(service);
  for (const fault of ["error_before_first_byte", "status_500"]) {
    for (const stream of [false, true]) {
      await expectError(
        await chat({ stream, sandbox: { fault } }),
        502,
        "upstream_error",
      );
    }
  }
  const view = await ledger();
  assert.equal(view.spent, 0n);
  assert.equal(view.entries.length, 0);
});

Deno.test("upstream timeout: 504, hold released", async () => {
  await using service = await startTestService({
    env: { WATTFARE_UPSTREAM_TIMEOUT_MS: "150" },
  });
  const { chat, ledger } = await setup(service);
  await expectError(
    await chat({ sandbox: { fault: "hang" } }),
    504,
    "upstream_timeout",
  );
  await expectError(
    await chat({ stream: true, sandbox: { latencyMs: 2_000 } }),
    504,
    "upstream_timeout",
  );
  const view = await ledger();
  assert.equal(view.spent, 0n);
});

Deno.test("the upstream's own refusal of the funding key surfaces typed, with nothing held", async () => {
  await using service = await startTestService();
  const { app, user, chat, ledger } = await setup(service);
  // The user's funding key has a credit limit it has already reached.
  const created = await service.fetch("/sandbox/api/v1/keys", {
    method: "POST",
    body: JSON.stringify({ limit: 0 }),
  });
  const { key } = await created.json();
  const stored =
    (await service.kv.get<Connection>(connectionKey(app.appId, user))).value!;
  await service.kv.set(connectionKey(app.appId, user), {
    ...stored,
    funding: await service.box.seal(key),
  });
  const body = await expectError(await chat({}), 402, "budget_exceeded");
  assert.match(body.error.message, /funding source is out of credits/);
  const view = await ledger();
  assert.equal(view.spent, 0n);
});

Deno.test("upstream drops mid-stream: the client sees the break; output so far is charged", async () => {
  await using service = await startTestService();
  const { chat, ledger } = await setup(service);
  const response = await chat({
    stream: true,
    sandbox: { fault: "drop_mid_stream", afterChunks: 5, completionTokens: 50 },
  });
  assert.equal(response.status, 200);
  let received = "";
  const decoder = new TextDecoder();
  await assert.rejects(async () => {
    for await (const chunk of response.body!) {
      received += decoder.decode(chunk, { stream: true });
    }
  });
  assert.ok(!received.includes("[DONE]"));
  const view = await ledger();
  assert.equal(view.entries.length, 1);
  const [entry] = view.entries;
  assert.equal(entry.basis, "output_bound");
  // One token per byte of content seen, at most.
  const contentBytes = [...received.matchAll(/"content":"([^"]*)"/g)]
    .reduce((n, m) => n + new TextEncoder().encode(m[1]).length, 0);
  assert.equal(entry.completionTokens, contentBytes);
  assert.ok(entry.costNano > 0n);
});

Deno.test("an error chunk mid-stream passes through and is metered", async () => {
  await using service = await startTestService();
  const { chat, ledger } = await setup(service);
  const response = await chat({
    stream: true,
    sandbox: { fault: "error_chunk", afterChunks: 3 },
  });
  assert.equal(response.status, 200);
  const text = await response.text();
  assert.match(text, /"finish_reason":"error"/);
  const view = await ledger();
  assert.equal(view.entries.length, 1);
  assert.ok(view.spent > 0n);
});

Deno.test("a client that disconnects mid-stream cancels the upstream and pays for what was generated", async () => {
  await using service = await startTestService();
  const { chat, ledger, fundingKey } = await setup(service);
  const controller = new AbortController();
  const response = await chat({
    stream: true,
    sandbox: { chunkDelayMs: 20, completionTokens: 500 },
  }, { signal: controller.signal });
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  let received = "";
  const decoder = new TextDecoder();
  while ((received.match(/"content"/g) ?? []).length < 5) {
    const { value } = await reader.read();
    received += decoder.decode(value, { stream: true });
  }
  controller.abort();
  await reader.cancel().catch(() => {});

  // The sandbox sees its client (the proxy) go away.
  const deadline = Date.now() + 5_000;
  while (
    service.sandbox!.usageOf(fundingKey).aborted === 0 && Date.now() < deadline
  ) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.equal(service.sandbox!.usageOf(fundingKey).aborted, 1);
  const view = await ledger();
  assert.equal(view.entries.length, 1);
  const [entry] = view.entries;
  assert.equal(entry.basis, "output_bound");
  assert.ok(entry.completionTokens > 0 && entry.completionTokens < 500);
});

Deno.test("a hold this process lost track of is settled at its bound when it expires", async () => {
  await using service = await startTestService({
    env: { WATTFARE_HOLD_TTL_MS: "300" },
  });
  const { app, user, ledger } = await setup(service);
  // A hold placed and then forgotten, as by a process that died mid-request.
  const { hold } = await service.ledger.placeHold(
    app.appId,
    user,
    MODEL,
    () => ({ boundNano: 12_345n }),
  );
  // The hold sits on a lease: the ledger holds at least its bound.
  const during = await readLedgerView(service, app.appId, user);
  assert.ok(during.held >= 12_345n, `held ${during.held}`);
  assert.equal(during.openLeases.length, 1);
  assert.equal(during.openLeases[0].amountNano, during.held);

  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const view = await readLedgerView(service, app.appId, user);
    if (view.held === 0n) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const view = await ledger();
  assert.equal(view.spent, 12_345n);
  assert.equal(view.entries[0].requestId, hold.id);
  assert.equal(view.entries[0].basis, "expired");
  assert.equal(view.openLeases.length, 0, "the idle lease went back");
  // The late settlement of the original request changes nothing.
  assert.equal(
    await service.ledger.settle(hold, {
      costNano: 1n,
      promptTokens: 1,
      completionTokens: 0,
      basis: "usage",
    }),
    false,
  );
  assert.equal((await ledger()).spent, 12_345n);
});

Deno.test("revocation is live: the next request is refused, the one in flight settles", async () => {
  await using service = await startTestService();
  const { app, user, chat, ledger } = await setup(service);
  const inFlight = await chat({
    stream: true,
    sandbox: { chunkDelayMs: 10, completionTokens: 30 },
  });
  assert.equal(inFlight.status, 200);
  const removed = await service.fetch(`/api/v1/connections/${user}`, {
    method: "DELETE",
    headers: chatHeaders(app.secretKey, user),
  });
  assert.equal(removed.status, 200);
  await removed.body?.cancel();
  await expectError(await chat({}), 403, "not_connected");

  const text = await inFlight.text();
  assert.match(text, /\[DONE\]/);
  await service.settled();
  const view = await readLedgerView(service, app.appId, user);
  assert.equal(view.entries.length, 1);
  assert.equal(view.entries[0].basis, "usage");
  assert.equal(view.held, 0n);
  await ledger();
});

Deno.test("a slow-drip upstream is cut off after the idle timeout and charged what it sent", async () => {
  await using service = await startTestService({
    env: { WATTFARE_UPSTREAM_IDLE_TIMEOUT_MS: "150" },
  });
  const { chat, ledger } = await setup(service);
  const stream = await chat({
    stream: true,
    sandbox: { chunkDelayMs: 400, completionTokens: 20 },
  });
  assert.equal(stream.status, 200);
  await assert.rejects(stream.text());
  const view = await ledger();
  assert.equal(view.entries.length, 1);
  assert.equal(view.entries[0].basis, "output_bound");
});

Deno.test("a client that never reads its stream leaves the service healthy and holds nothing once gone", async () => {
  await using service = await startTestService();
  const { app, user, chat, ledger } = await setup(service);
  const controller = new AbortController();
  const stream = await chat({
    stream: true,
    sandbox: { chunkDelayMs: 20, completionTokens: 200 },
  }, { signal: controller.signal });
  assert.equal(stream.status, 200);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const health = await service.fetch("/healthz");
  assert.equal(health.status, 200);
  await health.body?.cancel();

  controller.abort();
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline) {
    const view = await readLedgerView(service, app.appId, user);
    if (view.entries.length === 1) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const view = await ledger();
  assert.equal(view.entries.length, 1);
});
