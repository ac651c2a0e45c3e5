import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { Hono } from "hono";
import type { Env } from "../http/env.ts";
import { webhookOpenApiPaths } from "./openapi_paths.ts";
import { webhookRoutes } from "./routes.ts";

Deno.test("the OpenAPI paths document every webhook route, with the route's own request schema", () => {
  // Mounted as the API will mount it; the router is built, never run.
  const api = new Hono<Env>().route("/webhooks", webhookRoutes());
  const routes = api.routes
    .filter((r) => r.method !== "ALL")
    .map((r) =>
      `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`
    );
  const paths = webhookOpenApiPaths() as Record<
    string,
    Record<string, object>
  >;
  const documented = Object.entries(paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((method) => `${method} ${path}`)
  );
  assert.deepEqual([...new Set(routes)].sort(), documented.sort());

  const ajv = new Ajv2020({ strict: false });
  const post = paths["/webhooks"].post as {
    requestBody: { content: { "application/json": { schema: object } } };
  };
  const create = ajv.compile(
    post.requestBody.content["application/json"].schema,
  );
  assert.ok(create({ url: "https://example.com/wf" }));
  assert.ok(create({ url: "https://example.com/wf", events: ["budget.low"] }));
  assert.ok(!create({}));
  assert.ok(!create({ url: "https://example.com/wf", events: ["nope"] }));
  assert.ok(!create({ url: "https://example.com/wf", secret: "mine" }));
});
