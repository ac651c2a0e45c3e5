import { type Context, Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { z } from "zod";
import { WattfareError } from "../errors.ts";
import type { Upstream } from "../proxy/upstream.ts";
import {
  authenticate,
  authenticationOptions,
  registerPasskey,
  registrationOptions,
  relyingParty,
} from "../wallets/passkeys.ts";
import { finishPkce, startPkce, verifyFundingKey } from "../wallets/funding.ts";
import {
  endWalletSession,
  startWalletSession,
  walletOfRequest,
} from "../wallets/wallet_sessions.ts";
import { getWallet, setFunding } from "../wallets/wallets.ts";
import type { Env } from "./env.ts";
import { readJson } from "./read_json.ts";

/**
 * Refuses state-changing requests from other sites: the browser's `Origin`
 * must be Wattfare's own (the wallet cookie is also SameSite=Lax).
 */
export function sameOriginOnly() {
  return createMiddleware<Env>(async (c, next) => {
    if (c.req.method !== "GET" && c.req.method !== "HEAD") {
      const origin = c.req.header("origin");
      if (origin !== new URL(c.var.config.publicUrl).origin) {
        throw new WattfareError(
          "origin_not_allowed",
          "Wallet changes are made on Wattfare's own pages only.",
        );
      }
    }
    await next();
  });
}

/** A path on this site to return to (never another site: no open redirect). */
const returnPath = z.string().regex(/^\/(?!\/)[^\s\\]*$/).max(2048);

/** The budget owner's wallet: passkeys, sign-in, funding. Mounted at `/wallet`. */
export function walletRoutes(liveUpstream: Upstream): Hono<Env> {
  const wallet = new Hono<Env>();
  wallet.use(sameOriginOnly());

  const signedIn = (c: Context<Env>) =>
    walletOfRequest(c.var.kv, c.req.header("cookie"), c.var.clock());

  wallet.get("/api/me", async (c) => {
    const walletId = await signedIn(c);
    const found = walletId ? await getWallet(c.var.kv, walletId) : null;
    return c.json(
      found
        ? {
          signedIn: true,
          funding: found.funding
            ? { label: found.funding.label, source: found.funding.source }
            : null,
        }
        : { signedIn: false, funding: null },
    );
  });

  wallet.post("/api/passkeys/register/options", async (c) =>
    c.json(
      await registrationOptions(
        c.var.kv,
        relyingParty(c.var.config.publicUrl),
        await signedIn(c),
      ),
    ));

  wallet.post("/api/passkeys/register/verify", async (c) => {
    const body = await readJson(c, z.object({ response: z.unknown() }));
    const walletId = await registerPasskey(
      c.var.kv,
      relyingParty(c.var.config.publicUrl),
      await signedIn(c),
      body.response,
      c.var.clock(),
    );
    c.header(
      "set-cookie",
      await startWalletSession(c.var.kv, walletId, c.var.clock()),
    );
    return c.json({ signedIn: true });
  });

  wallet.post("/api/passkeys/login/options", async (c) =>
    c.json(
      await authenticationOptions(
        c.var.kv,
        relyingParty(c.var.config.publicUrl),
      ),
    ));

  wallet.post("/api/passkeys/login/verify", async (c) => {
    const body = await readJson(c, z.object({ response: z.unknown() }));
    const walletId = await authenticate(
      c.var.kv,
      relyingParty(c.var.config.publicUrl),
      body.response,
    );
    c.header(
      "set-cookie",
      await startWalletSession(c.var.kv, walletId, c.var.clock()),
    );
    return c.json({ signedIn: true });
  });

  wallet.post("/api/logout", async (c) => {
    c.header(
      "set-cookie",
      await endWalletSession(c.var.kv, c.req.header("cookie")),
    );
    return c.json({ signedIn: false });
  });

  wallet.post("/api/funding/key", async (c) => {
    const walletId = requireWallet(await signedIn(c));
    const { key } = await readJson(
      c,
      z.strictObject({ key: z.string().max(300) }),
    );
    await verifyFundingKey(liveUpstream, key.trim());
    const funding = await setFunding(
      c.var.kv,
      c.var.box,
      walletId,
      key.trim(),
      "pasted",
      c.var.clock(),
    );
    return c.json({
      funding: { label: funding.label, source: funding.source },
    });
  });

  wallet.get("/funding/openrouter", async (c) => {
    const walletId = requireWallet(await signedIn(c));
    const parsed = returnPath.safeParse(c.req.query("return") ?? "/dashboard");
    if (!parsed.success) {
      throw new WattfareError("invalid_request", "Invalid return path.", {
        param: "return",
      });
    }
    return c.redirect(
      await startPkce(c.var.kv, {
        walletId,
        authUrl: c.var.config.openRouterAuthUrl,
        callbackUrl:
          `${c.var.config.publicUrl}/wallet/funding/openrouter/callback`,
        returnTo: parsed.data,
      }),
    );
  });

  wallet.get("/funding/openrouter/callback", async (c) => {
    const state = c.req.query("state") ?? "";
    const code = c.req.query("code") ?? "";
    if (!code) {
      throw new WattfareError(
        "invalid_request",
        "OpenRouter did not approve the link.",
      );
    }
    const done = await finishPkce(c.var.kv, liveUpstream, state, code);
    await setFunding(
      c.var.kv,
      c.var.box,
      done.walletId,
      done.key,
      "oauth",
      c.var.clock(),
    );
    return c.redirect(done.returnTo);
  });

  return wallet;
}

function requireWallet(walletId: string | null): string {
  if (!walletId) {
    throw new WattfareError(
      "invalid_session",
      "Sign in to your Wattfare wallet with your passkey first.",
    );
  }
  return walletId;
}
