/**
 * Hostile input, property-based: thousands of generated bodies, headers,
 * tokens, paths and methods thrown at every route over real HTTP. Each
 * request must get a typed 4xx in OpenAI's error shape (never a 5xx), must
 * not echo a secret or a stack trace, and, when rejected, must change
 * nothing: not the store, not the connected user's ledger or status, and it
 * must not reach the upstream. Valid requests the generators happen to build
 * may succeed; they are allowed to change only what they are for.
 *
 * Every property runs on its own in-process service; the figures each one
 * prints feed the README's "Reliability and security" section.
 */
import assert from "node:assert/strict";
import fc, { type Arbitrary } from "npm:fast-check@4.10.2";
import { connectionStatus } from "../connections/status.ts";
import { ERROR_STATUS } from "../errors.ts";
import { fundingKeyOf, readLedgerView } from "../testing/ledger_probe.ts";
import {
  bearer,
  chatHeaders,
  startTestService,
  type TestService,
} from "../testing/test_service.ts";
import {
  anyJson,
  anyJsonBody,
  type Credential,
  credential,
  type Credentials,
  deeplyNestedChatBody,
  hostileObject,
  hostileString,
  invalidUtf8Body,
  latin1HeaderText,
  mixedChatBody,
  nearLimitChatBody,
  notJsonBody,
  notPositiveInt,
  notString,
  PRICED_MODEL,
  usdCandidate,
  userIdCandidate,
  wrongTypedChatBody,
} from "../testing/arbitraries.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The origin the test apps register for their popup. */
const APP_ORIGIN = "http://localhost:5173";

/** KV prefixes a rejected request may legitimately touch: rate-limit buckets (taken before pricing). */
const VOLATILE_PREFIXES = new Set(["rate"]);

// ---------------------------------------------------------------------------
// Fixture: one service per property, a connected user, and their secrets
// ---------------------------------------------------------------------------

interface Observed {
  /** Every KV entry but the volatile ones, keys and values. */
  store: string;
  /** The connected user's ledger, usage entries, open holds and status. */
  user: string;
  /** Requests the sandbox accepted on the user's funding key. */
  sandboxRequests: number;
  /** Proxy requests that reached any upstream (`wattfare_upstream_seconds_count`). */
  upstreamCalls: number;
}

interface Tally {
  requests: number;
  statuses: Record<string, number>;
  /** Rejected by the HTTP server itself before the app saw them (no `x-request-id`). */
  serverLevel: number;
}

interface Fixture {
  name: string;
  service: TestService;
  port: number;
  limit: number;
  appId: string;
  secretKey: string;
  liveAppId: string;
  liveSecretKey: string;
  userId: string;
  session: string;
  grant: string;
  fundingKey: string;
  creds: Credentials;
  /** Strings no response and no log line may contain. */
  secrets: string[];
  logs: string[];
  baseline: Observed;
  tally: Tally;
}

/** Totals over every property in this file, printed as the README's figures. */
const figures = { requests: 0, fiveXX: 0, serverLevel: 0, unaccountedNano: 0n };

async function startFixture(name: string, limit: number): Promise<Fixture> {
  const logs: string[] = [];
  const service = await startTestService({
    env: {
      WATTFARE_MAX_BODY_BYTES: String(limit),
      // Rate limits are not under test here: generous buckets keep every
      // request reaching the checks that are.
      WATTFARE_APP_RPM: "10000000",
      WATTFARE_CONNECTION_RPM: "1000000",
      // Live mode must never leave the machine: a closed local port.
      WATTFARE_UPSTREAM_URL: "http://127.0.0.1:9/api/v1",
      WATTFARE_OPENROUTER_AUTH_URL: "http://127.0.0.1:9/auth",
    },
    log: (line) => logs.push(line),
  });
  try {
    const app = await service.createApp("test", [APP_ORIGIN]);
    const live = await service.createApp("live", [APP_ORIGIN]);
    const userId = `hostile-${crypto.randomUUID().slice(0, 8)}`;
    await service.connect(app.secretKey, userId, 5);
    // One real request, so the ledger has something to lose.
    const first = await service.fetch("/api/v1/chat/completions", {
      method: "POST",
      headers: chatHeaders(app.secretKey, userId),
      body: JSON.stringify({
        model: PRICED_MODEL,
        messages: [{ role: "user", content: "hello" }],
      }),
    });
    assert.equal(first.status, 200, await first.clone().text());
    await first.body?.cancel();
    const minted = await service.fetch("/api/v1/sessions", {
      method: "POST",
      headers: bearer(app.secretKey),
      body: JSON.stringify({ userId, limits: { monthlyUsd: 5 } }),
    });
    assert.equal(minted.status, 200);
    const session: string = (await minted.json()).token;
    const granted = await service.fetch("/api/v1/grants", {
      method: "POST",
      headers: bearer(session),
      body: JSON.stringify({ requests: 3, maxUsd: 0.5 }),
    });
    assert.equal(granted.status, 200, await granted.clone().text());
    const grant: string = (await granted.json()).grantToken;
    await service.settled();
    const fundingKey = await fundingKeyOf(
      service.kv,
      service.box,
      app.appId,
      userId,
    );
    const secretOf = (key: string) => key.slice(key.lastIndexOf("_") + 1);
    const fx: Fixture = {
      name,
      service,
      port: Number(new URL(service.url).port),
      limit,
      appId: app.appId,
      secretKey: app.secretKey,
      liveAppId: live.appId,
      liveSecretKey: live.secretKey,
      userId,
      session,
      grant,
      fundingKey,
      creds: {
        appId: app.appId,
        secretKey: app.secretKey,
        liveSecretKey: live.secretKey,
        session,
        userId,
      },
      secrets: [
        app.secretKey,
        secretOf(app.secretKey),
        live.secretKey,
        secretOf(live.secretKey),
        session,
        session.split(".")[2],
        grant,
        fundingKey,
      ],
      logs,
      baseline: undefined as unknown as Observed,
      tally: { requests: 0, statuses: {}, serverLevel: 0 },
    };
    fx.baseline = await observe(fx);
    return fx;
  } catch (error) {
    await service.close();
    throw error;
  }
}

/** Checks the books balance and the logs are clean, prints the figures, stops the service. */
async function finish(fx: Fixture): Promise<void> {
  try {
    await fx.service.settled();
    const view = await readLedgerView(fx.service, fx.appId, fx.userId);
    const billed = fx.service.sandbox!.usageOf(fx.fundingKey).costNano;
    const unaccounted = abs(billed - view.spent) +
      abs(view.entriesSum - view.spent) + view.held;
    figures.unaccountedNano += unaccounted;
    assert.equal(view.held, 0n, "a hold was left open");
    assert.equal(view.openHolds.length, 0, "a hold record was left open");
    assert.equal(view.entriesSum, view.spent, "Σ usage entries ≠ spent");
    assert.equal(view.spent, billed, "spent ≠ what the sandbox billed");
    for (const line of fx.logs) {
      JSON.parse(line);
      for (const secret of [...fx.secrets, fx.userId]) {
        assert.ok(
          !line.includes(secret),
          `a log line contains a secret or user id: ${line}`,
        );
      }
    }
    const fiveXX = Object.entries(fx.tally.statuses)
      .filter(([status]) => Number(status) >= 500)
      .reduce((sum, [, n]) => sum + n, 0);
    figures.requests += fx.tally.requests;
    figures.fiveXX += fiveXX;
    figures.serverLevel += fx.tally.serverLevel;
    console.log(
      `hostile input · ${fx.name}: ${fx.tally.requests} requests, statuses ${
        JSON.stringify(fx.tally.statuses)
      }, ${fx.tally.serverLevel} refused by the HTTP server itself, ` +
        `${fiveXX} 5xx, ${unaccounted} nano-dollars unaccounted`,
    );
  } finally {
    await fx.service.close();
  }
}

function abs(n: bigint): bigint {
  return n < 0n ? -n : n;
}

/** JSON with bigints and bytes, for comparing stored values. */
function canonical(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v) =>
      typeof v === "bigint"
        ? `${v}n`
        : v instanceof Uint8Array
        ? `bytes:${[...v].join(",")}`
        : v,
  );
}

async function observe(fx: Fixture): Promise<Observed> {
  const { kv } = fx.service;
  await fx.service.settled();
  const entries: unknown[] = [];
  for await (const entry of kv.list({ prefix: [] })) {
    if (VOLATILE_PREFIXES.has(String(entry.key[0]))) continue;
    entries.push([entry.key, entry.value]);
  }
  const view = await readLedgerView(kv, fx.appId, fx.userId);
  const status = await connectionStatus(kv, fx.appId, fx.userId);
  const metrics = await (await fx.service.fetch("/metrics")).text();
  return {
    store: canonical(entries),
    user: canonical({
      spent: view.spent,
      held: view.held,
      entries: view.entries.map((e) => e.requestId),
      entriesSum: view.entriesSum,
      openHolds: view.openHolds.map((h) => h.id),
      status,
    }),
    sandboxRequests: fx.service.sandbox!.usageOf(fx.fundingKey).requests,
    upstreamCalls: Number(
      /^wattfare_upstream_seconds_count (\d+)$/m.exec(metrics)?.[1] ?? 0,
    ),
  };
}

// ---------------------------------------------------------------------------
// Requests and the contract every answer must keep
// ---------------------------------------------------------------------------

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  /** False when the HTTP server refused the request before the app saw it. */
  fromApp: boolean;
}

/** What the contract says about one generated request. */
interface Expect {
  /** The exact status, when the contract is clear. */
  status?: number;
  /** The acceptable error codes for that status. */
  codes?: readonly string[];
  /** `param` must start with one of these. */
  params?: readonly string[];
  /** "never" (default): must be refused. "may": valid, may succeed and change what it is for. "readOnly": may succeed, changes nothing. */
  success?: "never" | "may" | "readOnly";
  /** A valid proxy request for the connected user: may spend from their budget. */
  chargesUser?: boolean;
  /** Passed Wattfare's own checks: the upstream may see it (and refuse it). */
  upstream?: boolean;
}

const reject = (
  status: number,
  codes: string | readonly string[],
  params?: string | readonly string[],
): Expect => ({
  status,
  codes: typeof codes === "string" ? [codes] : codes,
  params: typeof params === "string" ? [params] : params,
});

const STACK_TRACE = [
  /\n\s+at\s/,
  /\bat\s+\S*\s*\(?(?:file|ext|node):/,
  /(?:file|ext):\/\//,
  /\b(?:Type|Range|Syntax|Reference|Eval|URI|Aggregate)?Error: /,
  /node_modules\/|ext:deno_|\.[jt]sx?:\d+:\d+/,
];

async function fetchReply(
  fx: Fixture,
  path: string,
  init: RequestInit,
): Promise<Reply> {
  const response = await fx.service.fetch(path, {
    ...init,
    redirect: "manual",
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    fromApp: response.headers.has("x-request-id"),
  };
}

/**
 * Sends one generated request and checks the whole contract: the answer's
 * status, shape and content, then that a refused request changed nothing.
 */
async function probe(
  fx: Fixture,
  describe: string,
  send: () => Promise<Reply>,
  expect: Expect,
): Promise<void> {
  await probeReturning(fx, describe, send, expect);
}

/** {@link probe}, returning the reply for further checks. */
async function probeReturning(
  fx: Fixture,
  describe: string,
  send: () => Promise<Reply>,
  expect: Expect,
): Promise<Reply> {
  const before = fx.baseline;
  let reply: Reply;
  try {
    reply = await send();
  } finally {
    fx.baseline = await observe(fx);
  }
  const after = fx.baseline;
  fx.tally.requests++;
  fx.tally.statuses[reply.status] = (fx.tally.statuses[reply.status] ?? 0) + 1;
  const where = () =>
    `${describe}\n  → ${reply.status} ${reply.text.slice(0, 400)}`;

  if (!reply.fromApp) {
    // Refused by the HTTP server (hyper) before the app ran: a bare 4xx,
    // or the connection closed (status 0).
    fx.tally.serverLevel++;
    assert.ok(
      reply.status === 0 || (reply.status >= 400 && reply.status < 500),
      `server-level answer is not a 4xx: ${where()}`,
    );
  } else {
    assertAnswer(reply, expect, where);
  }
  const headerText = [...reply.headers].map(([k, v]) => `${k}: ${v}`).join(
    "\n",
  );
  for (const secret of fx.secrets) {
    assert.ok(
      !reply.text.includes(secret) && !headerText.includes(secret),
      `the response echoes a secret: ${where()}`,
    );
  }
  for (const pattern of STACK_TRACE) {
    assert.ok(
      !pattern.test(reply.text),
      `the response shows a stack trace or an internal path (${pattern}): ${where()}`,
    );
  }

  const rejected = reply.status >= 400 || reply.status === 0;
  if (rejected || expect.success === "readOnly") {
    assert.equal(
      after.user,
      before.user,
      `the connected user's ledger or status changed: ${where()}`,
    );
    assert.equal(
      after.store,
      before.store,
      `the store changed: ${where()}`,
    );
    if (!expect.upstream || !rejected) {
      assert.equal(
        after.sandboxRequests,
        before.sandboxRequests,
        `the sandbox got a request: ${where()}`,
      );
    }
    if (!expect.upstream) {
      assert.equal(
        after.upstreamCalls,
        before.upstreamCalls,
        `the upstream got a request: ${where()}`,
      );
    }
  } else if (!expect.chargesUser) {
    assert.equal(
      after.user,
      before.user,
      `a request for someone else changed the connected user: ${where()}`,
    );
    assert.equal(
      after.sandboxRequests,
      before.sandboxRequests,
      `the sandbox got a request on the user's key: ${where()}`,
    );
  }
  return reply;
}

function assertAnswer(
  reply: Reply,
  expect: Expect,
  where: () => string,
): void {
  assert.ok(reply.status < 500, `5xx for client input: ${where()}`);
  if (reply.status < 400) {
    assert.ok(
      expect.success === "may" || expect.success === "readOnly",
      `accepted a request that must be refused: ${where()}`,
    );
    return;
  }
  assert.match(
    reply.headers.get("content-type") ?? "",
    /^application\/json/,
    `error is not JSON: ${where()}`,
  );
  let body: { error?: Record<string, unknown> };
  try {
    body = JSON.parse(reply.text);
  } catch {
    throw new assert.AssertionError({
      message: `error body is not JSON: ${where()}`,
    });
  }
  const error = body.error;
  assert.ok(error && typeof error === "object", `no error object: ${where()}`);
  assert.deepEqual(
    Object.keys(error).sort(),
    ["code", "message", "param", "type"],
    `error shape: ${where()}`,
  );
  assert.equal(error.type, "wattfare_error", `error type: ${where()}`);
  const code = error.code as keyof typeof ERROR_STATUS;
  assert.equal(
    ERROR_STATUS[code],
    reply.status,
    `code ${code} does not belong to status ${reply.status}: ${where()}`,
  );
  assert.ok(
    typeof error.message === "string" && error.message.length > 0,
    `error message: ${where()}`,
  );
  assert.ok(
    error.param === null || typeof error.param === "string",
    `error param: ${where()}`,
  );
  if (expect.status !== undefined) {
    assert.equal(reply.status, expect.status, `status: ${where()}`);
  }
  if (expect.codes) {
    assert.ok(
      expect.codes.includes(code),
      `expected ${expect.codes.join(" or ")}: ${where()}`,
    );
  }
  if (expect.params !== undefined) {
    const param = error.param;
    assert.ok(
      typeof param === "string" &&
        expect.params.some((p) => param.startsWith(p)),
      `expected param ${expect.params.join(" or ")}: ${where()}`,
    );
  }
}

/**
 * Runs a property over `numRuns` generated requests. A failure is shrunk
 * against the same live service (each run compares with the state just
 * before it), so the counterexample printed is a minimal request.
 */
async function runProperty<T>(
  arbitrary: Arbitrary<T>,
  numRuns: number,
  check: (input: T) => Promise<void>,
): Promise<void> {
  await fc.assert(fc.asyncProperty(arbitrary, check), { numRuns });
}

// ---------------------------------------------------------------------------
// Oracles: what the documented contract says about an input
// ---------------------------------------------------------------------------

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);

const has = (o: Record<string, unknown>, key: string) =>
  Object.prototype.hasOwnProperty.call(o, key);

/** What the service reads: UTF-8 with replacement, a leading BOM dropped, then JSON. */
function parseAsService(bytes: Uint8Array): { ok: true; value: unknown } | {
  ok: false;
} {
  try {
    return { ok: true, value: JSON.parse(decoder.decode(bytes)) };
  } catch {
    return { ok: false };
  }
}

const isPositiveInt = (v: unknown) =>
  typeof v === "number" && Number.isInteger(v) && v >= 1;

const CHAT_FIELDS = [
  "model",
  "messages",
  "stream",
  "max_tokens",
  "max_completion_tokens",
  "n",
];

/**
 * A chat body is refused by Wattfare itself (400 invalid_request, nothing
 * held, nothing forwarded) unless the fields it reads have the right types.
 * Returns the fields at fault (`[""]` for the body itself; empty when the
 * body is well-typed and the proxy may forward it).
 */
function chatBodyFaults(value: unknown): string[] {
  if (!isObject(value)) return [""];
  const { model, messages, stream, max_tokens, max_completion_tokens, n } =
    value;
  const faults: string[] = [];
  if (typeof model !== "string" || model === "") faults.push("model");
  if (
    !Array.isArray(messages) || messages.length === 0 ||
    !messages.every((m) =>
      isObject(m) && typeof m.role === "string" && m.role !== ""
    )
  ) faults.push("messages");
  if (stream != null && typeof stream !== "boolean") faults.push("stream");
  if (max_tokens != null && !isPositiveInt(max_tokens)) {
    faults.push("max_tokens");
  }
  if (max_completion_tokens != null && !isPositiveInt(max_completion_tokens)) {
    faults.push("max_completion_tokens");
  }
  if (n != null && n !== 1) faults.push("n");
  return faults;
}

/** A user id is certainly invalid when it is not a non-empty string. */
const userIdFault = (v: unknown) => typeof v !== "string" || v === "";

/** A USD amount is certainly invalid when it is not a number, or negative. */
const usdFault = (v: unknown, nullable: boolean) =>
  v === null ? !nullable : typeof v !== "number" || v < 0;

/** Unknown keys in a strict object. */
const unknownKey = (o: Record<string, unknown>, known: string[]) =>
  Object.keys(o).find((k) => !known.includes(k));

type Auth = Expect | { ok: "secret" | "live" | "session" };

/** Mostly `valid` (so the checks after authentication see traffic), else any credential. */
function mostly(
  valid: Credential,
  fx: Fixture,
  weight = 3,
): Arbitrary<Credential> {
  return fc.oneof(
    { weight, arbitrary: fc.constant(valid) },
    { weight: 2, arbitrary: credential(fx.creds) },
  );
}

const secretCredential = (fx: Fixture): Credential => ({
  kind: "secret",
  header: `Bearer ${fx.secretKey}`,
});

const sessionCredential = (fx: Fixture): Credential => ({
  kind: "session",
  header: `Bearer ${fx.session}`,
  userId: fx.userId,
});

/** Routes that take only a secret key. */
function secretOnly(cred: Credential): Auth {
  switch (cred.kind) {
    case "secret":
      return { ok: "secret" };
    case "live-secret":
      return { ok: "live" };
    case "mode-swapped":
      return reject(403, "mode_mismatch");
    default:
      return reject(401, "invalid_api_key");
  }
}

/** Routes that take a secret key or a session token. */
function secretOrSession(cred: Credential): Auth {
  switch (cred.kind) {
    case "secret":
      return { ok: "secret" };
    case "live-secret":
      return { ok: "live" };
    case "session":
      return { ok: "session" };
    case "mode-swapped":
      return reject(403, "mode_mismatch");
    case "bad-session":
      return reject(401, "invalid_session");
    default:
      return reject(401, "invalid_api_key");
  }
}

/** Routes that take only a session token. */
function sessionOnly(cred: Credential): Auth {
  switch (cred.kind) {
    case "session":
      return { ok: "session" };
    case "malformed":
      return reject(401, "invalid_api_key");
    default:
      return reject(401, ["invalid_session", "invalid_api_key"]);
  }
}

const refused = (auth: Auth): auth is Expect => !("ok" in auth);

function authHeaders(cred: Credential): Record<string, string> {
  return cred.header === undefined ? {} : { authorization: cred.header };
}

function show(value: unknown, max = 300): string {
  const text = typeof value === "string"
    ? JSON.stringify(value)
    : value instanceof Uint8Array
    ? JSON.stringify(decoder.decode(value))
    : String(canonical(value));
  return text.length > max ? `${text.slice(0, max)}…(${text.length})` : text;
}

// ---------------------------------------------------------------------------
// Raw HTTP/1.1, for bytes `fetch` refuses to send
// ---------------------------------------------------------------------------

async function rawReply(port: number, request: Uint8Array): Promise<Reply> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  let received = new Uint8Array(0);
  const timer = setTimeout(() => {
    try {
      conn.close();
    } catch { /* closed already */ }
  }, 5_000);
  try {
    try {
      for (let written = 0; written < request.length;) {
        written += await conn.write(request.subarray(written));
      }
    } catch {
      // The server may refuse (and close) before reading everything.
    }
    const buffer = new Uint8Array(64 * 1024);
    while (true) {
      const parsed = parseRaw(received);
      if (parsed) return parsed;
      let n: number | null = null;
      try {
        n = await conn.read(buffer);
      } catch {
        n = null;
      }
      if (n === null) break;
      const next = new Uint8Array(received.length + n);
      next.set(received);
      next.set(buffer.subarray(0, n), received.length);
      received = next;
    }
    const parsed = parseRaw(received, true);
    if (parsed) return parsed;
    // Closed without an answer: the server dropped the connection.
    return {
      status: 0,
      headers: new Headers(),
      text: "(connection closed without a response)",
      fromApp: false,
    };
  } finally {
    clearTimeout(timer);
    try {
      conn.close();
    } catch { /* closed already */ }
  }
}

/** A complete response in `bytes`, or null if more is needed. */
function parseRaw(bytes: Uint8Array, eof = false): Reply | null {
  const text = new TextDecoder("latin1").decode(bytes);
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const [statusLine, ...lines] = text.slice(0, end).split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const rest = bytes.subarray(end + 4);
  let body: Uint8Array;
  const length = headers.get("content-length");
  if (length !== null) {
    if (rest.length < Number(length)) return null;
    body = rest.subarray(0, Number(length));
  } else if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) {
    const chunks: Uint8Array[] = [];
    let at = 0;
    while (true) {
      const lineEnd = findCrlf(rest, at);
      if (lineEnd < 0) return null;
      const size = parseInt(
        new TextDecoder("latin1").decode(rest.subarray(at, lineEnd)),
        16,
      );
      if (Number.isNaN(size)) return null;
      if (size === 0) break;
      if (rest.length < lineEnd + 2 + size + 2) return null;
      chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    body = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let offset = 0;
    for (const chunk of chunks) {
      body.set(chunk, offset);
      offset += chunk.length;
    }
  } else {
    if (!eof) return null;
    body = rest;
  }
  return {
    status,
    headers,
    text: decoder.decode(body),
    fromApp: headers.has("x-request-id"),
  };
}

function findCrlf(bytes: Uint8Array, from: number): number {
  for (let i = from; i + 1 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10) return i;
  }
  return -1;
}

function concat(...parts: (string | Uint8Array)[]): Uint8Array {
  const arrays = parts.map((p) => typeof p === "string" ? latin1(p) : p);
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return out;
}

/** A string of code units ≤ 0xFF as those bytes. */
function latin1(text: string): Uint8Array {
  return Uint8Array.from(text, (ch) => ch.charCodeAt(0) & 0xff);
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

const CHAT_LIMIT = 32 * 1024;
const SMALL_LIMIT = 4 * 1024;

const chatBody: Arbitrary<{ family: string; bytes: Uint8Array }> = fc.oneof(
  {
    weight: 3,
    arbitrary: anyJsonBody.map((bytes) => ({ family: "json", bytes })),
  },
  {
    weight: 4,
    arbitrary: wrongTypedChatBody.map((bytes) => ({
      family: "wrong-type",
      bytes,
    })),
  },
  {
    weight: 3,
    arbitrary: mixedChatBody.map((bytes) => ({ family: "mixed", bytes })),
  },
  {
    weight: 2,
    arbitrary: deeplyNestedChatBody.map((bytes) => ({ family: "deep", bytes })),
  },
  {
    weight: 2,
    arbitrary: nearLimitChatBody(CHAT_LIMIT).map((bytes) => ({
      family: "near-limit",
      bytes,
    })),
  },
  {
    weight: 2,
    arbitrary: invalidUtf8Body.map((bytes) => ({
      family: "invalid-utf8",
      bytes,
    })),
  },
  {
    weight: 3,
    arbitrary: notJsonBody.map((bytes) => ({ family: "not-json", bytes })),
  },
);

Deno.test("hostile input: POST /chat/completions bodies", async () => {
  const fx = await startFixture("chat bodies", CHAT_LIMIT);
  try {
    await runProperty(
      fc.record({
        body: chatBody,
        contentType: fc.option(
          fc.constantFrom(
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/json; charset=latin1",
            "",
          ),
          { nil: undefined },
        ),
      }),
      1200,
      async ({ body, contentType }) => {
        const headers: Record<string, string> = {
          authorization: `Bearer ${fx.secretKey}`,
          "x-wattfare-user": fx.userId,
        };
        if (contentType !== undefined) headers["content-type"] = contentType;
        let expect: Expect;
        const parsed = parseAsService(body.bytes);
        if (body.bytes.length > fx.limit) {
          expect = reject(413, "payload_too_large");
        } else if (!parsed.ok) {
          expect = reject(400, "invalid_request");
        } else {
          const faults = chatBodyFaults(parsed.value);
          const value = parsed.value as Record<string, unknown>;
          // The service names the first field at fault in its own order; a
          // lone fault (the others well-formed and short) is named exactly.
          const exact = faults.length === 1 && faults[0] !== "" &&
            (typeof value.model !== "string" || value.model.length <= 200);
          expect = faults.length === 0
            ? { success: "may", chargesUser: true, upstream: true }
            : faults[0] === ""
            ? reject(400, "invalid_request")
            : reject(400, "invalid_request", exact ? faults : CHAT_FIELDS);
        }
        await probe(
          fx,
          `POST /api/v1/chat/completions (${body.family}, ${body.bytes.length} bytes) ${
            show(body.bytes)
          }`,
          () =>
            fetchReply(fx, "/api/v1/chat/completions", {
              method: "POST",
              headers,
              body: new Uint8Array(body.bytes),
            }),
          expect,
        );
      },
    );
  } finally {
    await finish(fx);
  }
});

/** Header value bytes: clean ASCII, UTF-8, raw bytes with CR/LF/NUL, Latin-1, oversized. */
const headerValueBytes: Arbitrary<Uint8Array> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.string({ unit: "grapheme-ascii", maxLength: 80 }).map((s) =>
      encoder.encode(s)
    ),
  },
  { weight: 1, arbitrary: hostileString(80).map((s) => encoder.encode(s)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 80 }) },
  {
    weight: 1,
    arbitrary: fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) =>
      b.map((x) => x | 0x80)
    ),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1_000, max: 90_000 }).map((n) =>
      encoder.encode("u".repeat(n))
    ),
  },
);

/** A value that smuggles another header line (or request) after a separator. */
const injectedValue: Arbitrary<Uint8Array> = fc.tuple(
  fc.string({ unit: "grapheme-ascii", maxLength: 10 }),
  fc.constantFrom(
    "\r\n",
    "\n",
    "\r",
    "\0",
    "\r\n\r\n",
    "\r\n ",
    "\n\t",
    "\r\r\n",
  ),
  fc.constantFrom(
    "x-wattfare-grant: wfg_forged",
    "x-wattfare-user: mallory",
    "authorization: Bearer sk_test_forged",
    "content-length: 0",
    "content-length: 99999",
    "transfer-encoding: chunked",
    "host: evil.example",
    "set-cookie: a=b",
    "x-forwarded-for: 1.2.3.4",
    "GET /api/v1/status HTTP/1.1",
    "",
  ),
).map(([value, separator, line]) => latin1(value + separator + line));

const RESERVED_HEADERS = new Set([
  "host",
  "connection",
  "content-length",
  "transfer-encoding",
  "content-encoding",
  "content-type",
  "authorization",
  "x-wattfare-user",
  "x-wattfare-grant",
  "expect",
  "upgrade",
  "te",
  "trailer",
  "keep-alive",
  "origin",
]);

/** The value the app sees for clean bytes (printable ASCII and tabs, non-empty after trimming), else null. */
function cleanHeaderValue(bytes: Uint8Array | undefined): string | null {
  if (bytes === undefined) return null;
  if (!bytes.every((b) => b === 0x09 || (b >= 0x20 && b <= 0x7e))) return null;
  if (bytes.length > 8_000) return null;
  const value = String.fromCharCode(...bytes).replace(/^[ \t]+|[ \t]+$/g, "");
  return value === "" ? null : value;
}

Deno.test("hostile input: POST /chat/completions headers (raw HTTP)", async () => {
  const fx = await startFixture("chat headers", SMALL_LIMIT);
  const goodBody = JSON.stringify({
    model: PRICED_MODEL,
    messages: [{ role: "user", content: "hi" }],
  });
  try {
    await runProperty(
      fc.record({
        auth: mostly(secretCredential(fx), fx).filter((c) =>
          c.kind !== "live-secret"
        ),
        user: fc.option(
          fc.oneof(
            { weight: 4, arbitrary: headerValueBytes },
            { weight: 1, arbitrary: injectedValue },
          ),
          { nil: undefined },
        ),
        grant: fc.option(
          fc.oneof(
            { weight: 3, arbitrary: headerValueBytes },
            { weight: 1, arbitrary: injectedValue },
            { weight: 1, arbitrary: fc.constant(latin1(fx.grant)) },
            {
              weight: 2,
              arbitrary: fc.stringMatching(/^wfg_[0-9a-f]{64}$/).map(latin1),
            },
          ),
          { nil: undefined },
        ),
        extras: fc.oneof(
          {
            weight: 8,
            arbitrary: fc.array(
              fc.tuple(
                fc.oneof(
                  {
                    weight: 4,
                    arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/)
                      .map(latin1),
                  },
                  {
                    weight: 1,
                    arbitrary: fc.uint8Array({ minLength: 1, maxLength: 12 }),
                  },
                ),
                fc.oneof(
                  { weight: 4, arbitrary: headerValueBytes },
                  { weight: 1, arbitrary: injectedValue },
                ),
              ),
              { maxLength: 3 },
            ),
          },
          {
            // Too many headers.
            weight: 1,
            arbitrary: fc.integer({ min: 90, max: 160 }).map((n) =>
              Array.from(
                { length: n },
                (_, i) =>
                  [latin1(`x-h${i}`), latin1("v")] as [Uint8Array, Uint8Array],
              )
            ),
          },
        ),
      }).filter(({ user, extras }) =>
        // Never the connected user's own id (that request would be valid).
        cleanHeaderValue(user) !== fx.userId &&
        extras.every(([name]) =>
          !RESERVED_HEADERS.has(decoder.decode(name).toLowerCase())
        )
      ),
      800,
      async ({ auth, user, grant, extras }) => {
        const realGrant = grant !== undefined &&
          cleanHeaderValue(grant) === fx.grant;
        // Spending the real grant needs a valid body: send one that is not.
        const body = realGrant ? "{" : goodBody;
        const lines: (string | Uint8Array)[] = [
          "POST /api/v1/chat/completions HTTP/1.1\r\n",
          `host: 127.0.0.1:${fx.port}\r\n`,
          "connection: close\r\n",
          "content-type: application/json\r\n",
          `content-length: ${body.length}\r\n`,
        ];
        if (auth.header !== undefined) {
          lines.push("authorization: ", latin1(auth.header), "\r\n");
        }
        if (user !== undefined) lines.push("x-wattfare-user: ", user, "\r\n");
        if (grant !== undefined) {
          lines.push("x-wattfare-grant: ", grant, "\r\n");
        }
        for (const [name, value] of extras) {
          lines.push(name, ": ", value, "\r\n");
        }
        lines.push("\r\n", body);

        // The contract is predictable when every header is clean.
        const authClean = auth.header === undefined ||
          cleanHeaderValue(latin1(auth.header)) !== null ||
          auth.kind === "malformed";
        const clean = authClean &&
          (user === undefined || cleanHeaderValue(user) !== null) &&
          (grant === undefined || cleanHeaderValue(grant) !== null) &&
          extras.length <= 3 &&
          extras.every(([name, value]) =>
            /^[a-z][a-z0-9-]*$/.test(decoder.decode(name)) &&
            cleanHeaderValue(value) !== null
          );
        let expect: Expect = {};
        if (clean) {
          const checked = secretOnly(auth);
          const userId = cleanHeaderValue(user);
          if (refused(checked)) expect = checked;
          else if (user !== undefined && grant !== undefined) {
            expect = reject(400, "invalid_request");
          } else if (grant !== undefined) {
            expect = realGrant
              ? reject(400, "invalid_request")
              : reject(402, "grant_invalid");
          } else if (userId !== null) {
            // A well-formed id that is not connected; a tab or more than
            // 256 characters may also be refused as malformed.
            expect = userId.length <= 256 && !userId.includes("\t")
              ? reject(403, "not_connected")
              : { codes: ["invalid_request", "not_connected"] };
          } else expect = reject(400, "invalid_request", "x-wattfare-user");
        }
        const request = concat(...lines);
        await probe(
          fx,
          `raw request ${show(decoder.decode(request), 600)}`,
          () => rawReply(fx.port, request),
          expect,
        );
      },
    );
  } finally {
    await finish(fx);
  }
});

// --- Secret-key routes: sessions and test connections -----------------------

/** Bodies for the small JSON routes: hostile objects, any JSON, not JSON, over the limit. */
function routeBody(
  object: Arbitrary<Record<string, unknown>>,
): Arbitrary<Uint8Array> {
  return fc.oneof(
    {
      weight: 6,
      arbitrary: object.map((o) => encoder.encode(JSON.stringify(o))),
    },
    { weight: 1, arbitrary: anyJsonBody },
    { weight: 1, arbitrary: notJsonBody },
    {
      weight: 1,
      arbitrary: fc.integer({ min: SMALL_LIMIT - 16, max: SMALL_LIMIT * 3 })
        .map((n) => encoder.encode(JSON.stringify({ userId: "x".repeat(n) }))),
    },
  );
}

const isWellFormed = (s: string) =>
  (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Fits in a URL `fetch` will send: well-formed, a few KB encoded. */
const urlSafe = (s: string) =>
  isWellFormed(s) && encodeURIComponent(s).length < 6_000;

/** Origins a browser (or a forger) may send. */
function originCandidate(fx: Fixture): Arbitrary<string> {
  const own = new URL(fx.service.publicUrl).origin;
  return fc.oneof(
    fc.constantFrom(
      own,
      APP_ORIGIN,
      "null",
      "http://evil.example",
      `${own}/`,
      APP_ORIGIN.toUpperCase(),
      fx.service.url,
      "https://localhost:5173",
    ),
    latin1HeaderText(60).filter((s) => s.trim() !== ""),
  );
}

/** The answer to a request before its body is read: 413 over the limit, then the credential. */
function gate(
  bytes: Uint8Array | undefined,
  limit: number,
  auth: Auth,
): Expect | null {
  if (bytes !== undefined && bytes.length > limit) {
    return reject(413, "payload_too_large");
  }
  return refused(auth) ? auth : null;
}

/** A limits object that asks for no cap. */
const uncapped = (limits: unknown) =>
  isObject(limits) && limits.monthlyUsd === null;

/** Faults of a `{monthlyUsd}` limits object (null is fine). */
function limitsFault(value: unknown): boolean {
  if (value === null) return false;
  if (!isObject(value)) return true;
  return unknownKey(value, ["monthlyUsd"]) !== undefined ||
    !has(value, "monthlyUsd") || usdFault(value.monthlyUsd, true);
}

Deno.test("hostile input: POST /sessions", async () => {
  const fx = await startFixture("sessions", SMALL_LIMIT);
  const limits = fc.oneof(
    fc.constant(null),
    hostileObject({ monthlyUsd: usdCandidate }),
    anyJson,
  );
  try {
    await runProperty(
      fc.record({
        cred: mostly(secretCredential(fx), fx),
        body: routeBody(hostileObject({
          userId: userIdCandidate(fx.userId),
          limits,
          requestLimit: limits,
        })),
      }),
      400,
      async ({ cred, body }) => {
        const auth = secretOnly(cred);
        let expect = gate(body, fx.limit, auth);
        if (!expect) {
          const parsed = parseAsService(body);
          const value = parsed.ok ? parsed.value : undefined;
          const fault = !isObject(value) ||
            unknownKey(value, ["userId", "limits", "requestLimit"]) !==
              undefined ||
            userIdFault(value.userId) ||
            (has(value, "limits") && limitsFault(value.limits)) ||
            (has(value, "requestLimit") && limitsFault(value.requestLimit)) ||
            (has(value, "limits") && has(value, "requestLimit")) ||
            // Live apps must ask for a cap.
            (!refused(auth) && auth.ok === "live" &&
              uncapped(value.limits ?? value.requestLimit));
          // Minting a session stores nothing, so even success changes nothing.
          expect = fault
            ? reject(400, "invalid_request")
            : { success: "readOnly" };
        }
        await probe(
          fx,
          `POST /api/v1/sessions [${cred.kind}: ${show(cred.header, 120)}] ${
            show(body)
          }`,
          () =>
            fetchReply(fx, "/api/v1/sessions", {
              method: "POST",
              headers: {
                ...authHeaders(cred),
                "content-type": "application/json",
              },
              body: new Uint8Array(body),
            }),
          expect,
        );
      },
    );
  } finally {
    await finish(fx);
  }
});

Deno.test("hostile input: POST /test/connections", async () => {
  const fx = await startFixture("test connections", SMALL_LIMIT);
  try {
    await runProperty(
      fc.record({
        cred: mostly(secretCredential(fx), fx),
        body: routeBody(hostileObject({
          userId: userIdCandidate(fx.userId),
          monthlyUsd: usdCandidate,
        })),
      }),
      300,
      async ({ cred, body }) => {
        let auth = secretOnly(cred);
        if (!refused(auth) && auth.ok === "live") {
          auth = reject(403, "mode_mismatch");
        }
        let expect = gate(body, fx.limit, auth);
        if (!expect) {
          const parsed = parseAsService(body);
          const value = parsed.ok ? parsed.value : undefined;
          const fault = !isObject(value) ||
            unknownKey(value, ["userId", "monthlyUsd"]) !== undefined ||
            userIdFault(value.userId) || !has(value, "monthlyUsd") ||
            usdFault(value.monthlyUsd, true);
          // A valid one approves a sandbox connection for another user.
          expect = fault ? reject(400, "invalid_request") : { success: "may" };
        }
        await probe(
          fx,
          `POST /api/v1/test/connections [${cred.kind}: ${
            show(cred.header, 120)
          }] ${show(body)}`,
          () =>
            fetchReply(fx, "/api/v1/test/connections", {
              method: "POST",
              headers: {
                ...authHeaders(cred),
                "content-type": "application/json",
              },
              body: new Uint8Array(body),
            }),
          expect,
        );
      },
    );
  } finally {
    await finish(fx);
  }
});

// --- Secret key or session: status and disconnect ---------------------------

/** The session's origin check: a browser may use it from the app's origins or Wattfare's own pages. */
function sessionOrigin(fx: Fixture, origin: string | undefined): Expect | null {
  const own = new URL(fx.service.publicUrl).origin;
  return origin !== undefined && origin.trim() !== own &&
      origin.trim() !== APP_ORIGIN
    ? reject(403, "origin_not_allowed")
    : null;
}

Deno.test("hostile input: GET /status (queries, bearer tokens, origins)", async () => {
  const fx = await startFixture("status", SMALL_LIMIT);
  try {
    await runProperty(
      fc.record({
        cred: fc.oneof(
          fc.constant(secretCredential(fx)),
          fc.constant(sessionCredential(fx)),
          credential(fx.creds),
        ),
        query: fc.oneof(
          {
            weight: 4,
            arbitrary: userIdCandidate(fx.userId).filter(urlSafe).map((u) => ({
              userId: u as string | undefined,
              raw: `?userId=${encodeURIComponent(u)}`,
            })),
          },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              "",
              "?",
              "?userId",
              "?userid=x",
              "?userId=&userId=x",
            ).map((raw) => ({
              userId: raw === "?userId=&userId=x" ? "" : undefined,
              raw,
            })),
          },
          {
            weight: 2,
            arbitrary: fc.string({
              unit: fc.constantFrom(..."aZ09%=&+?/;,.~-_ é€\u0000\t".split("")),
              maxLength: 60,
            }).map((q) => ({
              userId: "?" as string | undefined,
              raw: `?${q}`,
            })),
          },
        ),
        origin: fc.option(originCandidate(fx), { nil: undefined }),
      }),
      600,
      async ({ cred, query, origin }) => {
        // Status only reads: whatever the answer, nothing may change
        // (a refusal is checked for that as well as a "readOnly" success).
        const auth = secretOrSession(cred);
        let expect: Expect;
        if (refused(auth)) expect = auth;
        else if (auth.ok === "session") {
          expect = sessionOrigin(fx, origin) ?? { success: "readOnly" };
        } else if (query.userId === "?") {
          expect = { success: "readOnly" }; // a raw query: 200 or 400
        } else if (query.userId === undefined || userIdFault(query.userId)) {
          expect = reject(400, "invalid_request", "userId");
        } else expect = { success: "readOnly" };
        const headers: Record<string, string> = authHeaders(cred);
        if (origin !== undefined) headers.origin = origin;
        await probe(
          fx,
          `GET /api/v1/status${query.raw} [${cred.kind}: ${
            show(cred.header, 120)
          }] origin ${show(origin)}`,
          () => fetchReply(fx, `/api/v1/status${query.raw}`, { headers }),
          expect,
        );
      },
    );
  } finally {
    await finish(fx);
  }
});

Deno.test("hostile input: DELETE /connections/{random path segment}", async () => {
  const fx = await startFixture("disconnect", SMALL_LIMIT);
  const tryDecode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  try {
    await runProperty(
      fc.record({
        cred: fc.oneof(
          fc.constant(secretCredential(fx)),
          fc.constant(sessionCredential(fx)),
          credential(fx.creds),
        ),
        segment: fc.oneof(
          {
            weight: 3,
            arbitrary: userIdCandidate(fx.userId).filter(urlSafe).map((
              u,
            ) => ({
              raw: encodeURIComponent(u),
              // "." and ".." are path steps, not segments: the URL drops them.
              userId: u === "." || u === ".." ? undefined : u as
                | string
                | undefined,
            })),
          },
          {
            weight: 1,
            arbitrary: fc.constantFrom(
              "%ZZ",
              "%00",
              "%",
              "a%2Fb",
              "%2e%2e",
              "..%2f",
              "%E2%82",
              "%C0%AF",
              "a%20b",
              "%0d%0a",
              "x".repeat(300),
              encodeURIComponent("😀".repeat(129)),
              encodeURIComponent("€".repeat(700)),
              `${encodeURIComponent(fx.userId)}%00`,
              `${encodeURIComponent(fx.userId)}/x`,
            ).map((raw) => ({ raw, userId: undefined as string | undefined })),
          },
          {
            weight: 1,
            arbitrary: fc.webSegment().map((raw) => ({
              raw,
              userId: undefined as string | undefined,
            })),
          },
        ).filter(({ raw, userId }) =>
          userId !== fx.userId && tryDecode(raw) !== fx.userId &&
          raw !== fx.userId
        ),
      }),
      300,
      async ({ cred, segment }) => {
        const auth = secretOrSession(cred);
        let expect: Expect;
        if (segment.raw === "") expect = reject(404, "not_found");
        else if (segment.userId === undefined) {
          // A raw segment: it may not even reach the route (404).
          expect = { success: "readOnly" };
        } else if (refused(auth)) expect = auth;
        else if (auth.ok === "session") {
          // Another user's id (or an invalid one): never this session's to end.
          expect = { codes: ["invalid_session", "invalid_request"] };
        } else expect = { success: "readOnly" };
        const reply = await probeReturning(
          fx,
          `DELETE /api/v1/connections/${segment.raw} [${cred.kind}: ${
            show(cred.header, 120)
          }]`,
          () =>
            fetchReply(fx, `/api/v1/connections/${segment.raw}`, {
              method: "DELETE",
              headers: authHeaders(cred),
            }),
          // Nobody else is connected: whatever the answer, nothing changes.
          expect,
        );
        if (reply.status === 200) {
          assert.equal(JSON.parse(reply.text).disconnected, false);
        }
      },
    );
  } finally {
    await finish(fx);
  }
});

// --- Session routes: grants and consent -------------------------------------

Deno.test("hostile input: POST /grants", async () => {
  const fx = await startFixture("grants", SMALL_LIMIT);
  const own = new URL(fx.service.publicUrl).origin;
  try {
    await runProperty(
      fc.record({
        cred: mostly(sessionCredential(fx), fx),
        origin: fc.option(originCandidate(fx), { nil: undefined }),
        body: routeBody(hostileObject({
          requests: fc.oneof(
            fc.integer({ min: 1, max: 1000 }),
            notPositiveInt,
            fc.integer({ min: 1001 }),
            anyJson,
          ),
          maxUsd: usdCandidate,
          origin: fc.oneof(
            fc.constantFrom(APP_ORIGIN, own, "x".repeat(3000)),
            hostileString(40),
            notString,
          ),
        })),
      }),
      300,
      async ({ cred, origin, body }) => {
        let expect = gate(body, fx.limit, sessionOnly(cred));
        if (!expect && origin !== undefined && origin.trim() !== own) {
          expect = reject(403, "origin_not_allowed");
        }
        if (!expect) {
          const parsed = parseAsService(body);
          const value = parsed.ok ? parsed.value : undefined;
          const fault = !isObject(value) ||
            unknownKey(value, ["requests", "maxUsd", "origin"]) !==
              undefined ||
            !isPositiveInt(value.requests) ||
            (has(value, "maxUsd") && usdFault(value.maxUsd, true)) ||
            (has(value, "origin") && typeof value.origin !== "string");
          expect = fault
            ? reject(400, "invalid_request")
            : has(value, "origin") && value.origin !== APP_ORIGIN
            ? { codes: ["origin_not_allowed", "invalid_request"] }
            : { success: "may" }; // a valid grant for the session's user
        }
        const headers: Record<string, string> = {
          ...authHeaders(cred),
          "content-type": "application/json",
        };
        if (origin !== undefined) headers.origin = origin;
        await probe(
          fx,
          `POST /api/v1/grants [${cred.kind}: ${
            show(cred.header, 120)
          }] origin ${show(origin)} ${show(body)}`,
          () =>
            fetchReply(fx, "/api/v1/grants", {
              method: "POST",
              headers,
              body: new Uint8Array(body),
            }),
          expect,
        );
      },
    );
  } finally {
    await finish(fx);
  }
});

Deno.test("hostile input: GET and POST /consent", async () => {
  const fx = await startFixture("consent", SMALL_LIMIT);
  const own = new URL(fx.service.publicUrl).origin;
  try {
    await runProperty(
      fc.record({
        cred: mostly(sessionCredential(fx), fx),
        method: fc.constantFrom("GET", "POST", "POST"),
        origin: fc.option(originCandidate(fx), { nil: undefined }),
        body: routeBody(hostileObject({
          monthlyUsd: usdCandidate,
          // Never a registered origin: approving would be a valid request.
          origin: fc.oneof(
            fc.constantFrom(own, "x".repeat(3000), `${APP_ORIGIN}/`),
            hostileString(40),
            notString,
          ).filter((o) => o !== APP_ORIGIN),
        })),
      }),
      400,
      async ({ cred, method, origin, body }) => {
        const get = method === "GET";
        let expect =
          gate(get ? undefined : body, fx.limit, sessionOnly(cred)) ??
            sessionOrigin(fx, origin);
        if (!expect && get) expect = { success: "readOnly" };
        if (!expect && origin !== undefined && origin.trim() !== own) {
          expect = reject(403, "origin_not_allowed");
        }
        if (!expect) {
          const parsed = parseAsService(body);
          const value = parsed.ok ? parsed.value : undefined;
          const fault = !isObject(value) ||
            unknownKey(value, ["monthlyUsd", "origin"]) !== undefined ||
            !has(value, "monthlyUsd") || usdFault(value.monthlyUsd, true) ||
            typeof value.origin !== "string";
          expect = fault
            ? reject(400, "invalid_request")
            : { codes: ["origin_not_allowed", "invalid_request"] };
        }
        const headers: Record<string, string> = authHeaders(cred);
        if (origin !== undefined) headers.origin = origin;
        if (!get) headers["content-type"] = "application/json";
        await probe(
          fx,
          `${method} /api/v1/consent [${cred.kind}: ${
            show(cred.header, 120)
          }] origin ${show(origin)} ${get ? "" : show(body)}`,
          () =>
            fetchReply(fx, "/api/v1/consent", {
              method,
              headers,
              body: get ? undefined : new Uint8Array(body),
            }),
          expect,
        );
      },
    );
  } finally {
    await finish(fx);
  }
});

// --- Wallet routes -----------------------------------------------------------

const WALLET_API = [
  "me",
  "passkeys/register/options",
  "passkeys/register/verify",
  "passkeys/login/options",
  "passkeys/login/verify",
  "logout",
  "funding/key",
] as const;

/** What a browser's WebAuthn call returns, with every part garbled. */
function passkeyResponse(): Arbitrary<unknown> {
  const b64 = fc.uint8Array({ maxLength: 64 }).map((b) =>
    btoa(String.fromCharCode(...b)).replace(/=+$/, "")
  );
  const clientData = fc.record({
    type: fc.constantFrom("webauthn.create", "webauthn.get", "x"),
    challenge: fc.oneof(b64, hostileString(40), fc.constant("A".repeat(5000))),
    origin: fc.oneof(fc.constant(APP_ORIGIN), hostileString(20)),
  }, { requiredKeys: [] }).map((c) =>
    btoa(String.fromCharCode(...encoder.encode(JSON.stringify(c))))
  );
  return fc.oneof(
    anyJson,
    fc.record({
      id: fc.oneof(
        hostileString(60),
        notString,
        b64,
        fc.constant("€".repeat(680)),
      ),
      rawId: fc.oneof(b64, anyJson),
      type: fc.constantFrom("public-key", "x", ""),
      response: fc.record({
        clientDataJSON: fc.oneof(clientData, b64, anyJson),
        attestationObject: fc.oneof(b64, anyJson),
        authenticatorData: fc.oneof(b64, anyJson),
        signature: fc.oneof(b64, anyJson),
        userHandle: fc.oneof(b64, anyJson),
      }, { requiredKeys: [] }),
      clientExtensionResults: anyJson,
    }, { requiredKeys: [] }),
  );
}

Deno.test("hostile input: /wallet/* with and without Origin", async () => {
  const fx = await startFixture("wallet", SMALL_LIMIT);
  const own = new URL(fx.service.publicUrl).origin;
  const api = fc.record({
    kind: fc.constant("api" as const),
    path: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...WALLET_API) },
      { weight: 1, arbitrary: fc.webSegment() },
    ),
    method: fc.constantFrom("POST", "POST", "POST", "GET", "PUT", "DELETE"),
    origin: fc.option(
      fc.oneof(
        { weight: 3, arbitrary: fc.constant(own) },
        { weight: 2, arbitrary: originCandidate(fx) },
      ),
      { nil: undefined },
    ),
    cookie: fc.option(
      fc.oneof(
        fc.stringMatching(/^[0-9a-f]{64}$/).map((t) => `wattfare_wallet=${t}`),
        latin1HeaderText(80),
      ),
      { nil: undefined },
    ),
    body: fc.oneof(
      {
        weight: 4,
        arbitrary: hostileObject({ response: passkeyResponse() }).map((o) =>
          encoder.encode(JSON.stringify(o))
        ),
      },
      {
        weight: 1,
        arbitrary: hostileObject({
          key: fc.oneof(
            hostileString(60),
            fc.constant(`sk-or-v1-${"0".repeat(64)}`),
            notString,
          ),
        }).map((o) => encoder.encode(JSON.stringify(o))),
      },
      { weight: 1, arbitrary: anyJsonBody },
      { weight: 1, arbitrary: notJsonBody },
      {
        weight: 1,
        arbitrary: fc.integer({ min: SMALL_LIMIT + 1, max: SMALL_LIMIT * 2 })
          .map((n) =>
            encoder.encode(JSON.stringify({ response: "x".repeat(n) }))
          ),
      },
    ),
  });
  const funding = fc.record({
    kind: fc.constant("funding" as const),
    callback: fc.boolean(),
    state: fc.option(
      fc.oneof(
        hostileString(60).filter(urlSafe),
        fc.constant("a".repeat(2100)),
      ),
      { nil: undefined },
    ),
    code: fc.option(hostileString(30).filter(urlSafe), { nil: undefined }),
    ret: fc.option(
      fc.oneof(
        fc.constantFrom(
          "//evil.example",
          "/\\evil",
          "https://evil.example",
          "/dashboard",
          "javascript:alert(1)",
          "/%0d%0aset-cookie:x=1",
        ),
        hostileString(40).filter(urlSafe),
      ),
      { nil: undefined },
    ),
    cookie: fc.option(
      fc.stringMatching(/^[0-9a-f]{64}$/).map((t) => `wattfare_wallet=${t}`),
      { nil: undefined },
    ),
  });
  try {
    await runProperty(
      fc.oneof({ weight: 4, arbitrary: api }, {
        weight: 1,
        arbitrary: funding,
      }),
      500,
      async (input) => {
        const headers: Record<string, string> = {};
        if (input.cookie !== undefined) headers.cookie = input.cookie;
        if (input.kind === "funding") {
          const query = new URLSearchParams();
          let path: string;
          let expect: Expect;
          if (input.callback) {
            path = "/wallet/funding/openrouter/callback";
            if (input.state !== undefined) query.set("state", input.state);
            if (input.code !== undefined) query.set("code", input.code);
            // No PKCE request was ever started: nothing to finish.
            expect = reject(400, "invalid_request");
          } else {
            path = "/wallet/funding/openrouter";
            if (input.ret !== undefined) query.set("return", input.ret);
            // The cookie names no wallet session.
            expect = reject(401, "invalid_session");
          }
          await probe(
            fx,
            `GET ${path}?${query} cookie ${show(input.cookie)}`,
            () => fetchReply(fx, `${path}?${query}`, { headers }),
            expect,
          );
          return;
        }
        const { path, method, origin, body } = input;
        const get = method === "GET";
        if (origin !== undefined) headers.origin = origin;
        if (!get) headers["content-type"] = "application/json";
        const known = (WALLET_API as readonly string[]).includes(path);
        let expect: Expect;
        if (!get && body.length > fx.limit) {
          expect = reject(413, "payload_too_large");
        } else if (!get && origin?.trim() !== own) {
          expect = known
            ? reject(403, "origin_not_allowed")
            : { codes: ["origin_not_allowed", "not_found"] };
        } else if (get) {
          expect = path === "me"
            ? { success: "readOnly" }
            : { codes: ["not_found"] };
        } else if (method !== "POST" || !known || path === "me") {
          expect = reject(404, "not_found");
        } else if (path.endsWith("/options")) {
          expect = { success: "may" }; // stores a one-time challenge
        } else if (path === "logout") {
          expect = { success: "readOnly" }; // no such session to end
        } else if (path === "funding/key") {
          expect = reject(401, "invalid_session"); // nobody is signed in
        } else {
          const parsed = parseAsService(body);
          const value = parsed.ok ? parsed.value : undefined;
          expect = isObject(value) && has(value, "response")
            ? reject(401, "invalid_session")
            : reject(400, "invalid_request");
        }
        await probe(
          fx,
          `${method} /wallet/api/${path} origin ${show(origin)} cookie ${
            show(input.cookie)
          } ${get ? "" : show(body)}`,
          () =>
            fetchReply(fx, `/wallet/api/${path}`, {
              method,
              headers,
              body: get ? undefined : new Uint8Array(body),
            }),
          expect,
        );
      },
    );
  } finally {
    await finish(fx);
  }
});

// --- Unknown routes and methods ------------------------------------------------

const KNOWN_ROUTE =
  /^\/api\/v1\/(?:chat\/completions|models|sessions|status|consent|grants|test\/connections|connections\/[^/]+)$/;

/** First path segments that belong to pages, assets or the sandbox (not the JSON API). */
const RESERVED_TOP = new Set([
  "",
  "api",
  "wallet",
  "sandbox",
  "healthz",
  "metrics",
  "connect",
  "static",
  "_islands",
  "dashboard",
  "developers",
  "docs",
  "favicon.ico",
]);

/** Known routes with methods they do not answer. */
const WRONG_METHODS: [string, string][] = [
  ["/api/v1/chat/completions", "GET"],
  ["/api/v1/chat/completions", "PUT"],
  ["/api/v1/chat/completions", "DELETE"],
  ["/api/v1/models", "POST"],
  ["/api/v1/sessions", "GET"],
  ["/api/v1/sessions", "DELETE"],
  ["/api/v1/status", "POST"],
  ["/api/v1/status", "PATCH"],
  ["/api/v1/grants", "GET"],
  ["/api/v1/consent", "DELETE"],
  ["/api/v1/test/connections", "GET"],
  ["/api/v1/connections/someone", "GET"],
  ["/api/v1/connections/someone", "POST"],
  ["/healthz", "POST"],
  ["/metrics", "DELETE"],
];

Deno.test("hostile input: unknown routes and methods", async () => {
  const fx = await startFixture("unknown routes", SMALL_LIMIT);
  const segment = fc.oneof(
    fc.webSegment().filter((s) => s !== "" && s !== "." && s !== ".."),
    hostileString(30).filter((s) => urlSafe(s) && s !== "")
      .map(encodeURIComponent),
  );
  const unknownPath = fc.tuple(
    fc.constantFrom(
      "/api/v1/",
      "/api/",
      "/api/v2/",
      "/wallet/",
      "/wallet/api/zz-",
      "/",
    ),
    fc.array(segment, { minLength: 1, maxLength: 4 }),
  ).map(([prefix, segments]) => prefix + segments.join("/"))
    .filter((path) => {
      if (KNOWN_ROUTE.test(path)) return false;
      const top = decodeURIComponent(path.split("/")[1]).toLowerCase();
      return path.startsWith("/api/") || path.startsWith("/wallet/") ||
        !RESERVED_TOP.has(top);
    });
  const method = fc.constantFrom(
    "GET",
    "POST",
    "PUT",
    "PATCH",
    "DELETE",
    "FOO",
    "PROPFIND",
    "M-SEARCH",
  );
  try {
    await runProperty(
      fc.oneof(
        {
          weight: 4,
          arbitrary: fc.record({
            path: unknownPath,
            method,
            cred: credential(fx.creds),
          }),
        },
        {
          weight: 1,
          arbitrary: fc.record({
            route: fc.constantFrom(...WRONG_METHODS),
            cred: fc.constant(secretCredential(fx)),
          }).map(({ route: [path, method], cred }) => ({ path, method, cred })),
        },
      ),
      400,
      async ({ path, method, cred }) => {
        const withBody = method !== "GET";
        const headers: Record<string, string> = authHeaders(cred);
        const expect: Expect = path.startsWith("/wallet/") && withBody
          ? { codes: ["origin_not_allowed", "not_found"] } // no Origin sent
          : reject(404, "not_found");
        await probe(
          fx,
          `${method} ${path} [${cred.kind}]`,
          () =>
            fetchReply(fx, path, {
              method,
              headers,
              body: withBody ? '{"model":"x"}' : undefined,
            }),
          expect,
        );
      },
    );
    // Request lines and paths only a raw client can send.
    await runProperty(
      fc.record({
        method: fc.oneof(
          fc.constantFrom("GET", "POST", "get", "G ET", "", "\x00GET"),
          fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 12 }),
        ),
        target: fc.oneof(
          fc.tuple(
            fc.constantFrom("/api/v1/zz", "/wallet/api/zz", "/zz-"),
            fc.uint8Array({ maxLength: 40 }),
          )
            .map(([prefix, bytes]) => concat(prefix, bytes)),
          fc.constantFrom(
            "*",
            "http://evil.example/api/v1/zz",
            "//api/v1/zz",
            "/api/v1/../../etc/passwd",
            "/api/v1/%",
            "/api/v1/zz?%",
            "/api/v1/zz#frag",
            "/api/v1/zz" + "a".repeat(70_000),
          ).map(latin1),
        ),
        version: fc.constantFrom(
          "HTTP/1.1",
          "HTTP/1.0",
          "HTTP/1.2",
          "HTTP/9.9",
          "HTTP/1.1 extra",
          "",
        ),
      }),
      200,
      async ({ method, target, version }) => {
        const request = concat(
          `${method} `,
          target,
          ` ${version}\r\nhost: 127.0.0.1:${fx.port}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
        );
        await probe(
          fx,
          `raw request ${show(decoder.decode(request), 300)}`,
          () => rawReply(fx.port, request),
          // Whatever reaches the app is an unknown route, or a page it may
          // serve read-only; nothing may change.
          { success: "readOnly" },
        );
      },
    );
  } finally {
    await finish(fx);
  }
});

// --- Dashboard APIs, without a signed-in wallet --------------------------------

const DASHBOARD_PATHS = [
  "/dashboard/api/connections",
  "/dashboard/api/connections/cap",
  "/dashboard/api/connections/pause",
  "/dashboard/api/connections/resume",
  "/dashboard/api/connections/revoke",
  "/developers/api/apps",
];

Deno.test("hostile input: dashboard APIs without a signed-in wallet", async () => {
  const fx = await startFixture("dashboard APIs", SMALL_LIMIT);
  const own = new URL(fx.service.publicUrl).origin;
  try {
    await runProperty(
      fc.record({
        path: fc.oneof(
          { weight: 3, arbitrary: fc.constantFrom(...DASHBOARD_PATHS) },
          {
            weight: 2,
            arbitrary: fc.tuple(
              fc.oneof(
                fc.constant(fx.appId),
                fc.stringMatching(/^[0-9a-z]{1,64}$/),
                fc.webSegment(),
                hostileString(30).filter((s) => urlSafe(s) && s !== "").map(
                  encodeURIComponent,
                ),
              ),
              fc.constantFrom("rotate", "origins", "", "zz"),
            ).map(([appId, action]) =>
              `/developers/api/apps/${appId}/${action}`
            ),
          },
          {
            weight: 1,
            arbitrary: fc.tuple(
              fc.constantFrom("/dashboard/api/", "/developers/api/"),
              fc.webSegment(),
            ).map(([prefix, segment]) => prefix + segment),
          },
        ),
        method: fc.constantFrom("GET", "POST", "POST", "POST", "DELETE", "PUT"),
        origin: fc.option(
          fc.oneof(
            { weight: 3, arbitrary: fc.constant(own) },
            { weight: 2, arbitrary: originCandidate(fx) },
          ),
          { nil: undefined },
        ),
        cookie: fc.option(
          fc.oneof(
            fc.stringMatching(/^[0-9a-f]{64}$/).map((t) =>
              `wattfare_wallet=${t}`
            ),
            latin1HeaderText(80),
          ),
          { nil: undefined },
        ),
        body: routeBody(hostileObject({
          appId: fc.oneof(fc.constant(fx.appId), hostileString(30), notString),
          userId: fc.oneof(fc.constant(fx.userId), userIdCandidate(fx.userId)),
          monthlyUsd: usdCandidate,
          name: hostileString(40),
          origins: fc.oneof(
            fc.array(fc.oneof(fc.constant(APP_ORIGIN), hostileString(30))),
            anyJson,
          ),
          mode: fc.constantFrom("test", "live", "prod", 1),
        })),
      }),
      300,
      async ({ path, method, origin, cookie, body }) => {
        const get = method === "GET";
        const headers: Record<string, string> = {};
        if (origin !== undefined) headers.origin = origin;
        if (cookie !== undefined) headers.cookie = cookie;
        if (!get) headers["content-type"] = "application/json";
        // Nobody is signed in: every route refuses, and nothing changes.
        const expect: Expect = !get && body.length > fx.limit
          ? reject(413, "payload_too_large")
          : !get && origin?.trim() !== own
          ? { codes: ["origin_not_allowed", "not_found"] }
          : { codes: ["invalid_session", "not_found"] };
        await probe(
          fx,
          `${method} ${path} origin ${show(origin)} cookie ${show(cookie)} ${
            get ? "" : show(body)
          }`,
          () =>
            fetchReply(fx, path, {
              method,
              headers,
              body: get ? undefined : new Uint8Array(body),
            }),
          expect,
        );
      },
    );
  } finally {
    await finish(fx);
  }
});

Deno.test("hostile input: figures for the README", () => {
  console.log(
    `hostile input, all properties: ${figures.requests} requests tried, ` +
      `${figures.fiveXX} 5xx, ${figures.serverLevel} refused by the HTTP server before the app, ` +
      `${figures.unaccountedNano} nano-dollars unaccounted`,
  );
  assert.equal(figures.fiveXX, 0);
  assert.equal(figures.unaccountedNano, 0n);
});
