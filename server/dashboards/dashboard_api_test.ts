import assert from "node:assert/strict";
import {
  approveConnection,
  pauseForAnomaly,
} from "../connections/connections.ts";
import type { Connection } from "../connections/connection.ts";
import { getApp } from "../apps/apps.ts";
import { connectionKey } from "../kv/keys.ts";
import { nanoToUsd } from "../money.ts";
import { readLedgerView } from "../testing/ledger_probe.ts";
import {
  bearer,
  chatHeaders,
  expectError,
  startTestService,
  type TestService,
} from "../testing/test_service.ts";
import { createEndpoint } from "../webhooks/endpoints.ts";
import { startReceiver } from "../webhooks/test_helpers.ts";
import type { OwnerDashboard } from "./owner_dashboard.ts";
import { approveAsOwner, newSignedInWallet, ownPage } from "./test_wallet.ts";

const APP_ORIGIN = "http://127.0.0.1:5173";

/** A test app, and a signed-in owner who approved it for `u1` with a `cap`. */
async function ownerWithConnection(service: TestService, cap = 2) {
  const app = await service.createApp("test", [APP_ORIGIN]);
  const owner = await newSignedInWallet(service);
  await approveAsOwner(service, app, APP_ORIGIN, "u1", owner.cookie, cap);
  return { app, owner };
}

function chat(
  service: TestService,
  secretKey: string,
  options: { model?: string; prompt?: string } = {},
) {
  return service.fetch("/api/v1/chat/completions", {
    method: "POST",
    headers: chatHeaders(secretKey, "u1"),
    body: JSON.stringify({
      model: options.model ?? "openai/gpt-4o-mini",
      messages: [{ role: "user", content: options.prompt ?? "Say hello." }],
      max_tokens: 50,
    }),
  });
}

async function expectStatus(response: Response, status: number) {
  const text = await response.text();
  assert.equal(response.status, status, text);
  return text ? JSON.parse(text) : null;
}

function act(
  service: TestService,
  cookie: string,
  action: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  return service.fetch(`/dashboard/api/connections/${action}`, {
    method: "POST",
    headers: { ...ownPage(service, cookie), ...headers },
    body: JSON.stringify(body),
  });
}

async function dashboardOf(
  service: TestService,
  cookie: string,
): Promise<OwnerDashboard> {
  return await expectStatus(
    await service.fetch("/dashboard/api/connections", { headers: { cookie } }),
    200,
  );
}

async function statusOf(service: TestService, secretKey: string) {
  return await expectStatus(
    await service.fetch("/api/v1/status?userId=u1", {
      headers: bearer(secretKey),
    }),
    200,
  );
}

Deno.test("the dashboard lists what the wallet pays for: spend, days and the latest requests", async () => {
  await using service = await startTestService();
  const { app, owner } = await ownerWithConnection(service);
  // Connected without the owner's wallet: not theirs to see.
  await service.connect(app.secretKey, "someone-else", 1);
  for (let i = 0; i < 3; i++) {
    await expectStatus(await chat(service, app.secretKey), 200);
  }
  await service.settled();
  const ledger = await readLedgerView(service, app.appId, "u1");

  const dashboard = await dashboardOf(service, owner.cookie);
  assert.equal(dashboard.funding, null);
  assert.equal(dashboard.connections.length, 1);
  const [connection] = dashboard.connections;
  assert.equal(connection.appName, "test app");
  assert.equal(connection.userId, "u1");
  assert.equal(connection.mode, "test");
  assert.equal(connection.state, "active");
  assert.equal(connection.capUsd, 2);
  assert.equal(connection.spentUsd, nanoToUsd(ledger.spent));
  assert.equal(dashboard.spentUsd, nanoToUsd(ledger.spent));
  assert.equal(
    connection.remainingUsd,
    nanoToUsd(2_000_000_000n - ledger.spent),
  );
  // Every day of the month is there; today's holds all of it.
  assert.ok(connection.daily.length >= 28 && connection.daily.length <= 31);
  assert.equal(connection.daily[0].date, connection.periodStart);
  const today = new Date().toISOString().slice(0, 10);
  assert.deepEqual(
    connection.daily.filter((day) => day.usd > 0),
    [{ date: today, usd: nanoToUsd(ledger.spent) }],
  );
  // Newest first, as settled.
  assert.deepEqual(
    connection.recent.map((entry) => entry.requestId),
    ledger.entries.map((entry) => entry.requestId).reverse(),
  );
  for (const entry of connection.recent) {
    assert.equal(entry.model, "openai/gpt-4o-mini");
    assert.ok(entry.promptTokens > 0 && entry.completionTokens > 0);
    assert.ok(entry.costUsd > 0);
  }

  await expectError(
    await service.fetch("/dashboard/api/connections"),
    401,
    "invalid_session",
  );
});

Deno.test("a new cap governs the very next request: status follows and the proxy refuses what no longer fits", async () => {
  await using service = await startTestService();
  const { app, owner } = await ownerWithConnection(service, 5);
  // About 4,000 prompt tokens on a $3/M model: over a cent of worst case.
  const big = { model: "anthropic/claude-sonnet-4", prompt: "x".repeat(4000) };
  await expectStatus(await chat(service, app.secretKey, big), 200);

  const lowered = await expectStatus(
    await act(service, owner.cookie, "cap", {
      appId: app.appId,
      userId: "u1",
      monthlyUsd: 0.01,
    }),
    200,
  );
  assert.deepEqual(lowered, {
    appId: app.appId,
    userId: "u1",
    state: "active",
    capUsd: 0.01,
  });
  assert.equal(
    (await statusOf(service, app.secretKey)).limits.monthlyUsd,
    0.01,
  );
  await expectError(
    await chat(service, app.secretKey, big),
    402,
    "budget_exceeded",
  );

  await expectStatus(
    await act(service, owner.cookie, "cap", {
      appId: app.appId,
      userId: "u1",
      monthlyUsd: 5,
    }),
    200,
  );
  assert.equal((await statusOf(service, app.secretKey)).limits.monthlyUsd, 5);
  await expectStatus(await chat(service, app.secretKey, big), 200);
});

Deno.test("pause, by the owner or after a burst, answers not_connected until resumed; revoke answers revoked for good", async () => {
  await using service = await startTestService();
  const { app, owner } = await ownerWithConnection(service);
  const target = { appId: app.appId, userId: "u1" };

  await expectStatus(await act(service, owner.cookie, "pause", target), 200);
  const paused = await expectError(
    await chat(service, app.secretKey),
    403,
    "not_connected",
  );
  assert.match(paused.error.message, /paused/);
  assert.equal((await statusOf(service, app.secretKey)).connected, false);
  const [shown] = (await dashboardOf(service, owner.cookie)).connections;
  assert.equal(shown.state, "paused");
  assert.equal(shown.pausedBy, "owner");

  await expectStatus(await act(service, owner.cookie, "resume", target), 200);
  await expectStatus(await chat(service, app.secretKey), 200);
  assert.equal((await statusOf(service, app.secretKey)).connected, true);

  // Paused by the service after a burst: the owner sees why, and resumes it.
  assert.ok(await pauseForAnomaly(service.kv, app.appId, "u1"));
  const [burst] = (await dashboardOf(service, owner.cookie)).connections;
  assert.equal(burst.pausedBy, "anomaly");
  await expectError(await chat(service, app.secretKey), 403, "not_connected");
  await expectStatus(await act(service, owner.cookie, "resume", target), 200);
  const stored = await service.kv.get<Connection>(
    connectionKey(app.appId, "u1"),
  );
  assert.equal(stored.value?.state, "active");
  assert.equal(stored.value?.pausedBy, undefined);
  await expectStatus(await chat(service, app.secretKey), 200);

  await expectStatus(await act(service, owner.cookie, "revoke", target), 200);
  await expectError(await chat(service, app.secretKey), 403, "revoked");
  assert.equal((await statusOf(service, app.secretKey)).connected, false);
  // Ended: only the app's popup can ask again.
  await expectError(
    await act(service, owner.cookie, "resume", target),
    400,
    "invalid_request",
  );
  await expectError(
    await act(service, owner.cookie, "cap", { ...target, monthlyUsd: 9 }),
    400,
    "invalid_request",
  );
  await expectError(await chat(service, app.secretKey), 403, "revoked");
  assert.equal(
    (await dashboardOf(service, owner.cookie)).connections[0].state,
    "revoked",
  );
});

Deno.test("a cross-site post is refused and changes nothing", async () => {
  await using service = await startTestService();
  const { app, owner } = await ownerWithConnection(service);
  const before = await service.kv.get(connectionKey(app.appId, "u1"));
  const target = { appId: app.appId, userId: "u1" };
  for (
    const [action, body] of [
      ["cap", { ...target, monthlyUsd: 1000 }],
      ["pause", target],
      ["revoke", target],
    ] as const
  ) {
    await expectError(
      await act(service, owner.cookie, action, body, {
        origin: "https://evil.example",
      }),
      403,
      "origin_not_allowed",
    );
    // A form post with no Origin at all is no better.
    await expectError(
      await service.fetch(`/dashboard/api/connections/${action}`, {
        method: "POST",
        headers: {
          cookie: owner.cookie,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ appId: app.appId, userId: "u1" }),
      }),
      403,
      "origin_not_allowed",
    );
  }
  const after = await service.kv.get(connectionKey(app.appId, "u1"));
  assert.equal(after.versionstamp, before.versionstamp);
  await expectStatus(await chat(service, app.secretKey), 200);
});

Deno.test("another wallet can neither see nor touch your connection", async () => {
  await using service = await startTestService();
  const { app } = await ownerWithConnection(service);
  const stranger = await newSignedInWallet(service);
  const before = await service.kv.get(connectionKey(app.appId, "u1"));

  assert.deepEqual(
    (await dashboardOf(service, stranger.cookie)).connections,
    [],
  );
  const target = { appId: app.appId, userId: "u1" };
  for (
    const [action, body] of [
      ["cap", { ...target, monthlyUsd: 1000 }],
      ["pause", target],
      ["resume", target],
      ["revoke", target],
    ] as const
  ) {
    await expectError(
      await act(service, stranger.cookie, action, body),
      404,
      "not_found",
    );
  }
  const after = await service.kv.get(connectionKey(app.appId, "u1"));
  assert.equal(after.versionstamp, before.versionstamp);
  // Nor can anyone touch a connection no wallet pays for.
  await service.connect(app.secretKey, "walletless", 1);
  await expectError(
    await act(service, stranger.cookie, "revoke", {
      appId: app.appId,
      userId: "walletless",
    }),
    404,
    "not_found",
  );
});

Deno.test("malformed actions are typed 4xx errors, never a 500", async () => {
  await using service = await startTestService();
  const { app, owner } = await ownerWithConnection(service);
  const target = { appId: app.appId, userId: "u1" };
  const bad: [string, unknown, string | undefined][] = [
    ["cap", { ...target, monthlyUsd: "5" }, "monthlyUsd"],
    ["cap", { ...target, monthlyUsd: 0 }, "monthlyUsd"],
    ["cap", { ...target, monthlyUsd: 20_000 }, "monthlyUsd"],
    ["cap", target, "monthlyUsd"],
    ["pause", { ...target, extra: true }, undefined],
    ["pause", { appId: app.appId }, "userId"],
    ["revoke", [], undefined],
  ];
  for (const [action, body, param] of bad) {
    const error = await expectError(
      await service.fetch(`/dashboard/api/connections/${action}`, {
        method: "POST",
        headers: ownPage(service, owner.cookie),
        body: JSON.stringify(body),
      }),
      400,
      "invalid_request",
    );
    if (param) assert.equal(error.error.param, param);
  }
  await expectError(
    await service.fetch("/dashboard/api/connections/pause", {
      method: "POST",
      headers: ownPage(service, owner.cookie),
      body: "{not json",
    }),
    400,
    "invalid_request",
  );
  await expectError(
    await service.fetch("/dashboard/api/connections/pause", {
      method: "POST",
      headers: { origin: service.publicUrl },
      body: JSON.stringify(target),
    }),
    401,
    "invalid_session",
  );
  await expectError(
    await act(service, owner.cookie, "explode", target),
    404,
    "not_found",
  );

  // A live connection keeps a cap: "no cap" is for test mode only.
  const live = await service.createApp("live", [APP_ORIGIN]);
  await approveConnection(
    service.kv,
    (await getApp(service.kv, live.appId))!,
    "u1",
    3_000_000_000n,
    {
      funding: await service.box.seal("sk-or-v1-0123456789abcdef"),
      walletId: owner.walletId,
    },
  );
  const uncapped = await expectError(
    await act(service, owner.cookie, "cap", {
      appId: live.appId,
      userId: "u1",
      monthlyUsd: null,
    }),
    400,
    "invalid_request",
  );
  assert.equal(uncapped.error.param, "monthlyUsd");
  const stored = await service.kv.get<Connection>(
    connectionKey(live.appId, "u1"),
  );
  assert.equal(stored.value?.capNano, 3_000_000_000n);
  // …while a test connection may go uncapped.
  await expectStatus(
    await act(service, owner.cookie, "cap", { ...target, monthlyUsd: null }),
    200,
  );
});

Deno.test("a revoke from the dashboard tells the app's webhook endpoints, once", async () => {
  await using service = await startTestService();
  await using receiver = startReceiver();
  const { app, owner } = await ownerWithConnection(service);
  await createEndpoint(
    service.kv,
    app.appId,
    { url: receiver.url, events: ["connection.revoked"] },
    Date.now(),
  );
  const target = { appId: app.appId, userId: "u1" };
  await expectStatus(await act(service, owner.cookie, "pause", target), 200);
  await expectStatus(await act(service, owner.cookie, "revoke", target), 200);
  await expectStatus(await act(service, owner.cookie, "revoke", target), 200);

  const event = JSON.parse((await receiver.nth(1)).body);
  assert.equal(event.type, "connection.revoked");
  assert.deepEqual(event.data, { userId: "u1", by: "user" });
  await service.settled();
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(receiver.received.length, 1, "a second revoke is no news");
});
