import assert from "node:assert/strict";
import { chatHeaders, startTestService } from "../testing/test_service.ts";
import { approveAsOwner, newSignedInWallet } from "./test_wallet.ts";

const APP_ORIGIN = "http://127.0.0.1:5173";

/** The page's HTML, after checking the headers every page must carry. */
async function page(response: Response): Promise<string> {
  assert.equal(response.status, 200);
  const csp = response.headers.get("content-security-policy")!;
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /style-src 'self'(;|$)/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.equal(response.headers.get("x-frame-options"), "DENY");
  assert.equal(response.headers.get("cache-control"), "no-store");
  const html = await response.text();
  // The CSP would block them: no inline script, no style attribute.
  assert.ok(
    ![...html.matchAll(/<script([^>]*)>/g)].some((m) => !m[1].includes("src=")),
  );
  assert.ok(!/\sstyle=/.test(html), "no inline style");
  return html;
}

Deno.test("signed out, both dashboards offer passkey sign-in and nothing else", async () => {
  await using service = await startTestService();
  for (const path of ["/dashboard", "/developers"]) {
    const html = await page(await service.fetch(path));
    assert.match(html, /data-island="wallet_sign_in"/);
    assert.match(html, /Sign in with a passkey/);
    assert.match(html, /Create a wallet/);
    assert.ok(!html.includes('data-island="dashboard_controls"'));
  }
});

Deno.test("signed in, /dashboard renders each connection's spend, chart and controls on the server", async () => {
  await using service = await startTestService();
  const app = await service.createApp("test", [APP_ORIGIN]);
  const owner = await newSignedInWallet(service);
  await approveAsOwner(service, app, APP_ORIGIN, "u1", owner.cookie, 2);
  const chat = await service.fetch("/api/v1/chat/completions", {
    method: "POST",
    headers: chatHeaders(app.secretKey, "u1"),
    body: JSON.stringify({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "hello" }],
    }),
  });
  await chat.body?.cancel();
  await service.settled();

  const html = await page(
    await service.fetch("/dashboard", { headers: { cookie: owner.cookie } }),
  );
  assert.match(html, /data-testid="connection"/);
  assert.match(html, /test app/);
  assert.match(html, /of <strong data-testid="cap">\$2\.00<\/strong>/);
  assert.match(html, /<svg class="chart"/);
  assert.match(html, /<rect\s+class="chart-bar chart-today"/);
  assert.match(html, /openai\/gpt-4o-mini/);
  assert.match(html, /data-island="dashboard_controls"/);
  // The islands get what they act on, and nothing about the funding key.
  assert.match(html, /&quot;capUsd&quot;:2/);
  assert.ok(!html.includes("sealed"));

  const developers = await page(
    await service.fetch("/developers", { headers: { cookie: owner.cookie } }),
  );
  assert.match(developers, /data-island="developers_console"/);
  assert.match(developers, /Register an app/);
});
