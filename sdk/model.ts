/**
 * The AI SDK language model behind `user.model()` and `grant.model()`: the
 * OpenAI-compatible provider pointed at Wattfare's proxy, plus three things
 * it cannot do alone. Internal to the package.
 *
 * 1. **Retries follow the error code, not just the status.** The AI SDK
 *    retries an `APICallError` whose `isRetryable` is true. Every Wattfare
 *    error answer is re-raised with `isRetryable` decided by its code: only
 *    `rate_limited`, `upstream_error` and `upstream_timeout` may be retried;
 *    `budget_exceeded`, `grant_invalid`, `not_connected`, `revoked` and every
 *    other code never are, so a refused metered call is sent exactly once.
 *    The typed error rides along as the `APICallError`'s `cause`.
 * 2. **The metered cost reaches the caller** as
 *    `providerMetadata.wattfare.costUsd`: from the `x-wattfare-cost` header
 *    (the exact amount charged) on a whole response, from the final chunk's
 *    `usage.cost` (rounded up to the nano-dollar, as the ledger does) on a
 *    stream. `providerMetadata.wattfare.requestId` names the ledger entry.
 * 3. **An error in the middle of a stream** (the upstream's error chunk)
 *    becomes a {@link WattfareUpstreamError} stream part.
 *
 * @module
 */
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import {
  APICallError,
  type LanguageModelV4,
  type LanguageModelV4CallOptions,
  type LanguageModelV4GenerateResult,
  type LanguageModelV4StreamPart,
  type LanguageModelV4StreamResult,
  type SharedV4ProviderMetadata,
} from "@ai-sdk/provider";
import { ceilToNanoUsd } from "./cost.ts";
import { toWattfareError, WattfareUpstreamError } from "./errors.ts";
import type { FetchLike } from "./http.ts";

/** Codes whose requests may be sent again: nothing was metered. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  "rate_limited",
  "upstream_error",
  "upstream_timeout",
]);

/** The provider name: it keys `providerOptions` and `providerMetadata`. */
export const PROVIDER_NAME = "wattfare";

/** How to reach the proxy for one user or grant. */
export interface ModelConfig {
  /** `${baseUrl}/api/v1`. */
  api: string;
  /** Authorization and the user or grant header. */
  headers: Record<string, string>;
  fetch?: FetchLike;
}

/** Makes models for one user or grant, sharing one provider. */
export function modelFactory(
  config: ModelConfig,
): (modelId: string) => LanguageModelV4 {
  const provider = createOpenAICompatible({
    name: PROVIDER_NAME,
    baseURL: config.api,
    headers: config.headers,
    includeUsage: true,
    supportsStructuredOutputs: true,
    fetch: config.fetch,
  });
  return (modelId) => {
    if (typeof modelId !== "string" || modelId.length === 0) {
      throw new TypeError(
        'Wattfare: model() needs a model id such as "openai/gpt-4o-mini"',
      );
    }
    return new WattfareLanguageModel(provider.chatModel(modelId));
  };
}

class WattfareLanguageModel implements LanguageModelV4 {
  readonly specificationVersion = "v4" as const;
  readonly #inner: LanguageModelV4;

  constructor(inner: LanguageModelV4) {
    this.#inner = inner;
  }

  get provider(): string {
    return this.#inner.provider;
  }

  get modelId(): string {
    return this.#inner.modelId;
  }

  get supportedUrls(): LanguageModelV4["supportedUrls"] {
    return this.#inner.supportedUrls;
  }

  async doGenerate(
    options: LanguageModelV4CallOptions,
  ): Promise<LanguageModelV4GenerateResult> {
    let result: LanguageModelV4GenerateResult;
    try {
      result = await this.#inner.doGenerate(options);
    } catch (error) {
      throw withRetryPolicy(error);
    }
    const headers = result.response?.headers ?? {};
    const costUsd = ceilToNanoUsd(headers["x-wattfare-cost"]) ??
      ceilToNanoUsd(rawCost(result.usage.raw));
    return {
      ...result,
      providerMetadata: withWattfare(result.providerMetadata, {
        costUsd,
        requestId: headers["x-wattfare-request-id"],
      }),
    };
  }

  async doStream(
    options: LanguageModelV4CallOptions,
  ): Promise<LanguageModelV4StreamResult> {
    let result: LanguageModelV4StreamResult;
    try {
      result = await this.#inner.doStream(options);
    } catch (error) {
      throw withRetryPolicy(error);
    }
    const requestId = result.response?.headers?.["x-wattfare-request-id"];
    const stream = result.stream.pipeThrough(
      new TransformStream<LanguageModelV4StreamPart, LanguageModelV4StreamPart>(
        {
          transform(part, controller) {
            if (part.type === "finish") {
              controller.enqueue({
                ...part,
                providerMetadata: withWattfare(part.providerMetadata, {
                  costUsd: ceilToNanoUsd(rawCost(part.usage.raw)),
                  requestId,
                }),
              });
            } else if (part.type === "error") {
              controller.enqueue({ type: "error", error: streamError(part) });
            } else {
              controller.enqueue(part);
            }
          },
        },
      ),
    );
    return { ...result, stream };
  }
}

/**
 * Re-raises an `APICallError` that carries a Wattfare error with the retry
 * decision of its code, and the typed error as its cause.
 */
function withRetryPolicy(error: unknown): unknown {
  if (!APICallError.isInstance(error)) return error;
  const typed = toWattfareError(error);
  if (!typed) return error;
  return new APICallError({
    message: error.message,
    url: error.url,
    requestBodyValues: error.requestBodyValues,
    statusCode: error.statusCode,
    responseHeaders: error.responseHeaders,
    responseBody: error.responseBody,
    data: error.data,
    cause: typed,
    isRetryable: RETRYABLE_CODES.has(typed.code),
  });
}

/** The error of a stream's error part, typed when it is the upstream's error chunk. */
function streamError(
  part: Extract<LanguageModelV4StreamPart, { type: "error" }>,
): unknown {
  const error = part.error;
  const typed = toWattfareError(error);
  if (typed) return typed;
  // The upstream's mid-stream error chunk arrives as a plain object.
  if (
    typeof error === "object" && error !== null && !(error instanceof Error) &&
    typeof (error as { message?: unknown }).message === "string"
  ) {
    return new WattfareUpstreamError(
      "upstream_error",
      `The model provider failed mid-stream: ${
        (error as { message: string }).message
      }`,
      { status: 200, cause: error },
    );
  }
  return error;
}

function rawCost(raw: unknown): unknown {
  return typeof raw === "object" && raw !== null
    ? (raw as { cost?: unknown }).cost
    : undefined;
}

function withWattfare(
  metadata: SharedV4ProviderMetadata | undefined,
  values: { costUsd: number | undefined; requestId: string | undefined },
): SharedV4ProviderMetadata {
  const own = { ...metadata?.[PROVIDER_NAME] };
  if (values.costUsd !== undefined) own.costUsd = values.costUsd;
  if (values.requestId !== undefined) own.requestId = values.requestId;
  return { ...metadata, [PROVIDER_NAME]: own };
}
