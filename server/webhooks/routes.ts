import { Hono } from "hono";
import { WattfareError } from "../errors.ts";
import { secretKeyAuth } from "../http/auth.ts";
import type { Env } from "../http/env.ts";
import { readJson } from "../http/read_json.ts";
import { summarizeEndpoint } from "./endpoint.ts";
import { assertDeliverable, createEndpointBody } from "./endpoint_body.ts";
import {
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listEndpoints,
} from "./endpoints.ts";
import { listDeliveries } from "./delivery_record.ts";

/**
 * `/api/v1/webhooks`: an app's webhook endpoints, managed with its secret
 * key. The routes check the key themselves, so they are safe wherever they
 * are mounted. The signing secret is in the creation response only.
 */
export function webhookRoutes(): Hono<Env> {
  const routes = new Hono<Env>();
  routes.use("*", secretKeyAuth());

  routes.post("/", async (c) => {
    const app = c.var.caller.app;
    const body = await readJson(c, createEndpointBody);
    assertDeliverable(body.url, app.mode);
    const endpoint = await createEndpoint(
      c.var.kv,
      app.id,
      body,
      c.var.clock(),
    );
    return c.json(
      { ...summarizeEndpoint(endpoint), secret: endpoint.secret },
      201,
    );
  });

  routes.get("/", async (c) => {
    const endpoints = await listEndpoints(c.var.kv, c.var.caller.app.id);
    return c.json({ data: endpoints.map(summarizeEndpoint) });
  });

  routes.get("/:id/deliveries", async (c) => {
    const appId = c.var.caller.app.id;
    const id = c.req.param("id");
    if (!await getEndpoint(c.var.kv, appId, id)) throw notFound(id);
    return c.json({ data: await listDeliveries(c.var.kv, appId, id) });
  });

  routes.delete("/:id", async (c) => {
    const id = c.req.param("id");
    if (!await deleteEndpoint(c.var.kv, c.var.caller.app.id, id)) {
      throw notFound(id);
    }
    return c.json({ id, deleted: true });
  });

  return routes;
}

function notFound(id: string): WattfareError {
  return new WattfareError(
    "not_found",
    `No webhook endpoint ${id.slice(0, 64)} for this app.`,
    { param: "id" },
  );
}
