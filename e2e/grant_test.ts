import assert from "node:assert/strict";
import { launchBrowser, screenshot } from "./browser.ts";
import { clickForPopup, startStack } from "./stack.ts";

Deno.test({
  name:
    "a one-shot tool asks for a grant, the popup approves, a second use is refused",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using stack = await startStack();
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(stack.exampleUrl);
      await page.fill(
        "textarea[name=paragraph]",
        "Budgets is hard to keep when AI cost grow.",
      );
      const popup = await clickForPopup(page, "text=Rewrite with AI");
      await popup.waitForSelector("[data-screen=ready]");
      assert.equal(
        await popup.textContent("[data-testid=grant-requests]"),
        "1",
      );
      assert.match(
        await popup.textContent(".grant-summary") ?? "",
        /At most \$0\.05/,
      );
      await screenshot(popup, "popup-grant");
      await Promise.all([
        popup.waitForEvent("close"),
        popup.click("text=Approve"),
      ]);

      await page.waitForSelector("[data-testid=rewrite-result]");
      assert.ok(
        (await page.textContent("[data-testid=rewrite-result]"))!.length > 10,
      );
      // The grant does not touch the connection: still not connected.
      assert.ok(await page.$("[data-state=not-connected]"));

      await page.click("text=Rewrite again with the same grant");
      await page.waitForSelector("[data-state=rewrite-used_up]");
      assert.match(
        await page.textContent("[role=alert]") ?? "",
        /grant is used up/,
      );
      await screenshot(page, "example-grant-used-up");
    } finally {
      await browser.close();
    }
  },
});
