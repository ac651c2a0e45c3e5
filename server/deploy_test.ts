import assert from "node:assert/strict";
import { spawnService } from "./testing/spawn_service.ts";

const ROOT = new URL("../", import.meta.url).pathname;

/**
 * The service started as Deno Deploy runs it: production mode (a required
 * master key), prebuilt islands, and no permission to write files or run
 * subprocesses at all, so any write or bundling at run time would fail.
 */
Deno.test("the service runs as on Deno Deploy: no file writes, no subprocesses, prebuilt islands", async () => {
  const build = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "server/pages/build.ts"],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.ok(build.success, new TextDecoder().decode(build.stderr));

  const service = await spawnService(
    {
      DENO_DEPLOYMENT_ID: "local-test",
      WATTFARE_MASTER_KEY: btoa(
        String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))),
      ),
      // On Deploy this stays unset (the platform's KV); locally, memory.
      WATTFARE_KV: ":memory:",
    },
    ["--allow-net", "--allow-env", "--allow-read", "--allow-sys"],
  );
  try {
    const health = await fetch(`${service.url}/healthz`);
    assert.equal(health.status, 200);
    await health.body?.cancel();

    const page = await (await fetch(`${service.url}/connect`)).text();
    const src = /src="(\/_islands\/[^"]+)"/.exec(page)![1];
    const script = await fetch(`${service.url}${src}`);
    assert.equal(script.status, 200);
    await script.body?.cancel();

    const models = await fetch(`${service.url}/sandbox/api/v1/models`);
    assert.equal(models.status, 200);
    await models.body?.cancel();
  } finally {
    await service.stop();
  }
});

Deno.test("production refuses to start without a master key", async () => {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      `${ROOT}main.ts`,
    ],
    env: { DENO_DEPLOYMENT_ID: "local-test", WATTFARE_KV: ":memory:" },
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 2);
  assert.match(
    new TextDecoder().decode(stderr),
    /WATTFARE_MASTER_KEY is required/,
  );
});
