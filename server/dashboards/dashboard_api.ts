import { type Context, Hono } from "hono";
import { z } from "zod";
import { WattfareError } from "../errors.ts";
import type { Env } from "../http/env.ts";
import { readJson } from "../http/read_json.ts";
import { userIdSchema } from "../http/schemas.ts";
import { sameOriginOnly } from "../http/wallet_routes.ts";
import { nanoToUsd, usdToNano } from "../money.ts";
import { applyOwnerAction, type OwnerAction } from "./connection_actions.ts";
import { ownerDashboard } from "./owner_dashboard.ts";
import { signedInWallet } from "./signed_in_wallet.ts";
import { readConnection } from "../connections/connections.ts";
import { usageBetween, usageCsv } from "../ledger/usage_export.ts";
import { csvDownload } from "./csv_download.ts";

/** Which connection an action is about. */
const target = z.strictObject({
  appId: z.string().min(1).max(64),
  userId: userIdSchema,
});

/** The same range the consent popup offers. */
const capBody = target.extend({
  monthlyUsd: z.number().finite().min(0.01).max(10_000).nullable(),
});

/**
 * The budget owner's dashboard API, mounted at `/dashboard/api`: the
 * wallet's connections, and the owner's actions on them. Every action is a
 * POST from Wattfare's own pages (`Origin` checked; the wallet cookie is
 * SameSite=Lax) on a connection the signed-in wallet pays for.
 */
export function dashboardApi(): Hono<Env> {
  const api = new Hono<Env>();
  api.use(sameOriginOnly());

  api.get("/connections", async (c) => {
    const walletId = await signedInWallet(c);
    const dashboard = await ownerDashboard(
      c.var.kv,
      walletId,
      c.var.clock(),
      c.var.leases,
    );
    if (!dashboard) {
      throw new WattfareError("invalid_session", "This wallet is gone.");
    }
    return c.json(dashboard);
  });

  api.post("/connections/cap", async (c) => {
    const walletId = await signedInWallet(c);
    const body = await readJson(c, capBody);
    const capNano = body.monthlyUsd === null
      ? null
      : usdToNano(body.monthlyUsd, "down");
    return c.json(await act(c, walletId, body, { kind: "cap", capNano }));
  });

  api.get("/usage.csv", async (c) => {
    const walletId = await signedInWallet(c);
    const parsed = target.safeParse(c.req.query());
    if (!parsed.success) {
      throw new WattfareError(
        "invalid_request",
        "Name the connection: ?appId=…&userId=….",
      );
    }
    const { appId, userId } = parsed.data;
    const connection = (await readConnection(c.var.kv, appId, userId)).value;
    if (connection?.walletId !== walletId) {
      throw new WattfareError(
        "not_found",
        "Your wallet pays for no such connection.",
      );
    }
    const { rows } = await usageBetween(
      c.var.kv,
      appId,
      userId,
      0,
      c.var.clock() + 1,
    );
    return csvDownload(c, usageCsv(rows), `wattfare-${appId}.csv`);
  });

  for (const kind of ["pause", "resume", "revoke"] as const) {
    api.post(`/connections/${kind}`, async (c) => {
      const walletId = await signedInWallet(c);
      const body = await readJson(c, target);
      return c.json(await act(c, walletId, body, { kind }));
    });
  }

  return api;
}

async function act(
  c: Context<Env>,
  walletId: string,
  { appId, userId }: z.infer<typeof target>,
  action: OwnerAction,
) {
  const { before, after } = await applyOwnerAction(
    c.var.kv,
    walletId,
    appId,
    userId,
    action,
    c.var.clock(),
  );
  if (after.state === "revoked" && before.state !== "revoked") {
    await tellApp(c, appId, userId);
  }
  return {
    appId,
    userId,
    state: after.state,
    capUsd: after.capNano === null ? null : nanoToUsd(after.capNano),
  };
}

/**
 * Tells the app's webhook endpoints that its user revoked it. The revocation
 * has committed already: a failure to queue the event is logged, not the
 * owner's problem.
 */
async function tellApp(c: Context<Env>, appId: string, userId: string) {
  try {
    await c.var.webhooks.emit(appId, "connection.revoked", {
      userId,
      by: "user",
    });
  } catch (error) {
    console.error(JSON.stringify({
      level: "error",
      msg: "webhook not queued",
      type: "connection.revoked",
      error: error instanceof Error ? error.name : String(error),
    }));
  }
}
