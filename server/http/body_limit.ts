import { createMiddleware } from "hono/factory";
import { bodyLimit as honoBodyLimit } from "hono/body-limit";
import { WattfareError } from "../errors.ts";
import type { Env } from "./env.ts";

/**
 * Refuses request bodies over `maxBytes` with `413 payload_too_large`. A
 * body whose `content-length` is declared is judged by it without touching
 * the body (so it is read later on Deno's fast path); a chunked body is
 * counted as it is read.
 */
export function bodyLimit(maxBytes: number) {
  const tooLarge = () => {
    throw new WattfareError(
      "payload_too_large",
      `The request body is over the limit of ${maxBytes} bytes.`,
    );
  };
  const counted = honoBodyLimit({ maxSize: maxBytes, onError: tooLarge });
  return createMiddleware<Env>(async (c, next) => {
    const length = c.req.header("content-length");
    if (
      length === undefined || !/^\d+$/.test(length) ||
      c.req.header("transfer-encoding") !== undefined
    ) {
      return await counted(c, next);
    }
    if (Number(length) > maxBytes) tooLarge();
    await next();
  });
}
