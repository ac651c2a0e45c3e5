import assert from "node:assert/strict";
import { connectionKey } from "../kv/keys.ts";
import type { Connection } from "../connections/connection.ts";
import { fundingKeyOf } from "../testing/ledger_probe.ts";
import { spawnService } from "../testing/spawn_service.ts";
import { createApp } from "../apps/apps.ts";
import { SecretBox } from "./secret_box.ts";

const key = () =>
  btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

Deno.test("a master-key rotation re-seals every funding key while the service keeps serving", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/wattfare.kv`;
  const [oldKey, newKey] = [key(), key()];
  try {
    const setup = await Deno.openKv(kvPath);
    const app = await createApp(setup, {
      name: "r",
      origins: ["http://a.test"],
      mode: "test",
    });
    setup.close();
    const auth = {
      authorization: `Bearer ${app.secretKey}`,
      "content-type": "application/json",
    };
    const chat = (url: string) =>
      fetch(`${url}/api/v1/chat/completions`, {
        method: "POST",
        headers: { ...auth, "x-wattfare-user": "u" },
        body: JSON.stringify({
          model: "openai/gpt-4o-mini",
          messages: [{ role: "user", content: "hi" }],
        }),
      });

    // Sealed under the old key.
    const before = await spawnService({
      WATTFARE_KV: kvPath,
      WATTFARE_MASTER_KEY: oldKey,
    });
    const connected = await fetch(`${before.url}/api/v1/test/connections`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({ userId: "u", monthlyUsd: 1 }),
    });
    assert.equal(connected.status, 201);
    await connected.body?.cancel();
    await before.stop();

    // Rotated: the new key seals, the old one still opens; requests keep working.
    const during = await spawnService({
      WATTFARE_KV: kvPath,
      WATTFARE_MASTER_KEY: newKey,
      WATTFARE_MASTER_KEY_PREVIOUS: oldKey,
    });
    const served = await chat(during.url);
    assert.equal(served.status, 200);
    await served.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await during.stop();

    // Every secret moved: the service runs with the new key alone.
    const kv = await Deno.openKv(kvPath);
    const box = await SecretBox.create([
      Uint8Array.from(atob(newKey), (c) => c.charCodeAt(0)),
    ]);
    const stored = (await kv.get<Connection>(connectionKey(app.appId, "u")))
      .value!;
    assert.ok(box.isCurrent(stored.funding));
    assert.match(await fundingKeyOf(kv, box, app.appId, "u"), /^sk-or-v1-/);
    kv.close();
    const after = await spawnService({
      WATTFARE_KV: kvPath,
      WATTFARE_MASTER_KEY: newKey,
    });
    const still = await chat(after.url);
    assert.equal(still.status, 200);
    await still.body?.cancel();
    await after.stop();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
