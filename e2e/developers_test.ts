import assert from "node:assert/strict";
import { bearer, chatHeaders } from "../server/testing/test_service.ts";
import { fullScreenshot, launchBrowser } from "./browser.ts";
import { addAuthenticator } from "./passkey.ts";
import { startStack } from "./stack.ts";

Deno.test({
  name:
    "a developer registers an app, copies its secret once, rotates it, edits origins and sees users' spend",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using stack = await startStack();
    const service = stack.service;
    const status = (secretKey: string) =>
      service.fetch("/api/v1/status?userId=reader-1", {
        headers: bearer(secretKey),
      });
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await addAuthenticator(page);
      await page.goto(`${service.publicUrl}/developers`);
      await page.waitForSelector("[data-screen=sign-in]");
      await page.click("text=Create a wallet");
      await page.waitForSelector("[data-testid=developers]");

      // First visit: the form is already open.
      const form = page.getByTestId("register");
      await form.locator("input[name=name]").fill("Margin Notes");
      await form.locator("textarea[name=origins]").fill(
        "https://margin.example\nhttp://localhost:5173/",
      );
      await form.locator("input[value=test]").check();
      await form.getByText("Register app").click();
      const card = page.getByTestId("app");
      const secretKey = await card.getByTestId("secret-key").textContent();
      const publishableKey = await card.getByTestId("publishable-key")
        .textContent();
      assert.match(secretKey!, /^sk_test_[0-9a-z]+_[0-9a-f]{64}$/);
      assert.match(publishableKey!, /^pk_test_[0-9a-z]+$/);
      assert.deepEqual(await card.getByTestId("origin").allTextContents(), [
        "https://margin.example",
        "http://localhost:5173",
      ]);
      assert.equal((await status(secretKey!)).status, 200, "a working key");
      await fullScreenshot(page, "developers-new-app");

      // Stored: gone from the page, and never served again.
      await card.getByText("I've stored it").click();
      assert.equal(await card.getByTestId("secret-key").count(), 0);
      await page.reload();
      await page.waitForSelector("[data-testid=app]");
      assert.ok(!(await page.content()).includes(secretKey!.slice(-64)));

      // A user connects and spends; the developer sees it.
      await service.connect(secretKey!, "reader-1", 4);
      const chat = await service.fetch("/api/v1/chat/completions", {
        method: "POST",
        headers: chatHeaders(secretKey!, "reader-1"),
        body: JSON.stringify({
          model: "openai/gpt-4o-mini",
          messages: [{ role: "user", content: "Summarize my notes." }],
        }),
      });
      assert.equal(chat.status, 200);
      await chat.body?.cancel();
      await service.settled();
      await page.reload();
      const user = page.getByTestId("app-user");
      assert.match(await user.textContent() ?? "", /reader-1.*Active.*\$4\.00/);
      assert.match(
        await user.getByTestId("user-spent").textContent() ?? "",
        /^\$0\.0000\d+/,
      );

      // Rotate: a new secret, shown once; the old one stops at once.
      await page.getByText("Rotate secret").click();
      await page.getByText("Rotate now").click();
      const rotated = await page.getByTestId("secret-key").textContent();
      assert.notEqual(rotated, secretKey);
      assert.equal((await status(secretKey!)).status, 401);
      assert.equal((await status(rotated!)).status, 200);

      // Origins are edited whole; a bad one is refused with a message.
      await page.getByText("Edit origins").click();
      await page.fill(".origins-editor textarea", "margin.example");
      await page.getByText("Save origins").click();
      await page.waitForSelector("[data-testid=app] [role=alert]");
      assert.match(
        await page.textContent("[data-testid=app] [role=alert]") ?? "",
        /not an origin/,
      );
      await page.fill(
        ".origins-editor textarea",
        "https://margin.example\nhttps://app.margin.example",
      );
      await page.getByText("Save origins").click();
      await page.waitForSelector(".origins-editor", { state: "detached" });
      assert.deepEqual(
        await page.getByTestId("origin").allTextContents(),
        ["https://margin.example", "https://app.margin.example"],
      );
      await page.getByText("I've stored it").click();
      await fullScreenshot(page, "developers");

      // Another developer sees none of it.
      const other = await browser.newPage();
      await addAuthenticator(other);
      await other.goto(`${service.publicUrl}/developers`);
      await other.click("text=Create a wallet");
      await other.waitForSelector("[data-testid=register]");
      assert.equal(await other.getByTestId("app").count(), 0);
    } finally {
      await browser.close();
    }
  },
});
