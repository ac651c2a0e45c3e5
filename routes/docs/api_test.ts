import assert from "node:assert/strict";
import { startTestService } from "../../server/testing/test_service.ts";

Deno.test("the API reference page lists every documented operation", async () => {
  await using service = await startTestService();
  const doc = await (await service.fetch("/api/v1/openapi.json")).json();
  const page = await service.fetch("/docs/api");
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.ok(
    !html.includes("<script"),
    "a page without islands ships no JavaScript",
  );
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const method of Object.keys(ops as object)) {
      assert.ok(html.includes(`id="${method}-${path}"`), `${method} ${path}`);
    }
  }
});
