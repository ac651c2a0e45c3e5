/** Runs `wrk` (a separate process) with bench/chat.lua and reads its result. */
import { runToEnd } from "./processes.ts";
import { addBuckets, type Histogram } from "./stats.ts";

const SCRIPT = new URL("./chat.lua", import.meta.url).pathname;

/** What to send: one request line per credential, round robin. */
export interface Plan {
  /** Origin, e.g. `http://127.0.0.1:8000`. */
  origin: string;
  path: string;
  body: string;
  /** `[authorization, x-wattfare-user | ""]` per request variant. */
  lines: [string, string][];
}

/** One wrk run. */
export interface WrkResult {
  requests: number;
  durationS: number;
  /** Non-2xx/3xx answers plus socket errors. */
  errors: number;
  /** Latency distribution: quantile values weighted by the requests they stand for. */
  latencyUs: Histogram;
}

/** Writes a plan file wrk's script reads; returns its path. */
export async function writePlan(dir: string, name: string, plan: Plan) {
  const path = `${dir}/${name}.plan`;
  const text = [
    plan.path,
    plan.body,
    ...plan.lines.map(([auth, user]) => `${auth}\t${user}`),
  ].join("\n") + "\n";
  await Deno.writeTextFile(path, text);
  return path;
}

/** Whether wrk is installed; its version line if so. */
export async function wrkVersion(): Promise<string | null> {
  try {
    const { stdout, stderr } = await new Deno.Command("wrk", {
      args: ["--version"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stdout) +
      new TextDecoder().decode(stderr);
    return /^wrk \S+/m.exec(text)?.[0] ?? "wrk";
  } catch {
    return null;
  }
}

/** Runs wrk for `seconds` with `connections` connections on one thread. */
export async function runWrk(
  origin: string,
  planFile: string,
  connections: number,
  seconds: number,
): Promise<WrkResult> {
  const out = await runToEnd("wrk", [
    "-t1",
    `-c${connections}`,
    `-d${seconds}s`,
    "--timeout",
    "10s",
    "-s",
    SCRIPT,
    origin,
    "--",
    planFile,
  ]);
  const line = out.split("\n").find((l) => l.startsWith('{"wrk":true'));
  if (!line) throw new Error(`wrk printed no result:\n${out}`);
  const parsed = JSON.parse(line) as {
    requests: number;
    durationUs: number;
    errors: Record<string, number>;
    quantilesUs: number[];
  };
  const errors = Object.values(parsed.errors).reduce((a, b) => a + b, 0);
  return {
    requests: parsed.requests,
    durationS: parsed.durationUs / 1e6,
    errors,
    // Each quantile stands for an equal share of the run's requests.
    latencyUs: addBuckets(
      new Map(),
      parsed.quantilesUs.map((us) => [
        us,
        parsed.requests / parsed.quantilesUs.length,
      ]),
    ),
  };
}
