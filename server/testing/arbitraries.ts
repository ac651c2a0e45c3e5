/**
 * fast-check generators of hostile client input: JSON of every shape and
 * depth, bodies near the size limit, broken UTF-8, header values with
 * control characters, and credentials that look almost right. Used by
 * `server/http/hostile_input_test.ts`; each generator says what it builds,
 * never what the service should answer (the test's oracles decide that).
 */
import fc, { type Arbitrary } from "npm:fast-check@4.10.2";
import { mintSessionToken } from "../../sdk/session_token.ts";

const encoder = new TextEncoder();

/** A model the sandbox prices (requests that pass every check are billed). */
export const PRICED_MODEL = "openai/gpt-4o-mini";

// ---------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------

/** Single characters that break naive parsers, loggers and key layouts. */
export const awkwardChar: Arbitrary<string> = fc.constantFrom(
  "\0",
  "\x01",
  "\x07",
  "\b",
  "\t",
  "\n",
  "\r",
  "\x1b",
  "\x7f",
  "\u0085",
  "\u00a0",
  "\u00ff",
  "\u2028",
  "\u202e",
  "\ufeff",
  "\uffff",
  "é",
  "€",
  "😀",
  "\\",
  '"',
  "'",
  "`",
  "%",
  "/",
  ".",
  ":",
  ";",
  ",",
  "=",
  "<",
  ">",
  "{",
  "}",
  "[",
  "]",
  "$",
  " ",
);

const specialStrings: Arbitrary<string> = fc.constantFrom(
  "",
  " ",
  "  \t ",
  "null",
  "undefined",
  "true",
  "0",
  "-1",
  "NaN",
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "hasOwnProperty",
  "%00",
  "%ZZ",
  "%E2%82",
  "../../etc/passwd",
  "..",
  ".",
  "<script>alert(1)</script>",
  "${jndi:ldap://x/a}",
  "'; DROP TABLE users; --",
  "\u202egnp.exe",
  "a".repeat(256),
  "a".repeat(257),
  "é".repeat(256),
  "😀".repeat(128),
  "😀".repeat(129),
  "€".repeat(1024),
);

/** A few characters repeated into a long string (hundreds to thousands of units). */
export function longString(
  minRepeat = 100,
  maxRepeat = 3000,
): Arbitrary<string> {
  return fc.tuple(
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 3 }),
    fc.integer({ min: minRepeat, max: maxRepeat }),
  ).map(([s, n]) => s.repeat(n));
}

/** Strings a hostile client sends: any code point, control characters, very long, famous payloads. */
export function hostileString(maxLength = 300): Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: "grapheme", maxLength }) },
    { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength }) },
    {
      weight: 3,
      arbitrary: fc.string({
        unit: fc.oneof(
          fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }),
          awkwardChar,
        ),
        maxLength,
      }),
    },
    { weight: 1, arbitrary: longString() },
    { weight: 2, arbitrary: specialStrings },
  );
}

/**
 * Candidate user ids: mostly-valid ones (1–256 characters, no control
 * characters), boundary lengths, and hostile strings. Never `exclude`.
 */
export function userIdCandidate(exclude: string): Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }),
    fc.string({ unit: "grapheme", minLength: 250, maxLength: 260 }),
    hostileString(),
  ).filter((s) => s !== exclude);
}

/** Header-safe text for `fetch`: printable ASCII and Latin-1 (no NUL, CR or LF), up to `maxLength`. */
export function latin1HeaderText(maxLength = 200): Arbitrary<string> {
  return fc.oneof(
    fc.string({ unit: "grapheme-ascii", maxLength }),
    fc.string({
      unit: fc.integer({ min: 0x09, max: 0xff })
        .filter((c) => c === 0x09 || (c >= 0x20 && c !== 0x7f))
        .map((c) => String.fromCharCode(c)),
      maxLength,
    }),
  );
}

// ---------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------

/** Any JSON value, shallow. */
export const anyJson: Arbitrary<unknown> = fc.jsonValue({ maxDepth: 3 });

/** JSON values that are not strings. */
export const notString: Arbitrary<unknown> = anyJson.filter((v) =>
  typeof v !== "string"
);

/** JSON values that are not arrays. */
export const notArray: Arbitrary<unknown> = anyJson.filter((v) =>
  !Array.isArray(v)
);

/** JSON values that are not plain objects. */
export const notObject: Arbitrary<unknown> = anyJson.filter((v) =>
  v === null || typeof v !== "object" || Array.isArray(v)
);

/** Numbers that are not positive integers (and non-numbers). */
export const notPositiveInt: Arbitrary<unknown> = fc.oneof(
  fc.integer({ max: 0 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) =>
    !Number.isInteger(d) || d < 1
  ),
  fc.constantFrom("10", "1", true, false, [], {}, [1], { n: 1 }),
  notArray.filter((v) => typeof v !== "number"),
);

/** A message the proxy accepts in shape. */
export const goodMessage: Arbitrary<Record<string, unknown>> = fc.record({
  role: fc.constantFrom("user", "system", "assistant"),
  content: fc.string({ maxLength: 40 }),
});

/** A message list that is wrong: not an array, empty, or with a bad entry. */
export const badMessages: Arbitrary<unknown> = fc.oneof(
  notArray,
  fc.constant([]),
  fc.tuple(
    fc.array(goodMessage, { maxLength: 2 }),
    fc.oneof(
      notObject,
      fc.constant({ content: "no role" }),
      fc.record({ role: notString, content: fc.string({ maxLength: 10 }) }),
      fc.constant({ role: "", content: "empty role" }),
    ),
    fc.array(goodMessage, { maxLength: 2 }),
  ).map(([before, bad, after]) => [...before, bad, ...after]),
);

/** A well-formed chat request body (the proxy would forward it). */
export const goodChatBody: Arbitrary<Record<string, unknown>> = fc.record({
  model: fc.constant(PRICED_MODEL),
  messages: fc.array(goodMessage, { minLength: 1, maxLength: 3 }),
  stream: fc.option(fc.boolean(), { nil: undefined }),
  max_tokens: fc.option(fc.integer({ min: 1, max: 64 }), { nil: undefined }),
}, { requiredKeys: ["model", "messages"] });

/** The fields of a chat body the proxy reads, each with values of the wrong type. */
export const wrongChatField: Arbitrary<[string, unknown]> = fc.oneof(
  fc.tuple(fc.constant("model"), fc.oneof(notString, fc.constant(""))),
  fc.tuple(fc.constant("messages"), badMessages),
  fc.tuple(
    fc.constant("stream"),
    anyJson.filter((v) => v !== null && typeof v !== "boolean"),
  ),
  fc.tuple(fc.constant("max_tokens"), notPositiveInt),
  fc.tuple(fc.constant("max_completion_tokens"), notPositiveInt),
  fc.tuple(
    fc.constant("n"),
    fc.oneof(
      fc.integer().filter((n) => n !== 1),
      fc.constantFrom(1.5, "1", true, [1], { n: 1 }),
    ),
  ),
);

/** A well-formed body with exactly one field replaced by a wrongly typed value. */
export const wrongTypedChatBody: Arbitrary<Uint8Array> = fc.tuple(
  goodChatBody,
  wrongChatField,
).map(([body, [field, value]]) =>
  encoder.encode(JSON.stringify({ ...body, [field]: value }))
);

/** Chat-shaped objects whose every field may be missing, right or wrong. */
export const mixedChatBody: Arbitrary<Uint8Array> = fc.record({
  model: fc.oneof(
    fc.constant(PRICED_MODEL),
    hostileString(60),
    notString,
  ),
  messages: fc.oneof(
    fc.array(goodMessage, { minLength: 1, maxLength: 2 }),
    badMessages,
  ),
  stream: fc.oneof(fc.boolean(), anyJson),
  max_tokens: fc.oneof(fc.integer({ min: 1, max: 64 }), notPositiveInt),
  n: fc.oneof(fc.constant(1), anyJson),
  extra: fc.dictionary(hostileString(20), anyJson, { maxKeys: 3 }),
}, { requiredKeys: [] }).map(({ extra, ...fields }) =>
  // The sandbox reads a `sandbox` field as a fault switch; not client input.
  encoder.encode(
    JSON.stringify({ ...omit(extra ?? {}, "sandbox"), ...fields }),
  )
);

/** `depth` levels of arrays, objects or both around a scalar, as JSON text. */
export function nestedJson(depth: number, kind: "array" | "object" | "mixed") {
  let open = "";
  let close = "";
  for (let i = 0; i < depth; i++) {
    const array = kind === "array" || (kind === "mixed" && i % 2 === 0);
    open += array ? "[" : '{"a":';
    close = (array ? "]" : "}") + close;
  }
  return `${open}1${close}`;
}

/** Where a deeply nested value goes in a chat body. */
export type NestingPlace =
  | "body"
  | "model"
  | "messages"
  | "role"
  | "stream"
  | "max_tokens"
  | "extra"
  | "content"
  | "message_field"
  | "tools";

/** Deeply nested JSON (hundreds to 10,000 levels) in every part of a chat body. */
export const deeplyNestedChatBody: Arbitrary<Uint8Array> = fc.record({
  depth: fc.integer({ min: 200, max: 10_000 }),
  kind: fc.constantFrom("array" as const, "object" as const, "mixed" as const),
  place: fc.constantFrom<NestingPlace>(
    "body",
    "model",
    "messages",
    "role",
    "stream",
    "max_tokens",
    "extra",
    "content",
    "message_field",
    "tools",
  ),
}).map(({ depth, kind, place }) => {
  const deep = nestedJson(depth, kind);
  const message = '{"role":"user","content":"hi"}';
  const m = JSON.stringify(PRICED_MODEL);
  const text = place === "body"
    ? deep
    : place === "model"
    ? `{"model":${deep},"messages":[${message}]}`
    : place === "messages"
    ? `{"model":${m},"messages":${deep}}`
    : place === "role"
    ? `{"model":${m},"messages":[{"role":${deep}}]}`
    : place === "stream" || place === "max_tokens"
    ? `{"model":${m},"messages":[${message}],"${place}":${deep}}`
    : place === "extra"
    ? `{"model":${m},"messages":[${message}],"metadata":${deep}}`
    : place === "content"
    ? `{"model":${m},"messages":[{"role":"user","content":${deep}}]}`
    : place === "message_field"
    ? `{"model":${m},"messages":[{"role":"user","content":"hi","name":${deep}}]}`
    : `{"model":${m},"messages":[${message}],"tools":${deep}}`;
  return encoder.encode(text);
});

/**
 * Bodies whose size is within `spread` bytes of `limit` (or far over it),
 * padded with one-, two- and four-byte characters so bytes ≠ characters.
 * `valid` ones are well-formed chat requests; the rest have a wrongly typed model.
 */
export function nearLimitChatBody(limit: number): Arbitrary<Uint8Array> {
  return fc.record({
    target: fc.oneof(
      fc.integer({ min: limit - 48, max: limit + 48 }),
      fc.integer({ min: limit + 1, max: limit * 3 }),
    ),
    filler: fc.constantFrom("x", "é", "€", "😀"),
    valid: fc.boolean(),
  }).map(({ target, filler, valid }) => {
    const head = valid
      ? `{"model":${JSON.stringify(PRICED_MODEL)},"max_tokens":8,` +
        `"messages":[{"role":"user","content":"`
      : `{"model":42,"messages":[{"role":"user","content":"`;
    const tail = `"}]}`;
    const room = Math.max(0, target - encoder.encode(head + tail).length);
    const fillerBytes = encoder.encode(filler).length;
    const body = filler.repeat(Math.floor(room / fillerBytes)) +
      "x".repeat(room % fillerBytes);
    return encoder.encode(head + body + tail);
  });
}

/** Byte sequences that are not UTF-8: stray continuation bytes, overlongs, surrogates, 0xFF. */
export const invalidUtf8: Arbitrary<number[]> = fc.constantFrom(
  [0xff],
  [0xfe],
  [0x80],
  [0xbf],
  [0xc3],
  [0xc3, 0x28],
  [0xc0, 0xaf],
  [0xe0, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xef, 0xbb],
);

/** JSON text (good or bad) with invalid UTF-8 spliced in at random places. */
export const invalidUtf8Body: Arbitrary<Uint8Array> = fc.tuple(
  fc.oneof(
    goodChatBody.map((b) => encoder.encode(JSON.stringify(b))),
    wrongTypedChatBody,
  ),
  fc.array(fc.tuple(fc.nat(), invalidUtf8), { minLength: 1, maxLength: 4 }),
).map(([bytes, splices]) => {
  const out = [...bytes];
  for (const [at, seq] of splices) out.splice(at % (out.length + 1), 0, ...seq);
  return new Uint8Array(out);
});

/** Text that is not JSON (or not only JSON): truncated, JSON5-ish, binary, trailing garbage. */
export const notJsonBody: Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.constantFrom(
    "",
    " ",
    "\n",
    "{",
    "}",
    "[",
    "nul",
    "NaN",
    "Infinity",
    "-Infinity",
    "undefined",
    "{'model':'x'}",
    '{"model":"x",}',
    '{"a":1}{"b":2}',
    "// comment\n{}",
    '{"model":"x"/* c */}',
    "0x10",
    "1e",
    '"unterminated',
    "\u0000",
    "\ufeff\ufeff{}",
    '{"model":"\\x41"}',
    '{"model":"\\ud800"', // truncated with a lone surrogate escape
    "model=openai%2Fgpt-4o-mini&messages=hi",
  ).map((s) => encoder.encode(s)),
  fc.tuple(goodChatBody, fc.nat()).map(([body, cut]) => {
    const text = JSON.stringify(body);
    return encoder.encode(text.slice(0, cut % text.length));
  }),
  fc.tuple(goodChatBody, hostileString(20).filter((s) => s.trim() !== ""))
    .map(([body, junk]) => encoder.encode(JSON.stringify(body) + junk)),
);

/** Arbitrary JSON text at the top level (mostly not an object). */
export const anyJsonBody: Arbitrary<Uint8Array> = fc.json({ maxDepth: 4 }).map((
  s,
) => encoder.encode(s));

/** JSON objects with a hostile mixture of keys and values (strict schemas must refuse unknown keys). */
export function hostileObject(
  known: Record<string, Arbitrary<unknown>>,
): Arbitrary<Record<string, unknown>> {
  return fc.tuple(
    fc.record(known, { requiredKeys: [] }),
    fc.dictionary(
      fc.oneof(
        hostileString(20),
        fc.constantFrom(...Object.keys(known).map((k) => k.toUpperCase())),
      ),
      anyJson,
      { maxKeys: 2 },
    ),
    fc.boolean(),
  ).map(([fields, extra, withExtra]) =>
    withExtra ? { ...omit(extra, ...Object.keys(known)), ...fields } : fields
  );
}

/** USD amounts: valid caps, negative, huge, fractional nano-dollars, and non-numbers. */
export const usdCandidate: Arbitrary<unknown> = fc.oneof(
  fc.double({ min: 0, max: 1_000_000, noNaN: true }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1e-9, 1e-10, 5e-324, 999999.9999999, 1e6, 1e6 + 1e-6),
  fc.integer({ min: -1000, max: 2_000_000 }),
  fc.constant(null),
  anyJson,
);

// ---------------------------------------------------------------------------
// Credentials
// ---------------------------------------------------------------------------

/** What the service knows: real keys and tokens to imitate (never to leak). */
export interface Credentials {
  appId: string;
  secretKey: string;
  liveSecretKey: string;
  /** A valid session token of the connected user. */
  session: string;
  /** The connected user's id. */
  userId: string;
}

/** A bearer credential and what it is, so a test can predict its answer. */
export type Credential =
  | { kind: "secret"; header: string }
  | { kind: "live-secret"; header: string }
  | { kind: "session"; header: string; userId: string }
  | { kind: "mode-swapped"; header: string }
  | { kind: "bad-secret"; header: string }
  | { kind: "bad-session"; header: string }
  | { kind: "malformed"; header: string | undefined };

const hex64 = fc.stringMatching(/^[0-9a-f]{64}$/);
const appIdLike = fc.stringMatching(/^[0-9a-z]{16,32}$/);

function b64url(text: string | Uint8Array): string {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(
    /=+$/,
    "",
  );
}

/** Random JWT-looking tokens: random or plausible headers and claims, wrong signatures, `alg: none`. */
export function jwtLike(c: Credentials): Arbitrary<string> {
  const claims = fc.record({
    appId: fc.oneof(fc.constant(c.appId), appIdLike, notString),
    appUserId: fc.oneof(fc.constant(c.userId), hostileString(40), notString),
    limits: fc.oneof(
      fc.constant(null),
      fc.record({ monthlyUsd: usdCandidate }),
    ),
    mode: fc.constantFrom("test", "live", "prod", 1),
    aud: fc.constantFrom("wattfare:session", "wattfare:grant", "", ["x"]),
    iat: fc.oneof(fc.integer(), fc.constant(Math.floor(Date.now() / 1000))),
    exp: fc.oneof(
      fc.integer(),
      fc.constant(Math.floor(Date.now() / 1000) + 600),
    ),
  }, { requiredKeys: [] });
  const header = fc.oneof(
    fc.constant({ alg: "HS256", typ: "JWT" }),
    fc.constant({ alg: "none", typ: "JWT" }),
    fc.constantFrom({ alg: "RS256" }, { alg: "HS512" }, {
      alg: "HS256",
      crit: ["x"],
    }),
    anyJson,
  );
  return fc.tuple(
    header,
    fc.oneof(claims, anyJson),
    fc.oneof(
      fc.constant(""),
      fc.uint8Array({ minLength: 1, maxLength: 48 }).map(b64url),
      fc.string({ unit: "grapheme-ascii", maxLength: 20 }).filter((s) =>
        !/\s/.test(s)
      ),
    ),
  ).map(([h, p, sig]) =>
    `${b64url(JSON.stringify(h) ?? "")}.${
      b64url(JSON.stringify(p) ?? "")
    }.${sig}`
  );
}

/**
 * Tokens signed the real way that must still be refused: expired, tampered
 * claims, a flipped signature, another app's claims, `alg: none` copies.
 */
export function forgedSession(c: Credentials): Arbitrary<string> {
  const now = Date.now();
  const fresh = mintSessionToken(c.secretKey, c.userId, {
    limits: { monthlyUsd: 5 },
    now,
  }).token;
  const [h, p, s] = fresh.split(".");
  const claims = JSON.parse(new TextDecoder().decode(fromB64url(p)));
  return fc.oneof(
    // Expired: minted more than ten minutes (plus slack) ago.
    fc.integer({ min: 11 * 60_000, max: 400 * 86_400_000 }).map((ago) =>
      mintSessionToken(c.secretKey, c.userId, { now: now - ago }).token
    ),
    // Signed with another app's key (a random secret of the right shape).
    fc.tuple(appIdLike, hex64).map(([appId, secret]) =>
      mintSessionToken(`sk_test_${appId}_${secret}`, c.userId, { now }).token
    ),
    // Signed by the live app, claiming to be the test app.
    fc.constant(
      (() => {
        const live = mintSessionToken(c.liveSecretKey, c.userId, { now })
          .token.split(".");
        const forged = {
          ...JSON.parse(new TextDecoder().decode(fromB64url(live[1]))),
          appId: c.appId,
          mode: "test",
        };
        return `${live[0]}.${b64url(JSON.stringify(forged))}.${live[2]}`;
      })(),
    ),
    // Claims changed under the real signature.
    fc.record({
      appUserId: hostileString(30),
      limits: fc.oneof(
        fc.constant(null),
        fc.record({ monthlyUsd: usdCandidate }),
      ),
      exp: fc.integer({ min: claims.exp + 1 }),
    }, { requiredKeys: [] }).filter((changes) =>
      Object.keys(changes).length > 0
    )
      .map((changes) =>
        `${h}.${b64url(JSON.stringify({ ...claims, ...changes }))}.${s}`
      ),
    // The first signature character changed (the last one may only carry padding bits).
    fc.constantFrom(
      ..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
    )
      .filter((ch) => ch !== s[0])
      .map((ch) => `${h}.${p}.${ch}${s.slice(1)}`),
    // alg: none with the real claims.
    fc.constantFrom("", s).map((sig) =>
      `${b64url('{"alg":"none","typ":"JWT"}')}.${p}.${sig}`
    ),
    // Truncated, doubled, or with the signature dropped.
    fc.constantFrom(
      `${h}.${p}`,
      `${h}.${p}.`,
      `${fresh}.${s}`,
      fresh.slice(0, -5),
      `${h}..${s}`,
    ),
  );
}

function fromB64url(text: string): Uint8Array {
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
}

/** Every kind of `Authorization` header, labelled with what it is. */
export function credential(c: Credentials): Arbitrary<Credential> {
  // A bearer token over 4,096 characters is malformed, whatever it holds.
  return anyCredential(c).map((cred): Credential => {
    const token = /^bearer +(\S+)$/i.exec(cred.header?.trim() ?? "")?.[1];
    return token !== undefined && token.length > 4_096
      ? { kind: "malformed", header: cred.header }
      : cred;
  });
}

function anyCredential(c: Credentials): Arbitrary<Credential> {
  const [, , appId, secret] = /^sk_(test)_([0-9a-z]+)_([0-9a-f]{64})$/.exec(
    c.secretKey,
  )!;
  const wrap = (token: string) => `Bearer ${token}`;
  const secretLike = fc.oneof(
    hex64.map((s) => `sk_test_${appId}_${s}`),
    fc.tuple(appIdLike, hex64).map(([a, s]) => `sk_test_${a}_${s}`),
    fc.constantFrom(
      `sk_test_${appId}_${secret.toUpperCase()}`,
      `sk_test_${appId}_${secret.slice(1)}`,
      `sk_test_${appId}_${secret}0`,
      `sk_test_${appId.toUpperCase()}_${secret}`,
      `sk_TEST_${appId}_${secret}`,
      `sk_test_${appId}__${secret}`,
      `sk_test_${appId}`,
      `sk_${appId}_${secret}`,
      "sk_test_",
      "sk_",
    ),
    fc.string({ unit: "grapheme-ascii", maxLength: 80 })
      .map((s) => `sk_${s.replace(/\s/g, "")}`),
  );
  return fc.oneof(
    {
      weight: 2,
      arbitrary: fc.constant<Credential>({
        kind: "secret",
        header: wrap(c.secretKey),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        `bearer ${c.secretKey}`,
        `BEARER   ${c.secretKey}`,
        ` Bearer ${c.secretKey} `,
      ).map((header): Credential => ({ kind: "secret", header })),
    },
    {
      weight: 1,
      arbitrary: fc.constant<Credential>({
        kind: "live-secret",
        header: wrap(c.liveSecretKey),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.constant<Credential>({
        kind: "session",
        header: wrap(c.session),
        userId: c.userId,
      }),
    },
    {
      weight: 1,
      arbitrary: fc.constant<Credential>({
        kind: "mode-swapped",
        header: wrap(`sk_live_${appId}_${secret}`),
      }),
    },
    {
      weight: 3,
      arbitrary: secretLike.map((t): Credential => ({
        kind: "bad-secret",
        header: wrap(t),
      })),
    },
    {
      weight: 4,
      arbitrary: fc.oneof(jwtLike(c), forgedSession(c)).map((
        t,
      ): Credential => ({
        kind: "bad-session",
        header: wrap(t),
      })),
    },
    {
      weight: 3,
      arbitrary: fc.oneof(
        fc.constant(undefined),
        fc.constantFrom(
          "",
          "Bearer",
          "Bearer ",
          "Basic dXNlcjpwYXNz",
          c.secretKey,
          c.session,
          `Token ${c.secretKey}`,
          `Bearer\t${c.secretKey}`,
          `Bearer ${c.secretKey} extra`,
          `Bearer ${c.secretKey},Bearer ${c.secretKey}`.replace(",", ", "),
          `Bearer ${"a".repeat(4097)}`,
          `Bearer ${c.session} ${c.session}`,
        ),
        latin1HeaderText(100).filter((s) => !/^\s*bearer\s/i.test(s)),
      ).map((header): Credential => ({ kind: "malformed", header })),
    },
    {
      weight: 2,
      // Random tokens: sk_-prefixed ones are secret keys, others sessions.
      arbitrary: latin1HeaderText(120)
        .filter((t) => /^\S+$/.test(t) && t !== c.secretKey && t !== c.session)
        .map((t): Credential =>
          t.startsWith("sk_")
            ? { kind: "bad-secret", header: wrap(t) }
            : { kind: "bad-session", header: wrap(t) }
        ),
    },
  );
}

function omit<T extends Record<string, unknown>>(
  object: T,
  ...keys: string[]
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) {
    if (!keys.includes(key)) {
      Object.defineProperty(out, key, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }
  return out;
}
