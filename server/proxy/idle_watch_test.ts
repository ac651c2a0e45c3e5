import assert from "node:assert/strict";
import { IdleWatch, UpstreamIdleError } from "./idle_watch.ts";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("a read that waits past the limit is reported once, as UpstreamIdleError", async () => {
  const fired: unknown[] = [];
  const watch = new IdleWatch(40, (error) => fired.push(error));
  watch.waiting();
  await sleep(100);
  assert.equal(fired.length, 1);
  assert.ok(fired[0] instanceof UpstreamIdleError);
  watch.waiting();
  await sleep(60);
  assert.equal(fired.length, 1, "a stopped watch stays quiet");
});

Deno.test("reads answered in time, and time with no read waiting, never count", async () => {
  const fired: unknown[] = [];
  const watch = new IdleWatch(60, (error) => fired.push(error));
  for (let i = 0; i < 5; i++) {
    watch.waiting();
    await sleep(20);
    watch.received();
  }
  // The client stops reading: no read waits, so nothing is idle.
  await sleep(100);
  assert.equal(fired.length, 0);
  watch.stop();
});
