import assert from "node:assert/strict";
import { verifyWebhook, type WebhookEvent } from "../../sdk/webhooks.ts";
import {
  bearer,
  chatHeaders,
  startTestService,
} from "../testing/test_service.ts";

Deno.test("the running service delivers approvals and budget alerts, signed", async () => {
  const received: WebhookEvent[] = [];
  let secret = "";
  const receiver = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: () => {},
  }, async (req) => {
    const body = await req.text();
    received.push(
      await verifyWebhook(
        body,
        req.headers.get("x-wattfare-signature"),
        secret,
      ),
    );
    return new Response(null, { status: 204 });
  });
  try {
    await using service = await startTestService();
    const app = await service.createApp();
    const registered = await service.fetch("/api/v1/webhooks", {
      method: "POST",
      headers: bearer(app.secretKey),
      body: JSON.stringify({
        url: `http://localhost:${receiver.addr.port}/hook`,
      }),
    });
    assert.equal(registered.status, 201);
    secret = (await registered.json()).secret;

    // One 100-token reply costs $0.00006075 (5 prompt tokens at $0.15/M,
    // 100 completion tokens at $0.60/M): 90 % of this cap, which just fits
    // its hold ($0.00006735).
    const user = await service.connect(app.secretKey, "alerted", 0.0000674);
    const chat = await service.fetch("/api/v1/chat/completions", {
      method: "POST",
      headers: chatHeaders(app.secretKey, user),
      body: JSON.stringify({
        model: "openai/gpt-4o-mini",
        messages: [{ role: "user", content: "hi" }],
        max_tokens: 100,
        sandbox: { completionTokens: 100 },
      }),
    });
    assert.equal(chat.status, 200);
    await chat.body?.cancel();

    const deadline = Date.now() + 10_000;
    while (received.length < 2 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const types = received.map((event) => event.type).sort();
    assert.deepEqual(types.slice(0, 2), ["budget.low", "connection.approved"]);
    const low = received.find((event) => event.type === "budget.low");
    assert.equal(low?.type === "budget.low" && low.data.userId, "alerted");
  } finally {
    await receiver.shutdown();
  }
});
