import assert from "node:assert/strict";

Deno.test("main.ts serves the sandbox at /api/v1 and /auth on PORT and prints its URL", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("./main.ts", import.meta.url).pathname],
    env: { PORT: "0", HOST: "127.0.0.1" },
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  try {
    const { value = "" } = await lines.read();
    const url = /http:\/\/127\.0\.0\.1:\d+\/api\/v1/.exec(value)?.[0];
    assert.ok(url, `no URL in ${JSON.stringify(value)}`);
    const models = await fetch(`${url}/models`);
    assert.equal(models.status, 200);
    assert.ok((await models.json()).data.length > 0);
    const consent = await fetch(
      `${url.replace(/\/api\/v1$/, "")}/auth?callback_url=` +
        encodeURIComponent("http://localhost:3000/cb"),
    );
    assert.equal(consent.status, 200);
    assert.match(await consent.text(), /Authorize localhost:3000/);
    const missing = await fetch(`${url}/nope`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).error.code, 404);
  } finally {
    await lines.cancel();
    child.kill("SIGTERM");
    await child.status;
  }
});
