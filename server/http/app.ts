import { Hono } from "hono";
import type { Config } from "../config.ts";
import type { SecretBox } from "../crypto/secret_box.ts";
import { WattfareError } from "../errors.ts";
import { bodyLimit } from "./body_limit.ts";
import type { ProxyDeps } from "../proxy/chat_completions.ts";
import type { Sandbox } from "../sandbox/sandbox.ts";
import type { Webhooks } from "../webhooks/webhooks.ts";
import { apiV1 } from "./api_v1.ts";
import { apiCors } from "./cors.ts";
import { walletRoutes } from "./wallet_routes.ts";
import { dashboardApi } from "../dashboards/dashboard_api.ts";
import { developersApi } from "../dashboards/developers_api.ts";
import type { Metrics } from "../observability/metrics.ts";
import { requestLog } from "../observability/request_log.ts";
import type { Env } from "./env.ts";
import { errorResponse } from "./error_response.ts";
import { pages } from "../pages/pages.ts";

/** What the service needs from the outside world. */
export interface AppDeps {
  kv: Deno.Kv;
  config: Config;
  box: SecretBox;
  proxy: ProxyDeps;
  metrics: Metrics;
  webhooks: Webhooks;
  /** Where request log lines go; `null` for none. */
  log: ((line: string) => void) | null;
  /** Mounted at `/sandbox` when test mode uses the in-process sandbox. */
  sandbox?: Sandbox;
  clock?: () => number;
}

/** Assembles the whole service as one Hono app. */
export function createApp(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>();
  const clock = deps.clock ?? Date.now;

  app.use(requestLog(deps.metrics, deps.log));
  app.use(async (c, next) => {
    c.set("kv", deps.kv);
    c.set("config", deps.config);
    c.set("box", deps.box);
    c.set("webhooks", deps.webhooks);
    c.set("leases", deps.proxy.ledger);
    c.set("clock", clock);
    await next();
  });
  app.use("/api/*", apiCors());
  app.use("*", bodyLimit(deps.config.maxBodyBytes));

  app.get("/healthz", async (c) => {
    await c.var.kv.get(["healthz"]);
    return c.json({ ok: true });
  });
  app.get("/metrics", (c) =>
    c.text(deps.metrics.render(), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    }));
  app.route("/api/v1", apiV1(deps.proxy));
  app.route("/wallet", walletRoutes(deps.proxy.upstreams.live));
  app.route("/dashboard/api", dashboardApi());
  app.route("/developers/api", developersApi());
  if (deps.sandbox) {
    app.route("/sandbox/api/v1", deps.sandbox.app);
    app.route("/sandbox", deps.sandbox.authApp);
  }
  app.route("/", pages());

  app.notFound((c) =>
    errorResponse(
      new WattfareError(
        "not_found",
        `No route ${c.req.method} ${new URL(c.req.url).pathname}.`,
      ),
    )
  );
  app.onError((error) => errorResponse(error));
  return app;
}
