import assert from "node:assert/strict";
import { manifestSource } from "./generate_manifest.ts";
import { expectError, startTestService } from "../testing/test_service.ts";

Deno.test("the committed manifest lists every route and island", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/manifest.gen.ts`;
    await Deno.writeTextFile(file, await manifestSource());
    await new Deno.Command(Deno.execPath(), { args: ["fmt", "-q", file] })
      .output();
    const committed = await Deno.readTextFile(
      new URL("./manifest.gen.ts", import.meta.url),
    );
    assert.equal(
      committed,
      await Deno.readTextFile(file),
      "stale: run `deno run -A server/pages/generate_manifest.ts`",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pages carry a strict CSP, refuse framing and send no COOP", async () => {
  await using service = await startTestService();
  for (const path of ["/", "/connect"]) {
    const response = await service.fetch(path);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type")!, /^text\/html/);
    const csp = response.headers.get("content-security-policy")!;
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.equal(response.headers.get("x-frame-options"), "DENY");
    assert.equal(response.headers.get("cross-origin-opener-policy"), null);
    const html = await response.text();
    assert.ok(html.startsWith("<!doctype html>"));
    // No inline script: every <script> has a src.
    assert.ok(
      ![...html.matchAll(/<script([^>]*)>/g)].some((m) =>
        !m[1].includes("src=")
      ),
    );
  }
});

Deno.test("a page without islands ships no JavaScript; an island page ships its bundle", async () => {
  await using service = await startTestService();
  const home = await (await service.fetch("/")).text();
  assert.ok(!home.includes("<script"));

  const connect = await (await service.fetch("/connect")).text();
  assert.match(
    connect,
    /<wattfare-island data-island="consent_popup" data-props="\{\}">/,
  );
  const src =
    /<script\s+type="module"\s+src="(\/_islands\/consent_popup\.[0-9a-f]{16}\.js)">/
      .exec(connect)![1];
  const script = await service.fetch(src);
  assert.equal(script.status, 200);
  assert.match(script.headers.get("content-type")!, /javascript/);
  assert.equal(
    script.headers.get("cache-control"),
    "public, max-age=31536000, immutable",
  );
  const code = await script.text();
  // The bundle imports only its own shared chunks, all served alongside it.
  for (const [, chunk] of code.matchAll(/from"\.\/([^"]+)"/g)) {
    const response = await service.fetch(`/_islands/${chunk}`);
    assert.equal(response.status, 200, chunk);
    await response.body?.cancel();
  }
  await expectError(await service.fetch("/_islands/nope.js"), 404, "not_found");
});

Deno.test("the stylesheet is served; other static paths are not", async () => {
  await using service = await startTestService();
  const css = await service.fetch("/static/app.css");
  assert.equal(css.status, 200);
  assert.match(css.headers.get("content-type")!, /^text\/css/);
  await css.body?.cancel();
  await expectError(
    await service.fetch("/static/missing.css"),
    404,
    "not_found",
  );
  await expectError(
    await service.fetch("/static/..%2Fdeno.json"),
    404,
    "not_found",
  );
});
