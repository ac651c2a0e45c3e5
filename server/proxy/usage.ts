/**
 * Exact reading of OpenAI/OpenRouter `usage` objects: token counts, and the
 * upstream's `cost` in USD taken from the JSON text itself rather than from
 * the double `JSON.parse` would make of it.
 *
 * @module
 */
import { parseUsd } from "../money.ts";

/** Tokens and cost of one completion, as the upstream reported them. */
export interface Usage {
  /** `usage.prompt_tokens`. */
  promptTokens: number;
  /** `usage.completion_tokens`. */
  completionTokens: number;
  /** `usage.cost` in nano-dollars, rounded up; null when the upstream sent no numeric cost. */
  costNano: bigint | null;
}

/** A JSON number kept as its source text: the standard `JSON.rawJSON` object. */
export interface RawJsonNumber {
  /** The number exactly as it was written in the JSON text. */
  readonly rawJSON: string;
}

/** What V8 passes a reviver as its third argument (TC39 "JSON.parse source text access"). */
interface ReviverContext {
  /** Source text of a primitive value; absent for objects and arrays. */
  source?: string;
}

// V8 (and so Deno) has JSON.rawJSON and JSON.isRawJSON; TypeScript's lib does not yet.
const json = JSON as JSON & {
  rawJSON(text: string): RawJsonNumber;
  isRawJSON(value: unknown): value is RawJsonNumber;
};

/**
 * `JSON.parse`, except that every number under a key named `cost` becomes a
 * {@link RawJsonNumber} holding its source text, so that {@link usageFrom}
 * reads it exactly; `JSON.stringify` writes such a value back byte for byte.
 *
 * @throws {SyntaxError} as `JSON.parse` does.
 */
export function parseJsonExactCost(text: string): unknown {
  // The reviver makes V8 call back into JS for every value; most texts can
  // take the native parse: when every numeric `cost` in the text is written
  // the same way, those digits are the cost wherever it is.
  const digits = costDigits(text);
  if (digits === null) return JSON.parse(text, exactCost);
  const parsed = JSON.parse(text);
  if (digits !== "") replaceCosts(parsed, json.rawJSON(digits));
  return parsed;
}

function exactCost(
  key: string,
  value: unknown,
  context?: ReviverContext,
): unknown {
  return key === "cost" && typeof value === "number" &&
      context?.source !== undefined
    ? json.rawJSON(context.source)
    : value;
}

// A member named `cost` with a number value. Quotes inside JSON strings are
// escaped, so this never matches text within a string.
const COST_MEMBER =
  /"cost"[ \t\n\r]*:[ \t\n\r]*(-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)/g;

/**
 * The source digits of every numeric `cost` in `text`: `""` when there is
 * none, the digits when all are written alike, `null` when they differ.
 */
function costDigits(text: string): string | null {
  if (!text.includes('"cost"')) return "";
  let digits = "";
  for (const match of text.matchAll(COST_MEMBER)) {
    if (digits !== "" && match[1] !== digits) return null;
    digits = match[1];
  }
  return digits;
}

/** Puts `cost` in place of every numeric member named `cost` in `value`. */
function replaceCosts(value: unknown, cost: RawJsonNumber): void {
  if (typeof value !== "object" || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) replaceCosts(item, cost);
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    if (key === "cost" && typeof record[key] === "number") {
      record[key] = cost;
    } else {
      replaceCosts(record[key], cost);
    }
  }
}

/**
 * Reads a `usage` object as {@link parseJsonExactCost} returns it. Returns
 * null for anything malformed rather than throwing: a missing, fractional,
 * negative or unsafe token count; a negative or out-of-range cost; or a cost
 * that is a plain number, which can only come from a float parse and so is
 * refused before it can reach the ledger. A cost of any other type (absent,
 * null, a string) gives `costNano: null`.
 */
export function usageFrom(value: unknown): Usage | null {
  if (!isRecord(value)) return null;
  const promptTokens = value.prompt_tokens;
  const completionTokens = value.completion_tokens;
  if (!isTokenCount(promptTokens) || !isTokenCount(completionTokens)) {
    return null;
  }
  const cost = value.cost;
  if (typeof cost === "number") return null;
  if (!json.isRawJSON(cost)) {
    return { promptTokens, completionTokens, costNano: null };
  }
  let costNano: bigint;
  try {
    costNano = parseUsd(cost.rawJSON, "up");
  } catch {
    return null; // a cost of 1e309 USD or more is not a cost
  }
  return costNano < 0n ? null : { promptTokens, completionTokens, costNano };
}

/**
 * The usage of a non-streamed chat completion response body; null when the
 * body is not JSON or carries no well-formed `usage`.
 */
export function parseCompletionUsage(bodyText: string): Usage | null {
  let body: unknown;
  try {
    body = parseJsonExactCost(bodyText);
  } catch {
    return null;
  }
  return isRecord(body) ? usageFrom(body.usage) : null;
}

/** Whether `value` is a JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isTokenCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) &&
    value >= 0;
}
