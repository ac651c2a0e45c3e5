/**
 * Child processes of a benchmark run: the sandbox upstream, the service and
 * the load generators. Every process started here is registered, so one call
 * to `stopAll()` (from a `finally` or a signal handler) ends them all.
 */

const ROOT = new URL("../", import.meta.url);

/** The repository root as a file path, with a trailing slash. */
export const ROOT_DIR = ROOT.pathname;

const running = new Set<Deno.ChildProcess>();
const KEPT_LINES = 200;

/** A child whose stdout is read line by line. */
export interface LineProcess {
  process: Deno.ChildProcess;
  pid: number;
  /**
   * Resolves with the first stdout line numbered `from` or later (of the
   * latest few kept, and those to come) that `match` accepts.
   */
  waitForLine(
    match: (line: string) => boolean,
    timeoutMs: number,
    from?: number,
  ): Promise<string>;
  /** How many stdout lines it has printed so far. */
  readonly lineCount: number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Spawns `deno run -A <args>` (or any command) with stdout read in lines. */
export function spawnLines(
  command: string,
  args: string[],
  env: Record<string, string>,
): LineProcess {
  const process = new Deno.Command(command, {
    args,
    env,
    cwd: ROOT_DIR,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  running.add(process);
  // Only the latest lines are kept: the service logs a line per request.
  const lines: string[] = [];
  let lineCount = 0;
  const waiters: {
    match: (line: string) => boolean;
    resolve: (line: string) => void;
  }[] = [];
  let ended = false;
  const endWaiters: (() => void)[] = [];
  const stderrTail: string[] = [];

  const deliver = (line: string) => {
    lines.push(line);
    lineCount++;
    if (lines.length > KEPT_LINES) lines.shift();
    for (const waiter of [...waiters]) {
      if (waiter.match(line)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(line);
      }
    }
  };
  const pump = async (
    stream: ReadableStream<Uint8Array>,
    onLine: (line: string) => void,
  ) => {
    const decoder = new TextDecoder();
    let buffered = "";
    try {
      for await (const bytes of stream) {
        buffered += decoder.decode(bytes, { stream: true });
        let newline: number;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          onLine(buffered.slice(0, newline));
          buffered = buffered.slice(newline + 1);
        }
      }
    } catch {
      // The pipe closed with the process.
    }
    if (buffered) onLine(buffered);
  };
  pump(process.stdout, deliver).then(() => {
    ended = true;
    endWaiters.splice(0).forEach((wake) => wake());
  });
  pump(process.stderr, (line) => {
    stderrTail.push(line);
    if (stderrTail.length > 20) stderrTail.shift();
  });
  process.status.then(() => running.delete(process));

  return {
    process,
    pid: process.pid,
    get lineCount() {
      return lineCount;
    },
    waitForLine(match, timeoutMs, from = 0) {
      const kept = lines.slice(Math.max(0, from - (lineCount - lines.length)));
      const seen = kept.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const fail = (why: string) => {
          const at = waiters.indexOf(waiter);
          if (at >= 0) waiters.splice(at, 1);
          clearTimeout(timer);
          reject(
            new Error(
              `${command} ${args.join(" ")}: ${why}\n${stderrTail.join("\n")}`,
            ),
          );
        };
        const waiter = {
          match,
          resolve: (line: string) => {
            clearTimeout(timer);
            resolve(line);
          },
        };
        const timer = setTimeout(() => fail("timed out"), timeoutMs);
        waiters.push(waiter);
        const onEnd = () => {
          if (waiters.includes(waiter)) fail("exited before the line came");
        };
        if (ended) onEnd();
        else endWaiters.push(onEnd);
      });
    },
    async stop(graceMs = 3000) {
      await stopProcess(process, graceMs);
    },
  };
}

/** Runs a command to completion and returns its stdout (throws on failure). */
export async function runToEnd(
  command: string,
  args: string[],
  options: { env?: Record<string, string> } = {},
): Promise<string> {
  const process = new Deno.Command(command, {
    args,
    env: options.env,
    cwd: ROOT_DIR,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  running.add(process);
  try {
    const { code, stdout, stderr } = await process.output();
    const out = new TextDecoder().decode(stdout);
    if (code !== 0) {
      throw new Error(
        `${command} ${args.join(" ")} exited with ${code}: ${
          new TextDecoder().decode(stderr).slice(-2000)
        }`,
      );
    }
    return out;
  } finally {
    running.delete(process);
  }
}

async function stopProcess(
  process: Deno.ChildProcess,
  graceMs: number,
): Promise<void> {
  try {
    process.kill("SIGTERM");
  } catch {
    // Already gone.
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      try {
        process.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      resolve();
    }, graceMs);
  });
  await Promise.race([process.status, killed]);
  clearTimeout(timer);
  await process.status;
  running.delete(process);
}

/** Ends every child still running (SIGTERM, then SIGKILL). */
export async function stopAll(graceMs = 2000): Promise<void> {
  await Promise.all([...running].map((p) => stopProcess(p, graceMs)));
}

/** Kills every child at once, synchronously (last resort on exit). */
export function killAllNow(): void {
  for (const process of running) {
    try {
      process.kill("SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/** The sandbox upstream as its own process; resolves with its `/api/v1` URL. */
export async function startSandbox(): Promise<
  { url: string; proc: LineProcess }
> {
  const proc = spawnLines(Deno.execPath(), [
    "run",
    "-A",
    "server/sandbox/main.ts",
  ], { PORT: "0", HOST: "127.0.0.1" });
  const line = await proc.waitForLine((l) => / at http:\/\//.test(l), 60_000);
  const url = /at (http:\/\/\S+)/.exec(line)![1].replace(/\/+$/, "");
  return { url, proc };
}

/** The service (`main.ts`, or a wrapper entry) as its own process. */
export async function startService(
  env: Record<string, string>,
  entry = "main.ts",
  denoFlags: string[] = [],
): Promise<{ url: string; proc: LineProcess }> {
  const proc = spawnLines(Deno.execPath(), ["run", "-A", ...denoFlags, entry], {
    PORT: "0",
    HOST: "127.0.0.1",
    ...env,
  });
  const line = await proc.waitForLine(
    (l) => l.includes('"msg":"listening"'),
    60_000,
  );
  const { url } = JSON.parse(line) as { url: string };
  return { url, proc };
}

/** Resident memory of a process in bytes (`VmRSS`, `VmHWM`), on Linux. */
export function memoryOf(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) *
      1024;
    return { rss: kb("VmRSS"), hwm: kb("VmHWM") };
  } catch {
    return null;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the peak. */
export function sampleRss(pid: number, everyMs = 25): {
  stop(): { peakRss: number; samples: number; hwm: number };
} {
  let peak = 0;
  let samples = 0;
  const take = () => {
    const memory = memoryOf(pid);
    if (memory) {
      peak = Math.max(peak, memory.rss);
      samples++;
    }
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { peakRss: peak, samples, hwm: memoryOf(pid)?.hwm ?? 0 };
    },
  };
}

/** CPU time (user + system) a process has used so far, in ms; Linux only. */
export function cpuMsOf(pid: number): number | null {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name, which is in parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return ticks * 1000 / clockTicks;
  } catch {
    return null;
  }
}

/**
 * A Deno process's CPU time (ms) split by thread: the main thread (JS, the
 * HTTP server and the event loop), the KV store's SQLite worker (`sw-*`),
 * and everything else (tokio's pool, V8's GC and compiler threads, and
 * threads that have ended). Linux only.
 */
export function threadCpuMsOf(
  pid: number,
): { total: number; main: number; kv: number; other: number } | null {
  const total = cpuMsOf(pid);
  if (total === null) return null;
  let main = 0;
  let kv = 0;
  try {
    for (const task of Deno.readDirSync(`/proc/${pid}/task`)) {
      let stat: string;
      try {
        stat = Deno.readTextFileSync(`/proc/${pid}/task/${task.name}/stat`);
      } catch {
        continue; // The thread ended.
      }
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ms = (Number(fields[11]) + Number(fields[12])) * 1000 / clockTicks;
      if (task.name === String(pid)) main += ms;
      else if (/^sw-\d+$/.test(name)) kv += ms;
    }
  } catch {
    return null;
  }
  return { total, main, kv, other: total - main - kv };
}

let clockTicks = 100;

/** Reads the kernel's clock tick rate once (for `cpuMsOf`). */
export async function readClockTicks(): Promise<void> {
  try {
    const out = await runToEnd("getconf", ["CLK_TCK"]);
    const value = Number(out.trim());
    if (Number.isFinite(value) && value > 0) clockTicks = value;
  } catch {
    // Keep Linux's usual 100.
  }
}
