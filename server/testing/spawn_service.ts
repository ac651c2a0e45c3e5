/** The real service (`main.ts`) as a child process, for tests that stop or kill it. */
export interface SpawnedService {
  url: string;
  process: Deno.ChildProcess;
  /** SIGTERM (or the given signal), then waits for the exit. */
  stop(signal?: Deno.Signal): Promise<void>;
}

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/**
 * Starts `main.ts` with `env` on a random port and waits until it listens;
 * with all permissions unless `permissions` names them.
 */
export async function spawnService(
  env: Record<string, string>,
  permissions: string[] = ["-A"],
): Promise<SpawnedService> {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, MAIN],
    env: { PORT: "0", ...env },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  while (!buffered.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) throw new Error("the service exited before listening");
    buffered += value;
  }
  const { url } = JSON.parse(buffered.split("\n")[0]);
  // Keep draining stdout so the child never blocks on a full pipe.
  const drained = (async () => {
    while (!(await lines.read()).done);
  })().catch(() => {});
  return {
    url,
    process,
    async stop(signal: Deno.Signal = "SIGTERM") {
      try {
        process.kill(signal);
      } catch {
        // Already gone.
      }
      await process.status;
      await drained;
    },
  };
}
