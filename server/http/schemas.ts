import { z } from "zod";

/**
 * An app's own id for one of its users: the SDK's rule exactly (1 to 256
 * UTF-16 units, no control characters), so whatever the API accepts, the
 * SDK can mint a session for.
 */
export const userIdSchema = z.string().regex(
  // deno-lint-ignore no-control-regex
  /^[^\x00-\x1f\x7f]{1,256}$/,
  "must be 1 to 256 characters without control characters",
);

/** A monthly cap in USD. */
export const monthlyUsdSchema = z.number().finite().min(0).max(1_000_000);

/** `POST /api/v1/sessions`; the seeds spell the limit both `limits` and `requestLimit`. */
export const createSessionBody = z.strictObject({
  userId: userIdSchema,
  limits: z.strictObject({ monthlyUsd: monthlyUsdSchema.nullable() })
    .nullable().optional(),
  requestLimit: z.strictObject({ monthlyUsd: monthlyUsdSchema.nullable() })
    .nullable().optional(),
});

/** `POST /api/v1/test/connections`. */
export const createTestConnectionBody = z.strictObject({
  userId: userIdSchema,
  monthlyUsd: monthlyUsdSchema.nullable(),
});

/** `POST /api/v1/consent`: the popup records the user's approval. */
export const approveConsentBody = z.strictObject({
  /** The cap the user approved (they may change what the app asked for). */
  monthlyUsd: monthlyUsdSchema.nullable(),
  /** The opener's origin, as the browser reported it to the popup. */
  origin: z.string().max(2048),
});

/** `POST /api/v1/grants`: a visitor approves a fixed number of requests. */
export const createGrantBody = z.strictObject({
  requests: z.number().int().min(1).max(1000),
  maxUsd: monthlyUsdSchema.nullable().optional(),
  /** The opener's origin, when the popup creates the grant. */
  origin: z.string().max(2048).optional(),
});

/** An instant as ISO 8601 (`2026-11-01` or a full timestamp), in ms. */
const instant = z.string().max(40).transform((text, ctx) => {
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) {
    ctx.addIssue({
      code: "custom",
      message: "must be an ISO 8601 date or time",
    });
    return z.NEVER;
  }
  return ms;
});

/** `GET /api/v1/usage` query: whose usage, when (default: the last 31 days), in which form. */
export const usageQuery = z.strictObject({
  userId: userIdSchema,
  from: instant.optional(),
  to: instant.optional(),
  format: z.enum(["json", "csv"]).optional(),
});
