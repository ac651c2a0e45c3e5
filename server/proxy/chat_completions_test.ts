import assert from "node:assert/strict";
import { createParser } from "eventsource-parser";
import { connectionKey } from "../kv/keys.ts";
import type { Connection } from "../connections/connection.ts";
import { parseUsd } from "../money.ts";
import { assertMatchesSchema } from "../testing/openai_schema.ts";
import { fundingKeyOf, readLedgerView } from "../testing/ledger_probe.ts";
import {
  bearer,
  chatHeaders,
  expectError,
  startTestService,
} from "../testing/test_service.ts";

const MESSAGES = [{ role: "user", content: "Write a haiku about budgets." }];

Deno.test("a non-stream completion is forwarded, metered exactly and reported", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const user = await service.connect(app.secretKey, "alice", 1);

  const response = await service.fetch("/api/v1/chat/completions", {
    method: "POST",
    headers: chatHeaders(app.secretKey, user),
    body: JSON.stringify({ model: "openai/gpt-4o-mini", messages: MESSAGES }),
  });
  assert.equal(response.status, 200);
  const text = await response.text();
  const body = JSON.parse(text);
  assertMatchesSchema("CreateChatCompletionResponse", body);
  assert.match(response.headers.get("x-wattfare-request-id")!, /^req_/);

  // The cost header is the upstream's usage.cost, read exactly from the body's text.
  const costText = /"cost":([0-9.eE+-]+)/.exec(text)![1];
  const cost = parseUsd(costText);
  assert.ok(cost > 0n);
  assert.equal(parseUsd(response.headers.get("x-wattfare-cost")!), cost);

  const view = await readLedgerView(service, app.appId, user);
  assert.equal(view.spent, cost);
  assert.equal(view.held, 0n);
  assert.equal(view.entries.length, 1);
  const [entry] = view.entries;
  assert.equal(entry.requestId, response.headers.get("x-wattfare-request-id"));
  assert.equal(entry.model, "openai/gpt-4o-mini");
  assert.equal(entry.promptTokens, body.usage.prompt_tokens);
  assert.equal(entry.completionTokens, body.usage.completion_tokens);
  assert.equal(entry.costNano, cost);
  assert.equal(entry.basis, "usage");

  const status = await service.fetch(`/api/v1/status?userId=${user}`, {
    headers: bearer(app.secretKey),
  });
  const shown = await status.json();
  assert.equal(shown.usage.monthlyUsd, Number((Number(cost) / 1e9).toFixed(6)));
  assert.equal(
    shown.remainingUsd,
    Number(((1e9 - Number(cost)) / 1e9).toFixed(6)),
  );
});

Deno.test("a streamed completion arrives as SSE and is settled from its final usage", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const user = await service.connect(app.secretKey, "bob", 1);

  const response = await service.fetch("/api/v1/chat/completions", {
    method: "POST",
    headers: chatHeaders(app.secretKey, user),
    body: JSON.stringify({
      model: "anthropic/claude-sonnet-4",
      messages: MESSAGES,
      stream: true,
    }),
  });
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type")!, /^text\/event-stream/);
  const events: string[] = [];
  const comments: string[] = [];
  const parser = createParser({
    onEvent: (event) => events.push(event.data),
    onComment: (comment) => comments.push(comment),
  });
  const decoder = new TextDecoder();
  for await (const chunk of response.body!) {
    parser.feed(decoder.decode(chunk, { stream: true }));
  }
  assert.ok(comments.some((c) => c.includes("OPENROUTER PROCESSING")));
  assert.equal(events.at(-1), "[DONE]");
  const chunks = events.slice(0, -1).map((data) => JSON.parse(data));
  for (const chunk of chunks) {
    assertMatchesSchema("CreateChatCompletionStreamResponse", chunk);
  }
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  const costText = /"cost":([0-9.eE+-]+)/.exec(events.at(-2)!)![1];

  await service.settled();
  const view = await readLedgerView(service, app.appId, user);
  assert.equal(view.spent, parseUsd(costText));
  assert.equal(view.entriesSum, view.spent);
  assert.equal(view.held, 0n);
  assert.equal(view.entries[0].completionTokens, last.usage.completion_tokens);
});

Deno.test("max_tokens is set to fit the remaining budget, and a larger one is clamped", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const ask = async (user: string, extra: Record<string, unknown>) => {
    const response = await service.fetch("/api/v1/chat/completions", {
      method: "POST",
      headers: chatHeaders(app.secretKey, user),
      body: JSON.stringify({
        model: "openai/gpt-4o-mini",
        messages: [{ role: "user", content: "hi" }],
        sandbox: { completionTokens: 5000 },
        ...extra,
      }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    return await response.json();
  };
  // gpt-4o-mini: $0.15 per million prompt tokens, $0.60 per million
  // completion tokens. The prompt bound here is 49 tokens (17 bytes of text
  // + 2 × 16 overhead) = $0.00000735, which leaves $0.00002265 of a $0.00003
  // cap: 37 completion tokens.
  const free = await ask(
    await service.connect(app.secretKey, "carol", 0.00003),
    {},
  );
  assert.equal(free.choices[0].finish_reason, "length");
  assert.equal(free.usage.completion_tokens, 37);

  const clamped = await ask(
    await service.connect(app.secretKey, "cody", 0.00003),
    {
      max_tokens: 100_000,
    },
  );
  assert.equal(clamped.usage.completion_tokens, 37);
  const smaller = await ask(
    await service.connect(app.secretKey, "cleo", 0.00003),
    {
      max_completion_tokens: 10,
    },
  );
  assert.equal(smaller.usage.completion_tokens, 10);

  for (const user of ["carol", "cody", "cleo"]) {
    const view = await readLedgerView(service, app.appId, user);
    assert.ok(view.spent <= view.capNano!);
    assert.equal(view.entriesSum, view.spent);
    assert.equal(view.held, 0n);
  }
});

Deno.test("when even the prompt does not fit: 402 budget_exceeded, nothing forwarded", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const user = await service.connect(app.secretKey, "dave", 0.000001);
  const fundingKey = await fundingKeyOf(
    service.kv,
    service.box,
    app.appId,
    user,
  );
  await expectError(
    await service.fetch("/api/v1/chat/completions", {
      method: "POST",
      headers: chatHeaders(app.secretKey, user),
      body: JSON.stringify({
        model: "anthropic/claude-sonnet-4",
        messages: [{ role: "user", content: "x".repeat(2000) }],
      }),
    }),
    402,
    "budget_exceeded",
  );
  assert.equal(service.sandbox!.usageOf(fundingKey).requests, 0);
  const view = await readLedgerView(service, app.appId, user);
  assert.equal(view.spent + view.held, 0n);
  assert.equal(view.entries.length, 0);
});

Deno.test("refusals: unknown model, missing user, unconnected, disconnected, revoked, grants", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const user = await service.connect(app.secretKey, "erin", 1);
  const chat = (headers: Record<string, string>, body: unknown) =>
    service.fetch("/api/v1/chat/completions", {
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });
  const ok = { model: "openai/gpt-4o-mini", messages: MESSAGES };

  const unpriced = await expectError(
    await chat(chatHeaders(app.secretKey, user), {
      ...ok,
      model: "acme/unknown-model",
    }),
    400,
    "model_not_priced",
  );
  assert.equal(unpriced.error.param, "model");
  await expectError(
    await chat(bearer(app.secretKey), ok),
    400,
    "invalid_request",
  );
  await expectError(
    await chat(chatHeaders(app.secretKey, user), { ...ok, messages: [] }),
    400,
    "invalid_request",
  );
  await expectError(
    await chat(chatHeaders(app.secretKey, user), { ...ok, max_tokens: -5 }),
    400,
    "invalid_request",
  );
  await expectError(
    await chat(chatHeaders(app.secretKey, user), { ...ok, n: 3 }),
    400,
    "invalid_request",
  );
  await expectError(
    await chat(chatHeaders(app.secretKey, "stranger"), ok),
    403,
    "not_connected",
  );
  await expectError(
    await chat(
      { ...bearer(app.secretKey), "x-wattfare-grant": "wfg_nope" },
      ok,
    ),
    402,
    "grant_invalid",
  );
  await expectError(
    await chat({
      ...chatHeaders(app.secretKey, user),
      "x-wattfare-grant": "wfg_x",
    }, ok),
    400,
    "invalid_request",
  );
  await expectError(
    await chat(chatHeaders("sk_test_bad", user), ok),
    401,
    "invalid_api_key",
  );

  // The user revokes (as the dashboard will): the next request is refused.
  const key = connectionKey(app.appId, user);
  const stored = (await service.kv.get<Connection>(key)).value!;
  await service.kv.set(key, { ...stored, state: "revoked" });
  await expectError(
    await chat(chatHeaders(app.secretKey, user), ok),
    403,
    "revoked",
  );
  await service.kv.set(key, stored);
  const response = await chat(chatHeaders(app.secretKey, user), ok);
  assert.equal(response.status, 200);
  await response.body?.cancel();

  const view = await readLedgerView(service, app.appId, user);
  assert.equal(view.entries.length, 1);
  assert.equal(view.held, 0n);
});

Deno.test("GET /models lists the mode's priced models", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const response = await service.fetch("/api/v1/models", {
    headers: bearer(app.secretKey),
  });
  assert.equal(response.status, 200);
  const { data } = await response.json();
  const mini = data.find((m: { id: string }) => m.id === "openai/gpt-4o-mini");
  assert.equal(mini.pricing.prompt, "0.00000015");
  assert.equal(mini.pricing.completion, "0.0000006");
  await expectError(
    await service.fetch("/api/v1/models"),
    401,
    "invalid_api_key",
  );
});
