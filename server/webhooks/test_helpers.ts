import { Webhooks, type WebhooksOptions } from "./webhooks.ts";

/** A request the receiver got. */
export interface Received {
  headers: Headers;
  body: string;
  at: number;
}

/** A local HTTP server standing in for an app's webhook endpoint. */
export interface Receiver {
  url: string;
  received: Received[];
  /** Resolves with the `n`-th request (from 1), waiting for it if need be. */
  nth(n: number, timeoutMs?: number): Promise<Received>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts a receiver on 127.0.0.1 that answers each request with what
 * `answer` returns for it (by its number, from 1); 200 by default.
 */
export function startReceiver(
  answer: (n: number) => Response | Promise<Response> = () =>
    new Response(null, { status: 200 }),
): Receiver {
  const received: Received[] = [];
  const waiters: (() => void)[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      received.push({
        headers: request.headers,
        body: await request.text(),
        at: Date.now(),
      });
      waiters.splice(0).forEach((wake) => wake());
      return await answer(received.length);
    },
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}/hooks`,
    received,
    async nth(n, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < n) {
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new Error(`receiver got ${received.length} of ${n} requests`);
        }
        let timer: ReturnType<typeof setTimeout> | undefined;
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          timer = setTimeout(resolve, left);
        });
        clearTimeout(timer);
      }
      return received[n - 1];
    },
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}

/** A `:memory:` store whose queue drives a {@link Webhooks}, as the service's listener will. */
export interface QueueHarness {
  kv: Deno.Kv;
  webhooks: Webhooks;
  /** Messages the listener saw that were not webhook deliveries. */
  others: unknown[];
  [Symbol.asyncDispose](): Promise<void>;
}

/** Opens the store and listens on its queue; dispose it to close both. */
export async function startQueueHarness(
  options: WebhooksOptions = {},
): Promise<QueueHarness> {
  const kv = await Deno.openKv(":memory:");
  const webhooks = new Webhooks(kv, { log: null, ...options });
  const others: unknown[] = [];
  const inFlight = new Set<Promise<void>>();
  const listening = kv.listenQueue((message) => {
    const handled = (async () => {
      if (!await webhooks.handleQueueMessage(message)) others.push(message);
    })();
    inFlight.add(handled);
    return handled.finally(() => inFlight.delete(handled));
  });
  return {
    kv,
    webhooks,
    others,
    async [Symbol.asyncDispose]() {
      // Closing the store under a handler that is still recording its
      // attempt would fail that commit; let the handlers finish first.
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
      kv.close();
      await listening;
    },
  };
}

/** Polls `read` until `done` accepts its value; fails after `timeoutMs`. */
export async function eventually<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `condition not met in time; last: ${Deno.inspect(value)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
