import assert from "node:assert/strict";
import { mintSessionToken } from "../../sdk/session_token.ts";
import { grantKey, grantUsagePrefix } from "../kv/keys.ts";
import { sha256Hex } from "../crypto/digest.ts";
import type { UsageEntry } from "../ledger/hold.ts";
import {
  bearer,
  expectError,
  startTestService,
  type TestService,
} from "../testing/test_service.ts";
import type { Grant } from "./grant.ts";

const BODY = {
  model: "openai/gpt-4o-mini",
  messages: [{ role: "user", content: "Rewrite this paragraph." }],
  max_tokens: 40,
};

async function grantFor(
  service: TestService,
  secretKey: string,
  body: Record<string, unknown>,
) {
  const { token } = mintSessionToken(secretKey, "visitor");
  const response = await service.fetch("/api/v1/grants", {
    method: "POST",
    headers: bearer(token),
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return await response.json() as {
    grantToken: string;
    expiresAt: number;
    requests: number;
  };
}

function redeem(
  service: TestService,
  secretKey: string,
  grantToken: string,
  extra: Record<string, unknown> = {},
) {
  return service.fetch("/api/v1/chat/completions", {
    method: "POST",
    headers: { ...bearer(secretKey), "x-wattfare-grant": grantToken },
    body: JSON.stringify({ ...BODY, ...extra }),
  });
}

async function grantState(service: TestService, grantToken: string) {
  const id = await sha256Hex(grantToken);
  const grant = (await service.kv.get<Grant>(grantKey(id))).value!;
  const entries: UsageEntry[] = [];
  for await (
    const entry of service.kv.list<UsageEntry>({ prefix: grantUsagePrefix(id) })
  ) {
    entries.push(entry.value);
  }
  return {
    grant,
    entries,
    entriesSum: entries.reduce((sum, e) => sum + e.costNano, 0n),
    fundingKey: await service.box.open(grant.funding),
  };
}

Deno.test("a grant is created by session, stored hashed, and spent one request at a time", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const before = Math.floor(Date.now() / 1000);
  const result = await grantFor(service, app.secretKey, {
    requests: 3,
    maxUsd: 0.5,
  });
  assert.match(result.grantToken, /^wfg_[0-9a-f]{64}$/);
  assert.equal(result.requests, 3);
  assert.ok(
    result.expiresAt >= before + 600 && result.expiresAt <= before + 601,
  );

  // Only the hash names the grant; the token's text is not stored.
  const { grant } = await grantState(service, result.grantToken);
  assert.equal(grant.id, await sha256Hex(result.grantToken));
  assert.ok(
    !JSON.stringify(grant, (_, v) => typeof v === "bigint" ? String(v) : v)
      .includes(result.grantToken.slice(4)),
  );

  for (let i = 0; i < 3; i++) {
    const response = await redeem(service, app.secretKey, result.grantToken);
    assert.equal(response.status, 200);
    await response.body?.cancel();
  }
  await expectError(
    await redeem(service, app.secretKey, result.grantToken),
    402,
    "grant_invalid",
  );
  await service.settled();
  const state = await grantState(service, result.grantToken);
  assert.equal(state.grant.remaining, 0);
  assert.equal(state.grant.held, 0n);
  assert.equal(state.entries.length, 3);
  assert.equal(state.entriesSum, state.grant.spent);
  assert.equal(
    state.grant.spent,
    service.sandbox!.usageOf(state.fundingKey).costNano,
  );
});

Deno.test("50 concurrent redemptions of a 5-request grant: exactly 5 reach the upstream", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const { grantToken } = await grantFor(service, app.secretKey, {
    requests: 5,
  });
  const results = await Promise.all(
    Array.from({ length: 50 }, async (_, i) => {
      const response = await redeem(service, app.secretKey, grantToken, {
        stream: i % 2 === 0,
      });
      return { status: response.status, text: await response.text() };
    }),
  );
  await service.settled();
  const served = results.filter((r) => r.status === 200);
  const refused = results.filter((r) => r.status !== 200);
  assert.equal(served.length, 5);
  assert.equal(refused.length, 45);
  for (const r of refused) {
    assert.equal(r.status, 402);
    assert.equal(JSON.parse(r.text).error.code, "grant_invalid");
  }
  const state = await grantState(service, grantToken);
  const upstream = service.sandbox!.usageOf(state.fundingKey);
  assert.equal(upstream.requests, 5);
  assert.equal(state.entries.length, 5);
  assert.equal(state.entriesSum, state.grant.spent);
  assert.equal(state.grant.spent, upstream.costNano);
  assert.equal(state.grant.held, 0n);
});

Deno.test("a dollar cap smaller than the requests' cost holds to the nano-dollar", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  // Each request here generates its full 40 tokens: $0.0000255 with its
  // prompt, so five would cost $0.0001275, far past the $0.00005 cap.
  const { grantToken } = await grantFor(service, app.secretKey, {
    requests: 5,
    maxUsd: 0.00005,
  });
  const results = await Promise.all(
    Array.from({ length: 20 }, async () => {
      const response = await redeem(service, app.secretKey, grantToken, {
        sandbox: { completionTokens: 40 },
      });
      return { status: response.status, text: await response.text() };
    }),
  );
  await service.settled();
  const served = results.filter((r) => r.status === 200).length;
  assert.ok(served >= 1 && served < 5, `served ${served}`);
  for (const r of results.filter((r) => r.status !== 200)) {
    assert.equal(JSON.parse(r.text).error.code, "grant_invalid");
  }
  const state = await grantState(service, grantToken);
  assert.ok(
    state.grant.spent <= 50_000n,
    `spent ${state.grant.spent} > cap 50000`,
  );
  assert.equal(state.entriesSum, state.grant.spent);
  assert.equal(state.grant.held, 0n);
});

Deno.test("expired, foreign, tampered and doubly-addressed grants are refused", async () => {
  let now = Date.now();
  await using service = await startTestService({ clock: () => now });
  const app = await service.createApp();
  const other = await service.createApp();
  const { grantToken } = await grantFor(service, app.secretKey, {
    requests: 2,
  });

  await expectError(
    await redeem(service, other.secretKey, grantToken),
    402,
    "grant_invalid",
  );
  const last = grantToken.at(-1) === "0" ? "1" : "0";
  await expectError(
    await redeem(service, app.secretKey, grantToken.slice(0, -1) + last),
    402,
    "grant_invalid",
  );
  await expectError(
    await redeem(service, app.secretKey, ""),
    402,
    "grant_invalid",
  );
  await expectError(
    await service.fetch("/api/v1/chat/completions", {
      method: "POST",
      headers: {
        ...bearer(app.secretKey),
        "x-wattfare-grant": grantToken,
        "x-wattfare-user": "someone",
      },
      body: JSON.stringify(BODY),
    }),
    400,
    "invalid_request",
  );
  now += 10 * 60_000 + 1;
  await expectError(
    await redeem(service, app.secretKey, grantToken),
    402,
    "grant_invalid",
  );
  const state = await grantState(service, grantToken);
  assert.equal(state.grant.remaining, 2);
  assert.equal(state.entries.length, 0);
});

Deno.test("a failed upstream call gives the request back to the grant", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const { grantToken } = await grantFor(service, app.secretKey, {
    requests: 1,
  });
  await expectError(
    await redeem(service, app.secretKey, grantToken, {
      sandbox: { fault: "status_500" },
    }),
    502,
    "upstream_error",
  );
  const response = await redeem(service, app.secretKey, grantToken);
  assert.equal(response.status, 200);
  await response.body?.cancel();
  await expectError(
    await redeem(service, app.secretKey, grantToken),
    402,
    "grant_invalid",
  );
});

Deno.test("POST /grants validates its input and its caller", async () => {
  await using service = await startTestService();
  const app = await service.createApp("test", ["http://127.0.0.1:5173"]);
  const { token } = mintSessionToken(app.secretKey, "visitor");
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    service.fetch("/api/v1/grants", {
      method: "POST",
      headers: { ...bearer(token), ...headers },
      body: JSON.stringify(body),
    });
  await expectError(await post({ requests: 0 }), 400, "invalid_request");
  await expectError(await post({ requests: 1.5 }), 400, "invalid_request");
  await expectError(await post({ requests: "3" }), 400, "invalid_request");
  await expectError(
    await post({ requests: 3, maxUsd: -1 }),
    400,
    "invalid_request",
  );
  await expectError(
    await post({ requests: 3, origin: "https://evil.example" }),
    403,
    "origin_not_allowed",
  );
  await expectError(
    await post({ requests: 3 }, { origin: "https://evil.example" }),
    403,
    "origin_not_allowed",
  );
  await expectError(
    await service.fetch("/api/v1/grants", {
      method: "POST",
      headers: bearer(app.secretKey),
      body: JSON.stringify({ requests: 3 }),
    }),
    401,
    "invalid_session",
  );
  const ok = await post({ requests: 3, origin: "http://127.0.0.1:5173" });
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
});
