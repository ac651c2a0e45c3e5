import assert from "node:assert/strict";
import { type AppRecord, getApp } from "../apps/apps.ts";
import { walletAppKey } from "../kv/keys.ts";
import { nanoToUsd } from "../money.ts";
import { readLedgerView } from "../testing/ledger_probe.ts";
import {
  bearer,
  chatHeaders,
  expectError,
  startTestService,
  type TestService,
} from "../testing/test_service.ts";
import type { DeveloperAppView } from "./developer_apps.ts";
import { newSignedInWallet, ownPage } from "./test_wallet.ts";

interface Created {
  app: DeveloperAppView;
  secretKey: string;
}

function post(
  service: TestService,
  cookie: string,
  path: string,
  body: unknown,
  origin = service.publicUrl,
) {
  return service.fetch(`/developers/api${path}`, {
    method: "POST",
    headers: { ...ownPage(service, cookie), origin },
    body: JSON.stringify(body),
  });
}

async function register(
  service: TestService,
  cookie: string,
  body: Record<string, unknown> = {},
): Promise<Created> {
  const response = await post(service, cookie, "/apps", {
    name: "Quill",
    origins: ["https://quill.example/"],
    mode: "test",
    ...body,
  });
  assert.equal(response.status, 201, await response.clone().text());
  return await response.json();
}

async function appsOf(
  service: TestService,
  cookie: string,
): Promise<DeveloperAppView[]> {
  const response = await service.fetch("/developers/api/apps", {
    headers: { cookie },
  });
  assert.equal(response.status, 200);
  return (await response.json()).apps;
}

function status(service: TestService, secretKey: string) {
  return service.fetch("/api/v1/status?userId=u1", {
    headers: bearer(secretKey),
  });
}

Deno.test("a developer registers an app, gets its secret once, and the keys work", async () => {
  await using service = await startTestService();
  const dev = await newSignedInWallet(service);
  const { app, secretKey } = await register(service, dev.cookie);
  assert.equal(app.name, "Quill");
  assert.equal(app.mode, "test");
  assert.deepEqual(app.origins, ["https://quill.example"]);
  assert.equal(app.publishableKey, `pk_test_${app.appId}`);
  assert.match(secretKey, new RegExp(`^sk_test_${app.appId}_[0-9a-f]{64}$`));
  assert.deepEqual(app.users, []);

  const record = (await getApp(service.kv, app.appId))!;
  assert.equal(record.ownerWalletId, dev.walletId);
  assert.equal(
    (await service.kv.get(walletAppKey(dev.walletId, app.appId))).value,
    true,
  );

  // The secret is a working key: a user connects and spends through it.
  await service.connect(secretKey, "u1", 3);
  const chat = await service.fetch("/api/v1/chat/completions", {
    method: "POST",
    headers: chatHeaders(secretKey, "u1"),
    body: JSON.stringify({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    }),
  });
  assert.equal(chat.status, 200);
  await chat.body?.cancel();
  await service.settled();
  const spent = (await readLedgerView(service, app.appId, "u1")).spent;

  const listed = await service.fetch("/developers/api/apps", {
    headers: { cookie: dev.cookie },
  });
  const text = await listed.text();
  assert.ok(!text.includes(secretKey.slice(-64)), "never shown again");
  const [shown] = JSON.parse(text).apps as DeveloperAppView[];
  assert.equal(shown.appId, app.appId);
  assert.deepEqual(shown.users, [{
    userId: "u1",
    state: "active",
    pausedBy: null,
    capUsd: 3,
    spentUsd: nanoToUsd(spent),
    periodStart: new Date().toISOString().slice(0, 10),
  }]);

  const live = await register(service, dev.cookie, {
    name: "Quill Live",
    mode: "live",
  });
  assert.match(live.secretKey, /^sk_live_/);
  assert.deepEqual(
    (await appsOf(service, dev.cookie)).map((a) => a.name),
    ["Quill", "Quill Live"],
  );
});

Deno.test("rotating the secret: the new one works, the old one stops at once", async () => {
  await using service = await startTestService();
  const dev = await newSignedInWallet(service);
  const { app, secretKey: old } = await register(service, dev.cookie);
  assert.equal((await status(service, old)).status, 200);

  const response = await post(
    service,
    dev.cookie,
    `/apps/${app.appId}/rotate`,
    {},
  );
  assert.equal(response.status, 200);
  const rotated: Created = await response.json();
  assert.notEqual(rotated.secretKey, old);
  assert.equal(rotated.app.appId, app.appId);
  await expectError(await status(service, old), 401, "invalid_api_key");
  assert.equal((await status(service, rotated.secretKey)).status, 200);
});

Deno.test("origins are edited whole; anything but an http(s) origin is refused, naming the field", async () => {
  await using service = await startTestService();
  const dev = await newSignedInWallet(service);
  const { app } = await register(service, dev.cookie);
  const edit = (origins: unknown) =>
    post(service, dev.cookie, `/apps/${app.appId}/origins`, { origins });

  const edited = await edit([
    "https://quill.example",
    "http://localhost:3000",
    "https://quill.example/",
  ]);
  assert.equal(edited.status, 200);
  assert.deepEqual((await edited.json()).app.origins, [
    "https://quill.example",
    "http://localhost:3000",
  ]);
  for (
    const [origins, param] of [
      [["ftp://quill.example"], "origins.0"],
      [["https://quill.example", "https://quill.example/app"], "origins.1"],
      [["https://quill.example?x=1"], "origins.0"],
      [["quill.example"], "origins.0"],
      [[], "origins"],
      ["https://quill.example", "origins"],
    ] as const
  ) {
    const error = await expectError(
      await edit(origins),
      400,
      "invalid_request",
    );
    assert.equal(error.error.param, param);
  }
  assert.deepEqual((await getApp(service.kv, app.appId))!.origins, [
    "https://quill.example",
    "http://localhost:3000",
  ]);

  for (
    const body of [
      { name: "", origins: ["https://a.example"], mode: "test" },
      { name: "A", origins: ["https://a.example"], mode: "prod" },
      { name: "A", origins: ["https://a.example"] },
      { name: "A".repeat(101), origins: ["https://a.example"], mode: "test" },
    ]
  ) {
    await expectError(
      await post(service, dev.cookie, "/apps", body),
      400,
      "invalid_request",
    );
  }
});

Deno.test("only the owner sees or changes an app; cross-site and signed-out posts are refused", async () => {
  await using service = await startTestService();
  const dev = await newSignedInWallet(service);
  const { app } = await register(service, dev.cookie);
  const before = (await getApp(service.kv, app.appId))!;
  const stranger = await newSignedInWallet(service);

  assert.deepEqual(await appsOf(service, stranger.cookie), []);
  await expectError(
    await post(service, stranger.cookie, `/apps/${app.appId}/rotate`, {}),
    404,
    "not_found",
  );
  await expectError(
    await post(service, stranger.cookie, `/apps/${app.appId}/origins`, {
      origins: ["https://evil.example"],
    }),
    404,
    "not_found",
  );
  // An app registered with the CLI has no owner here.
  const cliApp = await service.createApp();
  await expectError(
    await post(service, dev.cookie, `/apps/${cliApp.appId}/rotate`, {}),
    404,
    "not_found",
  );

  await expectError(
    await post(
      service,
      dev.cookie,
      `/apps/${app.appId}/rotate`,
      {},
      "https://evil.example",
    ),
    403,
    "origin_not_allowed",
  );
  await expectError(
    await post(service, dev.cookie, "/apps", {
      name: "Evil",
      origins: ["https://evil.example"],
      mode: "live",
    }, "https://evil.example"),
    403,
    "origin_not_allowed",
  );
  await expectError(
    await service.fetch("/developers/api/apps", {
      method: "POST",
      headers: { origin: service.publicUrl },
      body: JSON.stringify({
        name: "A",
        origins: ["https://a.example"],
        mode: "test",
      }),
    }),
    401,
    "invalid_session",
  );
  await expectError(
    await service.fetch("/developers/api/apps"),
    401,
    "invalid_session",
  );

  const after: AppRecord = (await getApp(service.kv, app.appId))!;
  assert.equal(after.secretHash, before.secretHash);
  assert.deepEqual(after.origins, before.origins);
  assert.deepEqual(
    (await appsOf(service, dev.cookie)).map((a) => a.appId),
    [app.appId],
  );
});
