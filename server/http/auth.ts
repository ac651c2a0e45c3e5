import { createMiddleware } from "hono/factory";
import { parseSecretKey } from "../../sdk/secret_key.ts";
import type { AppRecord } from "../apps/apps.ts";
import { cachedApp } from "../apps/app_cache.ts";
import { sha256HexSync, timingSafeEqual } from "../crypto/digest.ts";
import { WattfareError } from "../errors.ts";
import {
  type VerifiedSession,
  verifySession,
} from "../sessions/verify_session.ts";
import type { Env } from "./env.ts";

/** How a request proved who it is. */
export type Caller =
  | { kind: "secret"; app: AppRecord; secretKey: string }
  | { kind: "session"; app: AppRecord; session: VerifiedSession };

/** Requires the app's secret key as a bearer token; sets `c.var.caller`. */
export function secretKeyAuth() {
  return createMiddleware<Env>(async (c, next) => {
    const secretKey = bearer(c.req.header("authorization"));
    const app = await appFromSecretKey(c.var.kv, secretKey);
    c.set("caller", { kind: "secret", app, secretKey });
    await next();
  });
}

/** Accepts a secret key or a session JWT as the bearer token. */
export function secretKeyOrSessionAuth() {
  return createMiddleware<Env>(async (c, next) => {
    const token = bearer(c.req.header("authorization"));
    if (token.startsWith("sk_")) {
      const app = await appFromSecretKey(c.var.kv, token);
      c.set("caller", { kind: "secret", app, secretKey: token });
    } else {
      const session = await verifySession(c.var.kv, token, c.var.clock());
      assertSessionOrigin(
        c.req.header("origin"),
        session,
        c.var.config.publicUrl,
      );
      c.set("caller", { kind: "session", app: session.app, session });
    }
    await next();
  });
}

/** Requires a session JWT as the bearer token. */
export function sessionAuth() {
  return createMiddleware<Env>(async (c, next) => {
    const token = bearer(c.req.header("authorization"));
    const session = await verifySession(c.var.kv, token, c.var.clock());
    assertSessionOrigin(
      c.req.header("origin"),
      session,
      c.var.config.publicUrl,
    );
    c.set("caller", { kind: "session", app: session.app, session });
    await next();
  });
}

/**
 * A browser may use a session only from its app's registered origins or
 * Wattfare's own pages: a token that leaks to another site is useless there.
 */
function assertSessionOrigin(
  origin: string | undefined,
  session: VerifiedSession,
  publicUrl: string,
): void {
  if (
    origin !== undefined && origin !== new URL(publicUrl).origin &&
    !session.app.origins.includes(origin)
  ) {
    throw new WattfareError(
      "origin_not_allowed",
      `${origin} is not one of the origins registered for this app.`,
    );
  }
}

function bearer(header: string | undefined): string {
  const match = header ? /^Bearer[ ]+(\S{1,4096})$/i.exec(header.trim()) : null;
  if (!match) {
    throw new WattfareError(
      "invalid_api_key",
      "Missing credentials: send `Authorization: Bearer <key>`.",
    );
  }
  return match[1];
}

async function appFromSecretKey(
  kv: Deno.Kv,
  key: string,
): Promise<AppRecord> {
  const parts = parseSecretKey(key);
  const app = parts ? await cachedApp(kv, parts.appId) : null;
  if (
    !parts || !app ||
    !timingSafeEqual(sha256HexSync(parts.secret), app.secretHash)
  ) {
    throw new WattfareError(
      "invalid_api_key",
      "Invalid secret key. Keys look like sk_test_<appId>_<secret>; check it was not rotated.",
    );
  }
  if (app.mode !== parts.mode) {
    throw new WattfareError(
      "mode_mismatch",
      `This is a ${app.mode} app; use its sk_${app.mode}_ key.`,
    );
  }
  return app;
}
