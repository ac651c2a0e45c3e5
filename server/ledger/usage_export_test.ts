import assert from "node:assert/strict";
import { parseUsd } from "../money.ts";
import { readLedgerView } from "../testing/ledger_probe.ts";
import {
  bearer,
  chatHeaders,
  expectError,
  startTestService,
} from "../testing/test_service.ts";

Deno.test("GET /usage lists a user's entries with exact costs, as JSON or CSV", async () => {
  let now = Date.parse("2026-11-10T12:00:00Z");
  await using service = await startTestService({ clock: () => now });
  const app = await service.createApp();
  const other = await service.createApp();
  const user = await service.connect(app.secretKey, "exporter", 1);
  for (const model of ["openai/gpt-4o-mini", "anthropic/claude-sonnet-4"]) {
    const response = await service.fetch("/api/v1/chat/completions", {
      method: "POST",
      headers: chatHeaders(app.secretKey, user),
      body: JSON.stringify({
        model,
        messages: [{ role: "user", content: "hi" }],
      }),
    });
    await response.body?.cancel();
    now += 3_600_000;
  }
  const view = await readLedgerView(service, app.appId, user, now);

  const json = await service.fetch(`/api/v1/usage?userId=${user}`, {
    headers: bearer(app.secretKey),
  });
  const body = await json.json();
  assert.equal(body.data.length, 2);
  assert.deepEqual(body.data.map((r: { model: string }) => r.model), [
    "openai/gpt-4o-mini",
    "anthropic/claude-sonnet-4",
  ]);
  assert.equal(parseUsd(body.totalUsd), view.spent);
  assert.equal(
    body.data.reduce(
      (sum: bigint, r: { costUsd: string }) => sum + parseUsd(r.costUsd),
      0n,
    ),
    view.spent,
  );

  // A window that holds only the first request.
  const windowed = await service.fetch(
    `/api/v1/usage?userId=${user}&from=2026-11-10T11:00:00Z&to=2026-11-10T12:30:00Z`,
    { headers: bearer(app.secretKey) },
  );
  assert.equal((await windowed.json()).data.length, 1);

  const csv = await service.fetch(`/api/v1/usage?userId=${user}&format=csv`, {
    headers: bearer(app.secretKey),
  });
  assert.match(csv.headers.get("content-type")!, /^text\/csv/);
  const lines = (await csv.text()).trim().split("\r\n");
  assert.equal(
    lines[0],
    "request_id,user_id,created_at,model,prompt_tokens,completion_tokens,cost_usd,basis",
  );
  assert.equal(lines.length, 3);
  assert.match(
    lines[1],
    /^req_[0-9a-z]+,exporter,2026-11-10T12:00:00\.000Z,openai\/gpt-4o-mini,\d+,\d+,0\.\d+,usage$/,
  );

  // Another app sees nothing of this user; bad input is a typed 400.
  const foreign = await service.fetch(`/api/v1/usage?userId=${user}`, {
    headers: bearer(other.secretKey),
  });
  assert.deepEqual((await foreign.json()).data, []);
  await expectError(
    await service.fetch(`/api/v1/usage?userId=${user}&from=yesterday`, {
      headers: bearer(app.secretKey),
    }),
    400,
    "invalid_request",
  );
  await expectError(
    await service.fetch(`/api/v1/usage`, { headers: bearer(app.secretKey) }),
    400,
    "invalid_request",
  );
});
