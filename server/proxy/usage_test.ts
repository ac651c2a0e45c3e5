import assert from "node:assert/strict";
import {
  isRecord,
  parseCompletionUsage,
  parseJsonExactCost,
  usageFrom,
} from "./usage.ts";

/** A non-streamed OpenRouter response body whose usage carries `costText` verbatim. */
function body(costText: string | undefined, tokens = "16, 300"): string {
  const [prompt, completion] = tokens.split(", ");
  const cost = costText === undefined ? "" : `,"cost":${costText}`;
  return `{"id":"gen-1","object":"chat.completion","choices":[{"index":0,` +
    `"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],` +
    `"usage":{"prompt_tokens":${prompt},"completion_tokens":${completion},` +
    `"total_tokens":316${cost},"cost_details":{"upstream_inference_cost":0.1}}}`;
}

Deno.test("parseCompletionUsage reads cost exactly, rounded up to the nano-dollar", () => {
  const cases: [string, bigint][] = [
    ["0.0000123", 12300n],
    ["1e-7", 100n],
    ["1E-7", 100n],
    ["0.000000000001", 1n],
    ["0.000001234567891", 1235n],
    ["0.000012345678901234567", 12346n],
    ["0", 0n],
    ["-0", 0n],
    ["12.5", 12_500_000_000n],
  ];
  for (const [text, nano] of cases) {
    assert.deepEqual(
      parseCompletionUsage(body(text)),
      { promptTokens: 16, completionTokens: 300, costNano: nano },
      text,
    );
  }
});

Deno.test("parseCompletionUsage gives a null cost when none is a number", () => {
  for (const cost of [undefined, "null", '"0.5"', "{}", "[1]", "true"]) {
    assert.deepEqual(
      parseCompletionUsage(body(cost)),
      { promptTokens: 16, completionTokens: 300, costNano: null },
      String(cost),
    );
  }
});

Deno.test("parseCompletionUsage returns null for malformed usage", () => {
  const bad = [
    body("-0.0001"),
    body("1e309"),
    body("0.1", "-1, 300"),
    body("0.1", "1.5, 300"),
    body("0.1", '"16", 300'),
    body("0.1", "9007199254740992, 300"),
    body("0.1", "16, null"),
    '{"usage":{"completion_tokens":1}}',
    '{"usage":null}',
    '{"usage":[16,300]}',
    '{"choices":[]}',
    '{"usage":{"prompt_tokens":1,"completion_tokens":1}',
    "",
    "null",
    "[]",
    '"usage"',
    "not json",
    "[".repeat(100_000) + "]".repeat(100_000),
  ];
  for (const text of bad) {
    assert.equal(parseCompletionUsage(text), null, text.slice(0, 80));
  }
});

Deno.test("parseCompletionUsage accepts zero and large safe token counts", () => {
  assert.deepEqual(
    parseCompletionUsage(body("0.5", "0, 9007199254740991")),
    {
      promptTokens: 0,
      completionTokens: 9007199254740991,
      costNano: 500_000_000n,
    },
  );
});

Deno.test("parseJsonExactCost keeps cost as source text and nothing else", () => {
  const text =
    '{"usage":{"cost":1.50e-7,"total_tokens":12,"cost_details":{"upstream_inference_cost":0.25}},' +
    '"items":[{"cost":0.10},{"cost":"0.2"},{"cost":null}]}';
  const parsed = parseJsonExactCost(text);
  assert.ok(isRecord(parsed) && isRecord(parsed.usage));
  assert.equal(parsed.usage.total_tokens, 12);
  assert.deepEqual(parsed.usage.cost_details, {
    upstream_inference_cost: 0.25,
  });
  // The raw-JSON objects serialise as their source, so the text survives a round trip.
  assert.equal(JSON.stringify(parsed), text);
  assert.throws(() => parseJsonExactCost("{"), SyntaxError);
});

Deno.test("parseJsonExactCost reads every cost written alike, and never text inside strings", () => {
  const text =
    '{"note":"a \\"cost\\": 9 in prose","usage":{"cost" :\n0.000012345678901234567},' +
    '"choices":[{"cost":0.000012345678901234567}]}';
  const parsed = parseJsonExactCost(text);
  assert.ok(isRecord(parsed) && isRecord(parsed.usage));
  assert.equal(parsed.note, 'a "cost": 9 in prose');
  assert.equal(JSON.stringify(parsed), text.replace(" :\n", ":"));
  assert.equal(
    usageFrom({ prompt_tokens: 1, completion_tokens: 1, ...parsed.usage })
      ?.costNano,
    12_346n,
  );
  assert.equal(
    JSON.stringify(parseJsonExactCost('{"a":[1,{"b":2}]}')),
    '{"a":[1,{"b":2}]}',
  );
});

Deno.test("usageFrom refuses a cost that went through a float", () => {
  const floatParsed = JSON.parse(body("0.0000123"));
  assert.equal(usageFrom(floatParsed.usage), null);
  const exact = parseJsonExactCost(body("0.0000123"));
  assert.ok(isRecord(exact));
  assert.deepEqual(usageFrom(exact.usage), {
    promptTokens: 16,
    completionTokens: 300,
    costNano: 12300n,
  });
});

Deno.test("usageFrom returns null for hostile values without throwing", () => {
  const hostile: unknown[] = [
    undefined,
    null,
    0,
    "usage",
    [],
    [16, 300],
    {},
    { prompt_tokens: 1 },
    { prompt_tokens: 1, completion_tokens: Number.NaN },
    { prompt_tokens: 1, completion_tokens: Infinity },
    { prompt_tokens: 1n, completion_tokens: 1n },
    // A plain-number cost, as a float parse would leave it.
    { prompt_tokens: 1, completion_tokens: 1, cost: 0.5 },
    parseJsonExactCost(
      '{"__proto__":{"prompt_tokens":1,"completion_tokens":1}}',
    ),
  ];
  for (const value of hostile) {
    assert.equal(usageFrom(value), null, String(value));
  }
  // An object that merely looks like a raw-JSON marker is not one.
  assert.deepEqual(
    usageFrom({
      prompt_tokens: 1,
      completion_tokens: 1,
      cost: { rawJSON: "5" },
    }),
    { promptTokens: 1, completionTokens: 1, costNano: null },
  );
});

Deno.test("isRecord tells JSON objects from everything else", () => {
  assert.equal(isRecord({}), true);
  assert.equal(isRecord(Object.create(null)), true);
  for (const value of [null, undefined, [], "x", 1, true]) {
    assert.equal(isRecord(value), false, String(value));
  }
});
