import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import {
  signWebhook,
  verifyWebhook,
  WattfareError,
  WattfareRequestError,
  type WebhookEvent,
} from "./server.ts";

const SECRET = "whsec_" + "ab".repeat(32);
const NOW = 1_750_000_000_000; // ms
const T = NOW / 1000;
const EVENT = {
  id: "evt_0000000000000000000000001",
  type: "budget.exhausted",
  createdAt: NOW - 5_000,
  data: {
    userId: "alice",
    period: "2025-06-01",
    thresholdPercent: 100,
    limits: { monthlyUsd: 5 },
    usage: { monthlyUsd: 5 },
    remainingUsd: 0,
  },
};
const BODY = JSON.stringify(EVENT);

/** The signature computed independently of the SDK, from the documented recipe. */
function reference(body: string, secret: string, t: number): string {
  return `t=${t},v1=${
    createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")
  }`;
}

async function refusal(
  promise: Promise<unknown>,
  pattern: RegExp,
): Promise<WattfareError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof WattfareRequestError, String(error));
    assert.ok(error instanceof WattfareError);
    assert.equal(error.code, "invalid_request");
    assert.equal(error.status, 0);
    assert.match(error.message, pattern);
    return error;
  }
  throw new Error("expected verifyWebhook to refuse");
}

Deno.test("verifyWebhook accepts the documented signature and returns the typed event", async () => {
  const header = reference(BODY, SECRET, T);
  assert.equal(await signWebhook(BODY, SECRET, { timestamp: T }), header);
  const event: WebhookEvent = await verifyWebhook(BODY, header, SECRET, {
    now: NOW,
  });
  assert.deepEqual(event, EVENT);
  if (event.type === "budget.exhausted") {
    // The type narrows `data`.
    assert.equal(event.data.thresholdPercent, 100);
  }
  // With the real clock, a fresh signature passes too.
  assert.equal(
    (await verifyWebhook(BODY, await signWebhook(BODY, SECRET), SECRET)).id,
    EVENT.id,
  );
});

Deno.test("a tampered body is refused", async () => {
  const header = reference(BODY, SECRET, T);
  const tampered = BODY.replace('"monthlyUsd":5}', '"monthlyUsd":500}');
  assert.notEqual(tampered, BODY);
  const error = await refusal(
    verifyWebhook(tampered, header, SECRET, { now: NOW }),
    /signature does not match/,
  );
  assert.equal(error.param, "x-wattfare-signature");
  // Re-serialized JSON (whitespace only) no longer matches either.
  await refusal(
    verifyWebhook(JSON.stringify(EVENT, null, 2), header, SECRET, { now: NOW }),
    /signature does not match/,
  );
});

Deno.test("a signature made with another secret is refused", async () => {
  const header = reference(BODY, "whsec_" + "cd".repeat(32), T);
  await refusal(
    verifyWebhook(BODY, header, SECRET, { now: NOW }),
    /signature does not match/,
  );
});

Deno.test("replayed and late deliveries are refused; the tolerance is adjustable", async () => {
  const header = reference(BODY, SECRET, T);
  // Just inside the default 300 s, either way.
  await verifyWebhook(BODY, header, SECRET, { now: NOW + 300_000 });
  await verifyWebhook(BODY, header, SECRET, { now: NOW - 300_000 });
  // A replay of a captured delivery six minutes later.
  await refusal(
    verifyWebhook(BODY, header, SECRET, { now: NOW + 301_000 }),
    /more than 300 s from now/,
  );
  // A timestamp from the future (forged or badly skewed).
  await refusal(
    verifyWebhook(BODY, header, SECRET, { now: NOW - 301_000 }),
    /replay or a late delivery/,
  );
  // The timestamp is signed: moving it forward breaks the signature.
  const moved = header.replace(`t=${T}`, `t=${T + 3600}`);
  await refusal(
    verifyWebhook(BODY, moved, SECRET, { now: NOW + 3_600_000 }),
    /signature does not match/,
  );
  await verifyWebhook(BODY, header, SECRET, {
    now: NOW + 3_600_000,
    toleranceSeconds: 3600,
  });
  await refusal(
    verifyWebhook(BODY, header, SECRET, {
      now: NOW + 1000,
      toleranceSeconds: 0,
    }),
    /more than 0 s/,
  );
});

Deno.test("a missing or malformed signature header is refused", async () => {
  const good = reference(BODY, SECRET, T);
  const v1 = good.split(",v1=")[1];
  for (const header of [null, "", "   "]) {
    await refusal(
      verifyWebhook(BODY, header, SECRET, { now: NOW }),
      /header is missing/,
    );
  }
  for (
    const header of [
      "garbage",
      `v1=${v1}`,
      `t=${T}`,
      `t=abc,v1=${v1}`,
      `t=-5,v1=${v1}`,
      `t=${T};v1=${v1}`,
    ]
  ) {
    await refusal(
      verifyWebhook(BODY, header, SECRET, { now: NOW }),
      /malformed/,
    );
  }
  for (
    const header of [
      `t=${T},v1=`,
      `t=${T},v1=zz`,
      `t=${T},v1=${v1.slice(0, 62)}`,
      `t=${T},v1=${v1}00`,
      `t=${T},v0=${v1},v1=${"0".repeat(64)}`,
    ]
  ) {
    await refusal(
      verifyWebhook(BODY, header, SECRET, { now: NOW }),
      /signature does not match/,
    );
  }
});

Deno.test("any one matching v1 signature passes, in any order and with spaces", async () => {
  const v1 = reference(BODY, SECRET, T).split(",v1=")[1];
  const header = `v1=${
    "0".repeat(64)
  }, t=${T}, v2=future, v1=${v1.toUpperCase()}`;
  assert.equal(
    (await verifyWebhook(BODY, header, SECRET, { now: NOW })).id,
    EVENT.id,
  );
});

Deno.test("a signed body that is not an event is refused", async () => {
  for (const body of ["not json", "[]", '{"id":"evt_1","type":"x"}']) {
    const error = await refusal(
      verifyWebhook(body, reference(body, SECRET, T), SECRET, { now: NOW }),
      /not (JSON|an event)/,
    );
    assert.equal(error.param, "body");
  }
});

Deno.test("misuse is a TypeError, not a refusal", async () => {
  const header = reference(BODY, SECRET, T);
  await assert.rejects(verifyWebhook(BODY, header, ""), TypeError);
  await assert.rejects(
    verifyWebhook(BODY, header, undefined as unknown as string),
    TypeError,
  );
  await assert.rejects(
    verifyWebhook(BODY, header, SECRET, { toleranceSeconds: -1 }),
    TypeError,
  );
  await assert.rejects(
    signWebhook(BODY, SECRET, { timestamp: 1.5 }),
    TypeError,
  );
});
