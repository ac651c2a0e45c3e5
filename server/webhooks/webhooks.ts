import type {
  WebhookEvent,
  WebhookEventDataMap,
  WebhookEventOf,
  WebhookEventType,
} from "../../sdk/webhooks.ts";
import { randomId } from "../crypto/random.ts";
import {
  webhookDeliveryKey,
  webhookEndpointKey,
  webhookEventKey,
} from "../kv/keys.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { WebhookEndpoint } from "./endpoint.ts";
import { listEndpoints } from "./endpoints.ts";
import {
  type DeliveryMessage,
  type DeliveryRecord,
  isDeliveryMessage,
} from "./delivery_record.ts";
import { type AttemptOutcome, postEvent } from "./post_event.ts";

/** Waits before each retry: 1 s, 5 s, 30 s, 2 min, 10 min; six attempts in all. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [
  1_000,
  5_000,
  30_000,
  120_000,
  600_000,
];

/** How long one attempt waits for the receiver's response headers. */
export const DEFAULT_ATTEMPT_TIMEOUT_MS = 10_000;

/** Events and delivery records are kept this long, for the deliveries listing. */
const RECORD_TTL_MS = 30 * 86_400_000;

/** Options of {@link Webhooks}. */
export interface WebhooksOptions {
  /** Current time in ms; tests replace it. */
  clock?: () => number;
  /** The `fetch` deliveries use. */
  fetch?: typeof fetch;
  /** Delay before each retry; its length + 1 is the number of attempts. */
  retryDelaysMs?: readonly number[];
  /** Per-attempt timeout. */
  timeoutMs?: number;
  /** Where structured log lines go; `null` for none. Default: stdout. */
  log?: ((line: string) => void) | null;
  metrics?: Metrics;
}

/**
 * An event ready to commit: add it to an atomic operation that records why
 * it happened, so the event is sent if and only if that commit succeeds.
 */
export interface StagedEvent<T extends WebhookEventType> {
  event: WebhookEventOf<T>;
  /** How many endpoints will receive it. */
  endpoints: number;
  /** Adds the event, its delivery records and first attempts to `op`. */
  addTo(op: Deno.AtomicOperation): Deno.AtomicOperation;
}

/**
 * Sends events to the endpoints apps registered, through the KV queue: an
 * event commits together with one queue message per endpoint, so a crash
 * after the commit loses nothing; each attempt that fails enqueues the next
 * with a growing delay, until one answers 2xx or the attempts run out.
 * Delivery is at least once: receivers dedupe by event id.
 */
export class Webhooks {
  readonly #kv: Deno.Kv;
  readonly #clock: () => number;
  readonly #fetch: typeof fetch;
  readonly #retryDelaysMs: readonly number[];
  readonly #timeoutMs: number;
  readonly #log: ((line: string) => void) | null;
  readonly #metrics: Metrics | undefined;

  constructor(kv: Deno.Kv, options: WebhooksOptions = {}) {
    this.#kv = kv;
    this.#clock = options.clock ?? Date.now;
    this.#fetch = options.fetch ?? fetch;
    this.#retryDelaysMs = options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS;
    this.#log = options.log === undefined
      ? (line) => console.log(line)
      : options.log;
    this.#metrics = options.metrics;
    this.#metrics?.describe(
      "wattfare_webhook_attempts_total",
      "Webhook delivery attempts by outcome (delivered, retry, failed, dropped).",
    );
  }

  /**
   * Records an event and queues its delivery to every endpoint of `appId`
   * subscribed to `type`; returns the event. With no such endpoint, nothing
   * is written.
   */
  async emit<T extends WebhookEventType>(
    appId: string,
    type: T,
    data: WebhookEventDataMap[T],
  ): Promise<WebhookEventOf<T>> {
    const staged = await this.stage(appId, type, data);
    if (staged.endpoints > 0) {
      const result = await staged.addTo(this.#kv.atomic()).commit();
      if (!result.ok) throw new Error("webhook event commit failed");
    }
    return staged.event;
  }

  /**
   * Builds an event and reads who should receive it, without writing:
   * commit it with {@link StagedEvent.addTo} inside your own atomic
   * operation.
   */
  async stage<T extends WebhookEventType>(
    appId: string,
    type: T,
    data: WebhookEventDataMap[T],
  ): Promise<StagedEvent<T>> {
    const now = this.#clock();
    const event: WebhookEventOf<T> = {
      id: eventId(now),
      type,
      createdAt: now,
      data,
    };
    const endpoints = (await listEndpoints(this.#kv, appId))
      .filter((endpoint) => endpoint.events.includes(type));
    return {
      event,
      endpoints: endpoints.length,
      addTo: (op) => {
        if (endpoints.length === 0) return op;
        op.set(webhookEventKey(appId, event.id), event, {
          expireIn: RECORD_TTL_MS,
        });
        for (const endpoint of endpoints) {
          const record: DeliveryRecord = {
            eventId: event.id,
            endpointId: endpoint.id,
            type,
            state: "pending",
            attempts: 0,
            lastStatus: null,
            lastError: null,
            nextAttemptAt: now,
            createdAt: now,
            updatedAt: now,
          };
          op.set(webhookDeliveryKey(appId, endpoint.id, event.id), record, {
            expireIn: RECORD_TTL_MS,
          });
          op.enqueue(
            {
              kind: "webhook_delivery",
              appId,
              endpointId: endpoint.id,
              eventId: event.id,
              attempt: 1,
            } satisfies DeliveryMessage,
          );
        }
        return op;
      },
    };
  }

  /**
   * The queue listener's part: makes the delivery attempt a message asks
   * for and returns true, or returns false for a message that is not a
   * webhook delivery. Network failures never throw; a KV failure does, and
   * the queue then redelivers the message.
   */
  async handleQueueMessage(message: unknown): Promise<boolean> {
    if (!isDeliveryMessage(message)) return false;
    await this.#attempt(message);
    return true;
  }

  async #attempt(message: DeliveryMessage): Promise<void> {
    const { appId, endpointId, eventId } = message;
    const recordKey = webhookDeliveryKey(appId, endpointId, eventId);
    const [endpointEntry, eventEntry, recordEntry] = await this.#kv.getMany<
      [WebhookEndpoint, WebhookEvent, DeliveryRecord]
    >([
      webhookEndpointKey(appId, endpointId),
      webhookEventKey(appId, eventId),
      recordKey,
    ]);
    const record = recordEntry.value;
    // The queue delivers at least once: a message whose attempt was already
    // made (or whose delivery ended) is a duplicate.
    if (
      !record || record.state !== "pending" ||
      record.attempts !== message.attempt - 1
    ) return;
    const endpoint = endpointEntry.value;
    const event = eventEntry.value;
    let outcome: AttemptOutcome;
    if (!endpoint || !event) {
      outcome = {
        ok: false,
        status: null,
        error: endpoint ? "event expired" : "endpoint deleted",
      };
    } else {
      outcome = await postEvent(endpoint, event, {
        fetch: this.#fetch,
        timeoutMs: this.#timeoutMs,
        now: this.#clock(),
      });
    }
    const now = this.#clock();
    const retryIn = endpoint && event && !outcome.ok
      ? this.#retryDelaysMs[message.attempt - 1]
      : undefined;
    const next: DeliveryRecord = {
      ...record,
      state: outcome.ok
        ? "delivered"
        : retryIn === undefined
        ? "failed"
        : "pending",
      attempts: message.attempt,
      lastStatus: outcome.status,
      lastError: outcome.ok ? null : outcome.error,
      nextAttemptAt: retryIn === undefined ? null : now + retryIn,
      updatedAt: now,
    };
    const op = this.#kv.atomic().check(recordEntry).set(recordKey, next, {
      expireIn: RECORD_TTL_MS,
    });
    if (retryIn !== undefined) {
      op.enqueue(
        { ...message, attempt: message.attempt + 1 } satisfies DeliveryMessage,
        { delay: retryIn },
      );
    }
    // A failed check means a duplicate of this message got there first and
    // already recorded the attempt (and queued the next one).
    if (!(await op.commit()).ok) return;
    const result = outcome.ok
      ? "delivered"
      : !endpoint || !event
      ? "dropped"
      : retryIn === undefined
      ? "failed"
      : "retry";
    this.#metrics?.count("wattfare_webhook_attempts_total", {
      outcome: result,
    });
    if (result === "failed") {
      this.#log?.(JSON.stringify({
        level: "warn",
        msg: "webhook delivery failed; giving up",
        appId,
        endpointId,
        eventId,
        attempts: next.attempts,
        lastStatus: next.lastStatus,
        lastError: next.lastError,
      }));
    }
  }
}

/** `evt_` + time (base 36, fixed width) + randomness: unique, and sorts by time. */
function eventId(now: number): string {
  return `evt_${now.toString(36).padStart(9, "0")}${randomId(16)}`;
}
