import assert from "node:assert/strict";
import type { AppSummary } from "./apps/apps.ts";
import { spawnService } from "./testing/spawn_service.ts";

const cli = new URL("./cli.ts", import.meta.url).pathname;

async function run(args: string[], kvPath: string) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, ...args],
    env: { WATTFARE_KV: kvPath },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code,
    stdout: new TextDecoder().decode(stdout),
    stderr: new TextDecoder().decode(stderr),
  };
}

Deno.test("the CLI creates, lists and rotates apps that the service then accepts", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/wattfare.kv`;
  try {
    const created = await run([
      "apps",
      "create",
      "--name",
      "Acme",
      "--origin",
      "https://acme.com",
      "--origin",
      "http://localhost:5173/",
      "--json",
    ], kvPath);
    assert.equal(created.code, 0, created.stderr);
    const app: AppSummary = JSON.parse(created.stdout);
    assert.deepEqual(Object.keys(app).sort(), [
      "appId",
      "mode",
      "name",
      "origins",
      "publishableKey",
      "secretKey",
    ]);
    assert.equal(app.mode, "test");
    assert.deepEqual(app.origins, [
      "https://acme.com",
      "http://localhost:5173",
    ]);

    const listed = await run(["apps", "list", "--json"], kvPath);
    const apps: AppSummary[] = JSON.parse(listed.stdout);
    assert.equal(apps.length, 1);
    assert.equal(apps[0].appId, app.appId);
    assert.equal(apps[0].secretKey, undefined);

    const rotated = await run(
      ["apps", "rotate-secret", app.appId, "--json"],
      kvPath,
    );
    const newKey: string = JSON.parse(rotated.stdout).secretKey;
    assert.notEqual(newKey, app.secretKey);

    // The real service on the same file: the new key works, the old does not.
    const service = await spawnService({ WATTFARE_KV: kvPath });
    try {
      const status = (key: string) =>
        fetch(`${service.url}/api/v1/status?userId=u`, {
          headers: { authorization: `Bearer ${key}` },
        });
      const ok = await status(newKey);
      assert.equal(ok.status, 200);
      await ok.body?.cancel();
      const old = await status(app.secretKey!);
      assert.equal(old.status, 401);
      await old.body?.cancel();
    } finally {
      await service.stop();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the CLI explains bad usage", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = await run(
      ["apps", "create", "--origin", "https://a.com"],
      `${dir}/kv`,
    );
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /--name is required/);
    const badOrigin = await run(
      ["apps", "create", "--name", "x", "--origin", "notaurl"],
      `${dir}/kv`,
    );
    assert.equal(badOrigin.code, 1);
    assert.match(badOrigin.stderr, /origin must be a URL/);
    const unknown = await run(["apps", "delete"], `${dir}/kv`);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Usage:/);
    const noApp = await run(
      ["apps", "rotate-secret", "nosuchapp0000000"],
      `${dir}/kv`,
    );
    assert.equal(noApp.code, 1);
    assert.match(noApp.stderr, /no app with id/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
