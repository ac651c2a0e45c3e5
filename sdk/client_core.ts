/**
 * The browser client, written against a small environment interface so it
 * can be tested without a browser. `client.ts` binds it to the real window.
 * Internal to the package.
 *
 * @module
 */
import {
  createWattfareError,
  WattfareAuthError,
  WattfareError,
} from "./errors.ts";
import {
  callApi,
  endpoints,
  type FetchLike,
  notConnected,
  readStatus,
} from "./http.ts";
import {
  createOpenerHandler,
  isRequestCount,
  isUsd,
  type MessageEventLike,
  type MessageTarget,
  type PopupIntent,
  popupUrl,
  type ResultMessage,
} from "./popup_protocol.ts";
import { parsePublishableKey } from "./secret_key.ts";
import {
  createSessionSource,
  decodeClaims,
  type SessionOption,
} from "./session_source.ts";
import type { ConnectionStatus, GrantRequest, GrantResult } from "./types.ts";

/**
 * Options of `createWattfare`.
 *
 * @example
 * ```ts
 * const options: WattfareClientOptions = {
 *   publishableKey: "pk_test_…",
 *   session: "/api/wattfare-token",
 *   baseUrl: "http://localhost:8000",
 * };
 * ```
 */
export interface WattfareClientOptions {
  /** Your app's publishable key, `pk_test_…` or `pk_live_…`. */
  publishableKey: string;
  /**
   * Where session tokens come from: the URL of your token route (the SDK
   * POSTs to it with the page's cookies and expects `{token, expiresAt}`),
   * or a function returning a token or `{token, expiresAt}`. Tokens are
   * reused until about 30 seconds before they expire.
   */
  session: SessionOption;
  /** Where the Wattfare service runs; defaults to `https://wattfare.com`. */
  baseUrl?: string;
  /** A `fetch` to use instead of the global one. */
  fetch?: FetchLike;
}

/**
 * The browser client `createWattfare()` returns.
 *
 * @example
 * ```ts
 * const wf: WattfareClient = createWattfare({ publishableKey: "pk_test_…", session: "/api/wattfare-token" });
 * button.onclick = async () => render(await wf.connect());
 * ```
 */
export interface WattfareClient {
  /** The publishable key this client was made with. */
  readonly publishableKey: string;
  /** The service's base URL, without a trailing slash. */
  readonly baseUrl: string;

  /**
   * Opens the consent popup and resolves with the user's status once they
   * approve, deny or close it (a denial or close resolves with
   * `connected: false` unless they were already connected). Call it from a
   * click or tap: the popup opens synchronously, before any `await`, so
   * popup blockers allow it.
   *
   * @throws {WattfareError} `popup_blocked` when the browser refused the
   * popup; the popup's own error (e.g. `origin_not_allowed`) when it
   * reports one, in which case the popup stays open to explain it.
   *
   * @example
   * ```ts
   * connectButton.onclick = async () => {
   *   const status = await wf.connect();
   *   if (status.connected) showBudget(status.remainingUsd);
   * };
   * ```
   */
  connect(): Promise<ConnectionStatus>;

  /**
   * The signed-in user's connection status.
   *
   * @example
   * ```ts
   * const { connected, remainingUsd } = await wf.status();
   * ```
   */
  status(): Promise<ConnectionStatus>;

  /**
   * Opens the consent popup asking for a one-time grant; resolves with the
   * grant to forward to your backend, or `null` when the user denies or
   * closes the popup. Call it from a click or tap.
   *
   * @example
   * ```ts
   * convertBtn.onclick = async () => {
   *   const result = await wf.requestGrant({ requests: 1, maxUsd: 0.5 });
   *   if (!result) return;
   *   await fetch("/api/convert", { method: "POST", body: JSON.stringify({ grantToken: result.grantToken }) });
   * };
   * ```
   */
  requestGrant(request: GrantRequest): Promise<GrantResult | null>;

  /**
   * Ends the signed-in user's connection to your app; resolves with the
   * not-connected status.
   *
   * @example
   * ```ts
   * await wf.disconnect();
   * ```
   */
  disconnect(): Promise<ConnectionStatus>;
}

/** A window the client opened. */
export interface PopupWindow extends MessageTarget {
  readonly closed: boolean;
  close(): void;
  focus?(): void;
  location: { replace(url: string): void };
}

/** What the client needs from the page. */
export interface BrowserEnv {
  fetch: FetchLike;
  now(): number;
  /** `window.open`. */
  open(url: string, target: string, features: string): PopupWindow | null;
  /** The page's origin. */
  origin(): string;
  /** Window features placing the popup over the page. */
  popupFeatures(): string;
  addMessageListener(listener: (event: MessageEventLike) => void): void;
  removeMessageListener(listener: (event: MessageEventLike) => void): void;
  setInterval(callback: () => void, ms: number): unknown;
  clearInterval(id: unknown): void;
  randomNonce(): string;
}

/** How often a popup is checked for having been closed. */
export const CLOSED_POLL_MS = 300;

/** Builds a client on `env`. */
export function createClient(
  options: WattfareClientOptions,
  env: BrowserEnv,
): WattfareClient {
  const key = parsePublishableKey(
    typeof options?.publishableKey === "string"
      ? options.publishableKey.trim()
      : "",
  );
  if (!key) {
    throw new TypeError(
      typeof options?.publishableKey === "string" &&
        options.publishableKey.trim().startsWith("sk_")
        ? "Wattfare: that is a secret key (sk_…): never put it in the browser, and rotate it now if it shipped. createWattfare() takes the publishable key (pk_…)."
        : "Wattfare: publishableKey must look like pk_test_<appId> or pk_live_<appId>",
    );
  }
  const publishableKey = options.publishableKey.trim();
  const urls = endpoints(options.baseUrl);
  const fetchFn = options.fetch ?? env.fetch;
  const tokens = createSessionSource(options.session, {
    fetch: fetchFn,
    now: env.now,
  });
  const inFlight = new Map<string, Promise<unknown>>();

  /** A token for this app, checked against the publishable key. */
  const token = async (): Promise<string> => {
    const value = await tokens.get();
    const claims = decodeClaims(value);
    if (
      claims && (claims.appId !== key.appId || claims.mode !== key.mode)
    ) {
      tokens.invalidate();
      throw new WattfareAuthError(
        "invalid_session",
        `Wattfare: the session token is for app ${claims.appId} (${claims.mode}), but publishableKey names app ${key.appId} (${key.mode}); check both come from the same app`,
        { status: 0 },
      );
    }
    return value;
  };

  /**
   * Runs an API call with a session token; when the service refuses the
   * token (expired early, or the app's secret was rotated), once more with a
   * fresh one.
   */
  const withSession = async <T>(
    call: (token: string) => Promise<T>,
  ): Promise<T> => {
    const first = await token();
    try {
      return await call(first);
    } catch (error) {
      if (
        !WattfareError.isInstance(error) || error.code !== "invalid_session"
      ) {
        throw error;
      }
      tokens.invalidate();
      return await call(await token());
    }
  };

  const status = (): Promise<ConnectionStatus> => {
    const url = `${urls.api}/status`;
    return withSession(async (session) =>
      readStatus(
        await callApi(fetchFn, url, {
          headers: { authorization: `Bearer ${session}` },
        }),
        url,
      )
    );
  };

  const statusAfterDenial = async (): Promise<ConnectionStatus> => {
    try {
      return await status();
    } catch {
      return notConnected();
    }
  };

  /** Opens the popup now (synchronously) and resolves with its outcome. */
  const runPopup = (intent: PopupIntent): Promise<ResultMessage | "closed"> => {
    const popup = env.open("about:blank", "_blank", env.popupFeatures());
    if (!popup) {
      return Promise.reject(
        createWattfareError(
          "popup_blocked",
          "Wattfare: the browser blocked the consent popup; call connect()/requestGrant() directly from a click or tap handler",
          { status: 0 },
        ),
      );
    }
    return (async () => {
      let session: string;
      try {
        session = await token();
      } catch (error) {
        popup.close();
        throw error;
      }
      return await new Promise<ResultMessage | "closed">((resolve) => {
        let done = false;
        const finish = (outcome: ResultMessage | "closed") => {
          if (done) return;
          done = true;
          env.removeMessageListener(handler);
          env.clearInterval(timer);
          // An error stays on screen: the popup explains it to the user
          // on Wattfare's own page (e.g. "this site is not allowed to ask").
          const keepOpen = outcome === "closed" || outcome.outcome === "error";
          if (!keepOpen && !popup.closed) popup.close();
          resolve(outcome);
        };
        const handler = createOpenerHandler({
          wattfareOrigin: urls.origin,
          popup: () => popup,
          appOrigin: env.origin(),
          publishableKey,
          nonce: env.randomNonce(),
          onResult: finish,
        });
        const timer = env.setInterval(() => {
          if (popup.closed) finish("closed");
        }, CLOSED_POLL_MS);
        env.addMessageListener(handler);
        if (popup.closed) {
          finish("closed");
          return;
        }
        popup.location.replace(popupUrl(urls.base, session, intent));
      });
    })();
  };

  /** One popup per kind at a time: a second call focuses it and shares its result. */
  const once = <T>(kind: string, start: () => Promise<T>): Promise<T> => {
    const running = inFlight.get(kind);
    if (running) return running as Promise<T>;
    const promise = start().finally(() => inFlight.delete(kind));
    inFlight.set(kind, promise);
    return promise;
  };

  return {
    publishableKey,
    baseUrl: urls.base,

    connect() {
      return once("connect", async () => {
        const outcome = await runPopup({ kind: "connect" });
        if (outcome === "closed" || outcome.outcome === "denied") {
          return await statusAfterDenial();
        }
        if (outcome.outcome === "error") throw popupError(outcome);
        return outcome.status ?? await status();
      });
    },

    status,

    requestGrant(request: GrantRequest) {
      const requests = request?.requests;
      const maxUsd = request?.maxUsd ?? null;
      if (!isRequestCount(requests)) {
        return Promise.reject(
          new TypeError(
            "Wattfare: requestGrant({ requests }) needs a whole number of requests from 1",
          ),
        );
      }
      if (maxUsd !== null && (!isUsd(maxUsd) || maxUsd === 0)) {
        return Promise.reject(
          new TypeError(
            "Wattfare: requestGrant({ maxUsd }) must be a positive dollar amount, or omitted",
          ),
        );
      }
      return once("grant", async () => {
        const outcome = await runPopup({ kind: "grant", requests, maxUsd });
        if (outcome === "closed" || outcome.outcome === "denied") return null;
        if (outcome.outcome === "error") throw popupError(outcome);
        if (!outcome.grant) {
          throw createWattfareError(
            "unexpected_response",
            "Wattfare: the popup approved a grant but sent none",
            { status: 0 },
          );
        }
        return outcome.grant;
      });
    },

    async disconnect() {
      await withSession(async (session) => {
        const userId = decodeClaims(session)?.appUserId;
        if (typeof userId !== "string") {
          throw new WattfareAuthError(
            "invalid_session",
            "Wattfare: the session token names no user",
            { status: 0 },
          );
        }
        return await callApi(
          fetchFn,
          `${urls.api}/connections/${encodeURIComponent(userId)}`,
          { method: "DELETE", headers: { authorization: `Bearer ${session}` } },
        );
      });
      return notConnected();
    },
  };
}

function popupError(outcome: ResultMessage): WattfareError {
  return createWattfareError(
    outcome.error?.code ?? "unexpected_response",
    outcome.error?.message ?? "Wattfare: the consent popup reported an error",
  );
}
