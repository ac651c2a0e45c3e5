/**
 * `POST /chat/completions` after authentication: validation, the key's limit,
 * fault switches, and the deterministic completion, streamed or not.
 */
import { type CatalogueModel, findModel } from "./catalogue.ts";
import {
  countPromptTokens,
  naturalLength,
  requestSeed,
  tokenAt,
} from "./completion.ts";
import { delay } from "./delay.ts";
import { openRouterError } from "./errors.ts";
import type { KeyStore, Outcome } from "./keys.ts";
import { costOf, usdJson } from "./money.ts";
import { loadReplay, type ReplayLine } from "./replay.ts";
import {
  type ChatRequest,
  parseChatRequest,
  type SandboxSwitches,
} from "./request.ts";
import { type SseOptions, type SseStep, sseStream } from "./sse.ts";

export interface ChatSettings {
  keys: KeyStore;
  fixturesDir: URL;
  latencyMs: number;
  chunkDelayMs: number;
}

/** Data events a mid-stream fault lets through when `afterChunks` is unset. */
const DEFAULT_AFTER_CHUNKS = 2;
const PROVIDER = "Sandbox";

export async function completeChat(
  settings: ChatSettings,
  key: string,
  body: unknown,
  /** The client's abort signal, read only when waiting: Deno warns once per
   * process when a request's signal is touched. */
  clientSignal: () => AbortSignal,
): Promise<Response> {
  const parsed = parseChatRequest(body);
  if ("error" in parsed) return openRouterError(400, parsed.error);
  const { request } = parsed;
  const model = findModel(request.model);
  if (!model) {
    return openRouterError(400, `${request.model} is not a valid model ID`);
  }
  const { keys } = settings;
  if (keys.exhausted(key)) {
    return openRouterError(
      402,
      "Key limit exceeded. Raise the key's credit limit to continue.",
    );
  }
  const switches = request.sandbox ?? {};
  const replay = switches.replay === undefined
    ? undefined
    : await loadReplay(settings.fixturesDir, switches.replay);
  if (switches.replay !== undefined && !replay) {
    return openRouterError(
      400,
      `sandbox.replay: no fixture ${switches.replay}`,
    );
  }

  keys.begin(key);
  const waitMs = switches.fault === "hang"
    ? Infinity
    : switches.latencyMs ?? settings.latencyMs;
  if (waitMs > 0 && !await delay(waitMs, clientSignal())) {
    keys.settle(key, "aborted", 0n);
    return openRouterError(408, "The client closed the request");
  }
  if (switches.fault === "error_before_first_byte") {
    keys.settle(key, "failed", 0n);
    return openRouterError(502, "Sandbox provider failed before responding", {
      provider_name: PROVIDER,
    });
  }
  if (switches.fault === "status_500") {
    keys.settle(key, "failed", 0n);
    return openRouterError(500, "Internal Server Error");
  }

  const created = Math.floor(Date.now() / 1000);
  let settled = false;
  const reply: Reply = {
    base: {
      id: `gen-${created}-${randomSuffix()}`,
      provider: PROVIDER,
      model: model.id,
      created,
    },
    framing: {
      lineEnding: switches.lineEnding ?? "lf",
      comments: switches.comments ?? false,
      splitBytes: switches.splitBytes,
      chunkDelayMs: switches.chunkDelayMs ?? settings.chunkDelayMs,
    },
    settle(outcome, costAtto) {
      if (settled) return;
      settled = true;
      keys.settle(key, outcome, costAtto);
    },
  };
  if (replay) return replayStream(replay, reply);
  const completion = plan(model, request);
  if (!request.stream) return completionJson(completion, reply);
  return completionStream(completion, reply, switches);
}

/** What every kind of reply shares. */
interface Reply {
  base: { id: string; provider: string; model: string; created: number };
  framing: Omit<SseOptions, "onCancel" | "onDrop">;
  /** Records how the request ended; only the first call counts. */
  settle(outcome: Outcome, costAtto: bigint): void;
}

function replayStream(lines: ReplayLine[], reply: Reply): Response {
  let charged = 0n;
  const steps: SseStep[] = lines.map((line) => ({
    data: line.text,
    onSent: () => charged += line.costAtto,
  }));
  steps.push({
    data: "[DONE]",
    onSent: () => reply.settle("completed", charged),
  });
  return eventStream(
    sseStream(steps.values(), {
      ...reply.framing,
      onCancel: () => reply.settle("aborted", charged),
    }),
    reply,
  );
}

function completionJson(completion: Completion, reply: Reply): Response {
  const content = Array.from(
    { length: completion.tokens },
    (_, i) => tokenAt(completion.seed, i),
  ).join("");
  reply.settle("completed", completion.cost(completion.tokens));
  return Response.json({
    ...reply.base,
    object: "chat.completion",
    choices: [{
      index: 0,
      message: { role: "assistant", content, refusal: null },
      logprobs: null,
      finish_reason: completion.finishReason,
      native_finish_reason: completion.finishReason,
    }],
    usage: usageJson(completion),
  }, { headers: { "x-generation-id": reply.base.id } });
}

function completionStream(
  completion: Completion,
  reply: Reply,
  switches: SandboxSwitches,
): Response {
  let emitted = 0;
  const settle = (outcome: Outcome) =>
    reply.settle(outcome, completion.cost(emitted));
  const chunk = (fields: object) =>
    JSON.stringify({
      ...reply.base,
      object: "chat.completion.chunk",
      ...fields,
    });
  const choice = (delta: object, finishReason: string | null) =>
    chunk({
      choices: [{
        index: 0,
        delta,
        finish_reason: finishReason,
        native_finish_reason: finishReason,
        logprobs: null,
      }],
    });

  function* generated(): Generator<SseStep> {
    yield {}; // OpenRouter opens every stream with a processing comment.
    yield { data: choice({ role: "assistant", content: "" }, null) };
    for (let i = 0; i < completion.tokens; i++) {
      yield {
        data: choice({ content: tokenAt(completion.seed, i) }, null),
        onSent: () => emitted++,
      };
    }
    yield { data: choice({}, completion.finishReason) };
    yield {
      data: chunk({ choices: [], usage: usageJson(completion) }),
      onSent: () => settle("completed"),
    };
    yield { data: "[DONE]" };
  }

  const fault = switches.fault;
  if (fault !== "drop_mid_stream" && fault !== "error_chunk") {
    return eventStream(
      sseStream(generated(), {
        ...reply.framing,
        onCancel: () => settle("aborted"),
      }),
      reply,
    );
  }
  // A mid-stream fault always strikes before the usage chunk: at most the
  // role chunk, the content chunks and the finish chunk get through.
  const dataBeforeFault = Math.min(
    switches.afterChunks ?? DEFAULT_AFTER_CHUNKS,
    completion.tokens + 2,
  );
  function* faulty(): Generator<SseStep> {
    let data = 0;
    for (const step of generated()) {
      if (step.data !== undefined && data++ === dataBeforeFault) break;
      yield step;
    }
    if (fault === "error_chunk") {
      // OpenRouter's mid-stream error: HTTP 200 is already sent, so the
      // error rides in a chunk that finishes the choice with "error".
      yield {
        data: chunk({
          error: {
            code: "server_error",
            message: "Sandbox provider disconnected unexpectedly",
          },
          choices: [{
            index: 0,
            delta: { content: "" },
            finish_reason: "error",
            native_finish_reason: "error",
            logprobs: null,
          }],
        }),
        onSent: () => settle("failed"),
      };
    }
  }
  return eventStream(
    sseStream(faulty(), {
      ...reply.framing,
      onCancel: () => settle("aborted"),
      onDrop: fault === "drop_mid_stream" ? () => settle("failed") : undefined,
    }),
    reply,
  );
}

interface Completion {
  seed: number;
  promptTokens: number;
  tokens: number;
  finishReason: "stop" | "length";
  /** Exact atto-USD for the prompt and `completionTokens` generated tokens. */
  cost(completionTokens: number): bigint;
}

function plan(model: CatalogueModel, request: ChatRequest): Completion {
  const seed = requestSeed(request.model, request.messages, request.tools);
  const natural = request.sandbox?.completionTokens ?? naturalLength(seed);
  // Both limits bind when a client (or a proxy) sends both.
  const limit = Math.min(
    request.max_tokens ?? Infinity,
    request.max_completion_tokens ?? Infinity,
  );
  const promptTokens = countPromptTokens(request.messages, request.tools);
  return {
    seed,
    promptTokens,
    tokens: Math.min(natural, limit),
    finishReason: natural > limit ? "length" : "stop",
    cost: (completionTokens) =>
      costOf(model.pricing, promptTokens, completionTokens),
  };
}

function usageJson(completion: Completion) {
  return {
    prompt_tokens: completion.promptTokens,
    completion_tokens: completion.tokens,
    total_tokens: completion.promptTokens + completion.tokens,
    cost: usdJson(completion.cost(completion.tokens)),
    is_byok: false,
    prompt_tokens_details: { cached_tokens: 0 },
    cost_details: { upstream_inference_cost: null },
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}

function eventStream(
  body: ReadableStream<Uint8Array>,
  reply: Reply,
): Response {
  return new Response(body, {
    headers: {
      "x-generation-id": reply.base.id,
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
    },
  });
}

function randomSuffix(): string {
  const alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  return Array.from(
    crypto.getRandomValues(new Uint8Array(20)),
    (byte) => alphabet[byte % alphabet.length],
  ).join("");
}
