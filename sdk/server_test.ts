import assert from "node:assert/strict";
import { generateText, Output, RetryError, streamText, tool } from "ai";
import { z } from "zod";
import { decodeJwt } from "jose";
import {
  fundingKeyOf,
  readLedgerView,
} from "../server/testing/ledger_probe.ts";
import { startTestService } from "../server/testing/test_service.ts";
import {
  type FetchLike,
  toWattfareError,
  Wattfare,
  WattfareAuthError,
  WattfareBudgetError,
  type WattfareError,
  WattfareGrantError,
  WattfareNotConnectedError,
  WattfareRequestError,
  WattfareUpstreamError,
} from "./server.ts";

const MODEL = "openai/gpt-4o-mini";

/** A fetch that records every request the SDK sends. */
function recordingFetch(): { fetch: FetchLike; calls: Request[] } {
  const calls: Request[] = [];
  return {
    calls,
    fetch: (input, init) => {
      const request = new Request(input, init);
      calls.push(request.clone());
      return fetch(request);
    },
  };
}

/** The error `generateText` rejects with, as `toWattfareError` sees it. */
async function generateError(
  call: () => Promise<unknown>,
): Promise<{ raw: unknown; typed: WattfareError | null }> {
  try {
    await call();
  } catch (raw) {
    return { raw, typed: toWattfareError(raw) };
  }
  throw new Error("expected the call to fail");
}

/**
 * The errors `streamText` reports, both through `onError` and as error parts
 * of `fullStream`, as `toWattfareError` sees them.
 */
async function streamErrors(
  options: Omit<Parameters<typeof streamText>[0], "onError">,
): Promise<
  { fromOnError: WattfareError[]; fromParts: WattfareError[]; text: string }
> {
  const fromOnError: WattfareError[] = [];
  const fromParts: WattfareError[] = [];
  let text = "";
  const result = streamText(
    {
      ...options,
      onError: ({ error }) => {
        const typed = toWattfareError(error);
        if (typed) fromOnError.push(typed);
      },
    } as Parameters<typeof streamText>[0],
  );
  for await (const part of result.fullStream) {
    if (part.type === "error") {
      const typed = toWattfareError(part);
      assert.ok(
        typed,
        `an error part that is not a Wattfare error: ${part.error}`,
      );
      fromParts.push(typed);
    }
    if (part.type === "text-delta") text += part.text;
  }
  return { fromOnError, fromParts, text };
}

Deno.test("generateText and streamText run through wf.user(id).model(), each reporting what it cost the user", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  await service.connect(app.secretKey, "alice", 1);
  const wf = new Wattfare({ secretKey: app.secretKey, baseUrl: service.url });
  const ai = wf.user("alice");

  const before = await ai.status();
  assert.deepEqual(before, {
    connected: true,
    limits: { monthlyUsd: 1 },
    usage: { monthlyUsd: 0 },
    remainingUsd: 1,
  });

  const generated = await generateText({
    model: ai.model(MODEL),
    prompt: "Write a haiku about budgets.",
  });
  assert.ok(generated.text.length > 0);
  assert.ok(generated.usage.outputTokens! > 0);
  const generatedMeta = generated.providerMetadata?.wattfare;
  assert.ok(generatedMeta, "providerMetadata.wattfare is present");
  let view = await readLedgerView(service, app.appId, "alice");
  assert.equal(view.entries.length, 1);
  // The cost shown is exactly what the ledger charged.
  assert.equal(generatedMeta.costUsd, Number(view.spent) / 1e9);
  assert.equal(generatedMeta.requestId, view.entries[0].requestId);

  const middle = await ai.status();
  assert.equal(middle.usage.monthlyUsd, round6(Number(view.spent) / 1e9));
  assert.ok(middle.remainingUsd! < 1);

  const streamed = streamText({
    model: ai.model("anthropic/claude-sonnet-4"),
    prompt: "Tell me a very short story.",
  });
  const streamedText = await streamed.text;
  assert.ok(streamedText.length > 0);
  const streamedMeta = (await streamed.providerMetadata)?.wattfare;
  assert.ok(streamedMeta, "the stream's providerMetadata.wattfare is present");
  await service.settled();
  view = await readLedgerView(service, app.appId, "alice");
  assert.equal(view.entries.length, 2);
  const streamEntry = view.entries.find((e) =>
    e.requestId === streamedMeta.requestId
  );
  assert.ok(streamEntry, "the stream's request id names its ledger entry");
  assert.equal(streamedMeta.costUsd, Number(streamEntry.costNano) / 1e9);
  assert.equal(streamEntry.model, "anthropic/claude-sonnet-4");

  const after = await ai.status();
  assert.equal(after.usage.monthlyUsd, round6(Number(view.spent) / 1e9));
  assert.ok(after.usage.monthlyUsd > middle.usage.monthlyUsd);
  assert.ok(after.remainingUsd! < middle.remainingUsd!);
});

Deno.test("createSession mints, without a round trip, a token the service accepts", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  await service.connect(app.secretKey, "bob", 5);
  const calls = recordingFetch();
  const wf = new Wattfare({
    secretKey: app.secretKey,
    baseUrl: service.url,
    fetch: calls.fetch,
  });

  // Synchronous: the landing page passes it straight to c.json().
  const session = wf.createSession("bob", { requestLimit: { monthlyUsd: 10 } });
  assert.equal(
    typeof (session as unknown as Promise<unknown>).then,
    "undefined",
  );
  assert.equal(calls.calls.length, 0);
  assert.deepEqual(Object.keys(session).sort(), ["expiresAt", "token"]);

  const status = await service.fetch("/api/v1/status", {
    headers: { authorization: `Bearer ${session.token}` },
  });
  assert.equal(status.status, 200);
  assert.equal((await status.json()).connected, true);

  // The same claims as the service's own POST /sessions.
  const fromService = await (await service.fetch("/api/v1/sessions", {
    method: "POST",
    headers: {
      authorization: `Bearer ${app.secretKey}`,
      "content-type": "application/json",
    },
    body: JSON.stringify({ userId: "bob", limits: { monthlyUsd: 10 } }),
  })).json();
  const ours = decodeJwt(session.token);
  const theirs = decodeJwt(fromService.token);
  for (const claim of ["appId", "appUserId", "limits", "mode", "aud"]) {
    assert.deepEqual(ours[claim], theirs[claim], claim);
  }
  assert.equal(ours.exp, session.expiresAt);
  assert.equal(session.expiresAt - (ours.iat as number), 600);

  // Both spellings; one at a time.
  assert.deepEqual(
    decodeJwt(wf.createSession("bob", { limits: { monthlyUsd: 3 } }).token)
      .limits,
    { monthlyUsd: 3 },
  );
  assert.equal(decodeJwt(wf.createSession("bob").token).limits, null);
  assert.throws(
    () =>
      wf.createSession("bob", {
        limits: { monthlyUsd: 1 },
        requestLimit: { monthlyUsd: 2 },
      }),
    /limits or requestLimit, not both/,
  );
  assert.throws(() => wf.createSession("", {}), TypeError);
  assert.throws(
    () => wf.createSession("bob", { limits: { monthlyUsd: -1 } }),
    RangeError,
  );

  const live = await service.createApp("live");
  const liveWf = new Wattfare({
    secretKey: live.secretKey,
    baseUrl: service.url,
  });
  assert.throws(
    () => liveWf.createSession("bob", { limits: { monthlyUsd: null } }),
    /live apps must ask for a monthly cap/,
  );
});

Deno.test("sessionHandler answers a working token for a signed-in user and 401 for nobody", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  await service.connect(app.secretKey, "carol", 2);
  const wf = new Wattfare({ secretKey: app.secretKey, baseUrl: service.url });
  const seen: string[] = [];
  const handler = wf.sessionHandler({
    getUserId: (request) => request.headers.get("x-demo-user"),
    limits: (userId) => {
      seen.push(userId);
      return { monthlyUsd: 7 };
    },
  });

  const ok = await handler(
    new Request("http://app.test/api/wattfare-token", {
      method: "POST",
      headers: { "x-demo-user": "carol" },
    }),
  );
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("cache-control"), "no-store");
  assert.match(ok.headers.get("content-type")!, /^application\/json/);
  const body = await ok.json();
  assert.equal(typeof body.token, "string");
  assert.equal(typeof body.expiresAt, "number");
  assert.deepEqual(seen, ["carol"]);
  assert.deepEqual(decodeJwt(body.token).limits, { monthlyUsd: 7 });
  const status = await service.fetch("/api/v1/status", {
    headers: { authorization: `Bearer ${body.token}` },
  });
  assert.deepEqual(await status.json(), {
    connected: true,
    limits: { monthlyUsd: 2 },
    usage: { monthlyUsd: 0 },
    remainingUsd: 2,
  });

  const anonymous = await handler(
    new Request("http://app.test/api/wattfare-token", { method: "POST" }),
  );
  assert.equal(anonymous.status, 401);
  const refusal = await anonymous.json();
  assert.equal(refusal.error.type, "wattfare_error");
  assert.equal(refusal.error.code, "invalid_session");
  assert.deepEqual(seen, ["carol"]);

  // An async getUserId and the other spelling work too.
  const asyncHandler = wf.sessionHandler({
    getUserId: () => Promise.resolve("carol"),
    requestLimit: { monthlyUsd: 4 },
  });
  const again = await (await asyncHandler(new Request("http://app.test/")))
    .json();
  assert.deepEqual(decodeJwt(again.token).limits, { monthlyUsd: 4 });

  assert.throws(
    () => wf.sessionHandler({} as Parameters<typeof wf.sessionHandler>[0]),
    /getUserId/,
  );
});

Deno.test("every refusal surfaces as its class through toWattfareError, from generateText and from streamText", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  await service.connect(app.secretKey, "dana", 1);
  await service.connect(app.secretKey, "poor", 0.000001);
  const wf = new Wattfare({ secretKey: app.secretKey, baseUrl: service.url });
  const forged = new Wattfare({
    secretKey: app.secretKey.replace(/_[0-9a-f]{64}$/, `_${"0".repeat(64)}`),
    baseUrl: service.url,
  });
  const long = "Summarise this: " + "lorem ipsum ".repeat(500);

  const cases: {
    name: string;
    model: ReturnType<typeof wf.user>["model"] extends (id: string) => infer M
      ? M
      : never;
    prompt?: string;
    extra?: Record<string, unknown>;
    code: string;
    status: number;
    class: new (...args: never[]) => WattfareError;
  }[] = [
    {
      name: "unknown user",
      model: wf.user("nobody").model(MODEL),
      code: "not_connected",
      status: 403,
      class: WattfareNotConnectedError,
    },
    {
      name: "tiny cap, long prompt",
      model: wf.user("poor").model(MODEL),
      prompt: long,
      code: "budget_exceeded",
      status: 402,
      class: WattfareBudgetError,
    },
    {
      name: "forged secret key",
      model: forged.user("dana").model(MODEL),
      code: "invalid_api_key",
      status: 401,
      class: WattfareAuthError,
    },
    {
      name: "unpriced model",
      model: wf.user("dana").model("acme/unknown-model"),
      code: "model_not_priced",
      status: 400,
      class: WattfareRequestError,
    },
    {
      name: "unknown grant",
      model: wf.grant("wfg_x").model(MODEL),
      code: "grant_invalid",
      status: 402,
      class: WattfareGrantError,
    },
    {
      name: "upstream failure",
      model: wf.user("dana").model(MODEL),
      extra: {
        providerOptions: { wattfare: { sandbox: { fault: "status_500" } } },
        maxRetries: 0,
      },
      code: "upstream_error",
      status: 502,
      class: WattfareUpstreamError,
    },
  ];

  for (const c of cases) {
    const call = {
      model: c.model,
      prompt: c.prompt ?? "Hello there.",
      ...c.extra,
    };
    const { typed } = await generateError(() =>
      generateText(call as Parameters<typeof generateText>[0])
    );
    assert.ok(
      typed instanceof c.class,
      `${c.name}: generateText gave ${typed}`,
    );
    assert.equal(typed.code, c.code, c.name);
    assert.equal(typed.status, c.status, c.name);
    assert.ok(typed.message.length > 0);

    const streamed = await streamErrors(
      call as Parameters<typeof streamErrors>[0],
    );
    assert.equal(streamed.fromOnError.length, 1, `${c.name}: onError`);
    assert.equal(streamed.fromParts.length, 1, `${c.name}: error parts`);
    for (
      const typedStream of [...streamed.fromOnError, ...streamed.fromParts]
    ) {
      assert.ok(typedStream instanceof c.class, `${c.name}: streamText`);
      assert.equal(typedStream.code, c.code);
    }
  }

  // A disconnected user is not connected any more.
  assert.deepEqual(await wf.user("dana").disconnect(), {
    userId: "dana",
    disconnected: true,
  });
  assert.deepEqual(await wf.user("dana").disconnect(), {
    userId: "dana",
    disconnected: false,
  });
  assert.equal((await wf.user("dana").status()).connected, false);
  const { typed } = await generateError(() =>
    generateText({ model: wf.user("dana").model(MODEL), prompt: "Hi" })
  );
  assert.ok(typed instanceof WattfareNotConnectedError);

  // status() with a forged key fails with the typed error itself.
  await assert.rejects(forged.user("dana").status(), WattfareAuthError);

  // Anything else is not a Wattfare error.
  const offline = new Wattfare({
    secretKey: app.secretKey,
    baseUrl: "http://127.0.0.1:9",
  });
  const { raw, typed: none } = await generateError(() =>
    generateText({
      model: offline.user("dana").model(MODEL),
      prompt: "Hi",
      maxRetries: 0,
    })
  );
  assert.ok(raw instanceof Error);
  assert.equal(none, null);
});

Deno.test("a mid-stream upstream error arrives as WattfareUpstreamError", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  await service.connect(app.secretKey, "erin", 1);
  const wf = new Wattfare({ secretKey: app.secretKey, baseUrl: service.url });
  const { fromOnError, fromParts, text } = await streamErrors({
    model: wf.user("erin").model(MODEL),
    prompt: "Hello there.",
    providerOptions: {
      wattfare: { sandbox: { fault: "error_chunk", afterChunks: 3 } },
    },
  });
  assert.ok(text.length > 0, "the text before the failure arrives");
  assert.equal(fromOnError.length, 1);
  assert.ok(fromOnError[0] instanceof WattfareUpstreamError);
  assert.equal(fromOnError[0].code, "upstream_error");
  assert.match(fromOnError[0].message, /disconnected unexpectedly/);
  assert.equal(fromParts.length, 1);
  await service.settled();
});

Deno.test("refused calls (402, 403) are sent exactly once; upstream failures are retried", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  await service.connect(app.secretKey, "frank", 0.000001);
  await service.connect(app.secretKey, "gina", 1);
  const calls = recordingFetch();
  const wf = new Wattfare({
    secretKey: app.secretKey,
    baseUrl: service.url,
    fetch: calls.fetch,
  });
  const chatCalls = () =>
    calls.calls.filter((r) => r.url.endsWith("/chat/completions")).length;
  const long = "Summarise this: " + "lorem ipsum ".repeat(500);

  // Default retry settings (maxRetries: 2): a retryable error would be sent 3 times.
  const refused: [string, () => Promise<unknown>][] = [
    [
      "budget_exceeded",
      () =>
        generateText({ model: wf.user("frank").model(MODEL), prompt: long }),
    ],
    [
      "not_connected",
      () =>
        generateText({ model: wf.user("nobody").model(MODEL), prompt: "Hi" }),
    ],
    [
      "grant_invalid",
      () =>
        generateText({ model: wf.grant("wfg_x").model(MODEL), prompt: "Hi" }),
    ],
    ["budget_exceeded", async () => {
      const { fromOnError } = await streamErrors({
        model: wf.user("frank").model(MODEL),
        prompt: long,
      });
      throw fromOnError[0];
    }],
  ];
  for (const [code, call] of refused) {
    const before = chatCalls();
    const { raw, typed } = await generateError(call);
    assert.equal(typed?.code, code);
    assert.equal(chatCalls() - before, 1, `${code} was requested once`);
    assert.ok(!RetryError.isInstance(raw), `${code} was not retried`);
    if (typed && raw !== typed) {
      assert.equal((raw as { isRetryable?: boolean }).isRetryable, false);
    }
  }
  const frankKey = await fundingKeyOf(
    service.kv,
    service.box,
    app.appId,
    "frank",
  );
  assert.equal(service.sandbox!.usageOf(frankKey).requests, 0);

  // A 502 upstream_error charged nothing and may be retried (once here).
  const before = chatCalls();
  const { raw, typed } = await generateError(() =>
    generateText({
      model: wf.user("gina").model(MODEL),
      prompt: "Hi",
      maxRetries: 1,
      providerOptions: { wattfare: { sandbox: { fault: "status_500" } } },
    })
  );
  assert.equal(chatCalls() - before, 2);
  assert.ok(RetryError.isInstance(raw));
  assert.ok(typed instanceof WattfareUpstreamError);
  const ginaKey = await fundingKeyOf(
    service.kv,
    service.box,
    app.appId,
    "gina",
  );
  assert.equal(service.sandbox!.usageOf(ginaKey).requests, 2);
  const view = await readLedgerView(service, app.appId, "gina");
  assert.equal(view.spent + view.held, 0n);
});

Deno.test("the constructor and handles refuse bad input with clear errors, never echoing the key", async () => {
  const secret = "sk_test_0123456789abcdef_" + "ab".repeat(32);
  assert.throws(
    () => new Wattfare({ secretKey: undefined }),
    (e: unknown) =>
      e instanceof TypeError && /secretKey is missing/.test(e.message) &&
      /WATTFARE_SECRET_KEY/.test(e.message),
  );
  assert.throws(
    () => new Wattfare({ secretKey: "pk_test_0123456789abcdef" }),
    (e: unknown) => e instanceof TypeError && /publishable key/.test(e.message),
  );
  const garbled = secret.slice(0, -3) + "xyz";
  assert.throws(
    () => new Wattfare({ secretKey: garbled }),
    (e: unknown) =>
      e instanceof TypeError && /not a Wattfare secret key/.test(e.message) &&
      !e.message.includes(garbled.slice(20)),
  );
  assert.throws(
    () => new Wattfare({ secretKey: secret, baseUrl: "wattfare.com" }),
    /absolute URL/,
  );
  assert.throws(
    () => new Wattfare({ secretKey: secret, baseUrl: "ftp://wattfare.com" }),
    /http/,
  );
  assert.throws(
    () =>
      new Wattfare({
        secretKey: secret,
        baseUrl: "https://wattfare.com/api/v1",
      }),
    /not its \/api\/v1 path/,
  );

  const wf = new Wattfare({ secretKey: secret });
  assert.equal(wf.baseUrl, "https://wattfare.com");
  assert.equal(wf.mode, "test");
  assert.equal(wf.appId, "0123456789abcdef");
  assert.ok(!JSON.stringify(wf).includes(secret.slice(-20)));
  assert.ok(!Deno.inspect(wf).includes(secret.slice(-20)));
  assert.equal(
    new Wattfare({ secretKey: secret, baseUrl: "http://localhost:8000/" })
      .baseUrl,
    "http://localhost:8000",
  );

  for (const empty of ["", "   "]) {
    assert.throws(
      () => wf.grant(empty),
      (e: unknown) =>
        e instanceof WattfareAuthError && e.code === "grant_invalid",
    );
  }
  assert.throws(() => wf.user(""), TypeError);
  assert.throws(() => wf.user("josé").model(MODEL), /printable ASCII/);
  assert.throws(() => wf.user("u").model(""), /model id/);
  assert.equal(wf.user("u").model(MODEL).modelId, MODEL);
  assert.equal(wf.user("u").model(MODEL).specificationVersion, "v4");

  // The grant header is sent; the user header is not.
  const calls = recordingFetch();
  const grantWf = new Wattfare({
    secretKey: secret,
    baseUrl: "http://127.0.0.1:9",
    fetch: (input, init) => {
      calls.calls.push(new Request(input, init));
      return Promise.resolve(
        Response.json({
          error: {
            type: "wattfare_error",
            code: "grant_invalid",
            message: "used up",
            param: null,
          },
        }, { status: 402 }),
      );
    },
  });
  const { typed } = await generateError(() =>
    generateText({ model: grantWf.grant("wfg_abc").model(MODEL), prompt: "Hi" })
  );
  assert.ok(typed instanceof WattfareGrantError);
  assert.equal(calls.calls.length, 1);
  const sent = calls.calls[0];
  assert.equal(sent.url, "http://127.0.0.1:9/api/v1/chat/completions");
  assert.equal(sent.headers.get("x-wattfare-grant"), "wfg_abc");
  assert.equal(sent.headers.get("x-wattfare-user"), null);
  assert.equal(sent.headers.get("authorization"), `Bearer ${secret}`);
});

Deno.test("tools and structured output pass through the model unchanged", async () => {
  const secret = "sk_test_0123456789abcdef_" + "ab".repeat(32);
  const bodies: Record<string, unknown>[] = [];
  const replies = [
    {
      content: null,
      tool_calls: [{
        id: "call_1",
        type: "function",
        function: { name: "weather", arguments: '{"city":"Paris"}' },
      }],
      finish_reason: "tool_calls",
    },
    { content: '{"answer":42}', finish_reason: "stop" },
  ];
  const wf = new Wattfare({
    secretKey: secret,
    baseUrl: "http://wattfare.test",
    fetch: async (input, init) => {
      bodies.push(await new Request(input, init).json());
      const { content, tool_calls, finish_reason } = replies[bodies.length - 1];
      return Response.json({
        id: "gen-1",
        object: "chat.completion",
        created: 1,
        model: MODEL,
        choices: [{
          index: 0,
          message: { role: "assistant", content, tool_calls },
          finish_reason,
        }],
        usage: {
          prompt_tokens: 9,
          completion_tokens: 4,
          total_tokens: 13,
          cost: 0.0000021,
        },
      }, {
        headers: {
          "x-wattfare-cost": "0.0000021",
          "x-wattfare-request-id": `req_${bodies.length}`,
        },
      });
    },
  });
  const ai = wf.user("user_1");

  const withTools = await generateText({
    model: ai.model(MODEL),
    prompt: "Weather in Paris?",
    tools: {
      weather: tool({
        description: "The weather in a city",
        inputSchema: z.object({ city: z.string() }),
        execute: ({ city }) => Promise.resolve(`sunny in ${city}`),
      }),
    },
  });
  assert.deepEqual(withTools.toolCalls.map((c) => c.input), [{
    city: "Paris",
  }]);
  assert.deepEqual(withTools.toolResults.map((r) => r.output), [
    "sunny in Paris",
  ]);
  const sentTools = bodies[0].tools as { function: { name: string } }[];
  assert.equal(sentTools[0].function.name, "weather");
  assert.deepEqual(withTools.providerMetadata?.wattfare, {
    costUsd: 0.0000021,
    requestId: "req_1",
  });

  const structured = await generateText({
    model: ai.model(MODEL),
    prompt: "The answer?",
    output: Output.object({ schema: z.object({ answer: z.number() }) }),
  });
  assert.deepEqual(structured.output, { answer: 42 });
  assert.equal(
    (bodies[1].response_format as { type: string }).type,
    "json_schema",
  );
});

function round6(usd: number): number {
  return Number(usd.toFixed(6));
}
