import assert from "node:assert/strict";
import { Hono } from "hono";
import { WattfareError } from "../errors.ts";
import type { Env } from "../http/env.ts";
import { errorResponse } from "../http/error_response.ts";
import {
  bearer,
  expectError,
  startTestService,
  type TestService,
} from "../testing/test_service.ts";
import { webhookEndpointKey } from "../kv/keys.ts";
import { MAX_ENDPOINTS_PER_APP } from "./endpoints.ts";
import type { WebhookEndpoint } from "./endpoint.ts";
import { webhookRoutes } from "./routes.ts";
import { startReceiver } from "./test_helpers.ts";
import { Webhooks } from "./webhooks.ts";
import {
  verifyWebhook,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
} from "../../sdk/webhooks.ts";

const ALL_EVENTS = [
  "connection.approved",
  "connection.revoked",
  "budget.low",
  "budget.exhausted",
  "grant.used_up",
];

/**
 * The webhook API of a test service. Once the service mounts
 * `webhookRoutes()` at `/api/v1/webhooks`, the tests run against it;
 * until then they run against the same routes mounted on a server that
 * shares the service's store, with the service's error mapping.
 */
async function webhooksApi(
  service: TestService,
): Promise<{ url: string } & AsyncDisposable> {
  const probe = await service.fetch("/api/v1/webhooks");
  await probe.body?.cancel();
  if (probe.status !== 404) {
    return {
      url: `${service.url}/api/v1/webhooks`,
      [Symbol.asyncDispose]: async () => {},
    };
  }
  const app = new Hono<Env>();
  app.use(async (c, next) => {
    c.set("kv", service.kv);
    c.set("clock", Date.now);
    await next();
  });
  app.route("/api/v1/webhooks", webhookRoutes());
  app.notFound(() =>
    errorResponse(new WattfareError("not_found", "No such route."))
  );
  app.onError((error) => errorResponse(error));
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    app.fetch,
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/api/v1/webhooks`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

function post(url: string, key: string, body: unknown): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: bearer(key),
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

Deno.test("register, list and delete webhook endpoints; the secret is shown once", async () => {
  await using service = await startTestService();
  await using api = await webhooksApi(service);
  const app = await service.createApp();

  const created = await post(api.url, app.secretKey, {
    url: "http://localhost:3000/webhooks/wattfare",
  });
  assert.equal(created.status, 201);
  const endpoint = await created.json();
  assert.deepEqual(Object.keys(endpoint).sort(), [
    "createdAt",
    "events",
    "id",
    "secret",
    "url",
  ]);
  assert.match(endpoint.id, /^wh_[0-9a-z]{20}$/);
  assert.match(endpoint.secret, /^whsec_[0-9a-f]{64}$/);
  assert.equal(endpoint.url, "http://localhost:3000/webhooks/wattfare");
  assert.deepEqual(endpoint.events, ALL_EVENTS);

  // A subset, given in any order and with repeats, is stored canonically.
  const second = await post(api.url, app.secretKey, {
    url: "https://hooks.example.com/wf?src=wattfare",
    events: ["budget.exhausted", "budget.low", "budget.low"],
  });
  assert.equal(second.status, 201);
  const budgetOnly = await second.json();
  assert.deepEqual(budgetOnly.events, ["budget.low", "budget.exhausted"]);
  assert.notEqual(budgetOnly.secret, endpoint.secret);

  const listed = await fetch(api.url, { headers: bearer(app.secretKey) });
  assert.equal(listed.status, 200);
  const text = await listed.text();
  assert.ok(!text.includes("whsec_"), "the listing carries no secret");
  const { data } = JSON.parse(text);
  assert.deepEqual(
    data.map((e: { id: string }) => e.id).sort(),
    [endpoint.id, budgetOnly.id].sort(),
  );
  assert.deepEqual(
    data.find((e: { id: string }) => e.id === endpoint.id),
    {
      id: endpoint.id,
      url: endpoint.url,
      events: ALL_EVENTS,
      createdAt: endpoint.createdAt,
    },
  );

  // The secret is stored (it signs every delivery) but never shown again.
  const stored = await service.kv.get<WebhookEndpoint>(
    webhookEndpointKey(app.appId, endpoint.id),
  );
  assert.equal(stored.value?.secret, endpoint.secret);

  const deliveries = await fetch(`${api.url}/${endpoint.id}/deliveries`, {
    headers: bearer(app.secretKey),
  });
  assert.deepEqual(await deliveries.json(), { data: [] });

  const deleted = await fetch(`${api.url}/${endpoint.id}`, {
    method: "DELETE",
    headers: bearer(app.secretKey),
  });
  assert.equal(deleted.status, 200);
  assert.deepEqual(await deleted.json(), { id: endpoint.id, deleted: true });
  await expectError(
    await fetch(`${api.url}/${endpoint.id}`, {
      method: "DELETE",
      headers: bearer(app.secretKey),
    }),
    404,
    "not_found",
  );
  const after = await fetch(api.url, { headers: bearer(app.secretKey) });
  assert.deepEqual(
    (await after.json()).data.map((e: { id: string }) => e.id),
    [budgetOnly.id],
  );
});

Deno.test("invalid endpoint registrations are 400 invalid_request naming the field", async () => {
  await using service = await startTestService();
  await using api = await webhooksApi(service);
  const app = await service.createApp();
  const cases: [unknown, string | null][] = [
    [{}, "url"],
    [{ url: "/relative/path" }, "url"],
    [{ url: "hooks.example.com/wf" }, "url"],
    [{ url: "ftp://example.com/wf" }, "url"],
    [{ url: "javascript:alert(1)" }, "url"],
    [{ url: "https://user:pass@example.com/wf" }, "url"],
    [{ url: "https://example.com/wf#frag" }, "url"],
    [{ url: `https://example.com/${"a".repeat(2100)}` }, "url"],
    [{ url: 42 }, "url"],
    [{ url: "https://example.com/wf", events: [] }, "events"],
    [
      { url: "https://example.com/wf", events: ["budget.low", "nope"] },
      "events.1",
    ],
    [{ url: "https://example.com/wf", events: "budget.low" }, "events"],
    [{ url: "https://example.com/wf", secret: "mine" }, null],
    [[], null],
    ["{not json", null],
  ];
  for (const [body, param] of cases) {
    const { error } = await expectError(
      await post(api.url, app.secretKey, body),
      400,
      "invalid_request",
    );
    assert.equal(
      error.param,
      param,
      `${JSON.stringify(body)}: ${error.message}`,
    );
  }
  const list = await fetch(api.url, { headers: bearer(app.secretKey) });
  assert.deepEqual(await list.json(), { data: [] });
});

Deno.test("live apps deliver over https to public hosts only", async () => {
  await using service = await startTestService();
  await using api = await webhooksApi(service);
  const live = await service.createApp("live", ["https://acme.example"]);
  for (
    const url of [
      "http://hooks.example.com/wf",
      "https://localhost/wf",
      "https://api.localhost/wf",
      "https://127.0.0.1/wf",
      "https://10.1.2.3/wf",
      "https://192.168.0.10/wf",
      "https://172.20.0.1/wf",
      "https://169.254.169.254/latest/meta-data",
      "https://[::1]/wf",
      "https://[fd00::1]/wf",
      "https://[::ffff:127.0.0.1]/wf",
      "https://0x7f000001/wf",
    ]
  ) {
    const { error } = await expectError(
      await post(api.url, live.secretKey, { url }),
      400,
      "invalid_request",
    );
    assert.equal(error.param, "url", url);
  }
  const ok = await post(api.url, live.secretKey, {
    url: "https://hooks.acme.example/wattfare",
  });
  assert.equal(ok.status, 201);
  await ok.body?.cancel();
});

Deno.test("endpoints belong to their app: keys are required and other apps see nothing", async () => {
  await using service = await startTestService();
  await using api = await webhooksApi(service);
  const mine = await service.createApp();
  const theirs = await service.createApp();
  const created = await post(api.url, mine.secretKey, {
    url: "http://127.0.0.1:9/hooks",
  });
  const { id } = await created.json();

  await expectError(await fetch(api.url), 401, "invalid_api_key");
  await expectError(
    await fetch(api.url, { headers: bearer(mine.publishableKey) }),
    401,
    "invalid_api_key",
  );
  await expectError(
    await post(api.url, "sk_test_nope_" + "0".repeat(64), {
      url: "http://127.0.0.1:9/hooks",
    }),
    401,
    "invalid_api_key",
  );

  const list = await fetch(api.url, { headers: bearer(theirs.secretKey) });
  assert.deepEqual(await list.json(), { data: [] });
  for (
    const [method, path] of [
      ["DELETE", `/${id}`],
      ["GET", `/${id}/deliveries`],
      ["DELETE", "/wh_unknown"],
    ]
  ) {
    await expectError(
      await fetch(`${api.url}${path}`, {
        method,
        headers: bearer(theirs.secretKey),
      }),
      404,
      "not_found",
    );
  }
  const still = await fetch(api.url, { headers: bearer(mine.secretKey) });
  assert.equal((await still.json()).data.length, 1);
});

Deno.test(`an app may register at most ${MAX_ENDPOINTS_PER_APP} endpoints`, async () => {
  await using service = await startTestService();
  await using api = await webhooksApi(service);
  const app = await service.createApp();
  for (let i = 0; i < MAX_ENDPOINTS_PER_APP; i++) {
    const response = await post(api.url, app.secretKey, {
      url: `http://127.0.0.1:9/hooks/${i}`,
    });
    assert.equal(response.status, 201);
    await response.body?.cancel();
  }
  const { error } = await expectError(
    await post(api.url, app.secretKey, { url: "http://127.0.0.1:9/hooks/x" }),
    400,
    "invalid_request",
  );
  assert.match(error.message, /at most 16/);
});

Deno.test("an endpoint registered over the API receives events signed with the secret it was given", async () => {
  await using service = await startTestService();
  await using api = await webhooksApi(service);
  await using receiver = startReceiver();
  const app = await service.createApp();
  const created = await post(api.url, app.secretKey, {
    url: receiver.url,
    events: ["connection.approved"],
  });
  const { id, secret } = await created.json();

  // The service's queue listener does not deliver webhooks until it is
  // wired to them, so this test hands the queued attempt over itself.
  const webhooks = new Webhooks(service.kv, { log: null });
  const staged = await webhooks.stage(app.appId, "connection.approved", {
    userId: "alice",
    limits: { monthlyUsd: 5 },
  });
  assert.ok((await staged.addTo(service.kv.atomic()).commit()).ok);
  await webhooks.handleQueueMessage({
    kind: "webhook_delivery",
    appId: app.appId,
    endpointId: id,
    eventId: staged.event.id,
    attempt: 1,
  });

  const got = await receiver.nth(1);
  const event = await verifyWebhook(
    got.body,
    got.headers.get(WEBHOOK_SIGNATURE_HEADER),
    secret,
  );
  assert.equal(event.id, staged.event.id);
  assert.equal(got.headers.get(WEBHOOK_ID_HEADER), staged.event.id);

  const deliveries = await fetch(`${api.url}/${id}/deliveries`, {
    headers: bearer(app.secretKey),
  });
  const { data } = await deliveries.json();
  assert.equal(data.length, 1);
  assert.equal(data[0].eventId, staged.event.id);
  assert.equal(data[0].state, "delivered");
  assert.equal(data[0].lastStatus, 200);
});
