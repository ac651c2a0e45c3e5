import assert from "node:assert/strict";
import { createStreamMeter, type MeterSnapshot } from "./stream_meter.ts";

const FIXTURES = new URL(
  "../../../shared/fixtures/recorded-streams/",
  import.meta.url,
);
const COMMENT = ": OPENROUTER PROCESSING";
const EOLS = { LF: "\n", CRLF: "\r\n", CR: "\r" };
const encoder = new TextEncoder();

/** A stream written for these tests: multi-byte text everywhere, and a cost. */
const UNICODE_STREAM = [
  `{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"test/unicode","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`,
  `{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"test/unicode","choices":[{"index":0,"delta":{"content":null,"reasoning":"考えています🤔…"},"finish_reason":null}]}`,
  `{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"test/unicode","choices":[{"index":0,"delta":{"content":"你好，世界！"},"finish_reason":null}]}`,
  `{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"test/unicode","choices":[{"index":0,"delta":{"content":"🎉 👩‍👩‍👧 Ünïcödé \\ud83d\\ude00 \\u00e9"},"finish_reason":null}]}`,
  `{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"test/unicode","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"天气","arguments":""}}]},"finish_reason":null}]}`,
  `{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"test/unicode","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\\"city\\":\\"東京\\"}"}}]},"finish_reason":null}]}`,
  `{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"test/unicode","choices":[{"index":0,"delta":{"refusal":"Désolé"},"finish_reason":"stop"}]}`,
  `{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"test/unicode","choices":[],"usage":{"prompt_tokens":21,"completion_tokens":34,"total_tokens":55,"cost":0.000012345678901234,"cost_details":{"upstream_inference_cost":0.0000123}}}`,
];

interface Expected {
  usage: MeterSnapshot["usage"];
  generatedBytes: number;
}

/** The `data:` payloads of a recorded stream, one per line. */
function readChunks(name: string): string[] {
  return Deno.readTextFileSync(new URL(name, FIXTURES))
    .split("\n")
    .filter((line) => line !== "");
}

/**
 * What the meter should report for `lines`, worked out here from a plain
 * JSON.parse. `costNano` is given by the caller: the recordings carry no cost.
 */
function expectedOf(lines: string[], costNano: bigint | null): Expected {
  let usage: MeterSnapshot["usage"] = null;
  let generatedBytes = 0;
  const bytes = (text: unknown) =>
    typeof text === "string" ? encoder.encode(text).length : 0;
  for (const line of lines) {
    const chunk = JSON.parse(line);
    if (chunk.usage) {
      assert.equal(
        chunk.usage.cost !== undefined,
        costNano !== null,
        "the stated cost matches the stream",
      );
      usage = {
        promptTokens: chunk.usage.prompt_tokens,
        completionTokens: chunk.usage.completion_tokens,
        costNano,
      };
    }
    for (const { delta } of chunk.choices ?? []) {
      generatedBytes += bytes(delta?.content) + bytes(delta?.reasoning) +
        bytes(delta?.reasoning_content) + bytes(delta?.refusal);
      for (const call of delta?.tool_calls ?? []) {
        generatedBytes += bytes(call.function?.name) +
          bytes(call.function?.arguments);
      }
    }
  }
  return { usage, generatedBytes };
}

/** An OpenRouter-style SSE body: comment lines between events, `[DONE]` last. */
function sse(
  lines: string[],
  eol: string,
  { done = true }: { done?: boolean } = {},
): Uint8Array {
  const parts = [`${COMMENT}${eol}${eol}`];
  lines.forEach((line, i) => {
    parts.push(`data: ${line}${eol}${eol}`);
    if (i % 3 === 0) parts.push(`${COMMENT}${eol}${eol}`);
  });
  if (done) parts.push(`data: [DONE]${eol}${eol}`);
  return encoder.encode(parts.join(""));
}

/** Cuts `bytes` at the given offsets (ascending). */
function cutAt(bytes: Uint8Array, offsets: number[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const offset of [...offsets, bytes.length]) {
    pieces.push(bytes.subarray(start, offset));
    start = offset;
  }
  return pieces;
}

/** One piece per line, each ending with its line terminator. */
function byLine(bytes: Uint8Array): Uint8Array[] {
  const offsets: number[] = [];
  for (let i = 0; i < bytes.length - 1; i++) {
    const lf = bytes[i] === 0x0a;
    const loneCr = bytes[i] === 0x0d && bytes[i + 1] !== 0x0a;
    if (lf || loneCr) offsets.push(i + 1);
  }
  return cutAt(bytes, offsets);
}

function bySize(bytes: Uint8Array, size: number): Uint8Array[] {
  const offsets: number[] = [];
  for (let i = size; i < bytes.length; i += size) offsets.push(i);
  return cutAt(bytes, offsets);
}

/** Offsets that fall inside a multi-byte UTF-8 character (before a continuation byte). */
function insideCharacters(bytes: Uint8Array): number[] {
  const offsets: number[] = [];
  bytes.forEach((byte, i) => {
    if ((byte & 0xc0) === 0x80) offsets.push(i);
  });
  return offsets;
}

/** Every way these tests split a body into reads. */
function splits(bytes: Uint8Array): [string, Uint8Array[]][] {
  const inside = insideCharacters(bytes);
  return [
    ["whole", [bytes]],
    ["by line", byLine(bytes)],
    ...[1, 2, 3, 7, 64].map((size): [string, Uint8Array[]] => [
      `by ${size} bytes`,
      bySize(bytes, size),
    ]),
    ["inside every multi-byte character at once", cutAt(bytes, inside)],
    ...inside.map((offset): [string, Uint8Array[]] => [
      `in two at byte ${offset}, inside a character`,
      cutAt(bytes, [offset]),
    ]),
  ];
}

/** Pipes `pieces` through a fresh meter; returns what came out and the final snapshot. */
async function meter(
  pieces: Uint8Array[],
): Promise<{ output: Uint8Array[]; snapshot: MeterSnapshot }> {
  const { stream, snapshot } = createStreamMeter();
  const output: Uint8Array[] = [];
  for await (const chunk of ReadableStream.from(pieces).pipeThrough(stream)) {
    output.push(chunk);
  }
  return { output, snapshot: snapshot() };
}

function concat(pieces: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(pieces.reduce((n, piece) => n + piece.length, 0));
  let offset = 0;
  for (const piece of pieces) {
    all.set(piece, offset);
    offset += piece.length;
  }
  return all;
}

/** Asserts the meter passed `pieces` through untouched, chunk for chunk. */
function assertPassedThrough(
  output: Uint8Array[],
  pieces: Uint8Array[],
  label: string,
): void {
  assert.equal(output.length, pieces.length, `${label}: chunk count`);
  assert.ok(
    output.every((chunk, i) => chunk === pieces[i]),
    `${label}: every chunk is passed on as it came`,
  );
  assert.deepEqual(concat(output), concat(pieces), `${label}: bytes`);
}

async function assertMetersEverySplit(
  lines: string[],
  expected: Expected,
  t: Deno.TestContext,
): Promise<void> {
  for (const [eolName, eol] of Object.entries(EOLS)) {
    await t.step(eolName, async () => {
      const bytes = sse(lines, eol);
      for (const [splitName, pieces] of splits(bytes)) {
        const label = `${eolName}, ${splitName}`;
        const { output, snapshot } = await meter(pieces);
        assertPassedThrough(output, pieces, label);
        assert.deepEqual(snapshot, {
          usage: expected.usage,
          generatedBytes: expected.generatedBytes,
          bytesSeen: bytes.length,
          done: true,
          errored: false,
        }, label);
      }
    });
  }
}

const recordings = [...Deno.readDirSync(FIXTURES)]
  .map((entry) => entry.name)
  .filter((name) => name.endsWith(".chunks.txt"))
  .sort();

Deno.test("the recordings are there, some with multi-byte text", () => {
  assert.ok(recordings.length >= 8, recordings.join());
  const multiByte = recordings.filter((name) =>
    insideCharacters(encoder.encode(readChunks(name).join("\n"))).length > 0
  );
  assert.ok(multiByte.length >= 2, multiByte.join());
});

for (const name of recordings) {
  Deno.test(`meters the recorded stream ${name}`, async (t) => {
    const lines = readChunks(name);
    const expected = expectedOf(lines, null);
    assert.notEqual(expected.usage, null, "every recording ends with usage");
    await assertMetersEverySplit(lines, expected, t);
  });
}

Deno.test("meters a stream of emoji, CJK and escapes with an exact cost", async (t) => {
  const expected = expectedOf(UNICODE_STREAM, 12346n);
  // 考えています🤔… 你好，世界！ 🎉 👩‍👩‍👧 Ünïcödé 😀 é 天气 {"city":"東京"} Désolé
  assert.equal(expected.generatedBytes, 25 + 18 + 43 + 6 + 17 + 8);
  await assertMetersEverySplit(UNICODE_STREAM, expected, t);
});

/** A two-event stream whose usage carries `costText` verbatim. */
function withCost(costText: string): string[] {
  return [
    `{"choices":[{"index":0,"delta":{"content":"ok"},"finish_reason":"stop"}]}`,
    `{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4,"cost":${costText}}}`,
  ];
}

Deno.test("reads the cost exactly and rounds it up to the nano-dollar", async () => {
  const cases: [string, bigint][] = [
    ["0.0000123", 12300n],
    ["1e-7", 100n],
    ["1.5E-7", 150n],
    ["0.000000000001", 1n],
    ["0.000001234567891", 1235n],
    ["0", 0n],
  ];
  for (const [text, costNano] of cases) {
    const { snapshot } = await meter(bySize(sse(withCost(text), "\n"), 5));
    assert.deepEqual(
      snapshot.usage,
      { promptTokens: 3, completionTokens: 1, costNano },
      text,
    );
  }
});

Deno.test("a cut stream has no usage and counts what was generated", async () => {
  const lines = readChunks("openai-text.chunks.txt");
  const received = lines.slice(0, 100);
  const body = sse(lines, "\n", { done: false });
  const untilCut = sse(received, "\n", { done: false });
  // The body ends halfway through the 101st event, which never completes.
  const cutBody = body.subarray(0, untilCut.length + 40);
  const pieces = bySize(cutBody, 13);
  const { output, snapshot } = await meter(pieces);
  assertPassedThrough(output, pieces, "cut");
  assert.deepEqual(snapshot, {
    usage: null,
    generatedBytes: expectedOf(received, null).generatedBytes,
    bytesSeen: cutBody.length,
    done: false,
    errored: false,
  });
});

Deno.test("an error chunk marks the stream errored", async () => {
  const content =
    `{"id":"gen-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}`;
  const errors = {
    "OpenRouter's mid-stream error":
      `{"id":"gen-1","object":"chat.completion.chunk","created":1,"model":"m","provider":"p","error":{"code":502,"message":"Provider disconnected"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}`,
    "an error field alone": `{"error":{"message":"overloaded"}}`,
    "finish_reason error alone":
      `{"choices":[{"index":0,"delta":{},"finish_reason":"error"}]}`,
  };
  for (const [label, error] of Object.entries(errors)) {
    const { snapshot } = await meter(byLine(sse([content, error], "\n")));
    assert.equal(snapshot.errored, true, label);
    assert.equal(snapshot.generatedBytes, 3, label);
  }
  const { snapshot } = await meter([sse([content, `{"error":null}`], "\n")]);
  assert.equal(snapshot.errored, false, "error: null is no error");
});

Deno.test("malformed events pass through without breaking the meter", async () => {
  const events = [
    `{"choices":[{"index":0,"delta":{"content":"ab"}}]}`,
    `{not json`,
    `{"choices":[{"index":0,"delta":{"content":"cd"}}]`,
    `null`,
    `[1,2]`,
    `"text"`,
    `42`,
    ``,
    `{"choices":"many"}`,
    `{"choices":[null,1,"x",{"delta":null},{"delta":{"content":5,"tool_calls":"x"}},{"delta":{"tool_calls":[null,{"function":7},{"function":{"name":1}}]}}]}`,
    `{"usage":{"prompt_tokens":-1,"completion_tokens":2}}`,
    `{"usage":{"prompt_tokens":1,"completion_tokens":2,"cost":-0.5}}`,
    `{"usage":{"prompt_tokens":1,"completion_tokens":2,"cost":1e999}}`,
    "[".repeat(200_000),
    "[".repeat(100_000) + "]".repeat(100_000),
    `{"choices":[{"index":0,"delta":{"content":"é"}}],"usage":{"prompt_tokens":5,"completion_tokens":3,"cost":0.000001}}`,
    `{"usage":null}`,
  ];
  const body = sse(events, "\n");
  for (const pieces of [[body], bySize(body, 4096), byLine(body)]) {
    const { output, snapshot } = await meter(pieces);
    assertPassedThrough(output, pieces, "malformed");
    assert.deepEqual(snapshot, {
      usage: { promptTokens: 5, completionTokens: 3, costNano: 1000n },
      // "ab" and "é"; the "cd" event is cut short, so not JSON.
      generatedBytes: 2 + 2,
      bytesSeen: body.length,
      done: true,
      errored: false,
    });
  }
});

Deno.test("keeps the last non-null usage", async () => {
  const usage = (prompt: number) =>
    `{"choices":[],"usage":{"prompt_tokens":${prompt},"completion_tokens":1}}`;
  const cases: [string[], number][] = [
    [[usage(1), `{"choices":[],"usage":null}`], 1],
    [[usage(1), usage(2), `{"choices":[]}`], 2],
    [[`{"usage":null}`, usage(3), `{"usage":null}`], 3],
  ];
  for (const [lines, promptTokens] of cases) {
    const { snapshot } = await meter([sse(lines, "\r\n")]);
    assert.equal(snapshot.usage?.promptTokens, promptTokens, lines.join());
  }
});

Deno.test("reads an event whose data spans several lines", async () => {
  const body = encoder.encode(
    `data: {"choices":[],\ndata: "usage":{"prompt_tokens":7,\ndata: "completion_tokens":8,"cost":2e-9}}\n\ndata: [DONE]\n\n`,
  );
  const { snapshot } = await meter(bySize(body, 3));
  assert.deepEqual(snapshot.usage, {
    promptTokens: 7,
    completionTokens: 8,
    costNano: 2n,
  });
});

Deno.test("counts a last event that the upstream did not end with a blank line", async () => {
  const usage =
    `{"choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"cost":0.000000003}}`;
  for (const ending of ["", "\n", "\r\n", "\r"]) {
    const { snapshot } = await meter(
      bySize(encoder.encode(`data: ${usage}${ending}`), 10),
    );
    assert.deepEqual(snapshot.usage, {
      promptTokens: 1,
      completionTokens: 2,
      costNano: 3n,
    }, JSON.stringify(ending));
  }
});

Deno.test("passes each chunk on before the next one arrives", async () => {
  const { stream, snapshot } = createStreamMeter();
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  // Halfway through an event, and through the character "é".
  const bytes = encoder.encode(
    `data: {"choices":[{"delta":{"content":"é"}}]}\n\n`,
  );
  const half = bytes.indexOf(0xc3) + 1;
  const first = bytes.subarray(0, half);
  void writer.write(first);
  assert.equal((await reader.read()).value, first);
  assert.equal(snapshot().bytesSeen, half);
  assert.equal(snapshot().generatedBytes, 0);
  const rest = bytes.subarray(half);
  void writer.write(rest);
  assert.equal((await reader.read()).value, rest);
  assert.equal(snapshot().generatedBytes, 2);
  void writer.close();
  assert.equal((await reader.read()).done, true);
});

Deno.test("snapshot still answers after the client cancels", async () => {
  const received = readChunks("deepseek-text.chunks.txt").slice(0, 50);
  const part = sse(received, "\n", { done: false });
  const { stream, snapshot } = createStreamMeter();
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  void writer.write(part);
  await reader.read();
  await reader.cancel("client went away");
  await assert.rejects(writer.write(part));
  const seen = snapshot();
  assert.deepEqual(seen, {
    usage: null,
    generatedBytes: expectedOf(received, null).generatedBytes,
    bytesSeen: part.length,
    done: false,
    errored: false,
  });
  assert.deepEqual(snapshot(), seen);
});

Deno.test("snapshot still answers after the upstream fails", async () => {
  const { stream, snapshot } = createStreamMeter();
  const writer = stream.writable.getWriter();
  const reader = stream.readable.getReader();
  const event = encoder.encode(
    `data: {"choices":[{"delta":{"content":"abc"}}]}\n\n`,
  );
  void writer.write(event);
  await reader.read();
  await writer.abort(new Error("upstream reset"));
  await assert.rejects(reader.read());
  assert.deepEqual(snapshot(), {
    usage: null,
    generatedBytes: 3,
    bytesSeen: event.length,
    done: false,
    errored: false,
  });
});
