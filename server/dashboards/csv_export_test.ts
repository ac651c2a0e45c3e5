import assert from "node:assert/strict";
import { createApp, getApp } from "../apps/apps.ts";
import {
  approveConnection,
  sandboxFunding,
} from "../connections/connections.ts";
import {
  chatHeaders,
  expectError,
  startTestService,
} from "../testing/test_service.ts";
import { newSignedInWallet } from "./test_wallet.ts";

Deno.test("both dashboards download usage as CSV, each only its own, and owners see budget notices", async () => {
  await using service = await startTestService();
  const owner = await newSignedInWallet(service);
  const developer = await newSignedInWallet(service);
  const stranger = await newSignedInWallet(service);
  const created = await createApp(service.kv, {
    name: "CSV app",
    origins: ["http://127.0.0.1:5173"],
    mode: "test",
    ownerWalletId: developer.walletId,
  });
  const app = (await getApp(service.kv, created.appId))!;
  // The owner approved with a cap that one 100-token reply crosses 80 % of.
  await approveConnection(service.kv, app, "owner-1", 67_400n, {
    funding: await sandboxFunding(service.box),
    walletId: owner.walletId,
  });
  const chat = await service.fetch("/api/v1/chat/completions", {
    method: "POST",
    headers: chatHeaders(created.secretKey!, "owner-1"),
    body: JSON.stringify({
      model: "openai/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 100,
      sandbox: { completionTokens: 100 },
    }),
  });
  assert.equal(chat.status, 200);
  const cost = chat.headers.get("x-wattfare-cost");
  await chat.body?.cancel();
  await service.settled();

  const ownCsv = await service.fetch(
    `/dashboard/api/usage.csv?appId=${app.id}&userId=owner-1`,
    { headers: { cookie: owner.cookie } },
  );
  assert.equal(ownCsv.status, 200);
  assert.match(ownCsv.headers.get("content-disposition")!, /attachment/);
  const ownLines = (await ownCsv.text()).trim().split("\r\n");
  assert.equal(ownLines.length, 2);
  assert.ok(
    ownLines[1].includes(`,owner-1,`) && ownLines[1].includes(`,${cost},`),
  );

  const devCsv = await service.fetch(
    `/developers/api/apps/${app.id}/usage.csv`,
    {
      headers: { cookie: developer.cookie },
    },
  );
  assert.equal(devCsv.status, 200);
  assert.equal((await devCsv.text()).trim().split("\r\n").length, 2);

  await expectError(
    await service.fetch(
      `/dashboard/api/usage.csv?appId=${app.id}&userId=owner-1`,
      {
        headers: { cookie: stranger.cookie },
      },
    ),
    404,
    "not_found",
  );
  await expectError(
    await service.fetch(`/developers/api/apps/${app.id}/usage.csv`, {
      headers: { cookie: stranger.cookie },
    }),
    404,
    "not_found",
  );
  await expectError(
    await service.fetch(
      `/dashboard/api/usage.csv?appId=${app.id}&userId=owner-1`,
    ),
    401,
    "invalid_session",
  );

  const dashboard = await service.fetch("/dashboard/api/connections", {
    headers: { cookie: owner.cookie },
  });
  const [connection] = (await dashboard.json()).connections;
  assert.deepEqual(
    connection.notices.map((n: { thresholdPercent: number }) =>
      n.thresholdPercent
    ),
    [80],
  );
  const page = await (await service.fetch("/dashboard", {
    headers: { cookie: owner.cookie },
  })).text();
  assert.match(page, /has used 80 % of your monthly cap/);
});
