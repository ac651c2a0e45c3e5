import assert from "node:assert/strict";
import { mintSessionToken } from "../../sdk/session_token.ts";
import { connectionKey } from "../kv/keys.ts";
import {
  bearer,
  expectError,
  startTestService,
} from "../testing/test_service.ts";
import type { Connection } from "./connection.ts";

const NOT_CONNECTED = {
  connected: false,
  limits: null,
  usage: { monthlyUsd: 0 },
  remainingUsd: 0,
};

Deno.test("status: unknown, connected, then disconnected", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const status = async () => {
    const response = await service.fetch("/api/v1/status?userId=alice", {
      headers: bearer(app.secretKey),
    });
    assert.equal(response.status, 200);
    return await response.json();
  };
  assert.deepEqual(await status(), NOT_CONNECTED);

  const created = await service.fetch("/api/v1/test/connections", {
    method: "POST",
    headers: bearer(app.secretKey),
    body: JSON.stringify({ userId: "alice", monthlyUsd: 12.34 }),
  });
  assert.equal(created.status, 201);
  assert.deepEqual(await created.json(), {
    userId: "alice",
    connected: true,
    limits: { monthlyUsd: 12.34 },
    usage: { monthlyUsd: 0 },
    remainingUsd: 12.34,
  });
  assert.deepEqual(await status(), {
    connected: true,
    limits: { monthlyUsd: 12.34 },
    usage: { monthlyUsd: 0 },
    remainingUsd: 12.34,
  });

  // The same status through the user's own session token.
  const { token } = mintSessionToken(app.secretKey, "alice");
  const viaSession = await service.fetch("/api/v1/status", {
    headers: bearer(token),
  });
  assert.equal((await viaSession.json()).connected, true);

  const removed = await service.fetch("/api/v1/connections/alice", {
    method: "DELETE",
    headers: bearer(app.secretKey),
  });
  assert.deepEqual(await removed.json(), {
    userId: "alice",
    disconnected: true,
  });
  assert.deepEqual(await status(), NOT_CONNECTED);
  const again = await service.fetch("/api/v1/connections/alice", {
    method: "DELETE",
    headers: bearer(app.secretKey),
  });
  assert.deepEqual(await again.json(), {
    userId: "alice",
    disconnected: false,
  });
});

Deno.test("an unlimited test connection reports null limits and remaining", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const created = await service.fetch("/api/v1/test/connections", {
    method: "POST",
    headers: bearer(app.secretKey),
    body: JSON.stringify({ userId: "dev", monthlyUsd: null }),
  });
  assert.deepEqual(await created.json(), {
    userId: "dev",
    connected: true,
    limits: { monthlyUsd: null },
    usage: { monthlyUsd: 0 },
    remainingUsd: null,
  });
});

Deno.test("user ids with slashes, spaces and unicode round-trip through the path", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const userId = "org/42 ünïcode@example.com";
  await service.fetch("/api/v1/test/connections", {
    method: "POST",
    headers: bearer(app.secretKey),
    body: JSON.stringify({ userId, monthlyUsd: 1 }),
  }).then((r) => r.body?.cancel());
  const removed = await service.fetch(
    `/api/v1/connections/${encodeURIComponent(userId)}`,
    { method: "DELETE", headers: bearer(app.secretKey) },
  );
  assert.deepEqual(await removed.json(), { userId, disconnected: true });
});

Deno.test("the funding key of a connection is stored encrypted", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  await service.fetch("/api/v1/test/connections", {
    method: "POST",
    headers: bearer(app.secretKey),
    body: JSON.stringify({ userId: "bob", monthlyUsd: 1 }),
  }).then((r) => r.body?.cancel());
  const stored =
    (await service.kv.get<Connection>(connectionKey(app.appId, "bob"))).value!;
  const key = await service.box.open(stored.funding);
  assert.match(key, /^sk-or-v1-[0-9a-f]{64}$/);
  const raw = new TextDecoder().decode(stored.funding.data);
  assert.ok(!raw.includes(key.slice(9)));
});

Deno.test("mode isolation: a live key cannot create test connections or use a test prefix", async () => {
  await using service = await startTestService();
  const live = await service.createApp("live");
  const test = await service.createApp("test");
  await expectError(
    await service.fetch("/api/v1/test/connections", {
      method: "POST",
      headers: bearer(live.secretKey),
      body: JSON.stringify({ userId: "u", monthlyUsd: 1 }),
    }),
    403,
    "mode_mismatch",
  );
  // The live secret under a test prefix is still the live app, in the wrong mode.
  const relabeled = live.secretKey.replace(/^sk_live_/, "sk_test_");
  await expectError(
    await service.fetch("/api/v1/status?userId=u", {
      headers: bearer(relabeled),
    }),
    403,
    "mode_mismatch",
  );
  const relabeledTest = test.secretKey.replace(/^sk_test_/, "sk_live_");
  await expectError(
    await service.fetch("/api/v1/status?userId=u", {
      headers: bearer(relabeledTest),
    }),
    403,
    "mode_mismatch",
  );
});

Deno.test("one app's key never reads or ends another app's users", async () => {
  await using service = await startTestService();
  const a = await service.createApp();
  const b = await service.createApp();
  await service.fetch("/api/v1/test/connections", {
    method: "POST",
    headers: bearer(a.secretKey),
    body: JSON.stringify({ userId: "shared-id", monthlyUsd: 5 }),
  }).then((r) => r.body?.cancel());

  const fromB = await service.fetch("/api/v1/status?userId=shared-id", {
    headers: bearer(b.secretKey),
  });
  assert.deepEqual(await fromB.json(), NOT_CONNECTED);
  const deleted = await service.fetch("/api/v1/connections/shared-id", {
    method: "DELETE",
    headers: bearer(b.secretKey),
  });
  assert.deepEqual(await deleted.json(), {
    userId: "shared-id",
    disconnected: false,
  });
  const fromA = await service.fetch("/api/v1/status?userId=shared-id", {
    headers: bearer(a.secretKey),
  });
  assert.equal((await fromA.json()).connected, true);
});

Deno.test("status with a secret key needs a userId", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const body = await expectError(
    await service.fetch("/api/v1/status", { headers: bearer(app.secretKey) }),
    400,
    "invalid_request",
  );
  assert.equal(body.error.param, "userId");
});

Deno.test("a session may disconnect its own user, and only that user", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  await service.connect(app.secretKey, "self", 1);
  await service.connect(app.secretKey, "neighbour", 1);
  const { token } = mintSessionToken(app.secretKey, "self");
  await expectError(
    await service.fetch("/api/v1/connections/neighbour", {
      method: "DELETE",
      headers: bearer(token),
    }),
    401,
    "invalid_session",
  );
  const own = await service.fetch("/api/v1/connections/self", {
    method: "DELETE",
    headers: bearer(token),
  });
  assert.deepEqual(await own.json(), { userId: "self", disconnected: true });
  const neighbour = await service.fetch("/api/v1/status?userId=neighbour", {
    headers: bearer(app.secretKey),
  });
  assert.equal((await neighbour.json()).connected, true);
});
