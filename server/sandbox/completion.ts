/**
 * Deterministic "inference": token counts and generated text depend only on
 * the request, so tests can predict every byte (except `id` and `created`).
 *
 * Token accounting, which Wattfare's hold bounds rely on:
 * - prompt_tokens = Σ over messages of (ceil(UTF-8 bytes of the message's
 *   text / 4) + 4), where a message's text is its string content, or the
 *   concatenated `text` of its content parts, followed by the `arguments` of
 *   its tool calls; plus ceil(UTF-8 bytes of JSON.stringify(tools) / 4) when
 *   `tools` is a non-empty array. So prompt_tokens ≤ bytes + 4 × messages
 *   (+ tool bytes).
 * - completion: each token is one short ASCII word with a leading space (at
 *   least 2 bytes), one token per stream chunk. The natural length is the
 *   `completionTokens` switch, else 12–40 chosen by a hash of the request.
 */

/** Tokens added per message for its role and framing. */
export const MESSAGE_OVERHEAD_TOKENS = 4;

/** The parts of a chat message that count as prompt text. */
export interface PromptMessage {
  content?: string | readonly { text?: string }[] | null;
  tool_calls?: readonly { function?: { arguments?: string } }[];
}

const encoder = new TextEncoder();

const WORDS = [
  "amber",
  "bright",
  "cedar",
  "delta",
  "ember",
  "field",
  "grove",
  "harbor",
  "iris",
  "juniper",
  "kelp",
  "lumen",
  "meadow",
  "north",
  "orbit",
  "pine",
  "quartz",
  "river",
  "stone",
  "tide",
  "umber",
  "valley",
  "willow",
  "xenon",
  "yarrow",
  "zephyr",
  "and",
  "of",
  "the",
  "to",
  "a",
  "in",
];

function tokensForBytes(text: string): number {
  return Math.ceil(encoder.encode(text).length / 4);
}

function messageText(message: PromptMessage): string {
  const content = typeof message.content === "string"
    ? message.content
    : (message.content ?? []).map((part) => part.text ?? "").join("");
  const toolArguments = (message.tool_calls ?? [])
    .map((call) => call.function?.arguments ?? "").join("");
  return content + toolArguments;
}

/** prompt_tokens for a request (see the module comment). */
export function countPromptTokens(
  messages: readonly PromptMessage[],
  tools?: readonly unknown[],
): number {
  let tokens = 0;
  for (const message of messages) {
    tokens += tokensForBytes(messageText(message)) + MESSAGE_OVERHEAD_TOKENS;
  }
  if (tools && tools.length > 0) {
    tokens += tokensForBytes(JSON.stringify(tools));
  }
  return tokens;
}

/** A 32-bit FNV-1a hash of the request's model, messages and tools. */
export function requestSeed(
  model: string,
  messages: readonly unknown[],
  tools?: readonly unknown[],
): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(JSON.stringify([model, messages, tools]))) {
    hash = Math.imul(hash ^ byte, 0x01000193);
  }
  return hash >>> 0;
}

/** The completion length a request gets when nothing else decides it. */
export function naturalLength(seed: number): number {
  return 12 + seed % 29;
}

/** The `index`-th completion token for `seed`: a space and a word. */
export function tokenAt(seed: number, index: number): string {
  return ` ${
    WORDS[mix(seed + Math.imul(index + 1, 0x9e3779b9)) % WORDS.length]
  }`;
}

// MurmurHash3's finalizer: spreads nearby inputs over all 32 bits.
function mix(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
