import { type Browser, chromium, type Page } from "playwright-core";

/** Where screenshots of each state are written (gitignored). */
export const ARTIFACTS = new URL("./artifacts/", import.meta.url);

/**
 * Debian's Chromium, headless, with the popup blocker left ON: a popup opens
 * only from a real click, as it would for a user.
 */
export async function launchBrowser(): Promise<Browser> {
  return await chromium.launch({
    executablePath: "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
    ],
    ignoreDefaultArgs: ["--disable-popup-blocking"],
  });
}

/** Saves a screenshot as a test artifact. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await Deno.mkdir(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, ARTIFACTS).pathname });
}

/** A screenshot of the whole page: the viewport grows to the page's height first. */
export async function fullScreenshot(page: Page, name: string): Promise<void> {
  const height = await page.evaluate(() =>
    document.documentElement.scrollHeight
  );
  await page.setViewportSize({ width: 1280, height });
  await screenshot(page, name);
}
