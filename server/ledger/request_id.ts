import { randomId } from "../crypto/random.ts";

/**
 * A request id that sorts by time: `req_` + milliseconds in base 36 (fixed
 * width) + 16 random characters, so usage entries list in order. Leases
 * use the same shape with another prefix.
 */
export function requestId(now: number, prefix = "req"): string {
  return `${prefix}_${now.toString(36).padStart(9, "0")}${randomId(16)}`;
}
