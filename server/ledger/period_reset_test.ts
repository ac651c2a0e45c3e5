import assert from "node:assert/strict";
import { nanoToUsd, parseUsd } from "../money.ts";
import {
  bearer,
  chatHeaders,
  startTestService,
} from "../testing/test_service.ts";

Deno.test("spend resets on the approval day each month; the old period keeps its entries", async () => {
  let now = Date.parse("2026-01-31T12:00:00Z");
  await using service = await startTestService({ clock: () => now });
  const app = await service.createApp();
  const user = await service.connect(app.secretKey, "monthly", 0.001);
  const status = async () => {
    const response = await service.fetch(`/api/v1/status?userId=${user}`, {
      headers: bearer(app.secretKey),
    });
    return await response.json();
  };
  const chat = async () => {
    const response = await service.fetch("/api/v1/chat/completions", {
      method: "POST",
      headers: chatHeaders(app.secretKey, user),
      body: JSON.stringify({
        model: "openai/gpt-4o-mini",
        messages: [{ role: "user", content: "hello" }],
        max_tokens: 20,
      }),
    });
    assert.equal(response.status, 200);
    // Status shows USD rounded to 6 decimals; the header is exact.
    return nanoToUsd(parseUsd(response.headers.get("x-wattfare-cost")!));
  };

  const january = await chat();
  assert.equal((await status()).usage.monthlyUsd, january);

  // February has no 31st: the next period starts on its last day.
  now = Date.parse("2026-02-27T23:59:59Z");
  assert.equal((await status()).usage.monthlyUsd, january);
  now = Date.parse("2026-02-28T00:00:00Z");
  const fresh = await status();
  assert.equal(fresh.usage.monthlyUsd, 0);
  assert.equal(fresh.remainingUsd, 0.001);

  const february = await chat();
  assert.equal((await status()).usage.monthlyUsd, february);
});
