import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { apiV1 } from "./api_v1.ts";
import type { ProxyDeps } from "../proxy/chat_completions.ts";
import { startTestService } from "../testing/test_service.ts";

Deno.test("GET /api/v1/openapi.json documents every route, as OpenAPI 3.1", async () => {
  await using service = await startTestService();
  const response = await service.fetch("/api/v1/openapi.json");
  assert.equal(response.status, 200);
  const doc = await response.json();
  assert.equal(doc.openapi, "3.1.0");
  assert.equal(doc.servers[0].url, `${service.publicUrl}/api/v1`);

  // The routes the service really has (the router is only built, never run).
  const routes = apiV1({} as ProxyDeps).routes
    .filter((r) => r.method !== "ALL" && r.path !== "/openapi.json")
    .map((r) =>
      `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`
    );
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops as object).map((method) => `${method} ${path}`)
  );
  assert.deepEqual([...new Set(routes)].sort(), documented.sort());

  // Every request schema is valid JSON Schema 2020-12 (OpenAPI 3.1's dialect).
  const ajv = new Ajv2020({ strict: false });
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (
      const [method, op] of Object.entries(
        ops as Record<
          string,
          {
            requestBody?: { content: Record<string, { schema: object }> };
            responses: object;
          }
        >,
      )
    ) {
      assert.ok(
        Object.keys(op.responses).length > 0,
        `${method} ${path} has responses`,
      );
      const schema = op.requestBody?.content["application/json"].schema;
      if (schema) ajv.compile(schema);
    }
  }
});

Deno.test("the documented request schemas accept and refuse what the routes do", async () => {
  await using service = await startTestService();
  const doc = await (await service.fetch("/api/v1/openapi.json")).json();
  const ajv = new Ajv2020({ strict: false });
  const schemaOf = (path: string) =>
    ajv.compile(
      doc.paths[path].post.requestBody.content["application/json"].schema,
    );

  const session = schemaOf("/sessions");
  assert.ok(session({ userId: "u", limits: { monthlyUsd: 10 } }));
  assert.ok(!session({ userId: 7 }));
  assert.ok(!session({ userId: "u", monthlyUSD: 1 }));

  const grant = schemaOf("/grants");
  assert.ok(grant({ requests: 3, maxUsd: 0.5 }));
  assert.ok(!grant({ requests: 0 }));

  const chat = schemaOf("/chat/completions");
  assert.ok(
    chat({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    }),
  );
  assert.ok(!chat({ model: "openai/gpt-4o-mini", messages: [] }));
});
