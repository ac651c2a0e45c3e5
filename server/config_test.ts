import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "./config.ts";

Deno.test("defaults follow the operating contract", () => {
  const config = loadConfig({});
  assert.equal(config.port, 8000);
  assert.equal(config.host, "127.0.0.1");
  assert.equal(config.kvPath, ".data/wattfare.kv");
  assert.equal(config.publicUrl, "http://localhost:8000");
  assert.equal(config.upstreamUrl, "https://openrouter.ai/api/v1");
  assert.equal(config.sandboxUrl, undefined);
  assert.equal(config.masterKey, undefined);
  assert.equal(config.maxBodyBytes, 1024 * 1024);
  assert.equal(config.production, false);
});

Deno.test("values are read and normalised", () => {
  const key = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)));
  const config = loadConfig({
    PORT: "9001",
    HOST: "0.0.0.0",
    WATTFARE_KV: ":memory:",
    WATTFARE_PUBLIC_URL: "https://wattfare.example/",
    WATTFARE_SANDBOX_URL: "http://127.0.0.1:9999/api/v1",
    WATTFARE_MASTER_KEY: key,
  });
  assert.equal(config.port, 9001);
  assert.equal(config.host, "0.0.0.0");
  assert.equal(config.kvPath, ":memory:");
  assert.equal(config.publicUrl, "https://wattfare.example");
  assert.equal(config.sandboxUrl, "http://127.0.0.1:9999/api/v1");
  assert.deepEqual(config.masterKey, new Uint8Array(32).fill(7));
  assert.equal(loadConfig({ PORT: "9001" }).publicUrl, "http://localhost:9001");
});

Deno.test("bad values are a ConfigError naming the variable", () => {
  const bad: Record<string, string>[] = [
    { PORT: "eighty" },
    { PORT: "70000" },
    { PORT: "-1" },
    { WATTFARE_PUBLIC_URL: "localhost:8000" },
    { WATTFARE_UPSTREAM_URL: "ftp://example.com" },
    { WATTFARE_MASTER_KEY: "c2hvcnQ=" },
    { WATTFARE_MASTER_KEY: "***" },
    { WATTFARE_MAX_BODY_BYTES: "1.5" },
  ];
  for (const env of bad) {
    const name = Object.keys(env)[0];
    assert.throws(() => loadConfig(env), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, new RegExp(name));
      return true;
    });
  }
});

Deno.test("production (Deno Deploy) requires a master key and uses the platform KV", () => {
  assert.throws(
    () => loadConfig({ DENO_DEPLOYMENT_ID: "abc" }),
    /WATTFARE_MASTER_KEY is required/,
  );
  const key = btoa(String.fromCharCode(...new Uint8Array(32)));
  const config = loadConfig({
    DENO_DEPLOYMENT_ID: "abc",
    WATTFARE_MASTER_KEY: key,
  });
  assert.equal(config.kvPath, undefined);
  assert.equal(config.production, true);
});

Deno.test("the service exits with code 2 and a clear message on a bad value", async () => {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname],
    env: { PORT: "not-a-port", WATTFARE_KV: ":memory:" },
    stdout: "null",
    stderr: "piped",
  }).output();
  assert.equal(code, 2);
  assert.match(
    new TextDecoder().decode(stderr),
    /wattfare: PORT must be an integer from 0 to 65535, got "not-a-port"/,
  );
});
