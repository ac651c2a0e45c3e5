import type { Context } from "hono";
import type { Env } from "../../server/http/env.ts";
import { openApiDocument } from "../../server/http/openapi.ts";
import type { PageProps } from "../../server/pages/page.ts";

/** The page's title. */
export const title = "API reference · Wattfare";

interface Operation {
  summary: string;
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { description: string }>;
  security?: Record<string, unknown>[];
}

/** The OpenAPI document the page shows. */
export function load(c: Context<Env>): Record<string, unknown> {
  return openApiDocument(c.var.config.publicUrl);
}

/** `/docs/api`: the HTTP API, rendered from `/api/v1/openapi.json`. */
export default function ApiReference(
  props: PageProps<Record<string, unknown>>,
) {
  const doc = props.data as {
    servers: { url: string }[];
    paths: Record<string, Record<string, Operation>>;
  };
  return (
    <div class="page narrow reference">
      <h1>Wattfare API reference</h1>
      <p class="lead">
        Base URL <code>{doc.servers[0].url}</code>. Machine-readable:{" "}
        <a href="/api/v1/openapi.json">openapi.json</a> (OpenAPI 3.1).
      </p>
      {Object.entries(doc.paths).flatMap(([path, operations]) =>
        Object.entries(operations).map(([method, op]) => (
          <section
            class="operation"
            key={`${method} ${path}`}
            id={`${method}-${path}`}
          >
            <h2>
              <span class={`method method-${method}`}>
                {method.toUpperCase()}
              </span>{" "}
              <code>{path}</code>
            </h2>
            <p>{op.summary}</p>
            <p class="hint">
              Auth:{" "}
              {(op.security ?? [{ secretKey: [] }]).map((s) =>
                Object.keys(s)[0]
              )
                .join(" or ")}
            </p>
            {op.parameters?.length
              ? (
                <p class="hint">
                  Parameters: {op.parameters.map((p) =>
                    `${p.name} (${p.in}${p.required ? ", required" : ""})`
                  ).join("; ")}
                </p>
              )
              : null}
            {op.requestBody && (
              <details>
                <summary>Request body schema</summary>
                <pre>{JSON.stringify(op.requestBody.content["application/json"].schema, null, 2)}</pre>
              </details>
            )}
            <ul class="responses">
              {Object.entries(op.responses).map(([status, response]) => (
                <li key={status}>
                  <code>{status}</code> {response.description}
                </li>
              ))}
            </ul>
          </section>
        ))
      )}
    </div>
  );
}
