import assert from "node:assert/strict";
import { createApp } from "../apps/apps.ts";
import {
  chatHeaders,
  expectError,
  startTestService,
} from "../testing/test_service.ts";
import { newSignedInWallet, ownPage } from "./test_wallet.ts";

Deno.test("an app's own rate limits, set on the developers' dashboard, are what the proxy enforces", async () => {
  await using service = await startTestService();
  const developer = await newSignedInWallet(service);
  const created = await createApp(service.kv, {
    name: "Limited",
    origins: ["http://127.0.0.1:5173"],
    mode: "test",
    ownerWalletId: developer.walletId,
  });
  const user = await service.connect(created.secretKey!, "u", 1);
  const set = await service.fetch(
    `/developers/api/apps/${created.appId}/limits`,
    {
      method: "POST",
      headers: ownPage(service, developer.cookie),
      body: JSON.stringify({
        appRequestsPerMinute: null,
        connectionRequestsPerMinute: 2,
      }),
    },
  );
  assert.equal(set.status, 200);
  assert.deepEqual((await set.json()).app.rateLimits, {
    connectionRequestsPerMinute: 2,
  });

  const statuses = [];
  for (let i = 0; i < 3; i++) {
    const response = await service.fetch("/api/v1/chat/completions", {
      method: "POST",
      headers: chatHeaders(created.secretKey!, user),
      body: JSON.stringify({
        model: "openai/gpt-4o-mini",
        messages: [{ role: "user", content: "hi" }],
        max_tokens: 5,
      }),
    });
    statuses.push(response.status);
    await response.body?.cancel();
  }
  assert.deepEqual(statuses, [200, 200, 429]);

  const stranger = await newSignedInWallet(service);
  await expectError(
    await service.fetch(`/developers/api/apps/${created.appId}/limits`, {
      method: "POST",
      headers: ownPage(service, stranger.cookie),
      body: JSON.stringify({
        appRequestsPerMinute: 1,
        connectionRequestsPerMinute: 1,
      }),
    }),
    404,
    "not_found",
  );
  await expectError(
    await service.fetch(`/developers/api/apps/${created.appId}/limits`, {
      method: "POST",
      headers: ownPage(service, developer.cookie),
      body: JSON.stringify({
        appRequestsPerMinute: 0,
        connectionRequestsPerMinute: null,
      }),
    }),
    400,
    "invalid_request",
  );
});
