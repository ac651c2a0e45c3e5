import { parsePrice, type TokenPrices } from "../money.ts";
import { WattfareError } from "../errors.ts";
import type { Upstream } from "./upstream.ts";

/** What the proxy needs to know of a model. */
export interface ModelPrice {
  prices: TokenPrices;
  /** The most completion tokens one request may ask for. */
  maxCompletionTokens: number;
  /** The catalogue entry as the upstream sent it. */
  entry: unknown;
}

const TTL_MS = 60_000;

/**
 * Model prices from the upstream's `/models` catalogue, cached for a minute.
 * A model missing from it, or with a price we cannot read, is not priced:
 * the proxy refuses it rather than guess low.
 */
export class PriceBook {
  readonly #upstream: Upstream;
  readonly #clock: () => number;
  #cache: { at: number; models: Promise<Map<string, ModelPrice>> } | null =
    null;

  constructor(upstream: Upstream, clock: () => number = Date.now) {
    this.#upstream = upstream;
    this.#clock = clock;
  }

  /** The price of `model`; `400 model_not_priced` when unknown. */
  async price(model: string): Promise<ModelPrice> {
    const found = (await this.#models()).get(model);
    if (!found) {
      throw new WattfareError(
        "model_not_priced",
        `No price is known for model "${model}"; see GET /api/v1/models.`,
        { param: "model" },
      );
    }
    return found;
  }

  /** Every priced model's catalogue entry. */
  async models(): Promise<unknown[]> {
    return [...(await this.#models()).values()].map((model) => model.entry);
  }

  async #models(): Promise<Map<string, ModelPrice>> {
    const now = this.#clock();
    if (!this.#cache || now - this.#cache.at > TTL_MS) {
      const models = this.#load();
      this.#cache = { at: now, models };
      // A failed load must not stick: the next request tries again.
      models.catch(() => {
        if (this.#cache?.models === models) this.#cache = null;
      });
    }
    return await this.#cache.models;
  }

  async #load(): Promise<Map<string, ModelPrice>> {
    let body: unknown;
    try {
      const response = await this.#upstream.fetch(
        new Request(this.#upstream.url("/models"), {
          signal: AbortSignal.timeout(10_000),
        }),
      );
      if (!response.ok) throw new Error(`status ${response.status}`);
      body = await response.json();
    } catch {
      throw new WattfareError(
        "upstream_error",
        "Could not load model prices from the upstream; try again.",
      );
    }
    const models = new Map<string, ModelPrice>();
    const data = (body as { data?: unknown })?.data;
    for (const model of Array.isArray(data) ? data : []) {
      const price = readModel(model);
      if (price) models.set(model.id, price);
    }
    return models;
  }
}

function readModel(model: unknown): ModelPrice | null {
  const m = model as {
    id?: unknown;
    context_length?: unknown;
    pricing?: Record<string, unknown>;
    top_provider?: { max_completion_tokens?: unknown };
  };
  if (typeof m?.id !== "string" || !m.pricing) return null;
  const { prompt, completion, request } = m.pricing;
  if (typeof prompt !== "string" || typeof completion !== "string") return null;
  const limit = [m.top_provider?.max_completion_tokens, m.context_length].find(
    (n): n is number => Number.isSafeInteger(n) && (n as number) > 0,
  );
  if (!limit) return null;
  try {
    return {
      prices: {
        prompt: parsePrice(prompt),
        completion: parsePrice(completion),
        request: typeof request === "string" ? parsePrice(request) : 0n,
      },
      maxCompletionTokens: limit,
      entry: model,
    };
  } catch {
    return null;
  }
}
