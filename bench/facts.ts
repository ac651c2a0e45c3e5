/** The machine and build a benchmark ran on. */
import { runToEnd } from "./processes.ts";
import { wrkVersion } from "./wrk.ts";

export interface MachineFacts {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  deno: string;
  v8: string;
  wrk: string | null;
  commit: string | null;
  date: string;
  /** 1, 5 and 15 minute load averages when the run started (and ended). */
  loadAverageStart: number[];
  loadAverageEnd?: number[];
}

/** Reads the facts printed at the top of every report. */
export async function machineFacts(): Promise<MachineFacts> {
  let cpu = "unknown";
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    cpu = /^model name\s*:\s*(.+)$/m.exec(info)?.[1].trim() ?? cpu;
  } catch {
    // Not Linux.
  }
  let commit: string | null = null;
  try {
    commit = (await runToEnd("git", ["rev-parse", "--short", "HEAD"])).trim();
    // --no-optional-locks: never refresh (write) the index while reading it.
    const changed = (await runToEnd("git", [
      "--no-optional-locks",
      "status",
      "--porcelain",
      "--untracked-files=no",
    ])).trim();
    if (changed) commit += " (with uncommitted changes)";
  } catch {
    // Not a git checkout.
  }
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    memoryGiB: Math.round(Deno.systemMemoryInfo().total / 2 ** 30),
    os: `${Deno.build.os} ${Deno.osRelease()} ${Deno.build.arch}`,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    wrk: await wrkVersion(),
    commit,
    date: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
    loadAverageStart: Deno.loadavg(),
  };
}
