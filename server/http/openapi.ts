import { z } from "zod";
import { ERROR_STATUS } from "../errors.ts";
import { chatRequestSchema } from "../proxy/chat_request.ts";
import { webhookOpenApiPaths } from "../webhooks/openapi_paths.ts";
import {
  approveConsentBody,
  createGrantBody,
  createSessionBody,
  createTestConnectionBody,
} from "./schemas.ts";

/** A request body's JSON Schema, from the zod schema that validates it. */
function body(schema: z.ZodType) {
  const { $schema: _, ...json } = z.toJSONSchema(schema, {
    io: "input",
    unrepresentable: "any",
  }) as Record<string, unknown>;
  return { required: true, content: { "application/json": { schema: json } } };
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: unknown, description = "OK") => ({
  description,
  content: { "application/json": { schema } },
});
const errors = (...codes: (keyof typeof ERROR_STATUS)[]) =>
  Object.fromEntries(
    [...new Set(codes.map((code) => ERROR_STATUS[code]))].map((status) => [
      String(status),
      json(
        ref("Error"),
        codes.filter((code) => ERROR_STATUS[code] === status).join(", "),
      ),
    ]),
  );
const userQuery = {
  name: "userId",
  in: "query",
  required: true,
  schema: { type: "string", minLength: 1, maxLength: 256 },
};

/**
 * The OpenAPI 3.1 description of `/api/v1`. Request bodies are generated
 * from the zod schemas the routes validate with, so the two cannot drift.
 */
export function openApiDocument(serverUrl: string): Record<string, unknown> {
  return {
    openapi: "3.1.0",
    info: {
      title: "Wattfare API",
      version: "1",
      description:
        "A consent layer for AI spend: users fund their own inference within caps they approve. OpenAI-compatible.",
    },
    servers: [{ url: `${serverUrl}/api/v1` }],
    security: [{ secretKey: [] }],
    paths: {
      ...webhookOpenApiPaths(),
      "/chat/completions": {
        post: {
          summary: "Metered chat completion (OpenAI-compatible, stream or not)",
          parameters: [
            {
              name: "x-wattfare-user",
              in: "header",
              schema: { type: "string" },
            },
            {
              name: "x-wattfare-grant",
              in: "header",
              schema: { type: "string" },
            },
          ],
          requestBody: body(chatRequestSchema),
          responses: {
            "200": {
              description:
                "OpenAI's chat completion (or SSE chunks when `stream` is true); `x-wattfare-cost` carries the exact cost of non-stream calls.",
            },
            ...errors(
              "invalid_request",
              "model_not_priced",
              "invalid_api_key",
              "budget_exceeded",
              "grant_invalid",
              "not_connected",
              "revoked",
              "payload_too_large",
              "rate_limited",
              "upstream_error",
              "upstream_timeout",
            ),
          },
        },
      },
      "/models": {
        get: {
          summary: "Priced models of the key's mode",
          responses: {
            "200": json({ type: "object" }),
            ...errors("invalid_api_key"),
          },
        },
      },
      "/sessions": {
        post: {
          summary: "Mint a 10-minute session token for one of your users",
          requestBody: body(createSessionBody),
          responses: {
            "200": json(ref("Session")),
            ...errors("invalid_request", "invalid_api_key"),
          },
        },
      },
      "/status": {
        get: {
          summary:
            "A user's connection status (session token, or secret key and userId)",
          security: [{ secretKey: [] }, { session: [] }],
          parameters: [{ ...userQuery, required: false }],
          responses: {
            "200": json(ref("ConnectionStatus")),
            ...errors("invalid_request", "invalid_api_key", "invalid_session"),
          },
        },
      },
      "/connections/{userId}": {
        delete: {
          summary: "Disconnect one of your users",
          security: [{ secretKey: [] }, { session: [] }],
          parameters: [{ ...userQuery, in: "path" }],
          responses: {
            "200": json({
              type: "object",
              properties: {
                userId: { type: "string" },
                disconnected: { type: "boolean" },
              },
            }),
            ...errors("invalid_request", "invalid_api_key", "invalid_session"),
          },
        },
      },
      "/grants": {
        post: {
          summary: "Create a one-time grant (the consent popup calls it)",
          security: [{ session: [] }],
          requestBody: body(createGrantBody),
          responses: {
            "200": json(ref("GrantResult")),
            ...errors(
              "invalid_request",
              "invalid_session",
              "origin_not_allowed",
            ),
          },
        },
      },
      "/consent": {
        get: {
          summary: "What the consent popup is asked to approve",
          security: [{ session: [] }],
          responses: {
            "200": json({ type: "object" }),
            ...errors("invalid_session"),
          },
        },
        post: {
          summary: "Record the user's approval (the consent popup calls it)",
          security: [{ session: [] }],
          requestBody: body(approveConsentBody),
          responses: {
            "200": json(ref("ConnectionStatus")),
            ...errors(
              "invalid_request",
              "invalid_session",
              "origin_not_allowed",
            ),
          },
        },
      },
      "/usage": {
        get: {
          summary: "A user's usage entries, with exact costs (JSON or CSV)",
          parameters: [
            userQuery,
            {
              name: "from",
              in: "query",
              schema: { type: "string", format: "date-time" },
            },
            {
              name: "to",
              in: "query",
              schema: { type: "string", format: "date-time" },
            },
            { name: "format", in: "query", schema: { enum: ["json", "csv"] } },
          ],
          responses: {
            "200": json({ type: "object" }),
            ...errors("invalid_request", "invalid_api_key"),
          },
        },
      },
      "/test/connections": {
        post: {
          summary: "An approved sandbox connection (test secret keys only)",
          requestBody: body(createTestConnectionBody),
          responses: {
            "201": json(ref("ConnectionStatus")),
            ...errors("invalid_request", "invalid_api_key", "mode_mismatch"),
          },
        },
      },
    },
    components: {
      securitySchemes: {
        secretKey: {
          type: "http",
          scheme: "bearer",
          description: "Your secret key, sk_{mode}_{appId}_{secret}",
        },
        session: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "JWT",
          description: "A session token minted for one of your users",
        },
      },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["type", "code", "message", "param"],
              properties: {
                type: { const: "wattfare_error" },
                code: { enum: Object.keys(ERROR_STATUS) },
                message: { type: "string" },
                param: { type: ["string", "null"] },
              },
            },
          },
        },
        ConnectionStatus: {
          type: "object",
          required: ["connected", "limits", "usage", "remainingUsd"],
          properties: {
            connected: { type: "boolean" },
            limits: {
              type: ["object", "null"],
              properties: { monthlyUsd: { type: ["number", "null"] } },
            },
            usage: {
              type: "object",
              required: ["monthlyUsd"],
              properties: { monthlyUsd: { type: "number" } },
            },
            remainingUsd: { type: ["number", "null"] },
          },
        },
        Session: {
          type: "object",
          required: ["token", "expiresAt"],
          properties: {
            token: { type: "string" },
            expiresAt: { type: "integer" },
          },
        },
        GrantResult: {
          type: "object",
          required: ["grantToken", "expiresAt", "requests"],
          properties: {
            grantToken: { type: "string", pattern: "^wfg_" },
            expiresAt: { type: "integer" },
            requests: { type: "integer" },
          },
        },
      },
    },
  };
}
