/**
 * HTTP plumbing shared by the server and browser entry points: the base URL,
 * JSON calls to the API, and the status shape. Internal to the package.
 *
 * @module
 */
import { createWattfareError, errorFromBody, WattfareError } from "./errors.ts";
import type { ConnectionStatus } from "./types.ts";

/** The hosted service. */
export const DEFAULT_BASE_URL = "https://wattfare.com";

/**
 * A `fetch`-compatible function, for the `fetch` option (proxies, logging,
 * tests).
 *
 * @example
 * ```ts
 * const logging: FetchLike = (input, init) => {
 *   console.log(init?.method ?? "GET", String(input));
 *   return fetch(input, init);
 * };
 * ```
 */
export type FetchLike = (
  input: string | URL | Request,
  init?: RequestInit,
) => Promise<Response>;

/** Where the service lives. */
export interface Endpoints {
  /** The service's origin, e.g. `https://wattfare.com` (the popup's origin). */
  origin: string;
  /** The base URL without a trailing slash. */
  base: string;
  /** `${base}/api/v1`. */
  api: string;
}

/**
 * Checks and normalises a `baseUrl` option.
 *
 * @throws {TypeError} when it is not an http(s) URL, or names the API path.
 */
export function endpoints(baseUrl: string | undefined): Endpoints {
  const raw = baseUrl ?? DEFAULT_BASE_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new TypeError(
      `Wattfare: baseUrl must be an absolute URL such as ${DEFAULT_BASE_URL}`,
    );
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new TypeError("Wattfare: baseUrl must be an http:// or https:// URL");
  }
  if (url.search || url.hash) {
    throw new TypeError("Wattfare: baseUrl must not carry a query or fragment");
  }
  const base = url.href.replace(/\/+$/, "");
  if (/\/api\/v1$/.test(base)) {
    throw new TypeError(
      "Wattfare: baseUrl is the service's root (e.g. https://wattfare.com), not its /api/v1 path",
    );
  }
  return { origin: url.origin, base, api: `${base}/api/v1` };
}

/**
 * Calls the API and returns the parsed JSON body; an error answer becomes
 * its typed {@link WattfareError}.
 */
export async function callApi(
  fetchFn: FetchLike,
  url: string,
  init: RequestInit,
): Promise<unknown> {
  const response = await fetchFn(url, init);
  const text = await response.text();
  if (!response.ok) {
    const retryAfter = Number(response.headers.get("retry-after") ?? NaN);
    throw errorFromBody(
      text,
      response.status,
      Number.isFinite(retryAfter) ? retryAfter : undefined,
    ) ?? unexpected(response.status, url);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw unexpected(response.status, url);
  }
}

/** The error for an answer the SDK cannot read. */
export function unexpected(status: number, url: string): WattfareError {
  return createWattfareError(
    "unexpected_response",
    `Wattfare: ${
      new URL(url).pathname
    } answered HTTP ${status} with a body that is not a Wattfare response; check baseUrl`,
    { status },
  );
}

/** Checks that a body is a {@link ConnectionStatus}. */
export function readStatus(value: unknown, url: string): ConnectionStatus {
  const v = value as Partial<ConnectionStatus> | null;
  const limits = v?.limits;
  if (
    typeof v !== "object" || v === null || typeof v.connected !== "boolean" ||
    !(limits === null ||
      (typeof limits === "object" && limits !== undefined &&
        (limits.monthlyUsd === null ||
          typeof limits.monthlyUsd === "number"))) ||
    typeof v.usage?.monthlyUsd !== "number" ||
    !(v.remainingUsd === null || typeof v.remainingUsd === "number")
  ) {
    throw unexpected(200, url);
  }
  return {
    connected: v.connected,
    limits: limits === null
      ? null
      : { monthlyUsd: limits!.monthlyUsd as number | null },
    usage: { monthlyUsd: v.usage.monthlyUsd },
    remainingUsd: v.remainingUsd as number | null,
  };
}

/** The status of a user who is not connected. */
export function notConnected(): ConnectionStatus {
  return {
    connected: false,
    limits: null,
    usage: { monthlyUsd: 0 },
    remainingUsd: 0,
  };
}
