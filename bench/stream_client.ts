/**
 * The streaming load client, run as its own process by bench/main.ts:
 * `deno run -A bench/stream_client.ts SPEC_FILE`. It prints one JSON line.
 *
 * - `timing`: streams one at a time, alternating between targets, and records
 *   for each the time to response headers, to the first body byte, to the end,
 *   and every gap between body reads.
 * - `open`: opens `count` streams at once to one target and holds them open
 *   until they end; prints `{"allOpen":…}` once every stream has its first
 *   byte, then the totals.
 */
import { maximum, percentile } from "./stats.ts";

/** Where to send streams. */
export interface Target {
  name: string;
  url: string;
  /** Headers per stream, round robin (e.g. one user each). */
  headers: Record<string, string>[];
}

export type Spec =
  | { mode: "timing"; targets: Target[]; iterations: number; body: string }
  | { mode: "open"; target: Target; count: number; body: string };

/** One stream as the client saw it. */
export interface StreamTiming {
  ok: boolean;
  status: number;
  headersMs: number;
  firstByteMs: number;
  totalMs: number;
  /** Gaps between consecutive body reads, in ms. */
  gapsMs: number[];
  reads: number;
  bytes: number;
  /** Whether `data: [DONE]` and a `usage` object arrived. */
  complete: boolean;
  error?: string;
}

const decoder = new TextDecoder();

/** Runs one stream to its end. */
export async function timeStream(
  url: string,
  headers: Record<string, string>,
  body: string,
  onFirstByte?: () => void,
): Promise<StreamTiming> {
  const start = performance.now();
  const timing: StreamTiming = {
    ok: false,
    status: 0,
    headersMs: NaN,
    firstByteMs: NaN,
    totalMs: NaN,
    gapsMs: [],
    reads: 0,
    bytes: 0,
    complete: false,
  };
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
    timing.headersMs = performance.now() - start;
    timing.status = response.status;
    if (!response.ok || !response.body) {
      timing.error = (await response.text()).slice(0, 300);
      timing.totalMs = performance.now() - start;
      return timing;
    }
    let last = NaN;
    let tail = "";
    let sawDone = false;
    let sawUsage = false;
    for await (const chunk of response.body) {
      const now = performance.now();
      if (timing.reads === 0) {
        timing.firstByteMs = now - start;
        onFirstByte?.();
      } else {
        timing.gapsMs.push(now - last);
      }
      last = now;
      timing.reads++;
      timing.bytes += chunk.byteLength;
      // Look for the markers across read boundaries.
      const text = tail + decoder.decode(chunk, { stream: true });
      if (text.includes("data: [DONE]")) sawDone = true;
      if (text.includes('"usage":{')) sawUsage = true;
      tail = text.slice(-32);
    }
    timing.totalMs = performance.now() - start;
    timing.complete = sawDone && sawUsage;
    timing.ok = timing.complete;
    if (!timing.complete) timing.error = "stream ended without usage/[DONE]";
  } catch (error) {
    timing.totalMs = performance.now() - start;
    timing.error = error instanceof Error ? error.message : String(error);
  }
  if (timing.reads === 0) onFirstByte?.();
  return timing;
}

async function runTiming(spec: Extract<Spec, { mode: "timing" }>) {
  const results: Record<string, StreamTiming[]> = {};
  for (const target of spec.targets) results[target.name] = [];
  for (let i = 0; i < spec.iterations; i++) {
    // A, B, A, B…, starting with a different target every other round.
    const order = i % 2 === 0 ? spec.targets : [...spec.targets].reverse();
    for (const target of order) {
      results[target.name].push(
        await timeStream(
          target.url,
          target.headers[i % target.headers.length],
          spec.body,
        ),
      );
    }
  }
  return { mode: "timing", results };
}

async function runOpen(spec: Extract<Spec, { mode: "open" }>) {
  const { target, count } = spec;
  const start = performance.now();
  let opened = 0;
  let allOpenMs = NaN;
  const streams = Array.from(
    { length: count },
    (_, i) =>
      timeStream(
        target.url,
        target.headers[i % target.headers.length],
        spec.body,
        () => {
          if (++opened === count) {
            allOpenMs = performance.now() - start;
            console.log(JSON.stringify({ allOpen: true, allOpenMs }));
          }
        },
      ),
  );
  const timings = await Promise.all(streams);
  const failures = timings.filter((t) => !t.ok);
  const allGaps = timings.flatMap((t) => t.gapsMs);
  return {
    mode: "open",
    count,
    completed: timings.length - failures.length,
    failures: failures.length,
    firstError: failures[0]?.error ?? failures[0]?.status,
    allOpenMs,
    wallMs: performance.now() - start,
    firstByteMs: timings.map((t) => t.firstByteMs).filter(Number.isFinite),
    totalMs: timings.map((t) => t.totalMs).filter(Number.isFinite),
    gapsMs: {
      p50: percentile(allGaps, 50),
      p99: percentile(allGaps, 99),
      max: maximum(allGaps),
    },
  };
}

if (import.meta.main) {
  const spec = JSON.parse(await Deno.readTextFile(Deno.args[0])) as Spec;
  const result = spec.mode === "timing"
    ? await runTiming(spec)
    : await runOpen(spec);
  console.log(JSON.stringify({ result }));
}
