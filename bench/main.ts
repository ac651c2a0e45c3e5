/**
 * `deno task bench` (= `deno run -A bench/main.ts [--quick] [--json]`):
 * Wattfare's benchmark suite. It starts the sandbox upstream and the service
 * as their own processes on 127.0.0.1, drives them with `wrk` and a streaming
 * client in further processes, and prints markdown tables (or, with `--json`,
 * one JSON document). Every figure through Wattfare is paired with the same
 * figure taken directly against the sandbox in the same run, alternating.
 *
 * Needs `wrk` on PATH (`apt-get install -y wrk`, `brew install wrk`).
 * `--quick` takes about 30 seconds, the full run about 3 minutes.
 */
import { parseArgs } from "node:util";
import { createApp } from "../server/apps/apps.ts";
import { openKv } from "../server/kv/open_kv.ts";
import { machineFacts } from "./facts.ts";
import {
  killAllNow,
  readClockTicks,
  startSandbox,
  startService,
  stopAll,
} from "./processes.ts";
import { renderMarkdown, type Report, targets } from "./report.ts";
import {
  kvOperations,
  MODEL,
  NON_STREAM_BODY,
  openStreams,
  PATH,
  PROFILES,
  type Rig,
  streamTimings,
  throughput,
} from "./scenarios.ts";

const USAGE = `Usage: deno run -A bench/main.ts [--quick] [--json]

  --quick          a ~30 s run (1 round of 1 s per load figure, shorter streams)
  --json           print one JSON document instead of markdown tables
  --users N        connected users for the spread scenarios (default 1000)
  --cpu-prof DIR   run the timed service under deno --cpu-prof, writing its
                   profile to DIR (profiling slows it: compare runs alike)

Needs wrk on PATH (apt-get install -y wrk).`;

const USER_COUNT = 1000;
const CAP_USD = 1000;

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      users: { type: "string" },
      "cpu-prof": { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const profile = PROFILES[values.quick ? "quick" : "full"];
  const userCount = values.users ? Number(values.users) : USER_COUNT;
  if (!Number.isSafeInteger(userCount) || userCount < 1) {
    console.error("--users must be a positive integer");
    return 2;
  }
  const started = performance.now();
  const log = (message: string) =>
    console.error(
      `bench [${
        ((performance.now() - started) / 1000).toFixed(1)
      } s]: ${message}`,
    );
  await readClockTicks();

  const facts = await machineFacts();
  if (!facts.wrk) {
    console.error(
      "bench: wrk is not installed. Install it (Debian/Ubuntu: apt-get install -y wrk; macOS: brew install wrk) and run again.",
    );
    return 1;
  }

  const tmp = await Deno.makeTempDir({ prefix: "wattfare-bench-" });
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) return;
    interrupted = true;
    console.error("bench: interrupted; stopping child processes");
    stopAll(1000).finally(() => {
      try {
        Deno.removeSync(tmp, { recursive: true });
      } catch {
        // Already gone.
      }
      Deno.exit(130);
    });
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  globalThis.addEventListener("unload", killAllNow);

  try {
    log(`${profile.name} run; processes start in ${tmp}`);
    const kvPath = `${tmp}/wattfare.kv`;
    const masterKey = btoa(
      String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))),
    );

    // The app is registered in the KV file before the service opens it,
    // as the admin CLI does; the users connect through the API afterwards.
    const kv = await openKv(kvPath);
    const app = await createApp(kv, {
      name: "bench",
      origins: ["http://localhost:5173"],
      mode: "test",
    });
    kv.close();

    const sandbox = await startSandbox();
    const sandboxOrigin = new URL(sandbox.url).origin;
    const serviceEnv = {
      WATTFARE_KV: kvPath,
      WATTFARE_SANDBOX_URL: sandbox.url,
      WATTFARE_MASTER_KEY: masterKey,
      // The load is deliberate: rate limits and the burst pause would turn
      // it into fast 429s and measure those instead of the metering path.
      WATTFARE_APP_RPM: "10000000",
      WATTFARE_CONNECTION_RPM: "1000000",
      WATTFARE_BURST_REQUESTS: "10000000",
    };
    const cpuProf = values["cpu-prof"];
    const service = cpuProf
      ? await startService(serviceEnv, "bench/profiled_service.ts", [
        "--cpu-prof",
        `--cpu-prof-dir=${await Deno.realPath(await ensureDir(cpuProf))}`,
      ])
      : await startService(serviceEnv);
    log(`sandbox ${sandbox.url}, service ${service.url}`);

    const rig: Rig = {
      tmp,
      sandboxOrigin,
      sandbox: sandbox.proc,
      serviceOrigin: service.url,
      service: service.proc,
      secretKey: app.secretKey!,
      users: Array.from(
        { length: userCount },
        (_, i) => `bench-user-${String(i).padStart(4, "0")}`,
      ),
      hotUser: "bench-hot-user",
      log,
    };
    log(`connecting ${userCount + 1} users ($${CAP_USD} cap each)`);
    await connectUsers(rig, [...rig.users, rig.hotUser]);
    await smokeTest(rig);

    const open = await openStreams(rig, profile);
    const streams = await streamTimings(rig, profile);
    const load = await throughput(rig, profile);

    // Scenario 5 runs the same service with its KV calls counted, on the
    // same store, after the timed scenarios (the counting costs time).
    log("restarting the service with KV calls counted (bench/kv_probe.ts)");
    await service.proc.stop();
    const probe = await startService(serviceEnv, "bench/kv_probe.ts");
    const kvOps = await kvOperations(
      { ...rig, service: probe.proc, serviceOrigin: probe.url },
      profile,
    );
    await probe.proc.stop();

    const report: Report = {
      facts: { ...facts, loadAverageEnd: Deno.loadavg() },
      cpuProfile: cpuProf ?? null,
      profile,
      users: userCount,
      capUsd: CAP_USD,
      model: MODEL,
      body: NON_STREAM_BODY,
      durationS: (performance.now() - started) / 1000,
      throughput: load,
      streams,
      open,
      kv: kvOps,
    };
    if (values.json) {
      console.log(JSON.stringify(
        { ...report, targets: targets(report) },
        jsonNumbers,
        2,
      ));
    } else console.log(renderMarkdown(report));
    log(`done in ${report.durationS.toFixed(0)} s`);
    return 0;
  } finally {
    await stopAll();
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

async function ensureDir(path: string): Promise<string> {
  await Deno.mkdir(path, { recursive: true });
  return path;
}

/** Rounds floats in the JSON document to 3 decimals. */
function jsonNumbers(_key: string, value: unknown): unknown {
  if (typeof value === "number" && !Number.isInteger(value)) {
    return Number.isFinite(value) ? Math.round(value * 1000) / 1000 : null;
  }
  return value;
}

/** Approves a sandbox connection per user through the API, 16 at a time. */
async function connectUsers(rig: Rig, users: string[]): Promise<void> {
  const queue = [...users];
  const worker = async () => {
    for (let user = queue.shift(); user; user = queue.shift()) {
      const response = await fetch(
        `${rig.serviceOrigin}/api/v1/test/connections`,
        {
          method: "POST",
          headers: {
            authorization: `Bearer ${rig.secretKey}`,
            "content-type": "application/json",
          },
          body: JSON.stringify({ userId: user, monthlyUsd: CAP_USD }),
        },
      );
      const text = await response.text();
      if (response.status !== 201) {
        throw new Error(`connecting ${user}: ${response.status} ${text}`);
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/** One request each way must succeed before anything is timed. */
async function smokeTest(rig: Rig): Promise<void> {
  const check = async (url: string, headers: Record<string, string>) => {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: NON_STREAM_BODY,
    });
    const text = await response.text();
    if (response.status !== 200 || !text.includes('"usage"')) {
      throw new Error(`smoke test ${url}: ${response.status} ${text}`);
    }
  };
  await check(`${rig.sandboxOrigin}${PATH}`, {
    authorization: "Bearer sk-or-v1-bench-smoke",
  });
  await check(`${rig.serviceOrigin}${PATH}`, {
    authorization: `Bearer ${rig.secretKey}`,
    "x-wattfare-user": rig.hotUser,
  });
}

if (import.meta.main) {
  let code = 1;
  try {
    code = await main();
  } catch (error) {
    console.error("bench: failed:", error);
  }
  Deno.exit(code);
}
