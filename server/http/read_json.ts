import type { Context } from "hono";
import type { z } from "zod";
import { WattfareError } from "../errors.ts";

/**
 * Parses the request body as JSON and validates it against `schema`. Any
 * failure is a `400 invalid_request` naming the offending field.
 */
export async function readJson<T extends z.ZodType>(
  c: Context,
  schema: T,
): Promise<z.infer<T>> {
  let body: unknown;
  try {
    body = JSON.parse(await c.req.text());
  } catch {
    throw new WattfareError(
      "invalid_request",
      "The request body must be valid JSON.",
    );
  }
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    const param = issue.path.join(".") || undefined;
    throw new WattfareError(
      "invalid_request",
      param ? `${param}: ${issue.message}` : issue.message,
      { param },
    );
  }
  return result.data;
}
