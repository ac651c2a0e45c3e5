import assert from "node:assert/strict";
import { createParser } from "eventsource-parser";
import { Hono } from "hono";
import { assertMatchesSchema } from "../testing/openai_schema.ts";
import { createSandbox, type Sandbox, type SandboxOptions } from "./sandbox.ts";

const KEY = `sk-or-v1-${"ab".repeat(32)}`;
const FIXTURES = new URL(
  "../../../shared/fixtures/recorded-streams/",
  import.meta.url,
);
const HELLO = [{ role: "user", content: "Hello there" }]; // 11 bytes: 3 + 4 tokens
const PROMPT_TOKENS_HELLO = 7;

interface Harness {
  sandbox: Sandbox;
  url(path: string): string;
  chat(body: Record<string, unknown>, init?: RequestInit): Promise<Response>;
}

/** A sandbox on a real port, mounted at /api/v1 as `deno task sandbox` does. */
async function withSandbox(
  test: (harness: Harness) => Promise<void>,
  options?: SandboxOptions,
): Promise<void> {
  const sandbox = createSandbox(options);
  const root = new Hono();
  root.route("/api/v1", sandbox.app);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    root.fetch,
  );
  const url = (path: string) =>
    `http://127.0.0.1:${server.addr.port}/api/v1${path}`;
  try {
    await test({
      sandbox,
      url,
      chat: (body, init) =>
        fetch(url("/chat/completions"), {
          method: "POST",
          headers: { authorization: `Bearer ${KEY}` },
          body: JSON.stringify(body),
          ...init,
        }),
    });
  } finally {
    await server.shutdown();
  }
}

interface Sse {
  text: string;
  data: string[];
  comments: string[];
  /** The read error, if the stream broke. */
  error?: unknown;
}

async function readSse(response: Response): Promise<Sse> {
  const result: Sse = { text: "", data: [], comments: [] };
  const parser = createParser({
    onEvent: (event) => result.data.push(event.data),
    onComment: (comment) => result.comments.push(comment),
  });
  const decoder = new TextDecoder();
  try {
    for await (const bytes of response.body!) {
      const text = decoder.decode(bytes, { stream: true });
      result.text += text;
      parser.feed(text);
    }
  } catch (error) {
    result.error = error;
  }
  return result;
}

interface Chunk {
  id: string;
  choices: {
    delta: { role?: string; content?: string };
    finish_reason: string | null;
  }[];
  usage?: { prompt_tokens: number; completion_tokens: number };
  error?: { code: unknown; message: string };
}

/** The chunks before `[DONE]`, parsed. */
function chunksOf(sse: Sse): Chunk[] {
  return sse.data.filter((data) => data !== "[DONE]").map((data) =>
    JSON.parse(data)
  );
}

function assertOpenRouterError(body: unknown, status: number): void {
  const error = (body as { error: Record<string, unknown> }).error;
  assert.equal(error.code, status);
  assert.equal(typeof error.message, "string");
  assert.notEqual(error.message, "");
  assert.deepEqual(error.metadata !== null && typeof error.metadata, "object");
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.ok(condition(), "condition not reached within 2 s");
}

Deno.test("GET /models lists models with OpenRouter's shape and string prices", async () => {
  await withSandbox(async ({ url }) => {
    const response = await fetch(url("/models"));
    assert.equal(response.status, 200);
    const { data } = await response.json();
    const byId = new Map(data.map((m: { id: string }) => [m.id, m]));
    const prices = (id: string) => {
      const model = byId.get(id) as { pricing: Record<string, string> };
      return [model.pricing.prompt, model.pricing.completion];
    };
    assert.deepEqual(prices("openai/gpt-4o-mini"), ["0.00000015", "0.0000006"]);
    assert.deepEqual(prices("openai/gpt-4o"), ["0.0000025", "0.00001"]);
    assert.deepEqual(prices("anthropic/claude-sonnet-4"), [
      "0.000003",
      "0.000015",
    ]);
    assert.deepEqual(prices("google/gemini-2.5-flash"), [
      "0.0000003",
      "0.0000025",
    ]);
    assert.deepEqual(prices("meta-llama/llama-3.3-70b-instruct"), [
      "0.00000013",
      "0.0000004",
    ]);
    assert.deepEqual(prices("meta-llama/llama-3.2-3b-instruct:free"), [
      "0",
      "0",
    ]);
    for (const model of data) {
      assert.equal(typeof model.name, "string");
      assert.ok(Number.isInteger(model.created));
      assert.ok(model.context_length > 0);
      assert.equal(typeof model.architecture.tokenizer, "string");
      assert.ok(model.architecture.input_modalities.includes("text"));
      assert.deepEqual(Object.keys(model.pricing).sort(), [
        "completion",
        "image",
        "input_cache_read",
        "input_cache_write",
        "internal_reasoning",
        "prompt",
        "request",
        "web_search",
      ]);
      for (const price of Object.values(model.pricing)) {
        assert.match(price as string, /^\d+(\.\d+)?$/);
      }
      assert.ok(model.top_provider.max_completion_tokens > 0);
      assert.equal(typeof model.top_provider.is_moderated, "boolean");
      assert.ok(model.supported_parameters.includes("max_tokens"));
    }
  });
});

Deno.test("a completion matches OpenAI's schema and costs the exact decimal", async () => {
  await withSandbox(async ({ chat, sandbox }) => {
    const response = await chat({
      model: "openai/gpt-4o-mini",
      messages: HELLO,
      sandbox: { completionTokens: 20 },
    });
    assert.equal(response.status, 200);
    const text = await response.text();
    // 7 × 0.00000015 + 20 × 0.0000006, written as the exact decimal.
    assert.ok(text.includes(`"cost":0.00001305,`), text);
    const body = JSON.parse(text);
    assertMatchesSchema("CreateChatCompletionResponse", body);
    assertMatchesSchema("CompletionUsage", body.usage);
    assert.match(body.id, /^gen-/);
    assert.equal(response.headers.get("x-generation-id"), body.id);
    assert.equal(body.model, "openai/gpt-4o-mini");
    const [choice] = body.choices;
    assert.equal(choice.finish_reason, "stop");
    assert.equal(choice.message.role, "assistant");
    const tokens = choice.message.content.match(/ [a-z]+/g);
    assert.equal(tokens.length, 20);
    assert.equal(tokens.join(""), choice.message.content);
    assert.deepEqual(body.usage, {
      prompt_tokens: PROMPT_TOKENS_HELLO,
      completion_tokens: 20,
      total_tokens: 27,
      cost: 0.00001305,
      is_byok: false,
      prompt_tokens_details: { cached_tokens: 0 },
      cost_details: { upstream_inference_cost: null },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    assert.deepEqual(sandbox.usageOf(KEY), {
      requests: 1,
      completed: 1,
      aborted: 0,
      failed: 0,
      costAtto: 13_050_000_000_000n,
      costNano: 13_050n,
    });
  });
});

Deno.test("a per-request price is added to the token cost", async () => {
  await withSandbox(async ({ chat, sandbox }) => {
    const response = await chat({
      model: "perplexity/sonar",
      messages: HELLO,
      sandbox: { completionTokens: 20 },
    });
    const text = await response.text();
    // 27 tokens × 0.000001 + 0.005 per request.
    assert.ok(text.includes(`"cost":0.005027,`), text);
    assert.equal(sandbox.usageOf(KEY).costNano, 5_027_000n);
  });
});

Deno.test("prompt tokens follow the documented byte formula", async () => {
  await withSandbox(async ({ chat }) => {
    const tools = [{
      type: "function",
      function: {
        name: "weather",
        parameters: {
          type: "object",
          properties: { city: { type: "string" } },
        },
      },
    }];
    const response = await chat({
      model: "openai/gpt-4o",
      messages: [
        { role: "system", content: "Wattfare" }, // 8 bytes: 2 + 4
        {
          role: "user",
          content: [
            { type: "text", text: "héllo " }, // 7 bytes
            { type: "text", text: "wörld" }, // 6 bytes: 13 → 4 + 4
          ],
        },
        {
          role: "assistant",
          content: null,
          tool_calls: [{
            id: "call_1",
            type: "function",
            function: { name: "weather", arguments: '{"city":"Paris"}' },
          }], // 16 bytes: 4 + 4
        },
        { role: "tool", tool_call_id: "call_1", content: "sunny" }, // 2 + 4
      ],
      tools,
    });
    const body = await response.json();
    const toolTokens = Math.ceil(
      new TextEncoder().encode(JSON.stringify(tools)).length / 4,
    );
    assert.equal(body.usage.prompt_tokens, 6 + 8 + 8 + 6 + toolTokens);
  });
});

Deno.test("the same request gives the same completion; natural length is 12–40", async () => {
  await withSandbox(async ({ chat }) => {
    const strip = (body: Record<string, unknown>) => ({
      ...body,
      id: undefined,
      created: undefined,
    });
    const request = { model: "openai/gpt-4o-mini", messages: HELLO };
    const first = await (await chat(request)).json();
    const second = await (await chat(request)).json();
    assert.deepEqual(strip(first), strip(second));
    const lengths = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const body = await (await chat({
        model: "openai/gpt-4o-mini",
        messages: [{ role: "user", content: `question ${i}` }],
      })).json();
      const tokens = body.usage.completion_tokens;
      assert.ok(tokens >= 12 && tokens <= 40, `${tokens} tokens`);
      lengths.add(tokens);
    }
    assert.ok(lengths.size > 1, "length varies with the prompt");
  });
});

Deno.test("a stream is valid SSE with OpenAI chunks, then usage, then [DONE]", async () => {
  await withSandbox(async ({ chat, sandbox }) => {
    const request = {
      model: "anthropic/claude-sonnet-4",
      messages: HELLO,
      stream: true,
      stream_options: { include_usage: true },
      sandbox: { completionTokens: 10 },
    };
    const response = await chat(request);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    const sse = await readSse(response);
    assert.equal(sse.error, undefined);
    assert.ok(sse.text.startsWith(": OPENROUTER PROCESSING\n\n"));
    assert.deepEqual(sse.comments, ["OPENROUTER PROCESSING"]);
    assert.equal(sse.data.at(-1), "[DONE]");
    const chunks = chunksOf(sse);
    for (const chunk of chunks) {
      assertMatchesSchema("CreateChatCompletionStreamResponse", chunk);
      assert.equal(chunk.id, chunks[0].id);
    }
    // role chunk, 10 content chunks, finish chunk, usage chunk
    assert.equal(chunks.length, 13);
    assert.deepEqual(chunks[0].choices[0].delta, {
      role: "assistant",
      content: "",
    });
    const content = chunks.slice(1, 11).map((c) => c.choices[0].delta.content);
    assert.ok(content.every((token) => /^ [a-z]+$/.test(token ?? "")));
    assert.equal(chunks[11].choices[0].finish_reason, "stop");
    const last = chunks[12];
    assert.deepEqual(last.choices, []);
    assertMatchesSchema("CompletionUsage", last.usage);
    assert.equal(last.usage?.completion_tokens, 10);
    assert.equal(last.usage?.prompt_tokens, PROMPT_TOKENS_HELLO);
    // 7 × 0.000003 + 10 × 0.000015
    assert.ok(sse.text.includes(`"cost":0.000171,`));
    assert.deepEqual(
      chunks.slice(0, 12).map((c) => c.usage),
      Array(12).fill(undefined),
    );

    const whole = await (await chat({ ...request, stream: false })).json();
    assert.equal(content.join(""), whole.choices[0].message.content);
    assert.equal(sandbox.usageOf(KEY).completed, 2);
  });
});

Deno.test("max_tokens truncates with finish_reason length", async () => {
  await withSandbox(async ({ chat }) => {
    const base = {
      model: "openai/gpt-4o-mini",
      messages: HELLO,
      sandbox: { completionTokens: 30 },
    };
    for (const limit of [{ max_tokens: 5 }, { max_completion_tokens: 5 }]) {
      const body = await (await chat({ ...base, ...limit })).json();
      assert.equal(body.choices[0].finish_reason, "length");
      assert.equal(body.usage.completion_tokens, 5);
      assert.equal(body.choices[0].message.content.match(/ /g).length, 5);
    }
    const both = await (await chat({
      ...base,
      max_tokens: 9,
      max_completion_tokens: 4,
    })).json();
    assert.equal(both.usage.completion_tokens, 4);

    const roomy = await (await chat({ ...base, max_tokens: 30 })).json();
    assert.equal(roomy.choices[0].finish_reason, "stop");
    assert.equal(roomy.usage.completion_tokens, 30);

    const sse = await readSse(
      await chat({ ...base, stream: true, max_tokens: 3 }),
    );
    const chunks = chunksOf(sse);
    const contents = chunks.filter((c) => c.choices[0]?.delta.content);
    assert.equal(contents.length, 3);
    assert.equal(chunks.at(-2)!.choices[0].finish_reason, "length");
    assert.equal(chunks.at(-1)!.usage?.completion_tokens, 3);
  });
});

Deno.test("fault error_before_first_byte answers 502, status_500 answers 500", async () => {
  await withSandbox(async ({ chat, sandbox }) => {
    for (
      const [fault, status] of [["error_before_first_byte", 502], [
        "status_500",
        500,
      ]] as const
    ) {
      for (const stream of [false, true]) {
        const response = await chat({
          model: "openai/gpt-4o-mini",
          messages: HELLO,
          stream,
          sandbox: { fault },
        });
        assert.equal(response.status, status);
        assert.match(response.headers.get("content-type")!, /json/);
        assertOpenRouterError(await response.json(), status);
      }
    }
    const usage = sandbox.usageOf(KEY);
    assert.equal(usage.failed, 4);
    assert.equal(usage.costAtto, 0n);
  });
});

Deno.test("fault drop_mid_stream cuts the connection before usage and [DONE]", async () => {
  await withSandbox(async ({ chat, sandbox }) => {
    const response = await chat({
      model: "openai/gpt-4o-mini",
      messages: HELLO,
      stream: true,
      sandbox: {
        fault: "drop_mid_stream",
        afterChunks: 3,
        completionTokens: 20,
      },
    });
    assert.equal(response.status, 200);
    const sse = await readSse(response);
    assert.ok(sse.error, "the body read fails");
    assert.equal(sse.data.length, 3); // role chunk and two tokens
    assert.ok(!sse.text.includes("usage") && !sse.text.includes("[DONE]"));
    const usage = sandbox.usageOf(KEY);
    assert.equal(usage.failed, 1);
    // Charged the prompt and the two tokens emitted: 7 × 150 + 2 × 600 nano.
    assert.equal(usage.costNano, 2_250n);
  });
});

Deno.test("fault drop_mid_stream strikes before usage even with a large afterChunks", async () => {
  await withSandbox(async ({ chat }) => {
    const sse = await readSse(
      await chat({
        model: "openai/gpt-4o-mini",
        messages: HELLO,
        stream: true,
        sandbox: {
          fault: "drop_mid_stream",
          afterChunks: 1000,
          completionTokens: 4,
        },
      }),
    );
    assert.ok(sse.error);
    const chunks = chunksOf(sse);
    assert.equal(chunks.length, 6); // role, 4 tokens, finish
    assert.equal(chunks.at(-1)!.choices[0].finish_reason, "stop");
    assert.ok(!sse.data.includes("[DONE]"));
  });
});

Deno.test("fault error_chunk ends a 200 stream with an error chunk", async () => {
  await withSandbox(async ({ chat, sandbox }) => {
    const response = await chat({
      model: "openai/gpt-4o-mini",
      messages: HELLO,
      stream: true,
      sandbox: { fault: "error_chunk", afterChunks: 2 },
    });
    assert.equal(response.status, 200);
    const sse = await readSse(response);
    assert.equal(sse.error, undefined);
    assert.equal(sse.data.length, 3);
    assert.ok(!sse.data.includes("[DONE]"));
    const chunks = chunksOf(sse);
    assertMatchesSchema("CreateChatCompletionStreamResponse", chunks[1]);
    const last = chunks[2];
    assert.equal(last.id, chunks[0].id);
    assert.equal(typeof last.error?.message, "string");
    assert.ok(last.error?.code);
    assert.equal(last.choices[0].finish_reason, "error");
    assert.equal(last.usage, undefined);
    assert.equal(sandbox.usageOf(KEY).failed, 1);
  });
});

Deno.test("fault hang never answers; the client's abort ends the request", async () => {
  await withSandbox(async ({ chat, sandbox }) => {
    const started = Date.now();
    await assert.rejects(
      chat(
        {
          model: "openai/gpt-4o-mini",
          messages: HELLO,
          sandbox: { fault: "hang" },
        },
        { signal: AbortSignal.timeout(200) },
      ),
      (error: Error) => error.name === "TimeoutError",
    );
    assert.ok(Date.now() - started >= 190);
    await until(() => sandbox.usageOf(KEY).aborted === 1);
    assert.equal(sandbox.usageOf(KEY).costAtto, 0n);
  });
});

Deno.test("latencyMs delays the response; chunkDelayMs spaces the events", async () => {
  await withSandbox(async ({ chat }) => {
    let started = Date.now();
    const response = await chat({
      model: "openai/gpt-4o-mini",
      messages: HELLO,
      sandbox: { latencyMs: 150 },
    });
    assert.ok(Date.now() - started >= 145);
    assert.equal(response.status, 200);
    await response.body!.cancel();

    started = Date.now();
    const sse = await readSse(
      await chat({
        model: "openai/gpt-4o-mini",
        messages: HELLO,
        stream: true,
        sandbox: { chunkDelayMs: 40, completionTokens: 5 },
      }),
    );
    // 9 data events (role, 5 tokens, finish, usage, [DONE]): 8 pauses.
    assert.equal(sse.data.length, 9);
    assert.ok(Date.now() - started >= 8 * 40 - 5);
  });
});

Deno.test("sandbox options set default delays that a request can override", async () => {
  await withSandbox(async ({ chat }) => {
    const request = { model: "openai/gpt-4o-mini", messages: HELLO };
    let started = Date.now();
    await (await chat(request)).body!.cancel();
    assert.ok(Date.now() - started >= 195);

    started = Date.now();
    await (await chat({ ...request, sandbox: { latencyMs: 0 } })).body!
      .cancel();
    assert.ok(Date.now() - started < 190);

    started = Date.now();
    await readSse(
      await chat({
        ...request,
        stream: true,
        sandbox: { latencyMs: 0, completionTokens: 2 },
      }),
    );
    // 6 data events: 5 pauses of 50 ms.
    assert.ok(Date.now() - started >= 5 * 50 - 5);
  }, { latencyMs: 200, chunkDelayMs: 50 });
});

Deno.test("a client that cancels mid-stream is charged only what was emitted", async () => {
  await withSandbox(async ({ chat, sandbox }) => {
    const response = await chat({
      model: "openai/gpt-4o-mini",
      messages: HELLO,
      stream: true,
      sandbox: { chunkDelayMs: 20, completionTokens: 50 },
    });
    const reader = response.body!.pipeThrough(new TextDecoderStream())
      .getReader();
    let text = "";
    while ((text.match(/"content":" /g) ?? []).length < 3) {
      const { value, done } = await reader.read();
      assert.ok(!done);
      text += value;
    }
    await reader.cancel();
    await until(() => sandbox.usageOf(KEY).aborted === 1);
    const usage = sandbox.usageOf(KEY);
    assert.equal(usage.completed, 0);
    const promptNano = BigInt(PROMPT_TOKENS_HELLO) * 150n;
    const completionNano = usage.costNano - promptNano;
    assert.equal(completionNano % 600n, 0n);
    const emitted = completionNano / 600n;
    assert.ok(emitted >= 3n && emitted < 50n, `${emitted} tokens charged`);
  });
});

Deno.test("key limits: 402 once usage reaches the limit; GET /key reports exact usage", async () => {
  await withSandbox(async ({ url, sandbox }) => {
    const created = await fetch(url("/keys"), {
      method: "POST",
      body: JSON.stringify({ limit: 0.00002, label: "ci" }),
    });
    assert.equal(created.status, 201);
    const { key, data } = await created.json();
    assert.match(key, /^sk-or-v1-[0-9a-f]{64}$/);
    assert.deepEqual(data, {
      label: "ci",
      usage: 0,
      limit: 0.00002,
      limit_remaining: 0.00002,
      is_free_tier: false,
      requests: 0,
    });
    const spend = () =>
      fetch(url("/chat/completions"), {
        method: "POST",
        headers: { authorization: `Bearer ${key}` },
        body: JSON.stringify({
          model: "openai/gpt-4o-mini",
          messages: HELLO,
          sandbox: { completionTokens: 20 },
        }),
      });
    // 0.00001305 each: the second starts under the limit and ends past it.
    for (let i = 0; i < 2; i++) {
      const response = await spend();
      assert.equal(response.status, 200);
      await response.body!.cancel();
    }
    const refused = await spend();
    assert.equal(refused.status, 402);
    const error = await refused.json();
    assertOpenRouterError(error, 402);
    assert.match(error.error.message, /limit/i);

    const info = await fetch(url("/key"), {
      headers: { authorization: `Bearer ${key}` },
    });
    const infoText = await info.text();
    assert.ok(infoText.includes(`"usage":0.0000261,`), infoText);
    assert.deepEqual(JSON.parse(infoText).data, {
      label: "ci",
      usage: 0.0000261,
      limit: 0.00002,
      limit_remaining: 0,
      is_free_tier: false,
      requests: 2,
    });
    assert.equal(sandbox.usageOf(key).costAtto, 26_100_000_000_000n);

    const inProcess = sandbox.keys.create({ limit: 0 });
    const response = await fetch(url("/chat/completions"), {
      method: "POST",
      headers: { authorization: `Bearer ${inProcess}` },
      body: JSON.stringify({ model: "openai/gpt-4o-mini", messages: HELLO }),
    });
    assert.equal(response.status, 402);
    await response.body!.cancel();
  });
});

Deno.test("any sk-or-v1- key works without a limit; others get 401", async () => {
  await withSandbox(async ({ url }) => {
    const request = (authorization?: string) =>
      fetch(url("/chat/completions"), {
        method: "POST",
        headers: authorization ? { authorization } : {},
        body: JSON.stringify({ model: "openai/gpt-4o-mini", messages: HELLO }),
      });
    for (
      const authorization of [undefined, "Bearer sk-abc", "Basic sk-or-v1-x"]
    ) {
      const response = await request(authorization);
      assert.equal(response.status, 401);
      assertOpenRouterError(await response.json(), 401);
    }
    const noKey = await fetch(url("/key"));
    assert.equal(noKey.status, 401);
    assertOpenRouterError(await noKey.json(), 401);

    const fresh = "sk-or-v1-fresh";
    const ok = await request(`Bearer ${fresh}`);
    assert.equal(ok.status, 200);
    await ok.body!.cancel();
    const info = await (await fetch(url("/key"), {
      headers: { authorization: `Bearer ${fresh}` },
    })).json();
    assert.equal(info.data.limit, null);
    assert.equal(info.data.requests, 1);
    assert.ok(info.data.usage > 0);
  });
});

const fixtureNames = [...Deno.readDirSync(FIXTURES)]
  .map((entry) => entry.name)
  .filter((name) => name.endsWith(".chunks.txt"))
  .map((name) => name.slice(0, -".chunks.txt".length))
  .sort();

function fixtureLines(name: string): string[] {
  return Deno.readTextFileSync(new URL(`${name}.chunks.txt`, FIXTURES))
    .split("\n").filter((line) => line !== "");
}

Deno.test("replay streams every recorded fixture verbatim, LF and CRLF", async () => {
  assert.ok(fixtureNames.length >= 8);
  await withSandbox(async ({ chat, sandbox }) => {
    for (const name of fixtureNames) {
      const lines = fixtureLines(name);
      for (const lineEnding of ["lf", "crlf"] as const) {
        const eol = lineEnding === "crlf" ? "\r\n" : "\n";
        const sse = await readSse(
          await chat({
            model: "openai/gpt-4o-mini",
            messages: HELLO,
            stream: true,
            sandbox: { replay: name, lineEnding },
          }),
        );
        const expected = [...lines, "[DONE]"]
          .map((line) => `data: ${line}${eol}${eol}`).join("");
        assert.equal(sse.text, expected, `${name} (${lineEnding})`);
        assert.deepEqual(sse.data, [...lines, "[DONE]"]);
      }
    }
    const usage = sandbox.usageOf(KEY);
    assert.equal(usage.completed, fixtureNames.length * 2);
    assert.equal(usage.costAtto, 0n); // no fixture records a cost
  });
});

Deno.test("replay interleaves comments on request", async () => {
  await withSandbox(async ({ chat }) => {
    const lines = fixtureLines("groq-tool-call");
    const sse = await readSse(
      await chat({
        model: "openai/gpt-4o-mini",
        messages: HELLO,
        stream: true,
        sandbox: {
          replay: "groq-tool-call",
          comments: true,
          lineEnding: "crlf",
        },
      }),
    );
    const expected = [...lines, "[DONE]"]
      .map((line) => `: OPENROUTER PROCESSING\r\n\r\ndata: ${line}\r\n\r\n`)
      .join("");
    assert.equal(sse.text, expected);
    assert.equal(sse.comments.length, lines.length + 1);
  });
});

Deno.test("splitBytes hands the body out in pieces that split UTF-8 characters", async () => {
  // In-process, so the pieces the sandbox enqueues are the chunks we read.
  const sandbox = createSandbox();
  const response = await sandbox.app.fetch(
    new Request("http://sandbox/chat/completions", {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}` },
      body: JSON.stringify({
        model: "openai/gpt-4o-mini",
        messages: HELLO,
        stream: true,
        // Smaller than the fixture's 3-byte characters, so each is split.
        sandbox: { replay: "openai-text", splitBytes: 2 },
      }),
    }),
  );
  const pieces: Uint8Array[] = [];
  for await (const piece of response.body!) pieces.push(piece);
  assert.ok(pieces.every((piece) => piece.length <= 2));
  const strict = new TextDecoder("utf-8", { fatal: true });
  assert.ok(
    pieces.some((piece) => {
      try {
        strict.decode(piece);
        return false;
      } catch {
        return true;
      }
    }),
    "some piece ends inside a multi-byte character",
  );
  const text = new TextDecoder().decode(
    new Uint8Array(pieces.flatMap((piece) => [...piece])),
  );
  const expected = [...fixtureLines("openai-text"), "[DONE]"]
    .map((line) => `data: ${line}\n\n`).join("");
  assert.equal(text, expected);
});

Deno.test("replay charges a recorded usage.cost exactly", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(
      `${dir}/priced.chunks.txt`,
      [
        '{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":"stop"}]}',
        '{"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2,"cost":0.000012345678901234,"cost_details":{"cost":9}}}',
      ].join("\n") + "\n",
    );
    await withSandbox(async ({ chat, sandbox }) => {
      const sse = await readSse(
        await chat({
          model: "openai/gpt-4o-mini",
          messages: HELLO,
          stream: true,
          sandbox: { replay: "priced" },
        }),
      );
      assert.equal(sse.data.length, 3);
      assert.equal(sandbox.usageOf(KEY).costAtto, 12_345_678_901_234n);
      assert.equal(sandbox.usageOf(KEY).costNano, 12_346n);
    }, { fixturesDir: dir });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad bodies and bad sandbox switches are refused with 400", async () => {
  await withSandbox(async ({ url, chat, sandbox }) => {
    const valid = { model: "openai/gpt-4o-mini", messages: HELLO };
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...valid, model: "openai/gpt-9" }, /gpt-9/],
      [{ model: "openai/gpt-4o-mini" }, /messages/],
      [{ ...valid, messages: [] }, /messages/],
      [{ ...valid, max_tokens: 0 }, /max_tokens/],
      [{ ...valid, sandbox: { latency: 5 } }, /latency/],
      [{ ...valid, sandbox: { fault: "explode" } }, /fault/],
      [{ ...valid, sandbox: { latencyMs: -1 } }, /latencyMs/],
      [{ ...valid, sandbox: { completionTokens: 1.5 } }, /completionTokens/],
      [{ ...valid, stream: true, sandbox: { afterChunks: 2 } }, /afterChunks/],
      [{ ...valid, sandbox: { fault: "drop_mid_stream" } }, /stream: true/],
      [{ ...valid, sandbox: { replay: "openai-text" } }, /stream: true/],
      [{
        ...valid,
        stream: true,
        sandbox: { replay: "../fixtures/openai-text" },
      }, /replay/],
      [{ ...valid, stream: true, sandbox: { replay: "nope" } }, /nope/],
      [
        {
          ...valid,
          stream: true,
          sandbox: { replay: "openai-text", fault: "error_chunk" },
        },
        /replay/,
      ],
      [{ ...valid, stream: true, sandbox: { lineEnding: "cr" } }, /lineEnding/],
      [{ ...valid, stream: true, sandbox: { splitBytes: 0 } }, /splitBytes/],
      [{ ...valid, sandbox: "fast" }, /sandbox/],
    ];
    for (const [body, message] of cases) {
      const response = await chat(body);
      assert.equal(response.status, 400, JSON.stringify(body));
      const error = await response.json();
      assertOpenRouterError(error, 400);
      assert.match(error.error.message, message);
    }
    const notJson = await fetch(url("/chat/completions"), {
      method: "POST",
      headers: { authorization: `Bearer ${KEY}` },
      body: "{",
    });
    assert.equal(notJson.status, 400);
    assertOpenRouterError(await notJson.json(), 400);
    const badKey = await fetch(url("/keys"), {
      method: "POST",
      body: JSON.stringify({ limit: -1 }),
    });
    assert.equal(badKey.status, 400);
    assertOpenRouterError(await badKey.json(), 400);
    assert.equal(sandbox.usageOf(KEY).requests, 0);
  });
});

Deno.test("unknown routes answer 404 in OpenRouter's error shape", async () => {
  const response = await createSandbox().app.fetch(
    new Request("http://sandbox/nope"),
  );
  assert.equal(response.status, 404);
  assertOpenRouterError(await response.json(), 404);
});

Deno.test("the OpenAI schema helper rejects what OpenAI would not send", () => {
  assert.throws(
    () =>
      assertMatchesSchema("CreateChatCompletionStreamResponse", {
        id: "x",
        object: "chat.completion.chunk",
        created: 1,
        model: "m",
        choices: [{ index: 0, delta: {}, finish_reason: "error" }],
      }),
    /\/choices\/0\/finish_reason/,
  );
  assert.throws(() => assertMatchesSchema("NoSuchSchema", {}), /NoSuchSchema/);
});
