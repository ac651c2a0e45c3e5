/**
 * Recorded streams (`<name>.chunks.txt`: one JSON chunk per line, the `data:`
 * payloads in order) replayed verbatim through the sandbox.
 */
import { parseUsd } from "./money.ts";

export interface ReplayLine {
  text: string;
  /** Exact atto-USD of the line's `usage.cost`; 0 when it has none. */
  costAtto: bigint;
}

/** The fixture's lines, or undefined if there is no such fixture. */
export async function loadReplay(
  fixturesDir: URL,
  name: string,
): Promise<ReplayLine[] | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(new URL(`${name}.chunks.txt`, fixturesDir));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const lines = text.split(/\r?\n/);
  if (lines.at(-1) === "") lines.pop();
  return lines.map((line) => ({ text: line, costAtto: recordedCost(line) }));
}

type SourceReviver = (
  this: unknown,
  key: string,
  value: unknown,
  context: { source?: string },
) => unknown;
// V8 passes revivers the source text of primitives (TC39 "JSON.parse source
// text access"); TypeScript's lib does not declare that argument yet.
const parseWithSource = JSON.parse as (
  text: string,
  reviver: SourceReviver,
) => unknown;

/** `usage.cost` read exactly from the JSON text (never through a float). */
function recordedCost(line: string): bigint {
  const costTexts = new Map<unknown, string>();
  let chunk: unknown;
  try {
    chunk = parseWithSource(line, function (key, value, context) {
      if (key === "cost" && typeof value === "number" && context.source) {
        costTexts.set(this, context.source);
      }
      return value;
    });
  } catch {
    return 0n; // Not JSON: replayed verbatim all the same.
  }
  const usage = (chunk as { usage?: unknown } | null)?.usage;
  const cost = costTexts.get(usage);
  return cost === undefined ? 0n : parseUsd(cost);
}
