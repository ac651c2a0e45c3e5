import assert from "node:assert/strict";
import OpenAI from "openai";
import { generateText, streamText } from "ai";
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { readLedgerView } from "../testing/ledger_probe.ts";
import { startTestService } from "../testing/test_service.ts";

Deno.test("the openai npm client works with only baseURL and a header changed", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const user = await service.connect(app.secretKey, "openai-user", 1);
  const client = new OpenAI({
    apiKey: app.secretKey,
    baseURL: `${service.url}/api/v1`,
    defaultHeaders: { "x-wattfare-user": user },
    maxRetries: 0,
  });

  const completion = await client.chat.completions.create({
    model: "openai/gpt-4o-mini",
    messages: [{ role: "user", content: "Say hello." }],
  });
  assert.equal(completion.object, "chat.completion");
  assert.ok(completion.choices[0].message.content!.length > 0);

  const stream = await client.chat.completions.create({
    model: "openai/gpt-4o-mini",
    messages: [{ role: "user", content: "Count to ten." }],
    stream: true,
  });
  let text = "";
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? "";
    usage = chunk.usage ?? usage;
  }
  assert.ok(text.length > 0);
  assert.ok(usage && usage.completion_tokens > 0);

  // Errors arrive as the client's typed APIError with our code.
  const stranger = new OpenAI({
    apiKey: app.secretKey,
    baseURL: `${service.url}/api/v1`,
    defaultHeaders: { "x-wattfare-user": "nobody" },
    maxRetries: 0,
  });
  await assert.rejects(
    stranger.chat.completions.create({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    }),
    (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 403);
      assert.equal(error.code, "not_connected");
      return true;
    },
  );

  await service.settled();
  const view = await readLedgerView(service, app.appId, user);
  assert.equal(view.entries.length, 2);
  assert.equal(view.entriesSum, view.spent);
  assert.equal(view.held, 0n);
});

Deno.test("the AI SDK's generateText and streamText work through the proxy", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const user = await service.connect(app.secretKey, "ai-sdk-user", 1);
  const provider = createOpenAICompatible({
    name: "wattfare",
    baseURL: `${service.url}/api/v1`,
    apiKey: app.secretKey,
    headers: { "x-wattfare-user": user },
    includeUsage: true,
  });

  const generated = await generateText({
    model: provider("anthropic/claude-sonnet-4"),
    prompt: "Write one sentence.",
  });
  assert.ok(generated.text.length > 0);
  assert.ok(generated.usage.outputTokens! > 0);

  const streamed = streamText({
    model: provider("openai/gpt-4o-mini"),
    prompt: "Write a short poem.",
  });
  let text = "";
  for await (const delta of streamed.textStream) text += delta;
  assert.ok(text.length > 0);
  assert.ok((await streamed.usage).outputTokens! > 0);

  await service.settled();
  const view = await readLedgerView(service, app.appId, user);
  assert.equal(view.entries.length, 2);
  assert.equal(view.entriesSum, view.spent);
  assert.deepEqual(
    view.entries.map((e) => e.completionTokens).sort(),
    [generated.usage.outputTokens, (await streamed.usage).outputTokens].sort(),
  );
});
