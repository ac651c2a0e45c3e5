import assert from "node:assert/strict";
import { APICallError } from "@ai-sdk/provider";
import { RetryError } from "ai";
import { ERROR_STATUS as SERVICE_STATUS } from "../server/errors.ts";
import {
  ERROR_STATUS,
  errorFromBody,
  toWattfareError,
  WattfareAuthError,
  WattfareBudgetError,
  WattfareError,
  WattfareGrantError,
  WattfareNotConnectedError,
  WattfareRateLimitError,
  WattfareRequestError,
  WattfareUpstreamError,
} from "./errors.ts";
import * as clientEntry from "./client.ts";
import * as serverEntry from "./server.ts";

function body(code: string, message = `because ${code}`): string {
  return JSON.stringify({
    error: { type: "wattfare_error", code, message, param: null },
  });
}

function apiCallError(
  status: number,
  responseBody: string,
  headers: Record<string, string> = {},
): APICallError {
  return new APICallError({
    message: "refused",
    url: "https://wattfare.com/api/v1/chat/completions",
    requestBodyValues: {},
    statusCode: status,
    responseHeaders: headers,
    responseBody,
  });
}

const CLASS_OF_CODE: Record<string, unknown> = {
  invalid_request: WattfareRequestError,
  model_not_priced: WattfareRequestError,
  invalid_api_key: WattfareAuthError,
  invalid_session: WattfareAuthError,
  budget_exceeded: WattfareBudgetError,
  grant_invalid: WattfareGrantError,
  not_connected: WattfareNotConnectedError,
  revoked: WattfareNotConnectedError,
  origin_not_allowed: WattfareRequestError,
  mode_mismatch: WattfareRequestError,
  not_found: WattfareRequestError,
  payload_too_large: WattfareRequestError,
  rate_limited: WattfareRateLimitError,
  upstream_error: WattfareUpstreamError,
  upstream_timeout: WattfareUpstreamError,
};

Deno.test("the SDK knows every code the service sends, with the same status", () => {
  assert.deepEqual(ERROR_STATUS, { ...SERVICE_STATUS });
  assert.deepEqual(
    Object.keys(CLASS_OF_CODE).sort(),
    Object.keys(SERVICE_STATUS).sort(),
  );
});

Deno.test("each code inside an APICallError becomes its class, with code, status, message and param", () => {
  for (const [code, status] of Object.entries(ERROR_STATUS)) {
    const typed = toWattfareError(apiCallError(status, body(code)));
    assert.ok(
      typed instanceof (CLASS_OF_CODE[code] as typeof WattfareError),
      code,
    );
    assert.ok(typed instanceof WattfareError);
    assert.equal(typed.code, code);
    assert.equal(typed.status, status);
    assert.equal(typed.message, `because ${code}`);
    assert.equal(typed.param, null);
  }
  const withParam = errorFromBody(
    {
      error: {
        type: "wattfare_error",
        code: "invalid_request",
        message: "bad",
        param: "userId",
      },
    },
    400,
  );
  assert.equal(withParam?.param, "userId");
});

Deno.test("toWattfareError looks inside RetryError, stream error parts, causes and raw bodies", () => {
  const inner = apiCallError(429, body("rate_limited"), { "retry-after": "3" });
  const retry = new RetryError({
    message: "Failed after 3 attempts",
    reason: "maxRetriesExceeded",
    errors: [apiCallError(502, body("upstream_error")), inner],
  });
  const fromRetry = toWattfareError(retry);
  assert.ok(fromRetry instanceof WattfareRateLimitError);
  assert.equal(fromRetry.retryAfter, 3);

  // The last attempt was not ours: an earlier one still tells.
  const mixed = new RetryError({
    message: "Failed",
    reason: "maxRetriesExceeded",
    errors: [apiCallError(402, body("budget_exceeded")), new Error("socket")],
  });
  assert.ok(toWattfareError(mixed) instanceof WattfareBudgetError);

  const part = { type: "error", error: apiCallError(403, body("revoked")) };
  const fromPart = toWattfareError(part);
  assert.ok(fromPart instanceof WattfareNotConnectedError);
  assert.equal(fromPart.code, "revoked");

  const typed = new WattfareGrantError("grant_invalid", "used up");
  assert.equal(toWattfareError(typed), typed);
  assert.equal(toWattfareError({ type: "error", error: typed }), typed);
  assert.equal(toWattfareError(new Error("wrapped", { cause: typed })), typed);

  const raw = toWattfareError(JSON.parse(body("not_found")));
  assert.ok(raw instanceof WattfareRequestError);
  assert.equal(raw.status, 404);

  // A code this SDK does not know yet still surfaces, as the general class.
  const future = toWattfareError(apiCallError(409, body("something_new")));
  assert.ok(future instanceof WattfareRequestError);
  assert.equal(future.code, "something_new");
  assert.equal(future.status, 409);
});

Deno.test("toWattfareError returns null for everything that is not a Wattfare error", () => {
  const openAiShaped = JSON.stringify({
    error: {
      type: "invalid_request_error",
      code: "invalid_api_key",
      message: "no",
    },
  });
  const cyclic: Record<string, unknown> = { name: "loop" };
  cyclic.cause = cyclic;
  for (
    const value of [
      null,
      undefined,
      "budget_exceeded",
      42,
      new Error("boom"),
      new TypeError("fetch failed"),
      apiCallError(500, "<html>Bad gateway</html>"),
      apiCallError(401, openAiShaped),
      apiCallError(402, ""),
      { type: "error", error: new Error("stream broke") },
      new RetryError({
        message: "x",
        reason: "maxRetriesExceeded",
        errors: [new Error("a")],
      }),
      cyclic,
    ]
  ) {
    assert.equal(toWattfareError(value), null, String(value));
  }
});

Deno.test("errors survive a second copy of the package (no instanceof needed)", () => {
  const foreign = new WattfareBudgetError("budget_exceeded", "cap");
  // What another copy's error looks like: same marker, other prototype.
  const clone = Object.assign(Object.create(Error.prototype), foreign);
  Object.defineProperty(clone, Symbol.for("wattfare.error"), { value: true });
  assert.ok(WattfareError.isInstance(clone));
  assert.equal(toWattfareError(clone), clone);
  assert.ok(!WattfareError.isInstance(new Error("x")));
});

Deno.test("the server and client entries export the same error classes", () => {
  for (
    const name of [
      "WattfareError",
      "WattfareAuthError",
      "WattfareBudgetError",
      "WattfareNotConnectedError",
      "WattfareGrantError",
      "WattfareRateLimitError",
      "WattfareUpstreamError",
      "WattfareRequestError",
      "toWattfareError",
    ] as const
  ) {
    assert.equal(typeof serverEntry[name], "function", `server ${name}`);
    assert.equal(serverEntry[name], clientEntry[name], name);
  }
});
