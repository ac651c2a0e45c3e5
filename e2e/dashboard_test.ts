import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { connectionKey } from "../server/kv/keys.ts";
import type { Connection } from "../server/connections/connection.ts";
import { nanoToUsd } from "../server/money.ts";
import { dollars } from "../server/dashboards/format.ts";
import { readLedgerView } from "../server/testing/ledger_probe.ts";
import { bearer } from "../server/testing/test_service.ts";
import type { WalletSession } from "../server/wallets/wallet.ts";
import { fullScreenshot, launchBrowser, screenshot } from "./browser.ts";
import { addAuthenticator } from "./passkey.ts";
import { seedSpendHistory } from "./spend_history.ts";
import {
  clickForPopup,
  exampleUserId,
  type Stack,
  startLiveStack,
  startStack,
} from "./stack.ts";

// Playwright keeps its own pipes and timers open across a test.
const browserTest = { sanitizeOps: false, sanitizeResources: false };

/** Opens /dashboard in a new page with an authenticator and creates a wallet there. */
async function newWalletPage(browser: Browser, stack: Stack) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const authenticator = await addAuthenticator(page);
  await page.goto(`${stack.service.publicUrl}/dashboard`);
  await page.waitForSelector("[data-screen=sign-in]");
  await page.click("text=Create a wallet");
  await page.waitForSelector("[data-testid=dashboard]");
  return { context, page, authenticator };
}

async function walletSessions(stack: Stack): Promise<WalletSession[]> {
  const sessions = [];
  for await (
    const entry of stack.service.kv.list<WalletSession>({
      prefix: ["wallet_sessions"],
    })
  ) sessions.push(entry.value);
  return sessions;
}

async function connectAndChat(page: Page, stack: Stack, cap: string) {
  await page.goto(stack.exampleUrl);
  const popup = await clickForPopup(page);
  await popup.waitForSelector("[data-screen=ready]");
  await popup.fill("#cap", cap);
  await Promise.all([
    popup.waitForEvent("close"),
    popup.click("text=Approve"),
  ]);
  await page.waitForSelector("[data-state=connected]");
  await page.fill("input[name=message]", "Write me a haiku about budgets.");
  await page.click("button[type=submit]");
  await page.waitForFunction(
    (before) =>
      document.querySelector("[data-testid=remaining]")?.textContent !==
        before &&
      !(document.querySelector("button[type=submit]") as HTMLButtonElement)
        .textContent?.includes("…"),
    `$${Number(cap).toFixed(6)} left`,
  );
}

Deno.test({
  name:
    "a wallet made with a passkey on /dashboard signs in from a fresh browser with that passkey",
  ...browserTest,
  async fn() {
    await using stack = await startStack();
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      const authenticator = await addAuthenticator(page);
      await page.goto(`${stack.service.publicUrl}/dashboard`);
      await page.waitForSelector("[data-screen=sign-in]");
      await screenshot(page, "dashboard-sign-in");
      await page.click("text=Create a wallet");
      await page.waitForSelector("[data-testid=dashboard]");
      assert.match(await page.textContent("h2") ?? "", /Funding source/);
      assert.match(await page.textContent(".empty-state") ?? "", /No apps yet/);
      const { credentials } = await authenticator.cdp.send(
        "WebAuthn.getCredentials",
        { authenticatorId: authenticator.id },
      );
      assert.equal(credentials.length, 1);

      // Another device: a fresh context whose authenticator holds the same passkey.
      const elsewhere = await browser.newContext();
      const page2 = await elsewhere.newPage();
      const second = await addAuthenticator(page2);
      await second.cdp.send("WebAuthn.addCredential", {
        authenticatorId: second.id,
        credential: credentials[0],
      });
      await page2.goto(`${stack.service.publicUrl}/dashboard`);
      await page2.waitForSelector("[data-screen=sign-in]");
      await page2.click("text=Sign in with a passkey");
      await page2.waitForSelector("[data-testid=dashboard]");

      // Two browsers, one wallet.
      const sessions = await walletSessions(stack);
      assert.equal(sessions.length, 2);
      assert.equal(sessions[0].walletId, sessions[1].walletId);

      await page2.click("text=Sign out");
      await page2.waitForSelector("[data-screen=sign-in]");
      assert.equal((await walletSessions(stack)).length, 1);
    } finally {
      await browser.close();
    }
  },
});

Deno.test({
  name:
    "the dashboard shows an app connected in its popup with its spend; a new cap reaches the app, and revoke cuts it off",
  ...browserTest,
  async fn() {
    await using stack = await startStack();
    const browser = await launchBrowser();
    try {
      const { context, page: dashboard } = await newWalletPage(browser, stack);
      // Signed in on Wattfare's origin, the popup's approval carries the wallet.
      const app = await context.newPage();
      await connectAndChat(app, stack, "2");
      const userId = await exampleUserId(context);
      await stack.service.settled();
      const ledger = await readLedgerView(
        stack.service,
        stack.app.appId,
        userId,
      );
      assert.equal(ledger.entries.length, 1);
      const stored = (await stack.service.kv.get<Connection>(
        connectionKey(stack.app.appId, userId),
      )).value!;
      assert.ok(stored.walletId);
      // A month of another app's spend, so the page reads like a real one.
      const history = await seedSpendHistory(stack.service, stored.walletId, {
        name: "Atlas Notes",
        days: 12,
        capUsd: 5,
      });

      await dashboard.reload();
      const card = dashboard.locator(
        `[data-testid=connection][data-app-id="${stack.app.appId}"]`,
      );
      assert.equal(
        await card.locator(".connection-name").textContent(),
        stack.app.name,
      );
      assert.equal(await card.getByTestId("state").textContent(), "Active");
      assert.equal(
        await card.getByTestId("spent").textContent(),
        dollars(nanoToUsd(ledger.spent)),
      );
      assert.equal(await card.getByTestId("cap").textContent(), "$2.00");
      assert.equal(await card.getByTestId("usage-row").count(), 1);
      assert.match(
        await card.getByTestId("usage-row").textContent() ?? "",
        /openai\/gpt-4o-mini/,
      );
      assert.equal(
        await card.getByTestId("usage-cost").textContent(),
        dollars(nanoToUsd(ledger.entries[0].costNano)),
      );
      assert.equal(await card.locator(".chart-bar").count(), 1);
      assert.equal(
        await dashboard.getByTestId("total-spent").textContent(),
        dollars(nanoToUsd(ledger.spent + history.spentNano)),
      );
      await fullScreenshot(dashboard, "dashboard-owner");

      // A new cap: the dashboard, the API and the app itself all follow.
      await card.locator("input[name=cap]").fill("3.50");
      await card.getByText("Save cap").click();
      await dashboard.waitForFunction((id) =>
        document.querySelector(
          `[data-app-id="${id}"] [data-testid=cap]`,
        )?.textContent === "$3.50", stack.app.appId);
      const status = await stack.service.fetch(
        `/api/v1/status?userId=${userId}`,
        { headers: bearer(stack.app.secretKey) },
      );
      assert.equal((await status.json()).limits.monthlyUsd, 3.5);
      await app.reload();
      await app.waitForSelector("[data-state=connected]");
      assert.match(
        await app.textContent("[data-state=connected] .budget") ?? "",
        /of \$3\.50 this month/,
      );

      // Revoke, confirmed in the page: the app's next chat is refused.
      await card.getByText("Revoke access").click();
      await card.locator("[role=alertdialog]").waitFor();
      await screenshot(dashboard, "dashboard-revoke-confirm");
      await dashboard.getByText("Revoke now").click();
      await dashboard.waitForSelector(
        `[data-app-id="${stack.app.appId}"][data-state=revoked]`,
      );
      await fullScreenshot(dashboard, "dashboard-revoked");
      await app.fill("input[name=message]", "Are you still there?");
      await app.click("button[type=submit]");
      await app.waitForSelector("[data-state=not-connected]");
      await screenshot(app, "example-revoked");
      await stack.service.settled();
      const after = await readLedgerView(
        stack.service,
        stack.app.appId,
        userId,
      );
      assert.equal(after.entries.length, 1, "nothing reached the upstream");
      assert.equal(after.spent, ledger.spent);
    } finally {
      await browser.close();
    }
  },
});

Deno.test({
  name:
    "live mode from the dashboard: paste a key or link OpenRouter, approve a live app, see its spend",
  ...browserTest,
  async fn() {
    await using stack = await startLiveStack();
    const { upstream } = stack;
    const browser = await launchBrowser();
    try {
      const { context, page: dashboard } = await newWalletPage(browser, stack);
      const funding = dashboard.getByTestId("funding");

      // A pasted key is checked with OpenRouter before it is kept.
      await funding.getByText("Paste a key").click();
      await funding.locator("input").fill("sk-or-v2-refusedkey123");
      await funding.getByText("Save key").click();
      await funding.locator("[role=alert]").waitFor();
      assert.match(
        await funding.locator("[role=alert]").textContent() ?? "",
        /did not accept/,
      );
      const created = await fetch(`${upstream.apiUrl}/keys`, {
        method: "POST",
        body: JSON.stringify({ limit: 10 }),
      });
      const { key } = await created.json();
      await funding.locator("input").fill(key);
      await funding.getByText("Save key").click();
      await dashboard.waitForFunction(() =>
        document.querySelector("[data-testid=funding]")?.textContent?.includes(
          "pasted OpenRouter key",
        )
      );
      assert.equal(
        await dashboard.getByTestId("funding-label").textContent(),
        `${key.slice(0, 12)}…${key.slice(-4)}`,
      );

      // Relinked through OpenRouter's consent page (PKCE), and back here.
      await dashboard.getByText("Relink OpenRouter").click();
      await dashboard.waitForURL(/\/auth\?/);
      await dashboard.click("button[value=authorize]");
      await dashboard.waitForSelector("[data-testid=dashboard]");
      assert.match(
        await dashboard.getByTestId("funding").textContent() ?? "",
        /linked with OpenRouter/,
      );

      // Signed in and funded: the popup goes straight to the approval.
      const app = await context.newPage();
      await connectAndChat(app, stack, "3");
      const userId = await exampleUserId(context);
      await stack.service.settled();
      const ledger = await readLedgerView(
        stack.service,
        stack.app.appId,
        userId,
      );
      await dashboard.reload();
      const card = dashboard.locator(
        `[data-testid=connection][data-app-id="${stack.app.appId}"]`,
      );
      assert.equal(await card.locator(".pill-test").count(), 0, "live");
      assert.equal(
        await card.getByTestId("spent").textContent(),
        dollars(nanoToUsd(ledger.spent)),
      );
      assert.equal(await card.getByTestId("cap").textContent(), "$3.00");
      await fullScreenshot(dashboard, "dashboard-live");
    } finally {
      await browser.close();
    }
  },
});
