/**
 * `main.ts` for `bench/main.ts --cpu-prof DIR`: the same service, ended
 * cleanly on SIGTERM so that `deno run --cpu-prof` writes its profile
 * (`main.ts` itself has no SIGTERM handler, and a signal death writes none).
 */
Deno.addSignalListener("SIGTERM", () => Deno.exit(0));

await import("../main.ts");
