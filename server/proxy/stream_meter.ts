/**
 * The streaming meter: passes an upstream SSE body to the client byte for
 * byte while watching a decoded view of it for the final `usage`, the amount
 * of output generated so far, `[DONE]` and error chunks.
 *
 * @module
 */
import { createParser } from "eventsource-parser";
import {
  isRecord,
  parseJsonExactCost,
  type Usage,
  usageFrom,
} from "./usage.ts";

/** What a meter has seen of its stream so far. */
export interface MeterSnapshot {
  /** The last non-null, well-formed `usage` of any data event. */
  usage: Usage | null;
  /**
   * UTF-8 bytes of generated output in deltas: content, reasoning,
   * reasoning_content, refusal, and tool call names and arguments.
   */
  generatedBytes: number;
  /** Raw bytes passed through. */
  bytesSeen: number;
  /** Whether `data: [DONE]` was seen. */
  done: boolean;
  /** Whether a chunk carried an `error` or a choice finished with `"error"`. */
  errored: boolean;
}

/** A running reading of a stream's bytes, fed directly or through `stream`. */
export interface StreamMeter {
  /**
   * Pass-through: every input chunk is enqueued unchanged, immediately, same
   * Uint8Array boundaries. Created on first use; use it or `feed`, not both.
   */
  readonly stream: TransformStream<Uint8Array, Uint8Array>;
  /** Looks at the next chunk of the stream (the caller passes it on). */
  feed(chunk: Uint8Array): void;
  /** The stream ended cleanly: ends an event left without its blank line. */
  end(): void;
  /** What has been seen so far (callable at any time, also after cancel/error). */
  snapshot(): MeterSnapshot;
}

const encoder = new TextEncoder();

/**
 * Creates a meter for one OpenAI-compatible SSE response body. Metering never
 * alters, delays or breaks the client's stream: each chunk is enqueued before
 * it is looked at, and malformed events are skipped.
 */
export function createStreamMeter(): StreamMeter {
  const seen: MeterSnapshot = {
    usage: null,
    generatedBytes: 0,
    bytesSeen: 0,
    done: false,
    errored: false,
  };
  // Streaming decode keeps a character split across chunks whole.
  const decoder = new TextDecoder();
  const parser = createParser({
    onEvent: (event) => meterEvent(seen, event.data),
  });
  const feed = (chunk: Uint8Array) => {
    seen.bytesSeen += chunk.byteLength;
    parser.feed(decoder.decode(chunk, { stream: true }));
  };
  // An upstream that closes without the last blank line still reported
  // what it sent; end that event so a final usage in it counts.
  const end = () => parser.feed(`${decoder.decode()}\n\n`);
  let stream: TransformStream<Uint8Array, Uint8Array> | undefined;
  return {
    get stream() {
      return stream ??= new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          controller.enqueue(chunk);
          feed(chunk);
        },
        flush: end,
      });
    },
    feed,
    end,
    snapshot: () => ({ ...seen }),
  };
}

/** Updates `seen` with one SSE data payload. */
function meterEvent(seen: MeterSnapshot, data: string): void {
  if (data === "[DONE]") {
    seen.done = true;
    return;
  }
  let chunk: unknown;
  try {
    chunk = parseJsonExactCost(data);
  } catch {
    return; // not JSON: the client sees it as it is, the meter skips it
  }
  if (!isRecord(chunk)) return;
  const usage = usageFrom(chunk.usage);
  if (usage !== null) seen.usage = usage;
  if (chunk.error !== undefined && chunk.error !== null) seen.errored = true;
  if (!Array.isArray(chunk.choices)) return;
  for (const choice of chunk.choices) {
    if (!isRecord(choice)) continue;
    if (choice.finish_reason === "error") seen.errored = true;
    if (isRecord(choice.delta)) {
      seen.generatedBytes += deltaBytes(choice.delta);
    }
  }
}

/** UTF-8 bytes of the generated text in one choice's delta. */
function deltaBytes(delta: Record<string, unknown>): number {
  let bytes = utf8Length(delta.content) + utf8Length(delta.reasoning) +
    utf8Length(delta.reasoning_content) + utf8Length(delta.refusal);
  if (Array.isArray(delta.tool_calls)) {
    for (const call of delta.tool_calls) {
      if (isRecord(call) && isRecord(call.function)) {
        bytes += utf8Length(call.function.name) +
          utf8Length(call.function.arguments);
      }
    }
  }
  return bytes;
}

function utf8Length(value: unknown): number {
  return typeof value === "string" ? encoder.encode(value).byteLength : 0;
}
