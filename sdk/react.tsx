/**
 * `wattfare/react`: a provider and a hook over `wattfare/client`. Uses only
 * `createContext`, `createElement` and hooks from `react`, so it works with
 * React 18+ and with Preact through `preact/compat`. (No JSX inside, so the
 * package does not depend on a JSX runtime.)
 *
 * ```tsx
 * import { WattfareProvider, useWattfare } from "wattfare/react";
 *
 * <WattfareProvider publishableKey="pk_live_…" session="/api/wattfare-token">
 *   <App />
 * </WattfareProvider>
 *
 * function Chat() {
 *   const { connect, connected } = useWattfare();
 *   if (!connected) return <button onClick={connect}>Connect AI budget</button>;
 *   // …
 * }
 * ```
 *
 * @module
 */
// @ts-types="@types/react"
import {
  createContext,
  createElement,
  type ReactElement,
  type ReactNode,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import { createWattfare } from "./client.ts";
import type { WattfareClient } from "./client_core.ts";
import type { SessionOption } from "./session_source.ts";
import type { ConnectionStatus, GrantRequest, GrantResult } from "./types.ts";

export * from "./errors.ts";
export type {
  ConnectionStatus,
  GrantRequest,
  GrantResult,
  SessionToken,
} from "./types.ts";
export type { SessionOption } from "./session_source.ts";

/**
 * Props of {@link WattfareProvider}.
 *
 * @example
 * ```tsx
 * const props: WattfareProviderProps = { publishableKey: "pk_test_…", session: "/api/wattfare-token" };
 * ```
 */
export interface WattfareProviderProps {
  /** Your app's publishable key, `pk_test_…` or `pk_live_…`. */
  publishableKey: string;
  /**
   * Your token route's URL, or a function returning a token or
   * `{token, expiresAt}` (a new function each render is fine).
   */
  session: SessionOption;
  /** Where the Wattfare service runs; defaults to `https://wattfare.com`. */
  baseUrl?: string;
  /** The tree that calls `useWattfare()`. */
  children?: ReactNode;
}

/**
 * What {@link useWattfare} returns. The functions never reject: failures
 * land in `error` (and `requestGrant` resolves `null`), so they can be
 * passed straight to `onClick`.
 *
 * @example
 * ```tsx
 * const { connected, remainingUsd }: WattfareState = useWattfare();
 * ```
 */
export interface WattfareState {
  /**
   * Opens the consent popup (call it from a click); resolves with the new
   * status. Arguments (such as the click event) are ignored.
   */
  connect(): Promise<ConnectionStatus | null>;
  /** Whether the user has an active connection (false until known). */
  connected: boolean;
  /** The last status read, or `null` before the first one. */
  status: ConnectionStatus | null;
  /** Dollars left this month; `null` when unknown or uncapped. */
  remainingUsd: number | null;
  /** True while the status is being read, or a connect or disconnect runs. */
  loading: boolean;
  /** The last failure, cleared by the next success. */
  error: Error | null;
  /**
   * Opens the consent popup for a one-time grant (call it from a click);
   * resolves with the grant, or `null` when denied, closed or failed. It
   * leaves the connection state as it is.
   */
  requestGrant(request: GrantRequest): Promise<GrantResult | null>;
  /** Reads the status again. */
  refresh(): Promise<ConnectionStatus | null>;
  /** Ends the user's connection to your app. */
  disconnect(): Promise<void>;
}

type SessionFunction = Extract<SessionOption, (...args: never[]) => unknown>;

const WattfareContext = createContext<WattfareState | null>(null);

/**
 * Makes a Wattfare client for the tree below and loads the user's status
 * once mounted (in the browser; nothing runs during server rendering).
 *
 * @example
 * ```tsx
 * <WattfareProvider publishableKey="pk_live_…" session={getToken}>
 *   <App />
 * </WattfareProvider>
 * ```
 */
export function WattfareProvider(props: WattfareProviderProps): ReactElement {
  const { publishableKey, baseUrl, session } = props;
  const sessionRef = useRef(session);
  sessionRef.current = session;
  const sessionKey = typeof session === "function" ? "" : String(session);
  const client: WattfareClient = useMemo(
    () =>
      createWattfare({
        publishableKey,
        baseUrl,
        session: typeof session === "function"
          ? () => (sessionRef.current as SessionFunction)()
          : session,
      }),
    // The session function is read through the ref, so a new function each
    // render does not make a new client (and drop its cached token).
    [publishableKey, baseUrl, sessionKey],
  );

  const [status, setStatus] = useState<ConnectionStatus | null>(null);
  const [busy, setBusy] = useState(0);
  const [error, setError] = useState<Error | null>(null);
  const mounted = useRef(true);
  const latest = useRef(0);

  /** Runs a status-changing operation; the most recently started one wins. */
  const track = useCallback(
    (
      work: () => Promise<ConnectionStatus>,
    ): Promise<ConnectionStatus | null> => {
      const id = ++latest.current;
      setBusy((n) => n + 1);
      let promise: Promise<ConnectionStatus>;
      try {
        promise = work();
      } catch (thrown) {
        promise = Promise.reject(thrown);
      }
      return promise.then(
        (next) => {
          if (mounted.current && id === latest.current) {
            setStatus(next);
            setError(null);
          }
          return next;
        },
        (failure: unknown) => {
          if (mounted.current) setError(asError(failure));
          return null;
        },
      ).finally(() => {
        if (mounted.current) setBusy((n) => n - 1);
      });
    },
    [],
  );

  const refresh = useCallback(() => track(() => client.status()), [
    client,
    track,
  ]);
  // connect() must reach window.open synchronously: track() calls it at once.
  const connect = useCallback(() => track(() => client.connect()), [
    client,
    track,
  ]);
  const disconnect = useCallback(
    () => track(() => client.disconnect()).then(() => {}),
    [client, track],
  );
  const requestGrant = useCallback(
    async (request: GrantRequest): Promise<GrantResult | null> => {
      try {
        const grant = await client.requestGrant(request);
        if (mounted.current) setError(null);
        return grant;
      } catch (failure) {
        if (mounted.current) setError(asError(failure));
        return null;
      }
    },
    [client],
  );

  useEffect(() => {
    mounted.current = true;
    refresh();
    return () => {
      mounted.current = false;
    };
  }, [refresh]);

  const value = useMemo<WattfareState>(() => ({
    connect,
    connected: status?.connected ?? false,
    status,
    remainingUsd: status?.remainingUsd ?? null,
    // Until the first read finishes, the status is unknown: loading.
    loading: busy > 0 || (status === null && error === null),
    error,
    requestGrant,
    refresh,
    disconnect,
  }), [connect, status, busy, error, requestGrant, refresh, disconnect]);

  return createElement(WattfareContext.Provider, { value }, props.children);
}

/**
 * The Wattfare state and actions of the nearest {@link WattfareProvider}.
 *
 * @throws {Error} when there is no provider above.
 *
 * @example
 * ```tsx
 * function Chat() {
 *   const { connect, connected, remainingUsd } = useWattfare();
 *   if (!connected) return <button onClick={connect}>Connect AI budget</button>;
 *   return <p>${remainingUsd?.toFixed(2)} left this month</p>;
 * }
 * ```
 */
export function useWattfare(): WattfareState {
  const value = useContext(WattfareContext);
  if (!value) {
    throw new Error(
      "Wattfare: useWattfare() must be called inside <WattfareProvider>",
    );
  }
  return value;
}

function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}
