import assert from "node:assert/strict";
import {
  type BrowserEnv,
  createClient,
  type PopupWindow,
} from "./client_core.ts";
import { createWattfare } from "./client.ts";
import {
  WattfareAuthError,
  WattfareError,
  WattfareRequestError,
} from "./errors.ts";
import type { FetchLike } from "./http.ts";
import { HELLO, HELLO_ACK, RESULT } from "./popup_protocol.ts";
import { mintSessionToken } from "./session_token.ts";
import { Wattfare } from "./server.ts";
import { startTestService } from "../server/testing/test_service.ts";

const APP_ID = "0123456789abcdef";
const SECRET_KEY = `sk_test_${APP_ID}_${"ab".repeat(32)}`;
const PK = `pk_test_${APP_ID}`;
const BASE = "https://wattfare.test";
const APP_ORIGIN = "https://app.example";
const T0 = Date.UTC(2026, 0, 1);

const CONNECTED = {
  connected: true,
  limits: { monthlyUsd: 10 },
  usage: { monthlyUsd: 0 },
  remainingUsd: 10,
};
const NOT_CONNECTED = {
  connected: false,
  limits: null,
  usage: { monthlyUsd: 0 },
  remainingUsd: 0,
};

class FakePopup implements PopupWindow {
  closed = false;
  navigations: string[] = [];
  posted: { message: unknown; targetOrigin: string }[] = [];
  location = { replace: (url: string) => void this.navigations.push(url) };
  close() {
    this.closed = true;
  }
  postMessage(message: unknown, targetOrigin: string) {
    this.posted.push({ message, targetOrigin });
  }
}

/**
 * A page with a clock, a popup blocker switch, message listeners and a
 * scripted network: the token route and the Wattfare API.
 */
function fakePage(
  options: {
    session?: (now: number) => Response;
    api?: (request: Request) => Response | Promise<Response>;
  } = {},
) {
  let now = T0;
  let blocked = false;
  const popups: FakePopup[] = [];
  const listeners = new Set<(event: unknown) => void>();
  const intervals = new Map<number, () => void>();
  let nextId = 1;
  const requests: Request[] = [];
  const log: string[] = [];
  const fetchFn: FetchLike = async (input, init) => {
    const request = new Request(new URL(String(input), APP_ORIGIN), init);
    requests.push(request.clone());
    log.push(`fetch ${new URL(request.url).pathname}`);
    if (request.url === `${APP_ORIGIN}/api/wattfare-token`) {
      return options.session?.(now) ??
        Response.json(mintSessionToken(SECRET_KEY, "user_1", { now }));
    }
    if (request.url.startsWith(`${BASE}/api/v1/`)) {
      return await (options.api?.(request) ?? Response.json(CONNECTED));
    }
    return new Response("not found", { status: 404 });
  };
  const env: BrowserEnv = {
    fetch: fetchFn,
    now: () => now,
    open: (url) => {
      log.push(`open ${url}`);
      if (blocked) return null;
      const popup = new FakePopup();
      popups.push(popup);
      return popup;
    },
    origin: () => APP_ORIGIN,
    popupFeatures: () => "popup=yes,width=480,height=680",
    addMessageListener: (l) => void listeners.add(l as (e: unknown) => void),
    removeMessageListener: (l) =>
      void listeners.delete(l as (e: unknown) => void),
    setInterval: (callback) => {
      intervals.set(nextId, callback);
      return nextId++;
    },
    clearInterval: (id) => void intervals.delete(id as number),
    randomNonce: () => "nonce-1",
  };
  return {
    env,
    popups,
    requests,
    listeners,
    log,
    tokenFetches: () =>
      requests.filter((r) => r.url.endsWith("/api/wattfare-token")).length,
    apiRequests: () => requests.filter((r) => r.url.startsWith(BASE)),
    advance(ms: number) {
      now += ms;
    },
    block() {
      blocked = true;
    },
    /** The popup page posting to its opener. */
    fromPopup(popup: FakePopup, data: unknown, origin = BASE) {
      for (const listener of [...listeners]) {
        listener({ origin, source: popup, data });
      }
    },
    /** Runs the close-polling timers. */
    poll() {
      for (const callback of [...intervals.values()]) callback();
    },
    client(
      session: Parameters<typeof createClient>[0]["session"] =
        "/api/wattfare-token",
    ) {
      return createClient({ publishableKey: PK, session, baseUrl: BASE }, env);
    },
  };
}

/** Lets pending promises run until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  assert.ok(condition(), "condition never held");
}

Deno.test("the session token is fetched once and reused until 30 s before it expires", async () => {
  const page = fakePage();
  const wf = page.client();
  assert.deepEqual(await wf.status(), CONNECTED);
  assert.equal(page.tokenFetches(), 1);
  const first = page.apiRequests()[0].headers.get("authorization");

  page.advance(60_000);
  await wf.status();
  page.advance(9 * 60_000 - 30_001); // 29.999 s before expiry
  await wf.status();
  assert.equal(page.tokenFetches(), 1);
  assert.ok(
    page.apiRequests().every((r) => r.headers.get("authorization") === first),
  );

  page.advance(1); // exactly 30 s before expiry: a fresh token
  await wf.status();
  assert.equal(page.tokenFetches(), 2);
  const last = page.apiRequests().at(-1)!.headers.get("authorization");
  assert.notEqual(last, first);

  // The route is POSTed to with the page's cookies.
  const route = page.requests.find((r) =>
    r.url.endsWith("/api/wattfare-token")
  )!;
  assert.equal(route.method, "POST");
  assert.equal(route.credentials, "same-origin");
});

Deno.test("concurrent calls share one token fetch", async () => {
  const page = fakePage();
  const wf = page.client();
  await Promise.all([wf.status(), wf.status(), wf.status()]);
  assert.equal(page.tokenFetches(), 1);
  assert.equal(page.apiRequests().length, 3);
});

Deno.test("a session function may return {token, expiresAt} or a bare JWT; a token without expiry is not cached", async () => {
  const page = fakePage();
  let calls = 0;
  const wf = page.client(() => {
    calls++;
    return Promise.resolve(
      mintSessionToken(SECRET_KEY, "user_1", { now: T0 }).token,
    );
  });
  await wf.status();
  await wf.status();
  assert.equal(calls, 1, "the JWT's own exp is used for caching");

  let opaque = 0;
  const wf2 = page.client(() => {
    opaque++;
    return "not-a-jwt";
  });
  await wf2.status();
  await wf2.status();
  assert.equal(opaque, 2);
});

Deno.test("a refused token route fails once with WattfareAuthError", async () => {
  const page = fakePage({
    session: () => new Response("no", { status: 401 }),
  });
  const wf = page.client();
  await assert.rejects(
    wf.status(),
    (e: unknown) =>
      e instanceof WattfareAuthError && e.code === "invalid_session" &&
      e.status === 401,
  );
  assert.equal(page.tokenFetches(), 1);
  assert.equal(page.apiRequests().length, 0);

  const broken = fakePage({
    session: () => new Response("oops", { status: 500 }),
  });
  await assert.rejects(
    broken.client().status(),
    (e: unknown) =>
      e instanceof WattfareError && e.code === "unexpected_response",
  );
});

Deno.test("a token the service refuses is replaced once", async () => {
  let refusals = 1;
  const page = fakePage({
    api: () =>
      refusals-- > 0
        ? Response.json({
          error: {
            type: "wattfare_error",
            code: "invalid_session",
            message: "expired",
            param: null,
          },
        }, { status: 401 })
        : Response.json(CONNECTED),
  });
  const wf = page.client();
  assert.deepEqual(await wf.status(), CONNECTED);
  assert.equal(page.tokenFetches(), 2);

  refusals = 5;
  await assert.rejects(wf.status(), WattfareAuthError);
  assert.equal(page.tokenFetches(), 3, "one fresh token, not a loop");
  assert.equal(page.apiRequests().length, 4);
});

Deno.test("a token minted for another app is refused before use", async () => {
  const other = `sk_test_fedcba9876543210_${"cd".repeat(32)}`;
  const page = fakePage({
    session: (now) => Response.json(mintSessionToken(other, "user_1", { now })),
  });
  await assert.rejects(
    page.client().status(),
    /publishableKey names app 0123456789abcdef/,
  );
  assert.equal(page.apiRequests().length, 0);
});

Deno.test("createWattfare refuses secret keys, malformed keys and a missing session", () => {
  assert.throws(
    () => createWattfare({ publishableKey: SECRET_KEY, session: "/t" }),
    (e: unknown) =>
      e instanceof TypeError && /never put it in the browser/.test(e.message),
  );
  assert.throws(
    () => createWattfare({ publishableKey: "pk_nope", session: "/t" }),
    /pk_test_<appId>/,
  );
  assert.throws(
    () => createWattfare({ publishableKey: PK, session: "" }),
    /session must be/,
  );
  // Creating a client touches no browser API (safe during server rendering).
  const wf = createWattfare({ publishableKey: PK, session: "/t" });
  assert.equal(wf.baseUrl, "https://wattfare.com");
});

Deno.test("connect() opens the popup synchronously, completes the handshake and resolves with the approved status", async () => {
  const page = fakePage();
  const wf = page.client();
  const connecting = wf.connect();
  // Opened before any await (within the click's user activation), blank,
  // and before the token is fetched.
  assert.equal(page.popups.length, 1);
  const popup = page.popups[0];
  assert.equal(page.log[0], "open about:blank");

  await until(() => popup.navigations.length === 1);
  const url = new URL(popup.navigations[0]);
  assert.equal(url.origin + url.pathname, `${BASE}/connect`);
  assert.equal(url.search, "");
  const session = new URLSearchParams(url.hash.slice(1)).get("session")!;
  assert.equal(session.split(".").length, 3);

  // A stranger's hello gets nothing; the popup's gets the acknowledgement.
  page.fromPopup(popup, { type: HELLO }, "https://evil.example");
  assert.equal(popup.posted.length, 0);
  page.fromPopup(popup, { type: HELLO, v: 1 });
  assert.deepEqual(popup.posted, [{
    message: {
      type: HELLO_ACK,
      v: 1,
      origin: APP_ORIGIN,
      publishableKey: PK,
      nonce: "nonce-1",
    },
    targetOrigin: BASE,
  }]);

  // A result from another origin is ignored; the popup's resolves connect().
  page.fromPopup(popup, {
    type: RESULT,
    v: 1,
    nonce: "nonce-1",
    outcome: "denied",
  }, "https://evil.example");
  page.fromPopup(popup, {
    type: RESULT,
    v: 1,
    nonce: "nonce-1",
    outcome: "approved",
    status: CONNECTED,
  });
  assert.deepEqual(await connecting, CONNECTED);
  assert.equal(popup.closed, true, "the SDK closes the popup");
  assert.equal(page.listeners.size, 0, "the listener is removed");
  assert.equal(page.apiRequests().length, 0, "the popup's status was used");
});

Deno.test("closing or denying the popup resolves with the user's status, not an error", async () => {
  const page = fakePage({ api: () => Response.json(NOT_CONNECTED) });
  const wf = page.client();
  const connecting = wf.connect();
  const popup = page.popups[0];
  await until(() => popup.navigations.length === 1);
  page.poll();
  assert.equal(page.listeners.size, 1, "still waiting while the popup is open");
  popup.closed = true;
  page.poll();
  assert.deepEqual(await connecting, NOT_CONNECTED);
  assert.equal(page.listeners.size, 0);

  const again = wf.connect();
  const second = page.popups[1];
  await until(() => second.navigations.length === 1);
  page.fromPopup(second, { type: RESULT, outcome: "denied" });
  assert.deepEqual(await again, NOT_CONNECTED);
  assert.equal(second.closed, true);
});

Deno.test("a blocked popup rejects with popup_blocked; a second click shares the open popup", async () => {
  const page = fakePage();
  const wf = page.client();
  const first = wf.connect();
  const second = wf.connect();
  assert.equal(first, second);
  assert.equal(page.popups.length, 1);
  await until(() => page.popups[0].navigations.length === 1);
  page.popups[0].closed = true;
  page.poll();
  await first;

  page.block();
  await assert.rejects(
    wf.connect(),
    (e: unknown) => e instanceof WattfareError && e.code === "popup_blocked",
  );
  assert.equal(
    page.tokenFetches(),
    1,
    "no token is fetched for a blocked popup",
  );
});

Deno.test("an error the popup reports rejects connect() with its typed error", async () => {
  const page = fakePage();
  const connecting = page.client().connect();
  const popup = page.popups[0];
  await until(() => popup.navigations.length === 1);
  page.fromPopup(popup, {
    type: RESULT,
    outcome: "error",
    error: { code: "origin_not_allowed", message: "not registered" },
  });
  await assert.rejects(
    connecting,
    (e: unknown) =>
      e instanceof WattfareRequestError && e.code === "origin_not_allowed" &&
      e.status === 403,
  );
});

Deno.test("requestGrant() resolves the approved grant, or null when denied; bad requests open nothing", async () => {
  const page = fakePage();
  const wf = page.client();
  const granting = wf.requestGrant({ requests: 3, maxUsd: 0.5 });
  const popup = page.popups[0];
  await until(() => popup.navigations.length === 1);
  const fragment = new URLSearchParams(
    new URL(popup.navigations[0]).hash.slice(1),
  );
  assert.equal(fragment.get("intent"), "grant");
  assert.equal(fragment.get("requests"), "3");
  assert.equal(fragment.get("maxUsd"), "0.5");
  const grant = {
    grantToken: "wfg_abc",
    expiresAt: T0 / 1000 + 600,
    requests: 3,
  };
  page.fromPopup(popup, {
    type: RESULT,
    nonce: "nonce-1",
    outcome: "approved",
    grant,
  });
  assert.deepEqual(await granting, grant);

  const denied = wf.requestGrant({ requests: 1 });
  const deniedPopup = page.popups.at(-1)!;
  await until(() => deniedPopup.navigations.length === 1);
  page.fromPopup(deniedPopup, { type: RESULT, outcome: "denied" });
  assert.equal(await denied, null);

  const opened = page.popups.length;
  for (
    const bad of [{ requests: 0 }, { requests: 1.5 }, {
      requests: 2,
      maxUsd: -1,
    }, { requests: 2, maxUsd: 0 }]
  ) {
    await assert.rejects(wf.requestGrant(bad), TypeError);
  }
  assert.equal(page.popups.length, opened);
});

Deno.test("disconnect() deletes the session's user with the session token", async () => {
  const page = fakePage({
    api: (request) =>
      request.method === "DELETE"
        ? Response.json({ userId: "user_1", disconnected: true })
        : Response.json(CONNECTED),
  });
  assert.deepEqual(await page.client().disconnect(), NOT_CONNECTED);
  const [request] = page.apiRequests();
  assert.equal(request.method, "DELETE");
  assert.equal(request.url, `${BASE}/api/v1/connections/user_1`);
  assert.match(request.headers.get("authorization")!, /^Bearer ey/);
});

Deno.test("against the service: status() through a session from createSession", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  await service.connect(app.secretKey, "user_9", 3);
  const server = new Wattfare({
    secretKey: app.secretKey,
    baseUrl: service.url,
  });
  const page = fakePage();
  const wf = createClient({
    publishableKey: app.publishableKey,
    baseUrl: service.url,
    session: () =>
      server.createSession("user_9", { limits: { monthlyUsd: 3 } }),
  }, { ...page.env, fetch: (input, init) => fetch(input, init) });
  assert.deepEqual(await wf.status(), {
    connected: true,
    limits: { monthlyUsd: 3 },
    usage: { monthlyUsd: 0 },
    remainingUsd: 3,
  });
  const stranger = createClient({
    publishableKey: app.publishableKey,
    baseUrl: service.url,
    session: () => server.createSession("nobody"),
  }, { ...page.env, fetch: (input, init) => fetch(input, init) });
  assert.deepEqual(await stranger.status(), NOT_CONNECTED);
});
