import { z } from "zod";
import { ERROR_STATUS } from "../errors.ts";
import { createEndpointBody } from "./endpoint_body.ts";
import { WEBHOOK_EVENT_TYPES } from "../../sdk/webhooks.ts";

const errorRef = { $ref: "#/components/schemas/Error" };
const errors = (...codes: (keyof typeof ERROR_STATUS)[]) =>
  Object.fromEntries(codes.map((code) => [
    String(ERROR_STATUS[code]),
    {
      description: code,
      content: { "application/json": { schema: errorRef } },
    },
  ]));
const ok = (schema: unknown, description = "OK") => ({
  description,
  content: { "application/json": { schema } },
});
const idParameter = {
  name: "id",
  in: "path",
  required: true,
  schema: { type: "string" },
};
const endpoint = {
  type: "object",
  required: ["id", "url", "events", "createdAt"],
  properties: {
    id: { type: "string", pattern: "^wh_" },
    url: { type: "string", format: "uri" },
    events: { type: "array", items: { enum: [...WEBHOOK_EVENT_TYPES] } },
    createdAt: { type: "integer", description: "ms since the epoch" },
  },
};
const delivery = {
  type: "object",
  properties: {
    eventId: { type: "string" },
    endpointId: { type: "string" },
    type: { enum: [...WEBHOOK_EVENT_TYPES] },
    state: { enum: ["pending", "delivered", "failed"] },
    attempts: { type: "integer" },
    lastStatus: { type: ["integer", "null"] },
    lastError: { type: ["string", "null"] },
    nextAttemptAt: { type: ["integer", "null"] },
    createdAt: { type: "integer" },
    updatedAt: { type: "integer" },
  },
};

/**
 * The OpenAPI 3.1 path items of `webhookRoutes()` mounted at `/webhooks`,
 * relative to `/api/v1`; the request schema comes from the validator the
 * route uses. Spread it into the document's `paths`.
 */
export function webhookOpenApiPaths(): Record<string, unknown> {
  const { $schema: _, ...requestSchema } = z.toJSONSchema(createEndpointBody, {
    io: "input",
    unrepresentable: "any",
  }) as Record<string, unknown>;
  return {
    "/webhooks": {
      post: {
        summary:
          "Register a webhook endpoint; the signing secret is in this response only",
        requestBody: {
          required: true,
          content: { "application/json": { schema: requestSchema } },
        },
        responses: {
          "201": ok({
            ...endpoint,
            required: [...endpoint.required, "secret"],
            properties: {
              ...endpoint.properties,
              secret: { type: "string", pattern: "^whsec_" },
            },
          }, "Created"),
          ...errors("invalid_request", "invalid_api_key"),
        },
      },
      get: {
        summary: "Your webhook endpoints (without secrets)",
        responses: {
          "200": ok({
            type: "object",
            properties: { data: { type: "array", items: endpoint } },
          }),
          ...errors("invalid_api_key"),
        },
      },
    },
    "/webhooks/{id}": {
      delete: {
        summary: "Delete a webhook endpoint; queued deliveries are dropped",
        parameters: [idParameter],
        responses: {
          "200": ok({
            type: "object",
            properties: {
              id: { type: "string" },
              deleted: { const: true },
            },
          }),
          ...errors("invalid_api_key", "not_found"),
        },
      },
    },
    "/webhooks/{id}/deliveries": {
      get: {
        summary: "An endpoint's 50 most recent deliveries, newest first",
        parameters: [idParameter],
        responses: {
          "200": ok({
            type: "object",
            properties: { data: { type: "array", items: delivery } },
          }),
          ...errors("invalid_api_key", "not_found"),
        },
      },
    },
  };
}
