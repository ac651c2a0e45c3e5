import type { Config } from "./config.ts";
import { resolveMasterKey } from "./crypto/master_key.ts";
import { SecretBox } from "./crypto/secret_box.ts";
import { resealAll } from "./crypto/reseal.ts";
import { SEALED_FIELDS } from "./crypto/sealed_fields.ts";
import { createApp } from "./http/app.ts";
import { openKv } from "./kv/open_kv.ts";
import { Ledger } from "./ledger/ledger.ts";
import { LineWriter } from "./observability/line_writer.ts";
import { logError } from "./observability/log_error.ts";
import { Metrics } from "./observability/metrics.ts";
import { RateLimiter } from "./ratelimit/rate_limiter.ts";
import { Webhooks } from "./webhooks/webhooks.ts";
import { alertOn } from "./webhooks/alert_on.ts";
import { Pending } from "./proxy/pending.ts";
import { PriceBook } from "./proxy/price_book.ts";
import { upstreamsFor } from "./proxy/upstream.ts";
import { createSandbox, type Sandbox } from "./sandbox/sandbox.ts";

/** A running service. */
export interface Service {
  /** Where it listens, e.g. `http://127.0.0.1:8000`. */
  url: string;
  /** The service's own origin as pages and popups see it. */
  publicUrl: string;
  kv: Deno.Kv;
  box: SecretBox;
  ledger: Ledger;
  /** The in-process sandbox, unless `WATTFARE_SANDBOX_URL` points elsewhere. */
  sandbox: Sandbox | undefined;
  /**
   * Resolves once every settlement started so far has committed and every
   * budget lease with nothing in flight has gone back to its ledger.
   */
  settled(): Promise<void>;
  /** Stops accepting requests, waits for open ones and their settlements, closes KV. */
  close(): Promise<void>;
}

/** Opens the store, builds the app and serves it as `config` says. */
export async function startService(
  initialConfig: Config,
  options: {
    clock?: () => number;
    quiet?: boolean;
    /** Receives each log line instead of stdout. */
    log?: (line: string) => void;
    /**
     * A store shared with other instances in this process (tests of several
     * instances); left open at close. Otherwise `config.kvPath` is opened.
     */
    kv?: Deno.Kv;
  } = {},
): Promise<Service> {
  let config = initialConfig;
  const clock = options.clock ?? Date.now;
  const kv = options.kv ?? await openKv(config.kvPath);
  const box = await SecretBox.create([
    await resolveMasterKey(config),
    ...config.previousMasterKeys,
  ]);
  const sandbox = config.sandboxUrl ? undefined : createSandbox({ clock });
  const pending = new Pending();
  const metrics = new Metrics();
  metrics.describe(
    "wattfare_http_requests_total",
    "Requests by route and status.",
  );
  metrics.describe(
    "wattfare_upstream_seconds",
    "Time until the upstream's response headers.",
  );
  const lines = options.log || options.quiet ? undefined : new LineWriter();
  const log = options.log ??
    (lines ? (line: string) => lines.write(line) : null);
  const webhooks = new Webhooks(kv, { clock, metrics, log });
  const ledger = new Ledger(kv, {
    clock,
    holdTtlMs: config.holdTtlMs,
    leaseIdleMs: config.leaseIdleMs,
    metrics,
    // Alerts run beside the request, never in its way.
    onSettled: (settled) => pending.track(alertOn(kv, webhooks, settled)),
  });

  const rateLimiter = new RateLimiter(kv, clock, {
    onError: (error) => logError("rate limit sync failed", error),
  });
  const upstreams = upstreamsFor(config, sandbox?.app.fetch);
  // With PORT=0 the port is known only once listening; a public URL
  // derived from it is completed then, so the app is built after that.
  const late: { app?: ReturnType<typeof createApp> } = {};
  const server = Deno.serve({
    hostname: config.host,
    port: config.port,
    onListen: () => {},
  }, (request, info) => late.app!.fetch(request, info));
  const { hostname, port } = server.addr;
  const url = `http://${
    hostname.includes(":") ? `[${hostname}]` : hostname
  }:${port}`;
  if (config.port === 0 && config.publicUrl === "http://localhost:0") {
    config = { ...config, publicUrl: `http://localhost:${port}` };
  }
  late.app = createApp({
    metrics,
    webhooks,
    log,
    kv,
    config,
    box,
    sandbox,
    clock,
    proxy: {
      ledger,
      box,
      upstreams,
      priceBooks: {
        live: new PriceBook(upstreams.live, clock),
        test: new PriceBook(upstreams.test, clock),
      },
      upstreamTimeoutMs: config.upstreamTimeoutMs,
      upstreamIdleTimeoutMs: config.upstreamIdleTimeoutMs,
      metrics,
      rateLimiter,
      appRequestsPerMinute: config.appRequestsPerMinute,
      connectionRequestsPerMinute: config.connectionRequestsPerMinute,
      burstRequests: config.burstRequests,
      track: (work) => pending.track(work),
    },
  });
  const queue = kv.listenQueue((message) => {
    const work = (async () => {
      if (!await webhooks.handleQueueMessage(message)) {
        await ledger.handleQueueMessage(message);
      }
    })();
    // Shutdown waits for a delivery in flight; a failure makes KV redeliver.
    pending.track(work);
    return work;
  });
  pending.track(ledger.expireOverdue());
  // After a master-key rotation, move every secret onto the new key while serving.
  if (config.previousMasterKeys.length) {
    pending.track(resealAll(kv, box, SEALED_FIELDS));
  }
  if (!options.quiet) {
    console.log(JSON.stringify({ level: "info", msg: "listening", url }));
  }
  return {
    url,
    publicUrl: config.publicUrl,
    kv,
    box,
    ledger,
    sandbox,
    async settled() {
      await pending.idle();
      await ledger.quiesce();
    },
    async close() {
      await server.shutdown();
      await pending.idle();
      await ledger.close();
      await rateLimiter.close();
      lines?.flush();
      // A shared store's queue listener ends when its owner closes it.
      if (!options.kv) {
        kv.close();
        await queue;
      }
    },
  };
}
