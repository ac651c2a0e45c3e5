/**
 * `wattfare/client`: for the browser, with no framework. Opens the consent
 * popup, reads the signed-in user's status, asks for one-time grants.
 *
 * ```ts
 * import { createWattfare } from "wattfare/client";
 *
 * const wf = createWattfare({ publishableKey: "pk_live_…", session: "/api/wattfare-token" });
 * connectButton.onclick = async () => {
 *   const status = await wf.connect();
 *   console.log(status.connected, status.remainingUsd);
 * };
 * ```
 *
 * @module
 */
import {
  type BrowserEnv,
  createClient,
  type PopupWindow,
  type WattfareClient,
  type WattfareClientOptions,
} from "./client_core.ts";
import type { MessageEventLike } from "./popup_protocol.ts";

export * from "./errors.ts";
export type {
  ConnectionStatus,
  GrantRequest,
  GrantResult,
  SessionLimits,
  SessionToken,
} from "./types.ts";
export type { WattfareClient, WattfareClientOptions } from "./client_core.ts";
export type { SessionOption } from "./session_source.ts";
export type { FetchLike } from "./http.ts";

/**
 * Creates the browser client. It touches no browser API until a method is
 * called, so it is safe to create during server-side rendering.
 *
 * @throws {TypeError} for a missing or malformed publishable key (or a
 * secret key by mistake), a missing `session`, or a bad `baseUrl`.
 *
 * @example
 * ```ts
 * import { createWattfare } from "wattfare/client";
 *
 * const wf = createWattfare({
 *   publishableKey: "pk_live_…",
 *   session: "/api/wattfare-token", // or: async () => (await fetch("/api/ai-session", { method: "POST" })).json()
 * });
 *
 * // Must be called from a user gesture (click/tap).
 * connectBtn.onclick = async () => {
 *   const { connected } = await wf.connect();
 * };
 * ```
 */
export function createWattfare(options: WattfareClientOptions): WattfareClient {
  return createClient(options, browserEnv());
}

/** The parts of the browser's global scope the client uses. */
interface BrowserGlobals {
  open?(url: string, target: string, features: string): PopupWindow | null;
  location?: { origin: string };
  screenX?: number;
  screenY?: number;
  outerWidth?: number;
  outerHeight?: number;
  addEventListener(
    type: "message",
    listener: (event: MessageEventLike) => void,
  ): void;
  removeEventListener(
    type: "message",
    listener: (event: MessageEventLike) => void,
  ): void;
}

const POPUP_WIDTH = 480;
const POPUP_HEIGHT = 680;

function browserEnv(): BrowserEnv {
  const page = globalThis as unknown as BrowserGlobals;
  return {
    fetch: (input, init) => globalThis.fetch(input, init),
    now: () => Date.now(),
    open(url, target, features) {
      if (typeof page.open !== "function") {
        throw new TypeError(
          "Wattfare: connect() and requestGrant() open a popup, so they run in a browser only",
        );
      }
      return page.open(url, target, features);
    },
    origin: () => page.location?.origin ?? "null",
    popupFeatures() {
      const left = (page.screenX ?? 0) +
        Math.max(0, ((page.outerWidth ?? POPUP_WIDTH) - POPUP_WIDTH) / 2);
      const top = (page.screenY ?? 0) +
        Math.max(0, ((page.outerHeight ?? POPUP_HEIGHT) - POPUP_HEIGHT) / 2);
      return `popup=yes,width=${POPUP_WIDTH},height=${POPUP_HEIGHT},left=${
        Math.round(left)
      },top=${Math.round(top)}`;
    },
    addMessageListener: (listener) =>
      page.addEventListener("message", listener),
    removeMessageListener: (listener) =>
      page.removeEventListener("message", listener),
    setInterval: (callback, ms) => setInterval(callback, ms),
    clearInterval: (id) => clearInterval(id as ReturnType<typeof setInterval>),
    randomNonce() {
      const bytes = crypto.getRandomValues(new Uint8Array(16));
      return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    },
  };
}
