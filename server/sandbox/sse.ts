/**
 * Frames a sequence of events as a server-sent event stream, lazily: each
 * read of the body produces the next piece, so a slow or vanished client
 * stops generation and nothing is produced ahead of what was read.
 */
import { delay } from "./delay.ts";

export interface SseStep {
  /** The `data:` payload; a step without one is a `: OPENROUTER PROCESSING` comment. */
  data?: string;
  /** Runs once the step's last byte has been handed to the body. */
  onSent?: () => void;
}

export interface SseOptions {
  lineEnding: "lf" | "crlf";
  /** Precede every data event with a processing comment. */
  comments: boolean;
  /** Hand the body out in pieces of at most this many bytes. */
  splitBytes?: number;
  /** Pause before every data event but the first. */
  chunkDelayMs: number;
  /** After the last step, break the body (the client sees a cut connection)
   * instead of ending it cleanly; called just before. */
  onDrop?: () => void;
  /** The client went away before the end. */
  onCancel: () => void;
}

const COMMENT = ": OPENROUTER PROCESSING";
const encoder = new TextEncoder();

export function sseStream(
  steps: Iterator<SseStep>,
  options: SseOptions,
): ReadableStream<Uint8Array> {
  const eol = options.lineEnding === "crlf" ? "\r\n" : "\n";
  const cancelled = new AbortController();
  const pieces: Uint8Array[] = [];
  let pendingOnSent: (() => void) | undefined;
  let sentData = false;

  const split = (text: string): Uint8Array[] => {
    const bytes = encoder.encode(text);
    const size = options.splitBytes ?? bytes.length;
    const result: Uint8Array[] = [];
    for (let start = 0; start < bytes.length; start += size) {
      result.push(bytes.subarray(start, start + size));
    }
    return result;
  };

  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (pieces.length === 0) {
        const next = steps.next();
        if (next.done) {
          if (options.onDrop) {
            options.onDrop();
            controller.error(
              new Error(
                "sandbox fault drop_mid_stream: connection cut on purpose",
              ),
            );
          } else {
            controller.close();
          }
          return;
        }
        const step = next.value;
        if (step.data !== undefined) {
          if (
            sentData && !await delay(options.chunkDelayMs, cancelled.signal)
          ) {
            return;
          }
          sentData = true;
          if (options.comments) pieces.push(...split(`${COMMENT}${eol}${eol}`));
          pieces.push(...split(`data: ${step.data}${eol}${eol}`));
        } else {
          pieces.push(...split(`${COMMENT}${eol}${eol}`));
        }
        pendingOnSent = step.onSent;
      }
      controller.enqueue(pieces.shift()!);
      if (pieces.length === 0) pendingOnSent?.();
    },
    cancel() {
      cancelled.abort();
      options.onCancel();
    },
  }, { highWaterMark: 0 });
}
