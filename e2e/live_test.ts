import assert from "node:assert/strict";
import { walletKey } from "../server/kv/keys.ts";
import { fundedConnections } from "../server/wallets/wallets.ts";
import type { Wallet } from "../server/wallets/wallet.ts";
import { readLedgerView } from "../server/testing/ledger_probe.ts";
import { launchBrowser, screenshot } from "./browser.ts";
import { addAuthenticator } from "./passkey.ts";
import { clickForPopup, exampleUserId, startLiveStack } from "./stack.ts";

Deno.test({
  name:
    "live mode: a passkey wallet, funding linked by OAuth PKCE, approval, a paid chat, and sign-in elsewhere",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    await using stack = await startLiveStack();
    const { upstream } = stack;
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(stack.exampleUrl);
      const popup = await clickForPopup(page);
      const authenticator = await addAuthenticator(popup);

      // No wallet yet: create one with a passkey, in the popup.
      await popup.waitForSelector("[data-screen=wallet]");
      await screenshot(popup, "popup-live-wallet");
      await popup.click("text=Create a wallet");
      await popup.waitForSelector("[data-screen=funding]");
      await screenshot(popup, "popup-live-funding");
      const { credentials } = await authenticator.cdp.send(
        "WebAuthn.getCredentials",
        {
          authenticatorId: authenticator.id,
        },
      );
      assert.equal(credentials.length, 1);

      // Link OpenRouter: the popup goes to its consent page and comes back.
      await popup.click("text=Link OpenRouter");
      await popup.waitForURL(/\/auth\?/);
      await popup.click("button[value=authorize]");
      await popup.waitForSelector("[data-screen=ready]");
      await popup.fill("#cap", "3");
      await Promise.all([
        popup.waitForEvent("close"),
        popup.click("text=Approve"),
      ]);

      await page.waitForSelector("[data-state=connected]");
      await page.fill("input[name=message]", "Hello from a live app.");
      await page.click("button[type=submit]");
      await page.waitForFunction(() =>
        document.querySelector("[data-testid=remaining]")?.textContent !==
          "$3.000000 left"
      );

      // The spend is the owner's: metered here, billed to their OpenRouter key.
      const userId = await exampleUserId(context);
      await stack.service.settled();
      const view = await readLedgerView(
        stack.service,
        stack.app.appId,
        userId,
      );
      assert.equal(view.entries.length, 1);
      const wallets = [];
      for await (
        const entry of stack.service.kv.list<Wallet>({ prefix: ["wallets"] })
      ) {
        wallets.push(entry.value);
      }
      assert.equal(wallets.length, 1);
      const wallet =
        (await stack.service.kv.get<Wallet>(walletKey(wallets[0].id))).value!;
      assert.equal(wallet.funding?.source, "oauth");
      const key = await stack.service.box.open(wallet.funding!.sealed);
      assert.equal(upstream.sandbox.usageOf(key).costNano, view.spent);
      assert.deepEqual(await fundedConnections(stack.service.kv, wallet.id), [
        { appId: stack.app.appId, userId },
      ]);

      // A fresh browser (another device) signs in with the same passkey.
      const elsewhere = await browser.newContext();
      const page2 = await elsewhere.newPage();
      await page2.goto(stack.exampleUrl);
      const popup2 = await clickForPopup(page2);
      const second = await addAuthenticator(popup2);
      await second.cdp.send("WebAuthn.addCredential", {
        authenticatorId: second.id,
        credential: credentials[0],
      });
      await popup2.waitForSelector("[data-screen=wallet]");
      await popup2.click("text=Sign in with a passkey");
      // Signed in to the same, funded wallet: straight to the approval.
      await popup2.waitForSelector("[data-screen=ready]");
      await screenshot(popup2, "popup-live-ready");
      assert.equal(await popup2.textContent(".app-name"), stack.app.name);
    } finally {
      await browser.close();
    }
  },
});
