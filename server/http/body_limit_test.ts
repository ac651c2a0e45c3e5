import assert from "node:assert/strict";
import { expectError, startTestService } from "../testing/test_service.ts";

function chunked(text: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 100) {
        controller.enqueue(bytes.slice(i, i + 100));
      }
      controller.close();
    },
  });
}

Deno.test("bodies over the limit are 413 payload_too_large, declared or chunked", async () => {
  await using service = await startTestService({
    env: { WATTFARE_MAX_BODY_BYTES: "1024" },
  });
  const app = await service.createApp();
  const post = (body: BodyInit) =>
    service.fetch("/api/v1/sessions", {
      method: "POST",
      headers: {
        authorization: `Bearer ${app.secretKey}`,
        "content-type": "application/json",
      },
      body,
    });
  const big = JSON.stringify({ userId: "u", pad: "x".repeat(2000) });
  await expectError(await post(big), 413, "payload_too_large");
  await expectError(await post(chunked(big)), 413, "payload_too_large");

  // Under the limit, either way, the body reaches the route.
  const small = JSON.stringify({ userId: "u" });
  for (const body of [small, chunked(small)]) {
    const response = await post(body);
    assert.equal(response.status, 200);
    assert.ok((await response.json()).token);
  }
});
