import assert from "node:assert/strict";
import { tokenCost } from "../money.ts";
import { readLedgerView } from "../testing/ledger_probe.ts";
import { chatHeaders, startTestService } from "../testing/test_service.ts";

const FIXTURES = new URL(
  "../../../shared/fixtures/recorded-streams/",
  import.meta.url,
);
const MODEL = "openai/gpt-4o-mini";
// gpt-4o-mini in the sandbox catalogue, in 1e-18 USD per token.
const PRICES = { prompt: 150_000_000_000n, completion: 600_000_000_000n };

/** The last non-null `usage` of a recording, as the upstream reported it. */
async function recordedUsage(name: string) {
  const lines =
    (await Deno.readTextFile(new URL(`${name}.chunks.txt`, FIXTURES)))
      .split("\n").filter((line) => line.trim());
  const usages = lines.map((line) => JSON.parse(line).usage).filter(Boolean);
  return usages.at(-1) as { prompt_tokens: number; completion_tokens: number };
}

const names = [...Deno.readDirSync(FIXTURES)]
  .map((entry) => entry.name)
  .filter((name) => name.endsWith(".chunks.txt"))
  .map((name) => name.slice(0, -".chunks.txt".length))
  .sort();

Deno.test("every recorded stream passes through byte for byte and is metered from its usage", async (t) => {
  assert.ok(names.length >= 8);
  await using service = await startTestService();
  const app = await service.createApp();
  const fundingKey = "sk-or-v1-replay-direct";

  for (const name of names) {
    for (const lineEnding of ["lf", "crlf"]) {
      for (const splitBytes of [undefined, 3]) {
        await t.step(
          `${name} ${lineEnding}${splitBytes ? ` split ${splitBytes}` : ""}`,
          async () => {
            const sandbox = {
              replay: name,
              lineEnding,
              comments: true,
              splitBytes,
            };
            const body = {
              model: MODEL,
              messages: [{ role: "user", content: "replay" }],
              stream: true,
              max_tokens: 4000,
              sandbox,
            };
            const direct = await service.fetch(
              "/sandbox/api/v1/chat/completions",
              {
                method: "POST",
                headers: {
                  authorization: `Bearer ${fundingKey}`,
                  "content-type": "application/json",
                },
                body: JSON.stringify(body),
              },
            );
            const expected = new Uint8Array(await direct.arrayBuffer());

            const user = await service.connect(
              app.secretKey,
              `${name}-${lineEnding}-${splitBytes}`,
              1,
            );
            const proxied = await service.fetch("/api/v1/chat/completions", {
              method: "POST",
              headers: chatHeaders(app.secretKey, user),
              body: JSON.stringify(body),
            });
            assert.equal(proxied.status, 200);
            const received = new Uint8Array(await proxied.arrayBuffer());
            assert.deepEqual(received, expected, "identical bytes");

            await service.settled();
            const usage = await recordedUsage(name);
            const view = await readLedgerView(service, app.appId, user);
            assert.equal(view.entries.length, 1);
            const [entry] = view.entries;
            assert.equal(entry.basis, "usage");
            assert.equal(entry.promptTokens, usage.prompt_tokens);
            assert.equal(entry.completionTokens, usage.completion_tokens);
            assert.equal(
              entry.costNano,
              tokenCost({
                promptTokens: usage.prompt_tokens,
                completionTokens: usage.completion_tokens,
              }, PRICES),
            );
            assert.equal(view.spent, entry.costNano);
            assert.equal(view.held, 0n);
          },
        );
      }
    }
  }
});
