/**
 * `wattfare/server`: for your backend. Mint session tokens for the browser,
 * run AI SDK models billed to your users' budgets, read and end their
 * connections.
 *
 * ```ts
 * import { Wattfare } from "wattfare/server";
 * import { generateText } from "ai";
 *
 * const wf = new Wattfare({ secretKey: process.env.WATTFARE_SECRET_KEY! });
 * const { text } = await generateText({
 *   model: wf.user("user_123").model("openai/gpt-4o-mini"),
 *   prompt: "Say hello.",
 * });
 * ```
 *
 * @module
 */
import type { LanguageModelV4 } from "@ai-sdk/provider";
import { WattfareAuthError } from "./errors.ts";
import {
  callApi,
  endpoints,
  type FetchLike,
  readStatus,
  unexpected,
} from "./http.ts";
import { modelFactory } from "./model.ts";
import { type Mode, parseSecretKey } from "./secret_key.ts";
import { assertUserId, mintSessionToken } from "./session_token.ts";
import type { ConnectionStatus, SessionLimits, SessionToken } from "./types.ts";

export * from "./errors.ts";
export * from "./webhooks.ts";
export type {
  ConnectionStatus,
  GrantRequest,
  GrantResult,
  SessionLimits,
  SessionToken,
} from "./types.ts";
export type { Mode } from "./secret_key.ts";
export type { FetchLike } from "./http.ts";

/**
 * The AI SDK language model `model()` returns: the AI SDK's current
 * `LanguageModel` (specification v4), accepted by `generateText`,
 * `streamText` and every other AI SDK function.
 *
 * @example
 * ```ts
 * const model: WattfareModel = wf.user("user_123").model("openai/gpt-4o-mini");
 * ```
 */
export type WattfareModel = LanguageModelV4;

/**
 * Options of {@link Wattfare}.
 *
 * @example
 * ```ts
 * const options: WattfareOptions = {
 *   secretKey: process.env.WATTFARE_SECRET_KEY,
 *   baseUrl: "http://localhost:8000",
 * };
 * ```
 */
export interface WattfareOptions {
  /**
   * Your app's secret key, `sk_test_…` or `sk_live_…`. Keep it on the
   * server. `undefined` is accepted by the type (so an unset environment
   * variable can be passed straight in) and refused at runtime.
   */
  secretKey: string | undefined;
  /**
   * Where the Wattfare service runs; defaults to `https://wattfare.com`.
   * The API lives at `${baseUrl}/api/v1`.
   */
  baseUrl?: string;
  /** A `fetch` to use instead of the global one (for proxies and tests). */
  fetch?: FetchLike;
}

/**
 * Options of {@link Wattfare.createSession}. The cap may be spelled `limits`
 * or `requestLimit` (both appear in the docs); give one of them.
 *
 * @example
 * ```ts
 * const options: CreateSessionOptions = { requestLimit: { monthlyUsd: 10 } };
 * ```
 */
export interface CreateSessionOptions {
  /** The monthly cap to ask the user to approve. */
  limits?: SessionLimits | null;
  /** Same as `limits`. */
  requestLimit?: SessionLimits | null;
}

/**
 * Options of {@link Wattfare.sessionHandler}.
 *
 * @example
 * ```ts
 * const options: SessionHandlerOptions = {
 *   getUserId: (req) => req.headers.get("x-user-id"),
 *   limits: { monthlyUsd: 10 },
 * };
 * ```
 */
export interface SessionHandlerOptions {
  /**
   * Your user id for the request (from your own auth: a cookie, a header),
   * or `null`/`undefined` when nobody is signed in, which answers 401.
   */
  getUserId(
    request: Request,
  ): string | null | undefined | Promise<string | null | undefined>;
  /** The cap to ask for: fixed, or chosen per user. */
  limits?: SessionLimitsOption;
  /** Same as `limits`. */
  requestLimit?: SessionLimitsOption;
}

/**
 * A cap for {@link SessionHandlerOptions}: fixed, or computed per user.
 *
 * @example
 * ```ts
 * const limits: SessionLimitsOption = (userId) => ({ monthlyUsd: userId.startsWith("pro_") ? 50 : 10 });
 * ```
 */
export type SessionLimitsOption =
  | SessionLimits
  | null
  | ((
    userId: string,
    request: Request,
  ) => SessionLimits | null | Promise<SessionLimits | null>);

/**
 * A request handler: `Request` in, `Response` out (Hono, Deno.serve, Next.js
 * route handlers, Workers).
 *
 * @example
 * ```ts
 * const handler: RequestHandler = wf.sessionHandler({ getUserId: () => "user_123" });
 * ```
 */
export type RequestHandler = (request: Request) => Promise<Response>;

/**
 * The answer of `DELETE /api/v1/connections/{userId}`.
 *
 * @example
 * ```ts
 * const { disconnected }: DisconnectResult = await wf.user("user_123").disconnect();
 * ```
 */
export interface DisconnectResult {
  /** The user whose connection was ended. */
  userId: string;
  /** `true` when an active connection was ended, `false` when there was none. */
  disconnected: boolean;
}

/**
 * The server SDK: one instance per secret key.
 *
 * @example
 * ```ts
 * import { Wattfare } from "wattfare/server";
 *
 * const wf = new Wattfare({ secretKey: process.env.WATTFARE_SECRET_KEY });
 * app.post("/api/ai-session", (c) =>
 *   c.json(wf.createSession(c.var.userId, { requestLimit: { monthlyUsd: 10 } }))
 * );
 * ```
 */
export class Wattfare {
  /** The service's base URL, without a trailing slash. */
  readonly baseUrl: string;
  /** `test` or `live`, from the secret key. */
  readonly mode: Mode;
  /** Your app's id, from the secret key. */
  readonly appId: string;
  readonly #secretKey: string;
  readonly #api: string;
  readonly #fetch: FetchLike | undefined;

  /**
   * Checks the key and base URL; nothing is fetched.
   *
   * @throws {TypeError} when `secretKey` is missing or not a secret key, or
   * `baseUrl` is not an http(s) URL.
   *
   * @example
   * ```ts
   * const wf = new Wattfare({ secretKey: "sk_test_…", baseUrl: "http://localhost:8000" });
   * ```
   */
  constructor(options: WattfareOptions) {
    const secretKey = options?.secretKey;
    const parts = typeof secretKey === "string"
      ? parseSecretKey(secretKey.trim())
      : null;
    if (!parts) throw new TypeError(secretKeyProblem(secretKey));
    const urls = endpoints(options.baseUrl);
    if (options.fetch !== undefined && typeof options.fetch !== "function") {
      throw new TypeError("Wattfare: fetch must be a function");
    }
    this.baseUrl = urls.base;
    this.mode = parts.mode;
    this.appId = parts.appId;
    this.#secretKey = (secretKey as string).trim();
    this.#api = urls.api;
    this.#fetch = options.fetch;
  }

  /**
   * Mints a session token for one of your users, locally and synchronously
   * (no network): a 10-minute JWT your browser code hands to
   * `createWattfare({ session })`. Return it as JSON from your token route.
   *
   * @param userId Your own id for the user (1–256 characters).
   * @param options The monthly cap to ask for, as `limits` or `requestLimit`.
   * @throws {TypeError} for an invalid user id or both spellings at once.
   * @throws {RangeError} for a cap outside 0–1,000,000, or no cap on a live app.
   *
   * @example
   * ```ts
   * app.post("/api/ai-session", (c) =>
   *   c.json(wf.createSession(c.var.userId, { requestLimit: { monthlyUsd: 10 } }))
   * );
   * ```
   */
  createSession(
    userId: string,
    options: CreateSessionOptions = {},
  ): SessionToken {
    const limits = pickLimits(options?.limits, options?.requestLimit);
    if (limits?.monthlyUsd === null && this.mode === "live") {
      throw new RangeError(
        "Wattfare: live apps must ask for a monthly cap (limits.monthlyUsd: null is for test apps)",
      );
    }
    return mintSessionToken(this.#secretKey, userId, { limits });
  }

  /**
   * A ready handler for your app's token route: it asks `getUserId` who is
   * signed in and answers `200 {token, expiresAt}`, or `401` with a Wattfare
   * error body (`invalid_session`) when nobody is. Responses are
   * `Cache-Control: no-store`.
   *
   * @example
   * ```ts
   * // Hono
   * const tokenRoute = wf.sessionHandler({
   *   getUserId: (req) => getSignedInUserId(req),
   *   limits: { monthlyUsd: 10 },
   * });
   * app.post("/api/wattfare-token", (c) => tokenRoute(c.req.raw));
   *
   * // Next.js (app/api/wattfare-token/route.ts)
   * export const POST = wf.sessionHandler({ getUserId: async () => (await auth())?.user?.id });
   * ```
   */
  sessionHandler(options: SessionHandlerOptions): RequestHandler {
    if (typeof options?.getUserId !== "function") {
      throw new TypeError(
        "Wattfare: sessionHandler needs getUserId(request), returning your user id or null",
      );
    }
    const { getUserId } = options;
    const limitsOption = pickLimitsOption(options.limits, options.requestLimit);
    return async (request: Request): Promise<Response> => {
      const userId = await getUserId(request);
      if (userId === null || userId === undefined || userId === "") {
        return jsonResponse(401, {
          error: {
            type: "wattfare_error",
            code: "invalid_session",
            message:
              "Nobody is signed in: this route mints Wattfare sessions for signed-in users only.",
            param: null,
          },
        });
      }
      const limits = typeof limitsOption === "function"
        ? await limitsOption(userId, request)
        : limitsOption;
      return jsonResponse(200, this.createSession(userId, { limits }));
    };
  }

  /**
   * A handle on one of your users, by your own user id: their models, status
   * and connection.
   *
   * @example
   * ```ts
   * const ai = wf.user("user_123");
   * const { text } = await generateText({ model: ai.model("openai/gpt-4o-mini"), prompt: "Hi" });
   * ```
   */
  user(userId: string): WattfareUser {
    assertUserId(userId);
    return new User(userId, {
      api: this.#api,
      secretKey: this.#secretKey,
      fetch: this.#fetch,
    });
  }

  /**
   * A handle on a one-time grant your browser code got from
   * `requestGrant()`: its `model()` runs calls counted against the grant.
   *
   * @throws {WattfareAuthError} when the token is empty.
   *
   * @example
   * ```ts
   * const { grantToken } = await req.json();
   * const { text } = await generateText({ model: wf.grant(grantToken).model("openai/gpt-4o-mini"), prompt });
   * ```
   */
  grant(grantToken: string): WattfareGrant {
    if (typeof grantToken !== "string" || grantToken.trim() === "") {
      throw new WattfareAuthError(
        "grant_invalid",
        "Wattfare: the grant token is empty; forward the grantToken that requestGrant() returned",
        { status: 0 },
      );
    }
    if (!/^[\x21-\x7e]+$/.test(grantToken.trim())) {
      throw new WattfareAuthError(
        "grant_invalid",
        "Wattfare: that is not a grant token; forward the grantToken that requestGrant() returned",
        { status: 0 },
      );
    }
    return new Grant(grantToken.trim(), {
      api: this.#api,
      secretKey: this.#secretKey,
      fetch: this.#fetch,
    });
  }
}

interface Access {
  api: string;
  secretKey: string;
  fetch: FetchLike | undefined;
}

/**
 * One of your users, as `wf.user(userId)` returns it.
 *
 * @example
 * ```ts
 * const ai: WattfareUser = wf.user("user_123");
 * const status = await ai.status();
 * ```
 */
export interface WattfareUser {
  /** Your id for this user. */
  readonly id: string;

  /**
   * An AI SDK language model that runs through Wattfare, billed to this
   * user's budget: use it with `generateText`, `streamText`, tools and
   * structured output. Each result's `providerMetadata.wattfare.costUsd`
   * is what the call cost the user.
   *
   * @param modelId An OpenRouter model id, e.g. `"anthropic/claude-sonnet-4"`.
   * @throws {TypeError} for a user id that cannot travel in an HTTP header
   * (printable ASCII only).
   *
   * @example
   * ```ts
   * const result = streamText({ model: wf.user(userId).model("anthropic/claude-sonnet-4"), prompt });
   * return result.toTextStreamResponse();
   * ```
   */
  model(modelId: string): WattfareModel;

  /**
   * This user's connection: whether they are connected, their cap, usage
   * and what remains. Not being connected is a value, not an error.
   *
   * @example
   * ```ts
   * const { connected, remainingUsd } = await wf.user("user_123").status();
   * ```
   */
  status(): Promise<ConnectionStatus>;

  /**
   * Ends this user's connection to your app (they can connect again later).
   *
   * @example
   * ```ts
   * const { disconnected } = await wf.user("user_123").disconnect();
   * ```
   */
  disconnect(): Promise<DisconnectResult>;
}

/**
 * A one-time grant, as `wf.grant(grantToken)` returns it.
 *
 * @example
 * ```ts
 * const ai: WattfareGrant = wf.grant(grantToken);
 * const { text } = await generateText({ model: ai.model("openai/gpt-4o-mini"), prompt });
 * ```
 */
export interface WattfareGrant {
  /**
   * An AI SDK language model whose calls are counted against the grant;
   * once it is used up, calls fail with `WattfareGrantError`.
   *
   * @example
   * ```ts
   * await generateText({ model: wf.grant(grantToken).model("anthropic/claude-sonnet-4"), prompt });
   * ```
   */
  model(modelId: string): WattfareModel;
}

class User implements WattfareUser {
  readonly id: string;
  readonly #access: Access;
  #models: ((modelId: string) => LanguageModelV4) | undefined;

  constructor(userId: string, access: Access) {
    this.id = userId;
    this.#access = access;
  }

  model(modelId: string): LanguageModelV4 {
    if (!this.#models) {
      if (!/^[\x20-\x7e]+$/.test(this.id)) {
        throw new TypeError(
          "Wattfare: inference sends the user id in an HTTP header, which takes printable ASCII only; use an ASCII id for this user",
        );
      }
      this.#models = modelFactory({
        api: this.#access.api,
        headers: {
          authorization: `Bearer ${this.#access.secretKey}`,
          "x-wattfare-user": this.id,
        },
        fetch: this.#access.fetch,
      });
    }
    return this.#models(modelId);
  }

  async status(): Promise<ConnectionStatus> {
    const url = `${this.#access.api}/status?userId=${
      encodeURIComponent(this.id)
    }`;
    const body = await callApi(this.#access.fetch ?? fetch, url, {
      headers: { authorization: `Bearer ${this.#access.secretKey}` },
    });
    return readStatus(body, url);
  }

  async disconnect(): Promise<DisconnectResult> {
    const url = `${this.#access.api}/connections/${
      encodeURIComponent(this.id)
    }`;
    const body = await callApi(this.#access.fetch ?? fetch, url, {
      method: "DELETE",
      headers: { authorization: `Bearer ${this.#access.secretKey}` },
    }) as Partial<DisconnectResult> | null;
    if (typeof body?.disconnected !== "boolean") throw unexpected(200, url);
    return { userId: this.id, disconnected: body.disconnected };
  }
}

class Grant implements WattfareGrant {
  readonly #models: (modelId: string) => LanguageModelV4;

  constructor(grantToken: string, access: Access) {
    this.#models = modelFactory({
      api: access.api,
      headers: {
        authorization: `Bearer ${access.secretKey}`,
        "x-wattfare-grant": grantToken,
      },
      fetch: access.fetch,
    });
  }

  model(modelId: string): LanguageModelV4 {
    return this.#models(modelId);
  }
}

function secretKeyProblem(secretKey: unknown): string {
  if (secretKey === undefined || secretKey === null || secretKey === "") {
    return "Wattfare: secretKey is missing. Pass your app's secret key (sk_test_… or sk_live_…), e.g. from the WATTFARE_SECRET_KEY environment variable.";
  }
  if (typeof secretKey !== "string") {
    return "Wattfare: secretKey must be a string (sk_test_… or sk_live_…)";
  }
  if (secretKey.trim().startsWith("pk_")) {
    return "Wattfare: that is a publishable key (pk_…); the server SDK needs the secret key (sk_…). Publishable keys belong in createWattfare() in the browser.";
  }
  return "Wattfare: secretKey is not a Wattfare secret key; it looks like sk_test_<appId>_<secret> or sk_live_<appId>_<secret>";
}

function pickLimits(
  limits: SessionLimits | null | undefined,
  requestLimit: SessionLimits | null | undefined,
): SessionLimits | null {
  if (limits !== undefined && requestLimit !== undefined) {
    throw new TypeError(
      "Wattfare: give the cap as limits or requestLimit, not both",
    );
  }
  return limits ?? requestLimit ?? null;
}

function pickLimitsOption(
  limits: SessionLimitsOption | undefined,
  requestLimit: SessionLimitsOption | undefined,
): SessionLimitsOption {
  if (limits !== undefined && requestLimit !== undefined) {
    throw new TypeError(
      "Wattfare: give the cap as limits or requestLimit, not both",
    );
  }
  return limits ?? requestLimit ?? null;
}

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json",
      "cache-control": "no-store",
    },
  });
}
