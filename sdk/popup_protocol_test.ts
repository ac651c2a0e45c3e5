import assert from "node:assert/strict";
import {
  createOpenerHandler,
  HELLO,
  HELLO_ACK,
  type MessageEventLike,
  popupUrl,
  readHelloAck,
  readPopupFragment,
  readResult,
  RESULT,
  resultMessage,
} from "./popup_protocol.ts";

const WATTFARE = "https://wattfare.com";
const APP = "https://app.example";

/** A window that records what is posted to it. */
function fakeWindow() {
  const posted: { message: unknown; targetOrigin: string }[] = [];
  return {
    posted,
    postMessage(message: unknown, targetOrigin: string) {
      posted.push({ message, targetOrigin });
    },
  };
}

function setup() {
  const popup = fakeWindow();
  const results: unknown[] = [];
  const handle = createOpenerHandler({
    wattfareOrigin: WATTFARE,
    popup: () => popup,
    appOrigin: APP,
    publishableKey: "pk_test_0123456789abcdef",
    nonce: "n0nce",
    onResult: (result) => results.push(result),
  });
  return { popup, results, handle };
}

const event = (
  origin: string,
  source: unknown,
  data: unknown,
): MessageEventLike => ({ origin, source, data });

Deno.test("the opener answers a hello from its popup on the Wattfare origin, to that exact origin", () => {
  const { popup, handle } = setup();
  handle(event(WATTFARE, popup, { type: HELLO, v: 1 }));
  assert.deepEqual(popup.posted, [{
    message: {
      type: HELLO_ACK,
      v: 1,
      origin: APP,
      publishableKey: "pk_test_0123456789abcdef",
      nonce: "n0nce",
    },
    targetOrigin: WATTFARE,
  }]);
  // A popup that predates `v` is still answered; a reload says hello again.
  handle(event(WATTFARE, popup, { type: HELLO }));
  assert.equal(popup.posted.length, 2);
  assert.ok(popup.posted.every((p) => p.targetOrigin === WATTFARE));
});

Deno.test("the opener ignores hellos and results from any other origin or window", () => {
  const { popup, results, handle } = setup();
  const stranger = fakeWindow();
  const approved = { type: RESULT, v: 1, nonce: "n0nce", outcome: "approved" };
  for (
    const e of [
      event("https://evil.example", popup, { type: HELLO, v: 1 }),
      event("https://wattfare.com.evil.example", popup, { type: HELLO }),
      event("http://wattfare.com", popup, { type: HELLO }),
      event(APP, popup, { type: HELLO }),
      event(WATTFARE, stranger, { type: HELLO }),
      event(WATTFARE, null, { type: HELLO }),
      event("https://evil.example", popup, approved),
      event(WATTFARE, stranger, approved),
      event(WATTFARE, popup, { ...approved, nonce: "other" }),
      event(WATTFARE, popup, { ...approved, v: 2 }),
      event(WATTFARE, popup, { ...approved, outcome: "maybe" }),
      event(WATTFARE, popup, { ...approved, status: { connected: "yes" } }),
      event(WATTFARE, popup, { type: HELLO, v: 2 }),
      event(WATTFARE, popup, "wattfare:hello"),
      event(WATTFARE, popup, null),
    ]
  ) handle(e);
  assert.deepEqual(popup.posted, []);
  assert.deepEqual(stranger.posted, []);
  assert.deepEqual(results, []);
});

Deno.test("the opener hands on a well-formed result from its popup", () => {
  const { popup, results, handle } = setup();
  const status = {
    connected: true,
    limits: { monthlyUsd: 10 },
    usage: { monthlyUsd: 0 },
    remainingUsd: 10,
  };
  handle(
    event(
      WATTFARE,
      popup,
      resultMessage("n0nce", { outcome: "approved", status }),
    ),
  );
  // Without a nonce (an older popup), too.
  handle(event(WATTFARE, popup, { type: RESULT, outcome: "denied" }));
  assert.deepEqual(results, [
    { type: RESULT, v: 1, nonce: "n0nce", outcome: "approved", status },
    { type: RESULT, v: 1, nonce: "n0nce", outcome: "denied" },
  ]);
});

Deno.test("the popup accepts an acknowledgement only from its opener on a registered origin", () => {
  const opener = fakeWindow();
  const ack = {
    type: HELLO_ACK,
    v: 1,
    origin: APP,
    publishableKey: "pk_test_0123456789abcdef",
    nonce: "n0nce",
  };
  assert.deepEqual(readHelloAck(event(APP, opener, ack), opener, [APP]), {
    appOrigin: APP,
    publishableKey: "pk_test_0123456789abcdef",
    nonce: "n0nce",
  });
  assert.equal(
    readHelloAck(
      event("https://evil.example", opener, {
        ...ack,
        origin: "https://evil.example",
      }),
      opener,
      [APP],
    ),
    null,
  );
  // The claimed origin must be the browser's.
  assert.equal(
    readHelloAck(event("https://evil.example", opener, ack), opener, [
      APP,
      "https://evil.example",
    ]),
    null,
  );
  assert.equal(
    readHelloAck(event(APP, fakeWindow(), ack), opener, [APP]),
    null,
  );
  assert.equal(readHelloAck(event(APP, null, ack), null, [APP]), null);
  assert.equal(
    readHelloAck(event(APP, opener, { ...ack, nonce: "" }), opener, [APP]),
    null,
  );
});

Deno.test("the popup URL carries the session and intent in the fragment only", () => {
  const connect = popupUrl("http://localhost:8000/", "a.b.c", {
    kind: "connect",
  });
  assert.equal(connect, "http://localhost:8000/connect#session=a.b.c");
  assert.equal(new URL(connect).search, "");
  assert.deepEqual(readPopupFragment(new URL(connect).hash), {
    session: "a.b.c",
    intent: { kind: "connect" },
  });
  const grant = popupUrl(WATTFARE, "a.b.c", {
    kind: "grant",
    requests: 3,
    maxUsd: 0.5,
  });
  assert.equal(
    grant,
    `${WATTFARE}/connect#session=a.b.c&intent=grant&requests=3&maxUsd=0.5`,
  );
  assert.deepEqual(readPopupFragment(new URL(grant).hash), {
    session: "a.b.c",
    intent: { kind: "grant", requests: 3, maxUsd: 0.5 },
  });
  assert.deepEqual(
    readPopupFragment("#session=t&intent=grant&requests=1")?.intent,
    { kind: "grant", requests: 1, maxUsd: null },
  );
  for (
    const bad of [
      "",
      "#",
      "#intent=grant",
      "#session=t&intent=grant&requests=0",
      "#session=t&intent=grant&requests=1.5",
      "#session=t&intent=grant&requests=2&maxUsd=-1",
      "#session=t&intent=steal",
    ]
  ) {
    assert.equal(readPopupFragment(bad), null, bad);
  }
});

Deno.test("results are validated field by field", () => {
  const grant = { grantToken: "wfg_1", expiresAt: 1, requests: 3 };
  assert.deepEqual(
    readResult(
      { type: RESULT, v: 1, nonce: "n", outcome: "approved", grant },
      "n",
    )?.grant,
    grant,
  );
  assert.equal(
    readResult({
      type: RESULT,
      nonce: "n",
      outcome: "approved",
      grant: { ...grant, grantToken: "" },
    }, "n"),
    null,
  );
  assert.deepEqual(
    readResult({
      type: RESULT,
      outcome: "error",
      error: { code: "origin_not_allowed", message: "no" },
    }, "n")?.error,
    { code: "origin_not_allowed", message: "no" },
  );
  assert.equal(
    readResult({ type: RESULT, outcome: "error", error: "no" }, "n"),
    null,
  );
});
