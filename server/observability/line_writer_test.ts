import assert from "node:assert/strict";
import { LineWriter } from "./line_writer.ts";

/** A sink that takes at most `max` bytes per write, like a full pipe. */
function sink(max: number) {
  const writes: string[] = [];
  return {
    writes,
    writeSync(bytes: Uint8Array): number {
      const taken = bytes.subarray(0, max);
      writes.push(new TextDecoder().decode(taken));
      return taken.length;
    },
  };
}

Deno.test("lines of one turn go out together, in order, after it", async () => {
  const out = sink(1 << 20);
  const writer = new LineWriter(out);
  writer.write("one");
  writer.write("two");
  assert.deepEqual(out.writes, [], "nothing is written within the turn");
  await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(out.writes, ["one\ntwo\n"]);
  writer.write("three");
  writer.flush();
  assert.deepEqual(out.writes, ["one\ntwo\n", "three\n"]);
});

Deno.test("a short write is continued until every byte is out", () => {
  const out = sink(4);
  const writer = new LineWriter(out);
  writer.write("abcdefghij");
  writer.flush();
  assert.equal(out.writes.join(""), "abcdefghij\n");
  assert.equal(out.writes.length, 3);
});
