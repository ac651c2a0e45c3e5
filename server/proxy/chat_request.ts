import { z } from "zod";

/**
 * The parts of an OpenAI chat request the proxy reads. Everything else passes
 * to the upstream untouched.
 */
export const chatRequestSchema = z.looseObject({
  model: z.string().min(1).max(200),
  messages: z.array(z.looseObject({ role: z.string().min(1).max(64) })).min(1)
    .max(10_000),
  stream: z.boolean().nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  n: z.literal(1, {
    error: "only n = 1 is supported: each choice would be billed separately",
  }).nullish(),
});

/** A validated chat request body. */
export type ChatRequest = z.infer<typeof chatRequestSchema>;

/** Tokens every message may cost beyond its text (role markers and framing). */
export const MESSAGE_OVERHEAD_TOKENS = 16;

const encoder = new TextEncoder();

/**
 * An upper bound of the request's prompt tokens: every token is at least one
 * byte, so the UTF-8 length of all text the model reads (messages, tools,
 * response format), plus a fixed overhead per message, bounds it.
 */
export function promptBoundTokens(request: ChatRequest): number {
  let bytes = stringBytes(request.messages) + stringBytes(request.tools) +
    stringBytes(request.tool_choice) + stringBytes(request.response_format) +
    stringBytes(request.functions);
  bytes += MESSAGE_OVERHEAD_TOKENS * (request.messages.length + 1);
  return bytes;
}

/** The completion limit the client asked for, if any. */
export function requestedMaxTokens(request: ChatRequest): number | undefined {
  const asked = [request.max_tokens, request.max_completion_tokens].filter(
    (n): n is number => typeof n === "number",
  );
  return asked.length ? Math.min(...asked) : undefined;
}

/**
 * UTF-8 bytes of every string (keys included) inside `value`. Walked with an
 * explicit stack: a client's JSON may nest deeper than the call stack.
 */
function stringBytes(value: unknown): number {
  let sum = 0;
  const pending: unknown[] = [value];
  while (pending.length) {
    const item = pending.pop();
    if (typeof item === "string") {
      sum += encoder.encode(item).length;
    } else if (Array.isArray(item)) {
      pending.push(...item);
    } else if (item && typeof item === "object") {
      for (const [key, child] of Object.entries(item)) {
        sum += encoder.encode(key).length;
        pending.push(child);
      }
    }
  }
  return sum;
}
