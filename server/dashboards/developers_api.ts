import { Hono } from "hono";
import { z } from "zod";
import {
  type AppRecord,
  createApp,
  getApp,
  rotateSecret,
  setRateLimits,
  updateOrigins,
} from "../apps/apps.ts";
import { WattfareError } from "../errors.ts";
import type { Env } from "../http/env.ts";
import { readJson } from "../http/read_json.ts";
import { sameOriginOnly } from "../http/wallet_routes.ts";
import { developerApp, developerApps } from "./developer_apps.ts";
import { parseOrigins } from "./origins.ts";
import { signedInWallet } from "./signed_in_wallet.ts";
import { usageBetween, usageCsv } from "../ledger/usage_export.ts";
import { csvDownload } from "./csv_download.ts";

const origins = z.array(z.string().max(2048)).min(1).max(20);

/** An app's own rate limits; `null` goes back to the service default. */
const limitsBody = z.strictObject({
  appRequestsPerMinute: z.number().int().min(1).max(10_000_000).nullable(),
  connectionRequestsPerMinute: z.number().int().min(1).max(1_000_000)
    .nullable(),
});

const createBody = z.strictObject({
  name: z.string().trim().min(1).max(100),
  origins,
  mode: z.enum(["test", "live"]),
});

/**
 * The app developer's API, mounted at `/developers/api`: the apps the
 * signed-in wallet registered, registration, secret rotation and origins.
 * A secret key is in the answer of create and rotate only, never again.
 */
export function developersApi(): Hono<Env> {
  const api = new Hono<Env>();
  api.use(sameOriginOnly());

  api.get("/apps", async (c) => {
    const walletId = await signedInWallet(c);
    return c.json({
      apps: await developerApps(
        c.var.kv,
        walletId,
        c.var.clock(),
        c.var.leases,
      ),
    });
  });

  api.post("/apps", async (c) => {
    const walletId = await signedInWallet(c);
    const body = await readJson(c, createBody);
    const created = await createApp(c.var.kv, {
      name: body.name,
      origins: parseOrigins(body.origins),
      mode: body.mode,
      ownerWalletId: walletId,
    });
    const app = await ownedApp(c.var.kv, walletId, created.appId);
    return c.json({
      app: await developerApp(c.var.kv, app, c.var.clock(), c.var.leases),
      secretKey: created.secretKey,
    }, 201);
  });

  api.get("/apps/:appId/usage.csv", async (c) => {
    const walletId = await signedInWallet(c);
    const app = await ownedApp(c.var.kv, walletId, c.req.param("appId"));
    const { rows } = await usageBetween(
      c.var.kv,
      app.id,
      null,
      0,
      c.var.clock() + 1,
    );
    return csvDownload(c, usageCsv(rows), `wattfare-${app.id}.csv`);
  });

  api.post("/apps/:appId/rotate", async (c) => {
    const walletId = await signedInWallet(c);
    const app = await ownedApp(c.var.kv, walletId, c.req.param("appId"));
    const rotated = await rotateSecret(c.var.kv, app.id);
    return c.json({
      app: await developerApp(c.var.kv, app, c.var.clock(), c.var.leases),
      secretKey: rotated!.secretKey,
    });
  });

  api.post("/apps/:appId/limits", async (c) => {
    const walletId = await signedInWallet(c);
    const app = await ownedApp(c.var.kv, walletId, c.req.param("appId"));
    const body = await readJson(c, limitsBody);
    await setRateLimits(c.var.kv, app.id, {
      appRequestsPerMinute: body.appRequestsPerMinute ?? undefined,
      connectionRequestsPerMinute: body.connectionRequestsPerMinute ??
        undefined,
    });
    return c.json({
      app: await developerApp(
        c.var.kv,
        await ownedApp(c.var.kv, walletId, app.id),
        c.var.clock(),
        c.var.leases,
      ),
    });
  });

  api.post("/apps/:appId/origins", async (c) => {
    const walletId = await signedInWallet(c);
    const app = await ownedApp(c.var.kv, walletId, c.req.param("appId"));
    const body = await readJson(c, z.strictObject({ origins }));
    await updateOrigins(c.var.kv, app.id, parseOrigins(body.origins));
    return c.json({
      app: await developerApp(
        c.var.kv,
        await ownedApp(c.var.kv, walletId, app.id),
        c.var.clock(),
        c.var.leases,
      ),
    });
  });

  return api;
}

/** An app the wallet registered; anyone else's (or none) is `404`, never shown. */
async function ownedApp(
  kv: Deno.Kv,
  walletId: string,
  appId: string,
): Promise<AppRecord> {
  const app = /^[0-9a-z]{1,64}$/.test(appId) ? await getApp(kv, appId) : null;
  if (!app || app.ownerWalletId !== walletId) {
    throw new WattfareError("not_found", "You have no app with that id.");
  }
  return app;
}
