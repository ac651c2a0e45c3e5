import assert from "node:assert/strict";
import { mintSessionToken } from "../sdk/session_token.ts";
import { connectionKey } from "../server/kv/keys.ts";
import { readLedgerView } from "../server/testing/ledger_probe.ts";
import { bearer } from "../server/testing/test_service.ts";
import { launchBrowser, screenshot } from "./browser.ts";
import { clickForPopup, exampleUserId, startStack } from "./stack.ts";

// Playwright keeps its own pipes and timers open across a test.
const browserTest = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name:
    "connect in the popup, chat, and see the budget drop by the metered cost",
  ...browserTest,
  async fn() {
    await using stack = await startStack();
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(stack.exampleUrl);
      await page.waitForSelector("[data-state=not-connected]");
      await screenshot(page, "example-not-connected");

      const popup = await clickForPopup(page);
      await popup.waitForSelector("[data-screen=ready]");
      assert.equal(await popup.textContent(".app-name"), stack.app.name);
      assert.match(await popup.textContent(".banner-test") ?? "", /Test mode/);
      // The session left the URL as soon as the popup read it.
      assert.ok(!popup.url().includes("session="));
      await popup.fill("#cap", "2");
      await screenshot(popup, "popup-connect");
      await Promise.all([
        popup.waitForEvent("close"),
        popup.click("text=Approve"),
      ]);

      await page.waitForSelector("[data-state=connected]");
      assert.equal(
        await page.textContent("[data-testid=remaining]"),
        "$2.000000 left",
      );

      await page.fill("input[name=message]", "Write me a haiku about budgets.");
      await page.click("button[type=submit]");
      await page.waitForFunction(() => {
        const reply = document.querySelector("li[data-role=assistant]");
        const sent = document.querySelector(
          "button[type=submit]",
        ) as HTMLButtonElement;
        return reply && reply.textContent && reply.textContent !== "…" &&
          sent.disabled &&
          document.querySelector("[data-testid=remaining]")?.textContent !==
            "$2.000000 left";
      });
      const userId = await exampleUserId(context);
      await stack.service.settled();
      const view = await readLedgerView(
        stack.service,
        stack.app.appId,
        userId,
      );
      assert.equal(view.entries.length, 1);
      assert.ok(view.spent > 0n);
      const remaining = (2 - Number(view.spent) / 1e9).toFixed(6);
      assert.equal(
        await page.textContent("[data-testid=remaining]"),
        `$${remaining} left`,
      );
      assert.ok(
        (await page.textContent("li[data-role=assistant]"))!.length > 10,
      );
      await screenshot(page, "example-connected-chat");
    } finally {
      await browser.close();
    }
  },
});

Deno.test({
  name:
    "deny, or closing the popup, leaves the user not connected and stores nothing",
  ...browserTest,
  async fn() {
    await using stack = await startStack();
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(stack.exampleUrl);
      await page.waitForSelector("[data-state=not-connected]");

      const denied = await clickForPopup(page);
      await denied.waitForSelector("[data-screen=ready]");
      await Promise.all([
        denied.waitForEvent("close"),
        denied.click("text=Deny"),
      ]);
      await page.waitForSelector(
        "[data-state=not-connected] button:not([disabled])",
      );

      const closed = await clickForPopup(page);
      await closed.waitForSelector("[data-screen=ready]");
      await closed.close();
      await page.waitForSelector(
        "[data-state=not-connected] button:not([disabled])",
      );

      const userId = await exampleUserId(context);
      const stored = await stack.service.kv.get(
        connectionKey(stack.app.appId, userId),
      );
      assert.equal(stored.value, null);
    } finally {
      await browser.close();
    }
  },
});

Deno.test({
  name:
    "a page on an unregistered origin cannot get approval, even with a valid session",
  ...browserTest,
  async fn() {
    await using stack = await startStack();
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(stack.strangerUrl);
      await page.waitForSelector("[data-state=not-connected]");
      const popup = await clickForPopup(page);
      await popup.waitForSelector("[data-screen=not_allowed]");
      assert.match(
        await popup.textContent("[role=alert]") ?? "",
        /not allowed to ask/,
      );
      assert.equal(
        await popup.locator("button").count(),
        0,
        "no way to approve",
      );
      await screenshot(popup, "popup-not-allowed");

      const userId = await exampleUserId(context);
      const stored = await stack.service.kv.get(
        connectionKey(stack.app.appId, userId),
      );
      assert.equal(stored.value, null);
    } finally {
      await browser.close();
    }
  },
});

Deno.test({
  name: "an expired session shows a clear error, never a blank page",
  ...browserTest,
  async fn() {
    await using stack = await startStack();
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const { token } = mintSessionToken(stack.app.secretKey, "late", {
        now: Date.now() - 3_600_000,
      });
      await page.goto(`${stack.service.publicUrl}/connect#session=${token}`);
      await page.waitForSelector("[data-screen=error]");
      assert.match(await page.textContent("h1") ?? "", /expired/);
      await screenshot(page, "popup-expired");
      await page.goto(`${stack.service.publicUrl}/connect`);
      await page.waitForSelector("[data-screen=error]");
      assert.match(await page.textContent("h1") ?? "", /Nothing to approve/);
    } finally {
      await browser.close();
    }
  },
});

Deno.test({
  name:
    "when the cap runs out mid-conversation, the app shows the budget-exceeded state",
  ...browserTest,
  async fn() {
    await using stack = await startStack();
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(stack.exampleUrl);
      const popup = await clickForPopup(page);
      await popup.waitForSelector("[data-screen=ready]");
      await popup.fill("#cap", "1");
      await Promise.all([
        popup.waitForEvent("close"),
        popup.click("text=Approve"),
      ]);
      await page.waitForSelector("[data-state=connected]");

      // The user lowers the cap to almost nothing (as the dashboard will let them).
      const userId = await exampleUserId(context);
      const lowered = await stack.service.fetch("/api/v1/test/connections", {
        method: "POST",
        headers: bearer(stack.app.secretKey),
        body: JSON.stringify({ userId, monthlyUsd: 0.000001 }),
      });
      assert.equal(lowered.status, 201);
      await lowered.body?.cancel();

      await page.fill("input[name=message]", "One more question, please.");
      await page.click("button[type=submit]");
      await page.waitForSelector("[data-state=budget-exceeded]");
      await screenshot(page, "example-budget-exceeded");
      const view = await readLedgerView(
        stack.service,
        stack.app.appId,
        userId,
      );
      assert.equal(view.spent, 0n);
      assert.equal(view.entries.length, 0);
    } finally {
      await browser.close();
    }
  },
});
