import type { CDPSession, Page } from "playwright-core";

/** A CDP virtual authenticator on one page, and the session that controls it. */
export interface Authenticator {
  cdp: CDPSession;
  id: string;
}

/**
 * Attaches a virtual passkey authenticator to `page`. Authenticators are
 * per page, and a WebAuthn call made with none hangs forever: attach it
 * before the page asks for a passkey.
 */
export async function addAuthenticator(page: Page): Promise<Authenticator> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send(
    "WebAuthn.addVirtualAuthenticator",
    {
      options: {
        protocol: "ctap2",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
      },
    },
  );
  return { cdp, id: authenticatorId };
}
