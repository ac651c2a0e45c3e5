import { type Context, Hono } from "hono";
import { mintSessionToken } from "../../sdk/session_token.ts";
import { WattfareError } from "../errors.ts";
import { type AppRecord, summarize } from "../apps/apps.ts";
import { createGrant } from "../grants/grants.ts";
import { webhookRoutes } from "../webhooks/routes.ts";
import type {
  WebhookEventDataMap,
  WebhookEventType,
} from "../../sdk/webhooks.ts";
import { usdToNano } from "../money.ts";
import {
  approveConnection,
  disconnect,
  sandboxFunding,
} from "../connections/connections.ts";
import type { Sealed } from "../crypto/secret_box.ts";
import { walletOfRequest } from "../wallets/wallet_sessions.ts";
import { getWallet } from "../wallets/wallets.ts";
import { connectionStatus } from "../connections/status.ts";
import {
  type Caller,
  secretKeyAuth,
  secretKeyOrSessionAuth,
  sessionAuth,
} from "./auth.ts";
import type { Env } from "./env.ts";
import { chatCompletions, type ProxyDeps } from "../proxy/chat_completions.ts";
import { openApiDocument } from "./openapi.ts";
import { readJson } from "./read_json.ts";
import { usageBetween, usageCsv } from "../ledger/usage_export.ts";
import { csvDownload } from "../dashboards/csv_download.ts";
import {
  approveConsentBody,
  createGrantBody,
  createSessionBody,
  createTestConnectionBody,
  usageQuery,
  userIdSchema,
} from "./schemas.ts";

/** The JSON API under `/api/v1`. */
export function apiV1(proxy: ProxyDeps): Hono<Env> {
  const api = new Hono<Env>();

  api.get(
    "/openapi.json",
    (c) => c.json(openApiDocument(c.var.config.publicUrl)),
  );

  api.post("/chat/completions", secretKeyAuth(), chatCompletions(proxy));
  api.route("/webhooks", webhookRoutes());

  api.get(
    "/models",
    secretKeyAuth(),
    async (c) =>
      c.json({ data: await proxy.priceBooks[c.var.caller.app.mode].models() }),
  );

  api.post("/sessions", secretKeyAuth(), async (c) => {
    const caller = c.var.caller;
    if (caller.kind !== "secret") {
      throw new TypeError("secretKeyAuth must run first");
    }
    const body = await readJson(c, createSessionBody);
    if (body.limits !== undefined && body.requestLimit !== undefined) {
      throw new WattfareError(
        "invalid_request",
        "Send the limit as `limits` or `requestLimit`, not both.",
        { param: "limits" },
      );
    }
    const limits = body.limits ?? body.requestLimit ?? null;
    if (limits?.monthlyUsd === null && caller.app.mode === "live") {
      throw new WattfareError(
        "invalid_request",
        "Live apps must ask for a monthly cap.",
        { param: "limits.monthlyUsd" },
      );
    }
    return c.json(
      mintSessionToken(caller.secretKey, body.userId, {
        limits,
        now: c.var.clock(),
      }),
    );
  });

  api.get("/status", secretKeyOrSessionAuth(), async (c) => {
    const caller = c.var.caller;
    let userId: string;
    if (caller.kind === "session") {
      userId = caller.session.claims.appUserId;
    } else {
      const parsed = userIdSchema.safeParse(c.req.query("userId"));
      if (!parsed.success) {
        throw new WattfareError(
          "invalid_request",
          "With a secret key, name the user: GET /api/v1/status?userId=<your user id>.",
          { param: "userId" },
        );
      }
      userId = parsed.data;
    }
    return c.json(
      await connectionStatus(
        c.var.kv,
        caller.app.id,
        userId,
        c.var.clock(),
        proxy.ledger,
      ),
    );
  });

  api.get("/consent", sessionAuth(), async (c) => {
    const { app, session } = sessionCaller(c.var.caller);
    return c.json({
      app: {
        name: app.name,
        mode: app.mode,
        origins: app.origins,
        publishableKey: summarize(app).publishableKey,
      },
      userId: session.claims.appUserId,
      limits: session.claims.limits,
      status: await connectionStatus(
        c.var.kv,
        app.id,
        session.claims.appUserId,
        c.var.clock(),
        proxy.ledger,
      ),
    });
  });

  api.post("/consent", sessionAuth(), async (c) => {
    const { app, session } = sessionCaller(c.var.caller);
    assertOwnPage(c.req.header("origin"), c.var.config.publicUrl);
    const body = await readJson(c, approveConsentBody);
    assertRegisteredOrigin(app, body.origin);
    const payer = await payerOf(c, app);
    if (
      body.monthlyUsd === null && session.claims.limits?.monthlyUsd !== null
    ) {
      throw new WattfareError(
        "invalid_request",
        "Choose a monthly cap.",
        { param: "monthlyUsd" },
      );
    }
    const userId = session.claims.appUserId;
    await approveConnection(
      c.var.kv,
      app,
      userId,
      body.monthlyUsd === null ? null : usdToNano(body.monthlyUsd, "down"),
      payer,
      c.var.clock(),
    );
    await announce(c, app.id, "connection.approved", {
      userId,
      limits: { monthlyUsd: body.monthlyUsd },
    });
    return c.json(
      await connectionStatus(
        c.var.kv,
        app.id,
        userId,
        c.var.clock(),
        proxy.ledger,
      ),
    );
  });

  api.post("/grants", sessionAuth(), async (c) => {
    const { app } = sessionCaller(c.var.caller);
    assertOwnPage(c.req.header("origin"), c.var.config.publicUrl);
    const body = await readJson(c, createGrantBody);
    if (body.origin !== undefined) assertRegisteredOrigin(app, body.origin);
    const { funding } = await payerOf(c, app);
    const maxUsd = body.maxUsd ?? null;
    return c.json(
      await createGrant(c.var.kv, app, {
        requests: body.requests,
        maxNano: maxUsd === null ? null : usdToNano(maxUsd, "down"),
        funding,
      }, c.var.clock()),
    );
  });

  api.get("/usage", secretKeyAuth(), async (c) => {
    const app = c.var.caller.app;
    const query = usageQuery.safeParse(c.req.query());
    if (!query.success) {
      const issue = query.error.issues[0];
      const param = issue.path.join(".") || undefined;
      throw new WattfareError(
        "invalid_request",
        `${param ? `${param}: ` : ""}${issue.message}`,
        { param },
      );
    }
    const now = c.var.clock();
    const from = query.data.from ?? now - 31 * 86_400_000;
    const to = query.data.to ?? now + 1;
    const { rows, totalUsd } = await usageBetween(
      c.var.kv,
      app.id,
      query.data.userId,
      from,
      to,
    );
    if (query.data.format === "csv") {
      return csvDownload(c, usageCsv(rows), "wattfare-usage.csv");
    }
    return c.json({ userId: query.data.userId, totalUsd, data: rows });
  });

  api.post("/test/connections", secretKeyAuth(), async (c) => {
    const app = c.var.caller.app;
    if (app.mode !== "test") {
      throw new WattfareError(
        "mode_mismatch",
        "Test connections need a test secret key (sk_test_…); live users approve in the consent popup.",
      );
    }
    const body = await readJson(c, createTestConnectionBody);
    const cap = body.monthlyUsd === null
      ? null
      : usdToNano(body.monthlyUsd, "down");
    await approveConnection(c.var.kv, app, body.userId, cap, {
      funding: await sandboxFunding(c.var.box),
      walletId: null,
    }, c.var.clock());
    await announce(c, app.id, "connection.approved", {
      userId: body.userId,
      limits: { monthlyUsd: body.monthlyUsd },
    });
    return c.json({
      userId: body.userId,
      ...await connectionStatus(
        c.var.kv,
        app.id,
        body.userId,
        c.var.clock(),
        proxy.ledger,
      ),
    }, 201);
  });

  api.delete("/connections/:userId", secretKeyOrSessionAuth(), async (c) => {
    const parsed = userIdSchema.safeParse(c.req.param("userId"));
    if (!parsed.success) {
      throw new WattfareError("invalid_request", "Invalid user id.", {
        param: "userId",
      });
    }
    const caller = c.var.caller;
    // A session (the browser) may end its own user's connection only.
    if (
      caller.kind === "session" &&
      caller.session.claims.appUserId !== parsed.data
    ) {
      throw new WattfareError(
        "invalid_session",
        "This session belongs to another user.",
      );
    }
    const disconnected = await disconnect(
      c.var.kv,
      caller.app.id,
      parsed.data,
      c.var.clock(),
    );
    if (disconnected) {
      await announce(c, caller.app.id, "connection.revoked", {
        userId: parsed.data,
        by: "app",
      });
    }
    return c.json({ userId: parsed.data, disconnected });
  });

  return api;
}

/**
 * Tells the app's webhook endpoints. A failure to queue is logged, never the
 * caller's problem: the change itself already committed.
 */
async function announce<T extends WebhookEventType>(
  c: Context<Env>,
  appId: string,
  type: T,
  data: WebhookEventDataMap[T],
): Promise<void> {
  try {
    await c.var.webhooks.emit(appId, type, data);
  } catch (error) {
    console.error(JSON.stringify({
      level: "error",
      msg: "webhook not queued",
      type,
      error: error instanceof Error ? error.name : String(error),
    }));
  }
}

/** Consent and grants are given on Wattfare's own pages only (the popup). */
function assertOwnPage(origin: string | undefined, publicUrl: string): void {
  if (origin !== undefined && origin !== new URL(publicUrl).origin) {
    throw new WattfareError(
      "origin_not_allowed",
      "Consent is given on Wattfare's own pages only.",
    );
  }
}

/** The page that opened the popup must be one the app registered. */
function assertRegisteredOrigin(app: AppRecord, origin: string): void {
  if (!app.origins.includes(origin)) {
    throw new WattfareError(
      "origin_not_allowed",
      `${origin} is not one of the origins registered for ${app.name}.`,
      { param: "origin" },
    );
  }
}

/**
 * Who pays for what the popup approves: for a live app, the signed-in
 * budget owner's funding source (required); for a test app, the sandbox,
 * recorded against the owner's wallet when they are signed in so it shows
 * on their dashboard.
 */
async function payerOf(
  c: Context<Env>,
  app: AppRecord,
): Promise<{ funding: Sealed; walletId: string | null }> {
  const walletId = await walletOfRequest(
    c.var.kv,
    c.req.header("cookie"),
    c.var.clock(),
  );
  if (app.mode === "test") {
    return { funding: await sandboxFunding(c.var.box), walletId };
  }
  if (!walletId) {
    throw new WattfareError(
      "invalid_session",
      "Sign in to your Wattfare wallet with your passkey first.",
    );
  }
  const wallet = await getWallet(c.var.kv, walletId);
  if (!wallet?.funding) {
    throw new WattfareError(
      "invalid_request",
      "Link a funding source to your wallet before approving a live app.",
    );
  }
  return { funding: wallet.funding.sealed, walletId };
}

function sessionCaller(caller: Caller) {
  if (caller.kind !== "session") {
    throw new TypeError("sessionAuth must run first");
  }
  return caller;
}
