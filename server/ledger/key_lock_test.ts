import assert from "node:assert/strict";
import { KeyLock } from "./key_lock.ts";

Deno.test("work on one key runs one at a time, in order; other keys run alongside", async () => {
  const lock = new KeyLock();
  const log: string[] = [];
  const step = (key: string, label: string, ms: number) =>
    lock.run(key, async () => {
      log.push(`start ${label}`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      log.push(`end ${label}`);
      return label;
    });
  const results = await Promise.all([
    step("a", "a1", 20),
    step("a", "a2", 1),
    step("b", "b1", 5),
  ]);
  assert.deepEqual(results, ["a1", "a2", "b1"]);
  assert.deepEqual(log, [
    "start a1",
    "start b1",
    "end b1",
    "end a1",
    "start a2",
    "end a2",
  ]);
});

Deno.test("a failure releases the key and reaches only its own caller", async () => {
  const lock = new KeyLock();
  const failed = lock.run("k", () => Promise.reject(new Error("boom")));
  const next = lock.run("k", () => Promise.resolve(42));
  await assert.rejects(failed, /boom/);
  assert.equal(await next, 42);
});
