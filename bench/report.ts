/** The benchmark's result document and its markdown rendering. */
import type { MachineFacts } from "./facts.ts";
import {
  CONNECTIONS,
  type KvCase,
  type KvFigure,
  type LoadFigure,
  type OpenFigure,
  type Profile,
  STREAM_TIMING,
  type StreamFigure,
  type Variant,
} from "./scenarios.ts";

/** Everything one run measured (also the `--json` document). */
export interface Report {
  facts: MachineFacts;
  /** Where the service's CPU profile went (`--cpu-prof`), if anywhere. */
  cpuProfile: string | null;
  profile: Profile;
  users: number;
  capUsd: number;
  model: string;
  body: string;
  durationS: number;
  throughput: Record<number, Record<Variant, LoadFigure>>;
  /** `wattfare`: each stream for another of the users; `warm`: all for the hot user. */
  streams: { direct: StreamFigure; wattfare: StreamFigure; warm: StreamFigure };
  open: {
    direct: OpenFigure;
    wattfare: OpenFigure;
    serviceIdleRssMB: number;
    serviceHwmMB: number;
  };
  kv: Partial<Record<KvCase, KvFigure>>;
}

/**
 * KV calls of one successful non-stream request on a connection with an
 * open lease, read off the code (server/http/auth.ts,
 * server/ledger/ledger.ts, server/ledger/ledger_writer.ts), when no commit
 * conflicts:
 * - auth: the app from a cache of at most a second (no read);
 * - `Ledger.placeHold`: `get` connection; the hold is taken from the lease
 *   in memory (no commit);
 * - `Ledger.settle`: a share of a group commit (sets: the usage entry; per
 *   connection in the batch, its ledger and lease, each checked).
 * A lease grows in a commit of its own about once a second per busy
 * connection, and rate-limit buckets merge into KV once a second: both are
 * spread over many requests. A streamed request does the same.
 */
export const BY_DESIGN = {
  get: 1,
  getManyKeys: 0,
  commits: 0,
  checks: 0,
  mutations: 1,
  enqueues: 0,
  text:
    "1 read (the connection) on the way in and no commit on the path; the settlement joins a group commit (1 usage entry, plus 2 checked sets per connection in the batch); lease growth and rate-limit merges about once a second, shared by many requests",
};

const ms = (value: number) => Number.isFinite(value) ? value.toFixed(2) : "—";
const signedMs = (value: number) =>
  Number.isFinite(value)
    ? `${value >= 0 ? "+" : "−"}${ms(Math.abs(value))}`
    : "—";
const int = (value: number) =>
  Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "—";
const per = (value: number) => Number.isFinite(value) ? value.toFixed(2) : "—";
const mb = (value: number | null) =>
  value === null || !Number.isFinite(value) ? "—" : `${value.toFixed(0)} MB`;
const pct = (value: number) =>
  Number.isFinite(value) ? `${(value * 100).toFixed(0)} %` : "—";

function spreadOf(rounds: number[]): string {
  if (rounds.length < 2) return "";
  const low = Math.min(...rounds);
  const high = Math.max(...rounds);
  return ` (${int(low)}–${int(high)})`;
}

const cpu = (value: number | null) =>
  value === null || !Number.isFinite(value) ? "—" : value.toFixed(0);
const retries = (value: number | null) =>
  value === null ? "n/a (not instrumented)" : per(value);

function threads(figure: LoadFigure): string {
  const t = figure.serviceThreadsUsPerRequest;
  if (!t) return cpu(figure.serviceCpuUsPerRequest);
  return `${cpu(figure.serviceCpuUsPerRequest)}: ${cpu(t.main)} + ${
    cpu(t.kv)
  } + ${cpu(t.other)}`;
}

function loadTable(report: Report, variant: "spread" | "hot"): string[] {
  const rows = [
    "| connections | path | req/s | p50 ms | p99 ms | added p50 ms | added p99 ms | req/s vs direct | errors | KV commit retries / req | sandbox CPU µs/req | service CPU µs/req: main + KV + other | service CPU, % of a core: all (main thread) |",
    "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
  ];
  for (const connections of CONNECTIONS) {
    const direct = report.throughput[connections].direct;
    const through = report.throughput[connections][variant];
    const label = variant === "spread"
      ? `Wattfare, ${report.users.toLocaleString("en-US")} users`
      : "Wattfare, 1 hot user";
    rows.push(
      `| ${connections} | direct to sandbox | ${int(direct.rps)}${
        spreadOf(direct.rpsRounds)
      } | ${ms(direct.p50Ms)} | ${
        ms(direct.p99Ms)
      } | | | | ${direct.errors} | — | ${
        cpu(direct.sandboxCpuUsPerRequest)
      } | — | — |`,
      `| ${connections} | ${label} | ${int(through.rps)}${
        spreadOf(through.rpsRounds)
      } | ${ms(through.p50Ms)} | ${ms(through.p99Ms)} | ${
        signedMs(through.p50Ms - direct.p50Ms)
      } | ${signedMs(through.p99Ms - direct.p99Ms)} | ${
        pct(through.rps / direct.rps)
      } | ${through.errors} | ${retries(through.retriesPerRequest)} | ${
        cpu(through.sandboxCpuUsPerRequest)
      } | ${threads(through)} | ${cpu(through.serviceCpuPercent)} % (${
        cpu(through.serviceMainThreadPercent)
      } %) |`,
    );
  }
  return rows;
}

/** Issue 9's targets against this run's figures. */
export function targets(report: Report): {
  target: string;
  measured: string;
  met: boolean;
}[] {
  const c1 = report.throughput[1];
  const c32 = report.throughput[32];
  const addedP50 = c1.spread.p50Ms - c1.direct.p50Ms;
  const addedP99 = c1.spread.p99Ms - c1.direct.p99Ms;
  const hotRetries = c32.hot.retriesPerRequest ??
    report.kv["hot-c32"]?.retries ?? NaN;
  const s = report.streams;
  const ttfb = s.warm.firstByteP50Ms - s.direct.firstByteP50Ms;
  const coldTtfb = s.wattfare.firstByteP50Ms - s.direct.firstByteP50Ms;
  const gapP50 = s.wattfare.gapP50Ms - s.direct.gapP50Ms;
  const gapP99 = s.wattfare.gapP99Ms - s.direct.gapP99Ms;
  const rss = report.open.wattfare.servicePeakRssMB ?? NaN;
  return [
    {
      target: "added latency p50 ≤ 0.5 ms at 1 connection",
      measured: `${signedMs(addedP50)} ms`,
      met: addedP50 <= 0.5,
    },
    {
      target: "added latency p99 ≤ 3 ms at 1 connection",
      measured: `${signedMs(addedP99)} ms`,
      met: addedP99 <= 3,
    },
    {
      target: "≥ 5,000 req/s at 32 connections over many users",
      measured: `${int(c32.spread.rps)} req/s`,
      met: c32.spread.rps >= 5000,
    },
    {
      target:
        "one hot user ≥ half of that (and ≥ 2,500 req/s) with 0 commit retries",
      measured: `${int(c32.hot.rps)} req/s, ${per(hotRetries)} retries/request`,
      met: c32.hot.rps >= 2500 && c32.hot.rps >= c32.spread.rps / 2 &&
        hotRetries === 0,
    },
    {
      target: "streamed first byte within 1 ms of direct (p50)",
      measured: `${signedMs(ttfb)} ms for one user (${
        signedMs(coldTtfb)
      } ms, each stream another user)`,
      met: ttfb <= 1,
    },
    {
      target: "chunk gaps unchanged (p50 and p99 within 1 ms of direct)",
      measured: `p50 ${signedMs(gapP50)} ms, p99 ${signedMs(gapP99)} ms`,
      met: Math.abs(gapP50) <= 1 && Math.abs(gapP99) <= 1,
    },
    {
      target: `${
        report.open.wattfare.count.toLocaleString("en-US")
      } concurrent streams in ≤ 200 MB RSS`,
      measured: `${mb(rss)} peak`,
      met: rss <= 200 && report.open.wattfare.failures === 0,
    },
  ];
}

/** The report as markdown tables. */
export function renderMarkdown(report: Report): string {
  const { facts, profile } = report;
  const users = report.users.toLocaleString("en-US");
  const out: string[] = [];
  out.push(
    `## Wattfare benchmark (${profile.name} run)`,
    "",
    `- Machine: ${facts.cpu}, ${facts.cores} cores, ${facts.memoryGiB} GiB RAM, ${facts.os}`,
    `- Deno ${facts.deno} (V8 ${facts.v8}), ${facts.wrk ?? "no wrk"}; commit ${
      facts.commit ?? "unknown"
    }; ${facts.date}; took ${report.durationS.toFixed(0)} s`,
    `- Load average (1/5/15 min) at start ${
      facts.loadAverageStart.map((x) => x.toFixed(2)).join(" / ")
    }, at end ${
      (facts.loadAverageEnd ?? []).map((x) => x.toFixed(2)).join(" / ")
    } (anything else running on the machine shows here)` +
      (report.cpuProfile
        ? `; the service ran under \`--cpu-prof\` (profile in \`${report.cpuProfile}\`), which slows it`
        : ""),
    "- Setup: the sandbox upstream (no added latency) and the service (`main.ts` with a fresh KV file, " +
      "`WATTFARE_SANDBOX_URL` at the sandbox process, `WATTFARE_MASTER_KEY` set) each run as their own process on 127.0.0.1; " +
      "load comes from `wrk -t1` and a Deno streaming client, in further processes. All share the machine's cores.",
    `- Non-stream body: \`${report.body}\`; ${users} connected users with a $${report.capUsd} cap each, plus one hot user. ` +
      `Each figure is ${profile.rounds} round(s) × ${profile.seconds} s after a ${profile.warmupSeconds} s warm-up, ` +
      "direct and through Wattfare alternating (ABC, CBA, …); latency percentiles merge every request of every round.",
    "- Reproduce: `apt-get install -y wrk` once, then `deno task bench` (= `deno run -A bench/main.ts`; `--quick` for a ~30 s run, `--json` for one JSON document, `--cpu-prof DIR` to profile the service).",
    "",
  );

  out.push(
    `### 1. Non-stream requests over ${users} users`,
    "",
    ...loadTable(report, "spread"),
    "",
    "req/s in brackets: the lowest and highest round. At 32 connections wrk keeps 32 requests in flight, so latency there is mostly queueing. " +
      "Retries come from the service's own counter `wattfare_kv_commit_retries_total` (GET /metrics) over the proxied requests it counted. " +
      "CPU: user + system time over the runs (/proc/PID/stat and /proc/PID/task/*/stat), per request; " +
      "for the service split into its main thread (JS, HTTP server, event loop), the KV store's SQLite worker thread (`sw-0`) and the rest (tokio pool: WebCrypto and other blocking work; V8 GC). " +
      "A main thread well below 100 % of a core while throughput is capped means requests wait (on KV, or on the other processes sharing the cores) rather than compute.",
    "",
  );

  const kv = report.kv;
  out.push(
    "### 2. Non-stream requests, all on one user (hot key)",
    "",
    ...loadTable(report, "hot"),
    "",
  );

  const s = report.streams;
  const row = (
    label: string,
    pick: (f: StreamFigure) => number,
    format = ms,
    added = true,
  ) =>
    `| ${label} | ${format(pick(s.direct))} | ${format(pick(s.wattfare))} | ${
      added ? signedMs(pick(s.wattfare) - pick(s.direct)) : ""
    } | ${format(pick(s.warm))} | ${
      added ? signedMs(pick(s.warm) - pick(s.direct)) : ""
    } |`;
  out.push(
    `### 3. Streamed requests, one at a time (${STREAM_TIMING.completionTokens} chunks ${STREAM_TIMING.chunkDelayMs} ms apart)`,
    "",
    "| per stream, ms | direct to sandbox | through Wattfare, each stream another user | added | through Wattfare, all one user | added |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    row("response headers, p50", (f) => f.headersP50Ms),
    row("first body byte, p50", (f) => f.firstByteP50Ms),
    row("first body byte, p99", (f) => f.firstByteP99Ms),
    row("whole stream, p50", (f) => f.totalP50Ms),
    row("whole stream, p99", (f) => f.totalP99Ms),
    row("gap between chunks, p50", (f) => f.gapP50Ms),
    row("gap between chunks, p99", (f) => f.gapP99Ms),
    row("gap between chunks, max", (f) => f.gapMaxMs),
    row(
      "chunks (reads) per stream, median",
      (f) => f.readsPerStream,
      String,
      false,
    ),
    `| streams complete (usage + [DONE]) | ${s.direct.complete}/${s.direct.streams} | ${s.wattfare.complete}/${s.wattfare.streams} | | ${s.warm.complete}/${s.warm.streams} | |`,
    "",
    "Both kinds of user have an open budget lease here (the users' from scenario 4, within its 30 s), so each hold is taken in memory; a user's first request in a process, or after 30 s unused, waits for one commit more. A buffering proxy would show fewer, larger chunks and wider gaps; the same chunk count and gaps mean chunks pass through as they come.",
    "",
  );

  const o = report.open;
  const orow = (label: string, pick: (f: OpenFigure) => string) =>
    `| ${label} | ${pick(o.direct)} | ${pick(o.wattfare)} |`;
  out.push(
    `### 4. ${
      o.wattfare.count.toLocaleString("en-US")
    } concurrent open streams (${profile.open.completionTokens} chunks ${profile.open.chunkDelayMs} ms apart)`,
    "",
    "| | direct to sandbox | through Wattfare |",
    "| --- | ---: | ---: |",
    orow("streams completed", (f) => `${f.completed}/${f.count}`),
    orow(
      "every stream had its first byte after",
      (f) => `${ms(f.allOpenMs)} ms`,
    ),
    orow(
      "first byte p50 / p99",
      (f) => `${ms(f.firstByteP50Ms)} / ${ms(f.firstByteP99Ms)} ms`,
    ),
    orow(
      "whole stream p50 / max",
      (f) => `${ms(f.totalP50Ms)} / ${ms(f.totalMaxMs)} ms`,
    ),
    orow("gap between chunks p99", (f) => `${ms(f.gapP99Ms)} ms`),
    orow("service peak RSS (VmRSS every 25 ms)", (f) => mb(f.servicePeakRssMB)),
    orow("sandbox peak RSS", (f) => mb(f.sandboxPeakRssMB)),
    "",
    `The service's RSS was ${
      mb(o.serviceIdleRssMB)
    } just before (idle, after connecting the users); ` +
      `its VmHWM (lifetime peak) after this scenario: ${mb(o.serviceHwmMB)}.` +
      (o.wattfare.failures || o.direct.failures
        ? ` Failures: ${o.direct.failures} direct, ${o.wattfare.failures} through (first: ${
          JSON.stringify(o.wattfare.firstError ?? o.direct.firstError)
        }).`
        : ""),
    "",
  );

  const krow = (label: string, f: KvFigure): string =>
    `| ${label} | ${int(f.requests)} | ${per(f.get)} | ${
      per(f.getManyKeys)
    } | ${per(f.commits)} | ${per(f.retries)} | ${per(f.checks)} | ${
      per(f.mutations)
    } | ${per(f.enqueues)} |`;
  out.push(
    "### 5. KV operations per request",
    "",
    "| request | requests counted | `get` | `getMany` keys | commits | retries (failed commits) | checks | mutations | enqueues |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ...([
      ["spread-c1", `non-stream, ${users} users, 1 connection`],
      ["spread-c32", `non-stream, ${users} users, 32 connections`],
      ["hot-c1", "non-stream, hot user, 1 connection"],
      ["hot-c32", "non-stream, hot user, 32 connections"],
      ["stream", "streamed, one at a time"],
    ] as const).flatMap(([name, label]) => {
      const figure = kv[name];
      return figure ? [krow(label, figure)] : [];
    }),
    `| by design (read off the code) | | ${BY_DESIGN.get} | ${BY_DESIGN.getManyKeys} | ${BY_DESIGN.commits} | 0 | ${BY_DESIGN.checks} | ${BY_DESIGN.mutations} | ${BY_DESIGN.enqueues} |`,
    "",
    `Measured by counting calls on \`Deno.Kv\` and \`Deno.AtomicOperation\` (\`bench/kv_probe.ts\` wraps them, then runs \`main.ts\`), ` +
      `${profile.kvSeconds} s of wrk per row; requests cut off at the end of a wrk run make the ratios a little high. ` +
      `By design: ${BY_DESIGN.text}. Each enqueued expiry message comes back after \`WATTFARE_HOLD_TTL_MS\` (15 min) and costs one more read then.`,
    "",
  );

  out.push(
    "### Targets (issue 9)",
    "",
    "| target | this run | met |",
    "| --- | --- | :---: |",
    ...targets(report).map((t) =>
      `| ${t.target} | ${t.measured} | ${t.met ? "yes" : "no"} |`
    ),
    "",
  );
  return out.join("\n");
}
