import { randomId } from "../crypto/random.ts";

/**
 * A request id that sorts by time: `req_` + milliseconds in base 36 (fixed
 * width) + 16 random characters, so usage entries list in order.
 */
export function requestId(now: number): string {
  return `req_${now.toString(36).padStart(9, "0")}${randomId(16)}`;
}
