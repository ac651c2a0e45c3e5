import assert from "node:assert/strict";
import { appKey } from "../kv/keys.ts";
import { sha256Hex } from "../crypto/digest.ts";
import { parseSecretKey } from "../../sdk/secret_key.ts";
import {
  bearer,
  expectError,
  startTestService,
} from "../testing/test_service.ts";
import {
  type AppRecord,
  createApp,
  listApps,
  rotateSecret,
  updateOrigins,
} from "./apps.ts";

Deno.test("keys have the documented shapes and 256 bits of secret", async () => {
  const kv = await Deno.openKv(":memory:");
  const app = await createApp(kv, {
    name: "Acme",
    origins: ["https://acme.com/"],
    mode: "live",
  });
  assert.match(app.publishableKey, /^pk_live_[0-9a-z]{20}$/);
  assert.match(app.secretKey!, /^sk_live_[0-9a-z]{20}_[0-9a-f]{64}$/);
  assert.equal(app.publishableKey, `pk_live_${app.appId}`);
  assert.deepEqual(app.origins, ["https://acme.com"]);
  const parts = parseSecretKey(app.secretKey!)!;
  assert.equal(parts.appId, app.appId);

  // Only a hash of the secret is stored; the secret's text is nowhere in the record.
  const stored = (await kv.get<AppRecord>(appKey(app.appId))).value!;
  assert.equal(stored.secretHash, await sha256Hex(parts.secret));
  assert.ok(
    !JSON.stringify(stored, (_, v) => v instanceof Uint8Array ? [...v] : v)
      .includes(parts.secret),
  );
  assert.equal((await listApps(kv))[0].secretKey, undefined);
  kv.close();
});

Deno.test("two apps never share an id or a secret", async () => {
  const kv = await Deno.openKv(":memory:");
  const a = await createApp(kv, {
    name: "a",
    origins: ["http://a.test"],
    mode: "test",
  });
  const b = await createApp(kv, {
    name: "b",
    origins: ["http://b.test"],
    mode: "test",
  });
  assert.notEqual(a.appId, b.appId);
  assert.notEqual(
    parseSecretKey(a.secretKey!)!.secret,
    parseSecretKey(b.secretKey!)!.secret,
  );
  kv.close();
});

Deno.test("bad app input is a RangeError", async () => {
  const kv = await Deno.openKv(":memory:");
  await assert.rejects(
    createApp(kv, { name: " ", origins: ["https://a.com"], mode: "test" }),
    RangeError,
  );
  await assert.rejects(
    createApp(kv, {
      name: "a",
      origins: ["javascript:alert(1)"],
      mode: "test",
    }),
    RangeError,
  );
  assert.deepEqual(await listApps(kv), []);
  kv.close();
});

Deno.test("rotation revokes the old secret on the very next request", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const status = (key: string) =>
    service.fetch("/api/v1/status?userId=u1", { headers: bearer(key) });

  assert.equal((await status(app.secretKey)).status, 200);
  const rotated = (await rotateSecret(service.kv, app.appId))!;
  assert.notEqual(rotated.secretKey, app.secretKey);
  await expectError(await status(app.secretKey), 401, "invalid_api_key");
  assert.equal((await status(rotated.secretKey!)).status, 200);
  assert.equal(await rotateSecret(service.kv, "nosuchapp0000000"), null);
});

Deno.test("a secret key with one character changed is rejected", async () => {
  await using service = await startTestService();
  const app = await service.createApp();
  const last = app.secretKey.at(-1) === "0" ? "1" : "0";
  const forged = app.secretKey.slice(0, -1) + last;
  await expectError(
    await service.fetch("/api/v1/status?userId=u1", {
      headers: bearer(forged),
    }),
    401,
    "invalid_api_key",
  );
});

Deno.test("origins can be replaced, normalised and de-duplicated, never emptied", async () => {
  const kv = await Deno.openKv(":memory:");
  const app = await createApp(kv, {
    name: "a",
    origins: ["https://a.com"],
    mode: "test",
  });
  const updated = await updateOrigins(kv, app.appId, [
    "https://b.com/",
    "https://b.com",
    "http://localhost:5173/path",
  ]);
  assert.deepEqual(updated!.origins, [
    "https://b.com",
    "http://localhost:5173",
  ]);
  await assert.rejects(updateOrigins(kv, app.appId, []), RangeError);
  await assert.rejects(updateOrigins(kv, app.appId, ["ftp://x"]), RangeError);
  assert.equal(
    await updateOrigins(kv, "nosuchapp0000000", ["https://c.com"]),
    null,
  );
  assert.deepEqual((await listApps(kv))[0].origins, [
    "https://b.com",
    "http://localhost:5173",
  ]);
  kv.close();
});
