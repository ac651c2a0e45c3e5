import assert from "node:assert/strict";
import { Hono } from "hono";
import { CODE_TTL_MS } from "./auth_codes.ts";
import { base64url } from "./pkce.ts";
import { createSandbox, type SandboxOptions } from "./sandbox.ts";

const CALLBACK = "http://localhost:3000/openrouter/callback?state=xyz";
const HELLO = [{ role: "user", content: "Hello there" }]; // 0.00001305 a call

interface Harness {
  /** A URL of the sandbox's API, e.g. `api("/key")`. */
  api(path: string): string;
  /** The consent page's URL for these query parameters. */
  authUrl(params: Record<string, string>): string;
}

/**
 * A sandbox on a real port, its two apps mounted as Wattfare mounts them
 * (`/sandbox/api/v1`, `/sandbox`) or as `deno task sandbox` does (`/api/v1`, `/`).
 */
async function withOAuthSandbox(
  test: (harness: Harness) => Promise<void>,
  options: SandboxOptions & { prefix?: "" | "/sandbox" } = {},
): Promise<void> {
  const { prefix = "", ...sandboxOptions } = options;
  const sandbox = createSandbox(sandboxOptions);
  const root = new Hono();
  root.route(`${prefix}/api/v1`, sandbox.app);
  root.route(prefix || "/", sandbox.authApp);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    root.fetch,
  );
  const origin = `http://127.0.0.1:${server.addr.port}${prefix}`;
  try {
    await test({
      api: (path) => `${origin}/api/v1${path}`,
      authUrl: (params) => `${origin}/auth?${new URLSearchParams(params)}`,
    });
  } finally {
    await server.shutdown();
  }
}

/** A fresh verifier and its S256 challenge, as a client would make them. */
async function pkcePair(): Promise<{ verifier: string; challenge: string }> {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(verifier),
  );
  return { verifier, challenge: base64url(new Uint8Array(digest)) };
}

interface ConsentForm {
  action: string;
  method: string;
  /** Hidden fields and the limit input, by name. */
  fields: Map<string, string>;
  /** The submit buttons' `decision` values, in page order. */
  decisions: string[];
}

/** Reads the consent form out of the page as a browser would submit it. */
function parseForm(html: string, pageUrl: string): ConsentForm {
  const formTag = /<form\b[^>]*>/.exec(html)?.[0];
  assert.ok(formTag, "the page has no form");
  const form = attributes(formTag);
  const fields = new Map<string, string>();
  for (const [tag] of html.matchAll(/<input\b[^>]*>/g)) {
    const input = attributes(tag);
    fields.set(input.get("name")!, input.get("value") ?? "");
  }
  const decisions = [...html.matchAll(/<button\b[^>]*>/g)]
    .map(([tag]) => attributes(tag))
    .filter((button) => button.get("name") === "decision")
    .map((button) => button.get("value")!);
  return {
    action: new URL(form.get("action") ?? "", pageUrl).href,
    method: form.get("method") ?? "get",
    fields,
    decisions,
  };
}

function attributes(tag: string): Map<string, string> {
  return new Map(
    [...tag.matchAll(/([\w-]+)="([^"]*)"/g)].map(([, name, value]) => [
      name,
      value.replaceAll("&quot;", '"').replaceAll("&#39;", "'")
        .replaceAll("&lt;", "<").replaceAll("&gt;", ">")
        .replaceAll("&amp;", "&"),
    ]),
  );
}

/** Opens the consent page and checks it is the one a user should see. */
async function openConsent(
  harness: Harness,
  params: Record<string, string>,
): Promise<ConsentForm> {
  const url = harness.authUrl(params);
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
  const html = await page.text();
  assert.match(
    html,
    /<h1>Authorize localhost:3000 to use your OpenRouter credits<\/h1>/,
  );
  assert.ok(!html.includes("<script"), "the page needs no script");
  assert.ok(!/\b(?:src|href)=/.test(html), "the page loads nothing else");
  return parseForm(html, url);
}

/** Submits the form with a limit and a button, without following redirects. */
function submit(
  form: ConsentForm,
  decision: string,
  limit = "",
): Promise<Response> {
  const body = new URLSearchParams([...form.fields]);
  body.set("limit", limit);
  body.set("decision", decision);
  return fetch(form.action, { method: "POST", body, redirect: "manual" });
}

/** Approves and returns the code the callback receives. */
async function approve(
  harness: Harness,
  params: Record<string, string>,
  limit = "",
): Promise<string> {
  const response = await submit(
    await openConsent(harness, params),
    "authorize",
    limit,
  );
  assert.equal(response.status, 302);
  const location = new URL(response.headers.get("location")!);
  const code = location.searchParams.get("code");
  assert.ok(code);
  return code;
}

function exchange(
  harness: Harness,
  body: Record<string, unknown>,
): Promise<Response> {
  return fetch(harness.api("/auth/keys"), {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function assertRefused(
  response: Response,
  status: number,
  message: string,
): Promise<void> {
  assert.equal(response.status, status);
  assert.deepEqual(await response.json(), {
    error: { code: status, message, metadata: {} },
  });
}

for (const prefix of ["", "/sandbox"] as const) {
  Deno.test(`PKCE S256 end to end at ${prefix}/auth: the key works and carries the limit`, async () => {
    await withOAuthSandbox(async (harness) => {
      const { verifier, challenge } = await pkcePair();
      const form = await openConsent(harness, {
        callback_url: CALLBACK,
        code_challenge: challenge,
        code_challenge_method: "S256",
      });
      assert.equal(form.method, "post");
      assert.equal(form.action, harness.authUrl({}).replace(/\?$/, ""));
      assert.deepEqual(Object.fromEntries(form.fields), {
        callback_url: CALLBACK,
        code_challenge: challenge,
        code_challenge_method: "S256",
        limit: "",
      });
      assert.deepEqual(form.decisions, ["authorize", "cancel"]);

      const approved = await submit(form, "authorize", "0.00002");
      assert.equal(approved.status, 302);
      const back = new URL(approved.headers.get("location")!);
      assert.equal(
        back.origin + back.pathname,
        "http://localhost:3000/openrouter/callback",
      );
      assert.equal(back.searchParams.get("state"), "xyz");
      const code = back.searchParams.get("code")!;
      assert.match(code, /^[A-Za-z0-9_-]{43}$/);

      const exchanged = await exchange(harness, {
        code,
        code_verifier: verifier,
        code_challenge_method: "S256",
      });
      assert.equal(exchanged.status, 200);
      const { key, user_id, ...rest } = await exchanged.json();
      assert.match(key, /^sk-or-v1-[0-9a-f]{64}$/);
      assert.match(user_id, /^user_[A-Za-z0-9]{27}$/);
      assert.deepEqual(rest, {});

      const keyInfo = async () =>
        (await (await fetch(harness.api("/key"), {
          headers: { authorization: `Bearer ${key}` },
        })).json()).data;
      assert.deepEqual(await keyInfo(), {
        label: "localhost:3000 (OAuth)",
        usage: 0,
        limit: 0.00002,
        limit_remaining: 0.00002,
        is_free_tier: false,
        requests: 0,
      });
      const spend = () =>
        fetch(harness.api("/chat/completions"), {
          method: "POST",
          headers: { authorization: `Bearer ${key}` },
          body: JSON.stringify({
            model: "openai/gpt-4o-mini",
            messages: HELLO,
            sandbox: { completionTokens: 20 },
          }),
        });
      // 0.00001305 each: the second starts under the limit and ends past it.
      for (let i = 0; i < 2; i++) {
        const response = await spend();
        assert.equal(response.status, 200);
        assert.equal((await response.json()).usage.cost, 0.00001305);
      }
      const refused = await spend();
      assert.equal(refused.status, 402);
      assert.match((await refused.json()).error.message, /limit/i);
      assert.deepEqual(await keyInfo(), {
        label: "localhost:3000 (OAuth)",
        usage: 0.0000261,
        limit: 0.00002,
        limit_remaining: 0,
        is_free_tier: false,
        requests: 2,
      });
    }, { prefix });
  });
}

Deno.test("without a limit the key has none; every key comes from the same user", async () => {
  await withOAuthSandbox(async (harness) => {
    const users = [];
    for (let i = 0; i < 2; i++) {
      const { verifier, challenge } = await pkcePair();
      const code = await approve(harness, {
        callback_url: CALLBACK,
        code_challenge: challenge,
        code_challenge_method: "S256",
      });
      const response = await exchange(harness, {
        code,
        code_verifier: verifier,
        code_challenge_method: "S256",
      });
      const { key, user_id } = await response.json();
      users.push(user_id);
      const info = await fetch(harness.api("/key"), {
        headers: { authorization: `Bearer ${key}` },
      });
      const { data } = await info.json();
      assert.equal(data.limit, null);
      assert.equal(data.limit_remaining, null);
    }
    assert.equal(users[0], users[1]);
  });
});

Deno.test("a wrong verifier is refused with 403, and the code is used up", async () => {
  await withOAuthSandbox(async (harness) => {
    const { verifier, challenge } = await pkcePair();
    const code = await approve(harness, {
      callback_url: CALLBACK,
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    const other = await pkcePair();
    await assertRefused(
      await exchange(harness, {
        code,
        code_verifier: other.verifier,
        code_challenge_method: "S256",
      }),
      403,
      "Invalid code or code_verifier",
    );
    await assertRefused(
      await exchange(harness, {
        code,
        code_verifier: verifier,
        code_challenge_method: "S256",
      }),
      403,
      "Invalid code or code_verifier",
    );
  });
});

Deno.test("a missing verifier or an unknown code is refused with 403", async () => {
  await withOAuthSandbox(async (harness) => {
    const { challenge } = await pkcePair();
    const code = await approve(harness, {
      callback_url: CALLBACK,
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    await assertRefused(
      await exchange(harness, { code, code_challenge_method: "S256" }),
      403,
      "Invalid code or code_verifier",
    );
    await assertRefused(
      await exchange(harness, { code: "made-up", code_verifier: "x" }),
      403,
      "Invalid code or code_verifier",
    );
  });
});

Deno.test("a code works once: a second exchange is refused with 403", async () => {
  await withOAuthSandbox(async (harness) => {
    const { verifier, challenge } = await pkcePair();
    const code = await approve(harness, {
      callback_url: CALLBACK,
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    const body = {
      code,
      code_verifier: verifier,
      code_challenge_method: "S256",
    };
    assert.equal((await exchange(harness, body)).status, 200);
    await assertRefused(
      await exchange(harness, body),
      403,
      "Invalid code or code_verifier",
    );
  });
});

Deno.test("a code expires 10 minutes after approval", async () => {
  let now = Date.UTC(2025, 0, 1);
  await withOAuthSandbox(async (harness) => {
    const params = async () => {
      const pair = await pkcePair();
      return {
        pair,
        params: {
          callback_url: CALLBACK,
          code_challenge: pair.challenge,
          code_challenge_method: "S256",
        },
      };
    };
    const fresh = await params();
    const freshCode = await approve(harness, fresh.params);
    const stale = await params();
    const staleCode = await approve(harness, stale.params);

    now += CODE_TTL_MS - 1;
    const inTime = await exchange(harness, {
      code: freshCode,
      code_verifier: fresh.pair.verifier,
      code_challenge_method: "S256",
    });
    assert.equal(inTime.status, 200);
    await inTime.body!.cancel();

    now += 1;
    await assertRefused(
      await exchange(harness, {
        code: staleCode,
        code_verifier: stale.pair.verifier,
        code_challenge_method: "S256",
      }),
      403,
      "Invalid code or code_verifier",
    );
  }, { clock: () => now });
});

Deno.test("bad callback_url or challenge: a 400 page, no form, no redirect", async () => {
  await withOAuthSandbox(async (harness) => {
    const { challenge } = await pkcePair();
    const cases: [Record<string, string>, string][] = [
      [{}, "callback_url is required."],
      [{ callback_url: "/callback" }, "absolute http(s) URL"],
      [{ callback_url: "javascript:alert(1)" }, "absolute http(s) URL"],
      [{ callback_url: "ftp://localhost/cb" }, "absolute http(s) URL"],
      [
        { callback_url: CALLBACK, code_challenge_method: "S256" },
        "code_challenge_method S256 needs a code_challenge.",
      ],
      [
        {
          callback_url: CALLBACK,
          code_challenge: challenge,
          code_challenge_method: "s256",
        },
        "code_challenge_method must be &quot;S256&quot; or &quot;plain&quot;.",
      ],
      [
        {
          callback_url: CALLBACK,
          code_challenge: `${challenge}=`,
          code_challenge_method: "S256",
        },
        "unpadded base64url SHA-256",
      ],
      [
        { callback_url: CALLBACK, code_challenge: "too-short" },
        "A plain code_challenge is the code_verifier itself",
      ],
    ];
    for (const [params, message] of cases) {
      const response = await fetch(harness.authUrl(params), {
        redirect: "manual",
      });
      assert.equal(response.status, 400, JSON.stringify(params));
      assert.equal(
        response.headers.get("content-type"),
        "text/html; charset=utf-8",
      );
      const html = await response.text();
      assert.match(html, /<h1>Invalid authorization request<\/h1>/);
      assert.ok(html.includes(message), `${message} not in ${html}`);
      assert.ok(!html.includes("<form"));
    }

    // A forged form post is checked just as strictly.
    const forged = await fetch(harness.authUrl({}).replace(/\?$/, ""), {
      method: "POST",
      body: new URLSearchParams({
        callback_url: "javascript:alert(1)",
        decision: "authorize",
      }),
      redirect: "manual",
    });
    assert.equal(forged.status, 400);
    assert.match(await forged.text(), /absolute http\(s\) URL/);
  });
});

Deno.test("Cancel returns to the callback with error=access_denied and no code", async () => {
  await withOAuthSandbox(async (harness) => {
    const { challenge } = await pkcePair();
    const form = await openConsent(harness, {
      callback_url: CALLBACK,
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    const response = await submit(form, "cancel", "5");
    assert.equal(response.status, 302);
    assert.equal(
      response.headers.get("location"),
      "http://localhost:3000/openrouter/callback?state=xyz&error=access_denied",
    );
  });
});

Deno.test("plain PKCE: the challenge is the verifier; an absent method means plain", async () => {
  await withOAuthSandbox(async (harness) => {
    const verifier = base64url(crypto.getRandomValues(new Uint8Array(48)));
    for (const sentMethod of ["plain", undefined]) {
      const params: Record<string, string> = {
        callback_url: CALLBACK,
        code_challenge: verifier,
      };
      if (sentMethod) params.code_challenge_method = sentMethod;
      const form = await openConsent(harness, params);
      assert.equal(form.fields.get("code_challenge_method"), "plain");
      for (const exchangedMethod of ["plain", undefined]) {
        const response = await submit(form, "authorize");
        const code = new URL(response.headers.get("location")!)
          .searchParams.get("code");
        const exchanged = await exchange(harness, {
          code,
          code_verifier: verifier,
          ...exchangedMethod && { code_challenge_method: exchangedMethod },
        });
        assert.equal(exchanged.status, 200);
        assert.match((await exchanged.json()).key, /^sk-or-v1-/);
      }
    }
  });
});

Deno.test("a method other than the one sent to /auth is refused with 400", async () => {
  await withOAuthSandbox(async (harness) => {
    const { verifier, challenge } = await pkcePair();
    const code = await approve(harness, {
      callback_url: CALLBACK,
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    const attempt = (method: string) =>
      exchange(harness, {
        code,
        code_verifier: verifier,
        code_challenge_method: method,
      });
    // Not a method at all: refused before the code is even looked at.
    await assertRefused(
      await attempt("SHA256"),
      400,
      "Invalid code_challenge_method",
    );
    await assertRefused(
      await attempt("plain"),
      400,
      "Invalid code_challenge_method",
    );
    // That attempt used the code up.
    await assertRefused(
      await attempt("S256"),
      403,
      "Invalid code or code_verifier",
    );
  });
});

Deno.test("without a code_challenge, the code alone is exchanged", async () => {
  await withOAuthSandbox(async (harness) => {
    const form = await openConsent(harness, { callback_url: CALLBACK });
    assert.deepEqual(Object.fromEntries(form.fields), {
      callback_url: CALLBACK,
      limit: "",
    });
    const response = await submit(form, "authorize", "1.5");
    const code = new URL(response.headers.get("location")!).searchParams
      .get("code");
    const exchanged = await exchange(harness, { code });
    assert.equal(exchanged.status, 200);
    const { key } = await exchanged.json();
    const info = await fetch(harness.api("/key"), {
      headers: { authorization: `Bearer ${key}` },
    });
    assert.equal((await info.json()).data.limit, 1.5);
  });
});

Deno.test("an invalid limit shows the form again with the error and the typed value", async () => {
  await withOAuthSandbox(async (harness) => {
    const { challenge } = await pkcePair();
    const form = await openConsent(harness, {
      callback_url: CALLBACK,
      code_challenge: challenge,
      code_challenge_method: "S256",
    });
    for (
      const [limit, message] of [
        ["-5", "Enter an amount in USD"],
        ["5 dollars", "Enter an amount in USD"],
        ["1e3", "Enter an amount in USD"],
        ["2000000000", "at most 1,000,000,000 USD"],
      ]
    ) {
      const response = await submit(form, "authorize", limit);
      assert.equal(response.status, 400);
      const html = await response.text();
      assert.match(html, /role="alert">[^<]*/);
      assert.ok(html.includes(message), `${message} not in ${html}`);
      const again = parseForm(html, form.action);
      assert.equal(again.fields.get("limit"), limit);
      assert.equal(again.fields.get("code_challenge"), challenge);
    }
  });
});

Deno.test("the page escapes what it echoes; the callback's query survives", async () => {
  await withOAuthSandbox(async (harness) => {
    const callback = "http://localhost:3000/cb?a=1&b=%3Cx%3E";
    const form = await openConsent(harness, { callback_url: callback });
    assert.equal(form.fields.get("callback_url"), callback);
    const typed = '"><script>alert(1)</script>';
    const refused = await submit(form, "authorize", typed);
    assert.equal(refused.status, 400);
    const html = await refused.text();
    assert.ok(!html.includes("<script"), html);
    assert.equal(parseForm(html, form.action).fields.get("limit"), typed);

    const approved = await submit(form, "authorize");
    const back = new URL(approved.headers.get("location")!);
    assert.deepEqual([...back.searchParams.keys()], ["a", "b", "code"]);
    assert.equal(back.searchParams.get("b"), "<x>");
  });
});

Deno.test("/auth/keys answers 405 to other methods and 400 to bad bodies", async () => {
  await withOAuthSandbox(async (harness) => {
    const get = await fetch(harness.api("/auth/keys"));
    assert.equal(get.headers.get("allow"), "POST");
    await assertRefused(get, 405, "Method Not Allowed");
    for (const body of ["not json", "{}", '{"code": 5}', '{"code": ""}']) {
      const response = await fetch(harness.api("/auth/keys"), {
        method: "POST",
        body,
      });
      await assertRefused(
        response,
        400,
        "Expected {code, code_verifier?, code_challenge_method?}",
      );
    }
  });
});
