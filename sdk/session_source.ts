/**
 * Where the browser gets its session token, and the cache in front of it.
 * Internal to the package.
 *
 * @module
 */
import {
  createWattfareError,
  errorFromBody,
  WattfareAuthError,
} from "./errors.ts";
import type { FetchLike } from "./http.ts";
import type { SessionToken } from "./types.ts";

/**
 * The `session` option: the URL of your token route (POSTed to, answering
 * `{token, expiresAt}`), or a function returning a token or
 * `{token, expiresAt}`.
 *
 * @example
 * ```ts
 * const fromRoute: SessionOption = "/api/wattfare-token";
 * const fromFunction: SessionOption = async () =>
 *   (await fetch("/api/ai-session", { method: "POST" })).json();
 * ```
 */
export type SessionOption =
  | string
  | URL
  | (() => string | SessionToken | Promise<string | SessionToken>);

/** A token is reused until this long before it expires. */
export const REFRESH_MARGIN_MS = 30_000;

/** A cached session source. */
export interface SessionSource {
  /** A token valid for at least 30 more seconds (fetched only when needed). */
  get(): Promise<string>;
  /** Forgets the cached token (after the service refused it). */
  invalidate(): void;
}

/** What a session token says about itself (not verified: for routing and checks only). */
export interface TokenClaims {
  appId?: string;
  appUserId?: string;
  mode?: string;
  exp?: number;
}

/**
 * A session source that caches the token until {@link REFRESH_MARGIN_MS}
 * before its expiry and shares one fetch between concurrent callers. With
 * no known expiry (a bare token that is not a JWT), nothing is cached.
 */
export function createSessionSource(
  session: SessionOption,
  env: { fetch: FetchLike; now: () => number },
): SessionSource {
  if (!isSessionOption(session)) {
    throw new TypeError(
      "Wattfare: session must be the URL of your token route, or a function returning a token",
    );
  }
  let cached: { token: string; expiresAtMs: number } | undefined;
  let pending: Promise<string> | undefined;

  const fetchToken = async (): Promise<string> => {
    const got = typeof session === "function"
      ? await session()
      : await fromRoute(String(session), env.fetch);
    const { token, expiresAt } = normalise(got);
    const expiresAtMs = (expiresAt ?? decodeClaims(token)?.exp ?? 0) * 1000;
    cached = { token, expiresAtMs };
    return token;
  };

  return {
    get() {
      if (cached && env.now() < cached.expiresAtMs - REFRESH_MARGIN_MS) {
        return Promise.resolve(cached.token);
      }
      pending ??= fetchToken().finally(() => pending = undefined);
      return pending;
    },
    invalidate() {
      cached = undefined;
    },
  };
}

/** Reads a JWT's payload without verifying it; `null` when it is not one. */
export function decodeClaims(token: string): TokenClaims | null {
  const part = token.split(".")[1];
  if (!part) return null;
  try {
    const binary = atob(
      part.replace(/-/g, "+").replace(/_/g, "/").padEnd(
        Math.ceil(part.length / 4) * 4,
        "=",
      ),
    );
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return typeof claims === "object" && claims !== null ? claims : null;
  } catch {
    return null;
  }
}

function isSessionOption(value: unknown): value is SessionOption {
  return typeof value === "function" || value instanceof URL ||
    (typeof value === "string" && value.length > 0);
}

async function fromRoute(
  url: string,
  fetchFn: FetchLike,
): Promise<SessionToken> {
  const response = await fetchFn(url, {
    method: "POST",
    headers: { accept: "application/json" },
    credentials: "same-origin",
  });
  const text = await response.text();
  if (!response.ok) {
    const typed = errorFromBody(text, response.status);
    if (typed) throw typed;
    if (response.status === 401 || response.status === 403) {
      throw new WattfareAuthError(
        "invalid_session",
        `Wattfare: your session route ${url} answered ${response.status}; is the user signed in?`,
        { status: response.status },
      );
    }
    throw createWattfareError(
      "unexpected_response",
      `Wattfare: your session route ${url} answered HTTP ${response.status}`,
      { status: response.status },
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw createWattfareError(
      "unexpected_response",
      `Wattfare: your session route ${url} did not answer JSON {token, expiresAt}`,
      { status: response.status },
    );
  }
}

function normalise(got: unknown): { token: string; expiresAt?: number } {
  if (typeof got === "string" && got.length > 0) return { token: got };
  if (
    typeof got === "object" && got !== null &&
    typeof (got as SessionToken).token === "string" &&
    (got as SessionToken).token.length > 0
  ) {
    const { token, expiresAt } = got as SessionToken;
    return {
      token,
      expiresAt: typeof expiresAt === "number" && Number.isFinite(expiresAt)
        ? expiresAt
        : undefined,
    };
  }
  throw createWattfareError(
    "unexpected_response",
    "Wattfare: the session option gave no token; return {token, expiresAt} (what createSession() returns) or the token itself",
  );
}
