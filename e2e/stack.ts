import type { AppSummary } from "../server/apps/apps.ts";
import type { Mode } from "../sdk/secret_key.ts";
import type { BrowserContext, Page } from "playwright-core";
import {
  type SandboxServer,
  startSandboxServer,
} from "../server/testing/sandbox_server.ts";
import {
  startTestService,
  type TestService,
} from "../server/testing/test_service.ts";
import { createExampleApp } from "../examples/chat/example_app.ts";

/** The service on `localhost` and the example app on `127.0.0.1`: two sites. */
export interface Stack {
  service: TestService;
  app: Required<AppSummary>;
  /** The example app's origin, registered for the app. */
  exampleUrl: string;
  /** Another copy of the example on an origin the app did not register. */
  strangerUrl: string;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Starts the service, an app (test mode unless asked) and two copies of the
 * example app. `env` configures the service (e.g. a live upstream).
 */
export async function startStack(
  options: { mode?: Mode; env?: Record<string, string> } = {},
): Promise<Stack> {
  const service = await startTestService({ env: options.env });
  const late: { fetch?: (request: Request) => Response | Promise<Response> } =
    {};
  const serve = () =>
    Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      (request) => late.fetch!(request),
    );
  const example = serve();
  const stranger = serve();
  const exampleUrl = `http://127.0.0.1:${example.addr.port}`;
  const strangerUrl = `http://127.0.0.1:${stranger.addr.port}`;
  const app = await service.createApp(options.mode ?? "test", [exampleUrl]);
  late.fetch = createExampleApp({
    wattfareUrl: service.publicUrl,
    publishableKey: app.publishableKey,
    secretKey: app.secretKey,
  }).fetch;
  return {
    service,
    app,
    exampleUrl,
    strangerUrl,
    async [Symbol.asyncDispose]() {
      await example.shutdown();
      await stranger.shutdown();
      await service.close();
    },
  };
}

/** The same stack with a live app, whose upstream is a sandbox on its own port. */
export async function startLiveStack(): Promise<
  Stack & { upstream: SandboxServer }
> {
  const upstream = startSandboxServer();
  const stack = await startStack({
    mode: "live",
    env: {
      WATTFARE_UPSTREAM_URL: upstream.apiUrl,
      WATTFARE_OPENROUTER_AUTH_URL: upstream.authUrl,
    },
  });
  return {
    ...stack,
    upstream,
    async [Symbol.asyncDispose]() {
      await stack[Symbol.asyncDispose]();
      await upstream[Symbol.asyncDispose]();
    },
  };
}

/** Clicks `selector` for real and returns the popup the click opened. */
export async function clickForPopup(
  page: Page,
  selector = "text=Connect AI budget",
): Promise<Page> {
  const [popup] = await Promise.all([
    page.waitForEvent("popup"),
    page.click(selector),
  ]);
  return popup;
}

/** The user id the example app gave this browser (its own sign-in cookie). */
export async function exampleUserId(context: BrowserContext): Promise<string> {
  const cookie = (await context.cookies()).find((c) => c.name === "demo_user");
  if (!cookie) throw new Error("the example app did not sign this browser in");
  return cookie.value;
}
