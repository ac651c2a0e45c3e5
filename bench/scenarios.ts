/**
 * The benchmark's scenarios. Each runs its load from a separate process
 * (wrk, or bench/stream_client.ts) and pairs every figure through Wattfare
 * with the same figure taken directly against the sandbox, alternating.
 */
import {
  cpuMsOf,
  type LineProcess,
  memoryOf,
  sampleRss,
  spawnLines,
  threadCpuMsOf,
} from "./processes.ts";
import {
  addBuckets,
  type Histogram,
  histogramPercentile,
  maximum,
  median,
  percentile,
} from "./stats.ts";
import type { Spec, StreamTiming, Target } from "./stream_client.ts";
import { type Plan, runWrk, writePlan } from "./wrk.ts";

/** How long and how hard to run. */
export interface Profile {
  name: "quick" | "full";
  /** Rounds of [direct, 1,000 users, hot user] per connection count. */
  rounds: number;
  /** Seconds per wrk run. */
  seconds: number;
  warmupSeconds: number;
  /** Streams per target in the streaming scenario. */
  streamIterations: number;
  open: { count: number; chunkDelayMs: number; completionTokens: number };
  /** Seconds per wrk run of the KV-counting pass; streams in it; its cases. */
  kvSeconds: number;
  kvStreams: number;
  kvCases: KvCase[];
}

export const PROFILES: Record<"quick" | "full", Profile> = {
  full: {
    name: "full",
    rounds: 3,
    seconds: 5,
    warmupSeconds: 2,
    streamIterations: 30,
    open: { count: 1000, chunkDelayMs: 100, completionTokens: 100 },
    kvSeconds: 2,
    kvStreams: 10,
    kvCases: ["spread-c1", "spread-c32", "hot-c1", "hot-c32", "stream"],
  },
  quick: {
    name: "quick",
    rounds: 1,
    seconds: 1,
    warmupSeconds: 1,
    streamIterations: 6,
    open: { count: 1000, chunkDelayMs: 100, completionTokens: 10 },
    kvSeconds: 1,
    kvStreams: 4,
    kvCases: ["spread-c32", "hot-c32", "stream"],
  },
};

export const CONNECTIONS = [1, 32] as const;
export const MODEL = "openai/gpt-4o-mini";
export const PATH = "/api/v1/chat/completions";

/** The small non-stream body of the throughput scenarios. */
export const NON_STREAM_BODY = JSON.stringify({
  model: MODEL,
  messages: [{ role: "user", content: "hi" }],
  max_tokens: 16,
});

/** A streamed body whose chunks the sandbox spaces `chunkDelayMs` apart. */
export function streamBody(chunkDelayMs: number, completionTokens: number) {
  return JSON.stringify({
    model: MODEL,
    messages: [{ role: "user", content: "hi" }],
    max_tokens: completionTokens,
    stream: true,
    sandbox: { chunkDelayMs, completionTokens },
  });
}

/** The running processes and credentials every scenario uses. */
export interface Rig {
  tmp: string;
  /** The sandbox's origin (`http://127.0.0.1:PORT`) and process. */
  sandboxOrigin: string;
  sandbox: LineProcess;
  serviceOrigin: string;
  service: LineProcess;
  secretKey: string;
  users: string[];
  hotUser: string;
  log(message: string): void;
}

/** The three kinds of non-stream load. */
export type Variant = "direct" | "spread" | "hot";
export const VARIANTS: Variant[] = ["direct", "spread", "hot"];

/** Latency and throughput of one variant at one connection count. */
export interface LoadFigure {
  requests: number;
  seconds: number;
  errors: number;
  rps: number;
  /** req/s of each round, in order. */
  rpsRounds: number[];
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU time per request of the sandbox and of the service (µs). */
  sandboxCpuUsPerRequest: number | null;
  serviceCpuUsPerRequest: number | null;
  /** The service's CPU per request by thread (µs): main, KV worker, other. */
  serviceThreadsUsPerRequest:
    | { main: number; kv: number; other: number }
    | null;
  /** The service's CPU use during the runs, in % of one core: all threads, main thread. */
  serviceCpuPercent: number | null;
  serviceMainThreadPercent: number | null;
  /**
   * Ledger commit retries per proxied request, from the service's own
   * `wattfare_kv_commit_retries_total` (GET /metrics); null when the service
   * has no /metrics.
   */
  retriesPerRequest: number | null;
}

/** Direct credentials: one sandbox key per would-be user, like connections have. */
export function directLines(count: number): [string, string][] {
  return Array.from(
    { length: count },
    (_, i) => [`Bearer sk-or-v1-bench-direct-${i}`, ""],
  );
}

/** wrk plan files of the three variants. */
export async function writePlans(
  rig: Rig,
): Promise<Record<Variant, { origin: string; file: string }>> {
  const plan = (lines: [string, string][]): Plan => ({
    origin: "",
    path: PATH,
    body: NON_STREAM_BODY,
    lines,
  });
  const auth = `Bearer ${rig.secretKey}`;
  return {
    direct: {
      origin: rig.sandboxOrigin,
      file: await writePlan(rig.tmp, "direct", plan(directLines(1000))),
    },
    spread: {
      origin: rig.serviceOrigin,
      file: await writePlan(
        rig.tmp,
        "spread",
        plan(rig.users.map((user) => [auth, user])),
      ),
    },
    hot: {
      origin: rig.serviceOrigin,
      file: await writePlan(rig.tmp, "hot", plan([[auth, rig.hotUser]])),
    },
  };
}

/** The service's own counters (GET /metrics), or null if it has none. */
export async function serviceCounters(
  origin: string,
): Promise<{ retries: number; chatRequests: number } | null> {
  const response = await fetch(`${origin}/metrics`);
  if (!response.ok) {
    await response.body?.cancel();
    return null;
  }
  const text = await response.text();
  let retries = 0;
  let chatRequests = 0;
  for (const line of text.split("\n")) {
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (line.startsWith("wattfare_kv_commit_retries_total")) retries += value;
    if (
      line.startsWith("wattfare_http_requests_total") &&
      line.includes(`route="${PATH}"`)
    ) chatRequests += value;
  }
  return { retries, chatRequests };
}

/**
 * Scenarios 1 and 2: non-stream load at 1 and 32 connections, direct vs
 * 1,000 users vs one hot user, in rounds ordered ABC, CBA, ABC… so drift on
 * a noisy machine falls on every variant alike.
 */
export async function throughput(
  rig: Rig,
  profile: Profile,
): Promise<Record<number, Record<Variant, LoadFigure>>> {
  const plans = await writePlans(rig);
  rig.log("non-stream: warm-up");
  for (const variant of VARIANTS) {
    await runWrk(
      plans[variant].origin,
      plans[variant].file,
      32,
      profile.warmupSeconds,
    );
  }
  const figures: Record<number, Record<Variant, LoadFigure>> = {};
  for (const connections of CONNECTIONS) {
    const acc = Object.fromEntries(
      VARIANTS.map((v) => [v, {
        requests: 0,
        seconds: 0,
        errors: 0,
        rpsRounds: [] as number[],
        histogram: new Map() as Histogram,
        sandboxCpuMs: 0,
        serviceCpuMs: 0,
        threads: { main: 0, kv: 0, other: 0 },
        retries: 0,
        chatRequests: 0,
        counted: true,
      }]),
    ) as Record<Variant, {
      requests: number;
      seconds: number;
      errors: number;
      rpsRounds: number[];
      histogram: Histogram;
      sandboxCpuMs: number;
      serviceCpuMs: number;
      threads: { main: number; kv: number; other: number };
      retries: number;
      chatRequests: number;
      counted: boolean;
    }>;
    for (let round = 0; round < profile.rounds; round++) {
      const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
      for (const variant of order) {
        rig.log(
          `non-stream, ${connections} connection(s): round ${
            round + 1
          }/${profile.rounds}, ${variant}`,
        );
        const through = variant !== "direct";
        const countersBefore = through
          ? await serviceCounters(rig.serviceOrigin)
          : null;
        const sandboxCpu = cpuMsOf(rig.sandbox.pid) ?? NaN;
        const serviceCpu = threadCpuMsOf(rig.service.pid);
        const result = await runWrk(
          plans[variant].origin,
          plans[variant].file,
          connections,
          profile.seconds,
        );
        const a = acc[variant];
        a.sandboxCpuMs += (cpuMsOf(rig.sandbox.pid) ?? NaN) - sandboxCpu;
        const serviceCpuAfter = threadCpuMsOf(rig.service.pid);
        if (serviceCpu && serviceCpuAfter) {
          a.serviceCpuMs += serviceCpuAfter.total - serviceCpu.total;
          a.threads.main += serviceCpuAfter.main - serviceCpu.main;
          a.threads.kv += serviceCpuAfter.kv - serviceCpu.kv;
          a.threads.other += serviceCpuAfter.other - serviceCpu.other;
        } else {
          a.serviceCpuMs = NaN;
        }
        if (through) {
          const after = await serviceCounters(rig.serviceOrigin);
          if (countersBefore && after) {
            a.retries += after.retries - countersBefore.retries;
            a.chatRequests += after.chatRequests - countersBefore.chatRequests;
          } else {
            a.counted = false;
          }
        }
        a.requests += result.requests;
        a.seconds += result.durationS;
        a.errors += result.errors;
        a.rpsRounds.push(result.requests / result.durationS);
        addBuckets(a.histogram, [...result.latencyUs]);
      }
    }
    figures[connections] = Object.fromEntries(
      VARIANTS.map((v) => {
        const a = acc[v];
        const ms = (p: number) => histogramPercentile(a.histogram, p) / 1000;
        const through = v !== "direct";
        const finite = (x: number) => Number.isFinite(x) ? x : null;
        return [
          v,
          {
            requests: a.requests,
            seconds: a.seconds,
            errors: a.errors,
            rps: a.requests / a.seconds,
            rpsRounds: a.rpsRounds,
            p50Ms: ms(50),
            p90Ms: ms(90),
            p99Ms: ms(99),
            maxMs: ms(100),
            sandboxCpuUsPerRequest: finite(a.sandboxCpuMs * 1000 / a.requests),
            serviceCpuUsPerRequest: through
              ? finite(a.serviceCpuMs * 1000 / a.requests)
              : null,
            serviceThreadsUsPerRequest:
              through && Number.isFinite(a.serviceCpuMs)
                ? {
                  main: a.threads.main * 1000 / a.requests,
                  kv: a.threads.kv * 1000 / a.requests,
                  other: a.threads.other * 1000 / a.requests,
                }
                : null,
            serviceCpuPercent: through
              ? finite(a.serviceCpuMs / 10 / a.seconds)
              : null,
            serviceMainThreadPercent: through
              ? finite(a.threads.main / 10 / a.seconds)
              : null,
            retriesPerRequest: through && a.counted && a.chatRequests > 0
              ? a.retries / a.chatRequests
              : null,
          } satisfies LoadFigure,
        ];
      }),
    ) as Record<Variant, LoadFigure>;
  }
  return figures;
}

/** Runs bench/stream_client.ts (its own process) with `spec`. */
async function streamClient<T>(rig: Rig, name: string, spec: Spec): Promise<T> {
  const file = `${rig.tmp}/${name}.json`;
  await Deno.writeTextFile(file, JSON.stringify(spec));
  const client = spawnLines(Deno.execPath(), [
    "run",
    "-A",
    "bench/stream_client.ts",
    file,
  ], {});
  try {
    const line = await client.waitForLine(
      (l) => l.startsWith('{"result"'),
      600_000,
    );
    return (JSON.parse(line) as { result: T }).result;
  } finally {
    await client.stop();
  }
}

function targets(rig: Rig, users: string[]): Record<Variant, Target> {
  return {
    direct: {
      name: "direct",
      url: `${rig.sandboxOrigin}${PATH}`,
      headers: directLines(users.length).map(([authorization]) => ({
        authorization,
      })),
    },
    spread: {
      name: "wattfare",
      url: `${rig.serviceOrigin}${PATH}`,
      headers: users.map((user) => ({
        authorization: `Bearer ${rig.secretKey}`,
        "x-wattfare-user": user,
      })),
    },
    hot: {
      name: "wattfare-hot",
      url: `${rig.serviceOrigin}${PATH}`,
      headers: [{
        authorization: `Bearer ${rig.secretKey}`,
        "x-wattfare-user": rig.hotUser,
      }],
    },
  };
}

/** Streamed timings of one path. */
export interface StreamFigure {
  streams: number;
  complete: number;
  headersP50Ms: number;
  firstByteP50Ms: number;
  firstByteP99Ms: number;
  totalP50Ms: number;
  totalP99Ms: number;
  gapP50Ms: number;
  gapP99Ms: number;
  gapMaxMs: number;
  readsPerStream: number;
}

export const STREAM_TIMING = { chunkDelayMs: 5, completionTokens: 50 };

/** Scenario 3: one stream at a time, direct and through alternating. */
export async function streamTimings(
  rig: Rig,
  profile: Profile,
): Promise<
  { direct: StreamFigure; wattfare: StreamFigure; warm: StreamFigure }
> {
  rig.log(
    `streams: ${profile.streamIterations} per path, alternating direct/through`,
  );
  const t = targets(rig, rig.users);
  const { results } = await streamClient<
    { results: Record<string, StreamTiming[]> }
  >(rig, "stream-timing", {
    mode: "timing",
    targets: [t.direct, t.spread, t.hot],
    iterations: profile.streamIterations,
    body: streamBody(
      STREAM_TIMING.chunkDelayMs,
      STREAM_TIMING.completionTokens,
    ),
  });
  const figure = (timings: StreamTiming[]): StreamFigure => {
    const gaps = timings.flatMap((s) => s.gapsMs);
    const ttfb = timings.map((s) => s.firstByteMs).filter(Number.isFinite);
    const total = timings.map((s) => s.totalMs);
    return {
      streams: timings.length,
      complete: timings.filter((s) => s.complete).length,
      headersP50Ms: median(timings.map((s) => s.headersMs)),
      firstByteP50Ms: median(ttfb),
      firstByteP99Ms: percentile(ttfb, 99),
      totalP50Ms: median(total),
      totalP99Ms: percentile(total, 99),
      gapP50Ms: percentile(gaps, 50),
      gapP99Ms: percentile(gaps, 99),
      gapMaxMs: maximum(gaps),
      readsPerStream: median(timings.map((s) => s.reads)),
    };
  };
  return {
    direct: figure(results.direct),
    wattfare: figure(results.wattfare),
    warm: figure(results["wattfare-hot"]),
  };
}

/** Many streams open at once against one path. */
export interface OpenFigure {
  count: number;
  completed: number;
  failures: number;
  firstError?: unknown;
  allOpenMs: number;
  firstByteP50Ms: number;
  firstByteP99Ms: number;
  totalP50Ms: number;
  totalMaxMs: number;
  gapP99Ms: number;
  /** Peak RSS (sampled VmRSS) of the service during the run; null for direct. */
  servicePeakRssMB: number | null;
  /** Sampled peak RSS of the sandbox during the run (null off Linux). */
  sandboxPeakRssMB: number | null;
}

interface OpenResult {
  count: number;
  completed: number;
  failures: number;
  firstError?: unknown;
  allOpenMs: number;
  firstByteMs: number[];
  totalMs: number[];
  gapsMs: { p50: number; p99: number; max: number };
}

const MB = 1e6;

/** Scenario 4: `count` slow streams open at once, direct then through. */
export async function openStreams(rig: Rig, profile: Profile): Promise<{
  direct: OpenFigure;
  wattfare: OpenFigure;
  serviceIdleRssMB: number;
  serviceHwmMB: number;
}> {
  const { count, chunkDelayMs, completionTokens } = profile.open;
  const users = rig.users.slice(0, count);
  const t = targets(rig, users);
  const body = streamBody(chunkDelayMs, completionTokens);
  const serviceIdleRssMB = (memoryOf(rig.service.pid)?.rss ?? NaN) / MB;
  const figures: Record<string, OpenFigure> = {};
  for (const variant of ["direct", "spread"] as const) {
    rig.log(
      `${count} open streams, ${variant === "direct" ? "direct" : "through"} (${
        (chunkDelayMs * completionTokens / 1000).toFixed(0)
      } s each)`,
    );
    const serviceRss = variant === "direct" ? null : sampleRss(rig.service.pid);
    const sandboxRss = sampleRss(rig.sandbox.pid);
    const result = await streamClient<OpenResult>(rig, `open-${variant}`, {
      mode: "open",
      target: t[variant],
      count,
      body,
    });
    const service = serviceRss?.stop();
    const sandbox = sandboxRss.stop();
    figures[variant] = {
      count: result.count,
      completed: result.completed,
      failures: result.failures,
      firstError: result.firstError,
      allOpenMs: result.allOpenMs,
      firstByteP50Ms: median(result.firstByteMs),
      firstByteP99Ms: percentile(result.firstByteMs, 99),
      totalP50Ms: median(result.totalMs),
      totalMaxMs: maximum(result.totalMs),
      gapP99Ms: result.gapsMs.p99,
      servicePeakRssMB: service?.samples ? service.peakRss / MB : null,
      sandboxPeakRssMB: sandbox.samples ? sandbox.peakRss / MB : null,
    };
  }
  return {
    direct: figures.direct,
    wattfare: figures.spread,
    serviceIdleRssMB,
    serviceHwmMB: (memoryOf(rig.service.pid)?.hwm ?? NaN) / MB,
  };
}

/** KV calls per request, measured by bench/kv_probe.ts. */
export interface KvFigure {
  requests: number;
  get: number;
  getManyKeys: number;
  commits: number;
  retries: number;
  checks: number;
  mutations: number;
  enqueues: number;
  directWrites: number;
}

export type KvCase =
  | "spread-c1"
  | "spread-c32"
  | "hot-c1"
  | "hot-c32"
  | "stream";

async function kvCounters(service: LineProcess) {
  const from = service.lineCount;
  service.process.kill("SIGUSR1");
  const line = await service.waitForLine(
    (l) => l.includes('"msg":"kv_probe"'),
    10_000,
    from,
  );
  return (JSON.parse(line) as { counters: Record<string, number> }).counters;
}

/**
 * Scenario 5: KV calls per request. `rig.service` must be bench/kv_probe.ts
 * (the service with its KV calls counted); load is as in scenarios 1–3.
 */
export async function kvOperations(
  rig: Rig,
  profile: Profile,
): Promise<Partial<Record<KvCase, KvFigure>>> {
  const plans = await writePlans(rig);
  const t = targets(rig, rig.users);
  const figures: Partial<Record<KvCase, KvFigure>> = {};
  const measure = async (
    name: KvCase,
    load: () => Promise<number>,
  ) => {
    rig.log(`KV operations: ${name}`);
    const before = await kvCounters(rig.service);
    const requests = await load();
    // Let requests cut off at the end of a wrk run finish their commits.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = await kvCounters(rig.service);
    const per = (key: string) => (after[key] - before[key]) / requests;
    figures[name] = {
      requests,
      get: per("get"),
      getManyKeys: per("getManyKeys"),
      commits: per("commitsOk"),
      retries: per("commitsFailed"),
      checks: per("checks"),
      mutations: per("mutations"),
      enqueues: per("enqueues"),
      directWrites: per("directWrites"),
    };
  };
  const wrkLoad = (variant: Variant, connections: number) => async () => {
    const result = await runWrk(
      plans[variant].origin,
      plans[variant].file,
      connections,
      profile.kvSeconds,
    );
    return result.requests - result.errors;
  };
  const loads: Record<KvCase, () => Promise<number>> = {
    "spread-c1": wrkLoad("spread", 1),
    "spread-c32": wrkLoad("spread", 32),
    "hot-c1": wrkLoad("hot", 1),
    "hot-c32": wrkLoad("hot", 32),
    stream: async () => {
      const { results } = await streamClient<
        { results: Record<string, StreamTiming[]> }
      >(rig, "kv-stream", {
        mode: "timing",
        targets: [t.spread],
        iterations: profile.kvStreams,
        body: streamBody(1, 10),
      });
      return results.wattfare.filter((s) => s.complete).length;
    },
  };
  // Warm the price cache and the JIT first, uncounted.
  await wrkLoad("spread", 32)();
  for (const name of profile.kvCases) await measure(name, loads[name]);
  return figures;
}
