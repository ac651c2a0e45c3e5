import type { Context } from "hono";
import type { Mode } from "../../sdk/secret_key.ts";
import { WattfareError } from "../errors.ts";
import { formatUsd, tokenCost } from "../money.ts";
import type { SecretBox } from "../crypto/secret_box.ts";
import type { Charge } from "../ledger/charge.ts";
import type { HoldContext } from "../ledger/hold_context.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { grantIdOf } from "../grants/grants.ts";
import { pauseForAnomaly } from "../connections/connections.ts";
import type { Hold } from "../ledger/hold.ts";
import type { Env } from "../http/env.ts";
import { readJson } from "../http/read_json.ts";
import { userIdSchema } from "../http/schemas.ts";
import {
  chatRequestSchema,
  promptBoundTokens,
  requestedMaxTokens,
} from "./chat_request.ts";
import { type HoldSize, sizeHold } from "./hold_size.ts";
import type { ModelPrice, PriceBook } from "./price_book.ts";
import { createStreamMeter } from "./stream_meter.ts";
import { IdleWatch, UpstreamIdleError } from "./idle_watch.ts";
import type { Upstream } from "./upstream.ts";
import { parseCompletionUsage, type Usage } from "./usage.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { RateLimiter } from "../ratelimit/rate_limiter.ts";

/** What the proxy works with. */
export interface ProxyDeps {
  ledger: Ledger;
  box: SecretBox;
  priceBooks: Record<Mode, PriceBook>;
  upstreams: Record<Mode, Upstream>;
  upstreamTimeoutMs: number;
  /** Longest silence allowed between the upstream's chunks, once it answered. */
  upstreamIdleTimeoutMs: number;
  metrics: Metrics;
  rateLimiter: RateLimiter;
  appRequestsPerMinute: number;
  connectionRequestsPerMinute: number;
  /** Attempts in 10 s that pause a connection as an anomaly. */
  burstRequests: number;
  /** Keeps settlements that run after a response is sent in view (for shutdown and tests). */
  track(settlement: Promise<unknown>): void;
}

/** The metered work of one admitted request. */
interface Metered {
  hold: Hold;
  size: HoldSize;
  price: ModelPrice;
  promptTokens: number;
}

/**
 * `POST /api/v1/chat/completions`: price the model, hold the worst case
 * against the user's cap, forward with the user's funding key, and settle the
 * exact cost when the upstream's usage arrives.
 */
export function chatCompletions(deps: ProxyDeps) {
  return async (c: Context<Env>): Promise<Response> => {
    const app = c.var.caller.app;
    const target = await requestTarget(c);
    // Started now, the connection's read overlaps reading the body.
    let connection = target.kind === "user"
      ? deps.ledger.readConnection(app.id, target.userId)
      : undefined;
    connection?.catch(() => {});
    const request = await readJson(c, chatRequestSchema);
    // Rate limits come before any hold: a refused request holds nothing.
    const anomaly = await deps.rateLimiter.take([
      {
        scope: "app",
        id: app.id,
        perMinute: app.rateLimits?.appRequestsPerMinute ??
          deps.appRequestsPerMinute,
      },
      {
        scope: "connection",
        id: target.kind === "user"
          ? JSON.stringify([app.id, target.userId])
          : target.grantId,
        perMinute: app.rateLimits?.connectionRequestsPerMinute ??
          deps.connectionRequestsPerMinute,
        burst: target.kind === "user" ? deps.burstRequests : undefined,
      },
    ]);
    if (anomaly && target.kind === "user") {
      await pauseForAnomaly(c.var.kv, app.id, target.userId, c.var.clock());
      // The read before the pause is stale: read it again.
      connection = undefined;
    }
    const price = await deps.priceBooks[app.mode].price(request.model);
    const promptTokens = promptBoundTokens(request);
    const fit = ({ remainingNano }: HoldContext) =>
      sizeHold(price, promptTokens, requestedMaxTokens(request), remainingNano);
    const { hold, sized: size, context } = target.kind === "user"
      ? await deps.ledger.placeHold(
        app.id,
        target.userId,
        request.model,
        fit,
        connection,
      )
      : await deps.ledger.placeGrantHold(
        app.id,
        target.grantId,
        request.model,
        fit,
      );
    const metered: Metered = { hold, size, price, promptTokens };

    const body = { ...request };
    if (body.max_completion_tokens != null) {
      body.max_completion_tokens = size.maxTokens;
    }
    if (body.max_completion_tokens == null || body.max_tokens != null) {
      body.max_tokens = size.maxTokens;
    }
    if (body.stream) body.stream_options = { include_usage: true };

    let upstreamResponse: Response;
    // Aborts only the wait for the upstream's headers: a client that leaves
    // then, or the timeout. Once streaming, cancelling the body stops it.
    // (Deno's request.signal also fires after a successful response, so it
    // must not reach the stream.)
    const abort = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, deps.upstreamTimeoutMs);
    const clientGone = () => abort.abort();
    c.req.raw.signal.addEventListener("abort", clientGone, { once: true });
    const started = performance.now();
    try {
      const fundingKey = await deps.box.open(context.funding);
      const upstream = deps.upstreams[app.mode];
      upstreamResponse = await upstream.fetch(
        new Request(upstream.url("/chat/completions"), {
          method: "POST",
          headers: {
            authorization: `Bearer ${fundingKey}`,
            "content-type": "application/json",
            accept: body.stream ? "text/event-stream" : "application/json",
          },
          body: JSON.stringify(body),
          signal: abort.signal,
        }),
      );
      // An in-process upstream may answer an aborted request instead of failing.
      if (abort.signal.aborted) {
        await upstreamResponse.body?.cancel();
        throw abort.signal.reason;
      }
    } catch {
      await deps.ledger.release(hold);
      throw timedOut
        ? new WattfareError(
          "upstream_timeout",
          "The upstream did not answer in time; nothing was charged.",
        )
        : new WattfareError(
          "upstream_error",
          "Could not reach the upstream; nothing was charged.",
        );
    } finally {
      clearTimeout(timer);
      c.req.raw.signal.removeEventListener("abort", clientGone);
    }

    deps.metrics.observe(
      "wattfare_upstream_seconds",
      (performance.now() - started) / 1000,
    );
    if (!upstreamResponse.ok) {
      await deps.ledger.release(hold);
      throw await upstreamFailure(upstreamResponse);
    }
    const headers = new Headers({
      "content-type": upstreamResponse.headers.get("content-type") ??
        "application/json",
      "x-wattfare-request-id": hold.id,
    });
    if (!body.stream || !upstreamResponse.body) {
      return await settleWhole(deps, metered, upstreamResponse, headers);
    }
    headers.set("cache-control", "no-cache");
    return new Response(meteredStream(deps, metered, upstreamResponse.body), {
      status: 200,
      headers,
    });
  };
}

/** Whose budget pays: a connected user, or a one-time grant. */
type Target =
  | { kind: "user"; userId: string }
  | { kind: "grant"; grantId: string };

async function requestTarget(c: Context<Env>): Promise<Target> {
  const userId = c.req.header("x-wattfare-user");
  const grantToken = c.req.header("x-wattfare-grant");
  if (userId !== undefined && grantToken !== undefined) {
    throw new WattfareError(
      "invalid_request",
      "Send either x-wattfare-user or x-wattfare-grant, not both.",
    );
  }
  if (grantToken !== undefined) {
    const grantId = await grantIdOf(grantToken.trim());
    if (!grantId) {
      throw new WattfareError(
        "grant_invalid",
        "This grant is unknown, expired, used up or over its dollar cap.",
      );
    }
    return { kind: "grant", grantId };
  }
  const parsed = userIdSchema.safeParse(userId);
  if (!parsed.success) {
    throw new WattfareError(
      "invalid_request",
      "Name the user the request is for in the x-wattfare-user header (or send x-wattfare-grant).",
      { param: "x-wattfare-user" },
    );
  }
  return { kind: "user", userId: parsed.data };
}

/**
 * A non-stream response: read it whole and answer with its cost; the
 * settlement commits right after, off the response's path.
 */
async function settleWhole(
  deps: ProxyDeps,
  metered: Metered,
  response: Response,
  headers: Headers,
): Promise<Response> {
  let text: string;
  try {
    text = await readText(response, deps.upstreamIdleTimeoutMs);
  } catch (error) {
    // The upstream started answering, then failed or went quiet: it may
    // have billed, so charge the worst case.
    deps.track(
      deps.ledger.settle(metered.hold, boundCharge(metered, undefined)),
    );
    throw error instanceof UpstreamIdleError
      ? new WattfareError(
        "upstream_timeout",
        "The upstream stopped sending its answer.",
      )
      : new WattfareError(
        "upstream_error",
        "The upstream's response broke off.",
      );
  }
  const usage = parseCompletionUsage(text);
  const charge = usage
    ? usageCharge(metered, usage)
    : boundCharge(metered, undefined);
  deps.track(deps.ledger.settle(metered.hold, charge));
  headers.set("x-wattfare-cost", formatUsd(charge.costNano));
  return new Response(text, { status: 200, headers });
}

/** A whole body as text, with no more than `idleMs` of silence between chunks. */
async function readText(response: Response, idleMs: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  let idleError: UpstreamIdleError | undefined;
  const idle = new IdleWatch(idleMs, (error) => {
    idleError = error;
    reader.cancel(error).catch(() => {});
  });
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (true) {
      idle.waiting();
      const { done, value } = await reader.read();
      idle.received();
      if (idleError) throw idleError;
      if (done) return text + decoder.decode();
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    await reader.cancel(error).catch(() => {});
    throw error;
  } finally {
    idle.stop();
  }
}

/**
 * Passes the upstream's stream to the client chunk for chunk, through the
 * meter, and settles once it ends, breaks or the client goes away.
 */
function meteredStream(
  deps: ProxyDeps,
  metered: Metered,
  upstreamBody: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  const meter = createStreamMeter();
  const reader = chunkReader(upstreamBody);
  // A quiet upstream is cut off: the waiting read ends, and the client's
  // stream ends in this error.
  let idleError: UpstreamIdleError | undefined;
  const idle = new IdleWatch(deps.upstreamIdleTimeoutMs, (error) => {
    idleError = error;
    reader.cancel(error).catch(() => {});
  });
  let settled = false;
  const settle = () => {
    if (settled) return;
    settled = true;
    idle.stop();
    const seen = meter.snapshot();
    const charge = seen.usage
      ? usageCharge(metered, seen.usage)
      : boundCharge(metered, seen.generatedBytes);
    deps.track(deps.ledger.settle(metered.hold, charge));
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        idle.waiting();
        const { done, value } = await reader.read();
        idle.received();
        if (idleError) throw idleError;
        if (done) {
          meter.end();
          settle();
          controller.close();
        } else {
          // The client gets each chunk before the meter looks at it.
          controller.enqueue(value);
          meter.feed(value);
        }
      } catch (error) {
        settle();
        controller.error(error);
      }
    },
    async cancel(reason) {
      idle.stop();
      await reader.cancel(reason).catch(() => {});
      settle();
    },
  }, { highWaterMark: 0 });
}

/** Bytes one read of an upstream's body may fill (an SSE chunk is ~300). */
const READ_BYTES = 4096;

/**
 * Reads a body chunk by chunk. A byte stream (fetch's) is read with a BYOB
 * reader into one small buffer per stream, reused for every read, and each
 * chunk is copied out at its own size. A default reader of fetch's body
 * allocates a fresh 64 KiB ArrayBuffer for every read, held while the read
 * waits and then by the chunk it returns until a GC: with 1,000 slow streams
 * that was 150-300 MB of ArrayBuffers and malloc heap.
 */
function chunkReader(body: ReadableStream<Uint8Array>): {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>;
  cancel(reason?: unknown): Promise<void>;
} {
  let byob: ReadableStreamBYOBReader;
  try {
    byob = body.getReader({ mode: "byob" });
  } catch {
    // Not a byte stream (e.g. the in-process sandbox): chunks come as made.
    return body.getReader();
  }
  let buffer = new ArrayBuffer(READ_BYTES);
  return {
    async read() {
      const result = await byob.read(new Uint8Array(buffer));
      if (result.done) return { done: true, value: undefined };
      const chunk = result.value.slice();
      buffer = result.value.buffer as ArrayBuffer;
      return { done: false, value: chunk };
    },
    cancel: (reason) => byob.cancel(reason),
  };
}

function usageCharge(metered: Metered, usage: Usage): Charge {
  return {
    costNano: usage.costNano ?? tokenCost(usage, metered.price.prices),
    promptTokens: usage.promptTokens,
    completionTokens: usage.completionTokens,
    basis: "usage",
  };
}

/**
 * The charge when no usage arrived: the prompt bound plus one completion
 * token per byte of output seen (every token is at least a byte), or the
 * whole completion limit when the output is unknown.
 */
function boundCharge(
  metered: Metered,
  outputBytes: number | undefined,
): Charge {
  const completionTokens = Math.min(
    outputBytes ?? metered.size.maxTokens,
    metered.size.maxTokens,
  );
  return {
    costNano: tokenCost(
      { promptTokens: metered.promptTokens, completionTokens },
      metered.price.prices,
    ),
    promptTokens: metered.promptTokens,
    completionTokens,
    basis: "output_bound",
  };
}

/** Maps an upstream's error answer to ours; the upstream's text is kept short. */
async function upstreamFailure(response: Response): Promise<WattfareError> {
  let detail = "";
  try {
    const body = await response.json();
    if (typeof body?.error?.message === "string") {
      detail = body.error.message.slice(0, 300);
    }
  } catch {
    // Not JSON: the status says enough.
  }
  const suffix = detail ? `: ${detail}` : "";
  switch (response.status) {
    case 400:
    case 422:
      return new WattfareError(
        "invalid_request",
        `The upstream rejected the request${suffix}`,
      );
    case 402:
      return new WattfareError(
        "budget_exceeded",
        `The user's funding source is out of credits${suffix}`,
      );
    case 429: {
      const retryAfter = Number(response.headers.get("retry-after"));
      return new WattfareError(
        "rate_limited",
        `The upstream is rate limiting${suffix}`,
        {
          retryAfter: Number.isFinite(retryAfter) && retryAfter > 0
            ? retryAfter
            : 1,
        },
      );
    }
    default:
      return new WattfareError(
        "upstream_error",
        `The upstream failed with status ${response.status}; nothing was charged${suffix}`,
      );
  }
}
