/**
 * `deno task dev`: the service with its in-process sandbox, plus a seeded test
 * app whose keys are kept in `.data/dev-app.json` so they survive restarts.
 */
import { ConfigError, loadConfig } from "./server/config.ts";
import { startService } from "./server/start_service.ts";
import {
  type AppSummary,
  createApp,
  getApp,
  updateOrigins,
} from "./server/apps/apps.ts";
import {
  approveConnection,
  sandboxFunding,
} from "./server/connections/connections.ts";
import { usdToNano } from "./server/money.ts";
import { createExampleApp } from "./examples/chat/example_app.ts";

const DEV_APP_FILE = ".data/dev-app.json";
const DEMO_USER = "demo-user";
const EXAMPLE_PORT = 5173;
/** The example app runs on another site than the service, as a real app would. */
const EXAMPLE_ORIGIN = `http://127.0.0.1:${EXAMPLE_PORT}`;
const DEV_ORIGINS = [EXAMPLE_ORIGIN, `http://localhost:${EXAMPLE_PORT}`];

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`wattfare: ${error.message}`);
  Deno.exit(2);
}
const service = await startService(config, { quiet: true });

let app: AppSummary | null = null;
try {
  app = JSON.parse(await Deno.readTextFile(DEV_APP_FILE));
} catch {
  // First run, or the file was removed: seed a new app below.
}
if (!app || !(await getApp(service.kv, app.appId))) {
  app = await createApp(service.kv, {
    name: "Wattfare dev app",
    origins: DEV_ORIGINS,
    mode: "test",
  });
  await Deno.mkdir(".data", { recursive: true });
  await Deno.writeTextFile(DEV_APP_FILE, JSON.stringify(app, null, 2) + "\n", {
    mode: 0o600,
  });
}
await updateOrigins(service.kv, app.appId, DEV_ORIGINS);
const record = (await getApp(service.kv, app.appId))!;
await approveConnection(service.kv, record, DEMO_USER, usdToNano(5, "down"), {
  funding: await sandboxFunding(service.box),
  walletId: null,
});

const url = config.publicUrl;
const example = createExampleApp({
  wattfareUrl: url,
  publishableKey: app.publishableKey,
  secretKey: app.secretKey!,
});
Deno.serve(
  { hostname: "127.0.0.1", port: EXAMPLE_PORT, onListen: () => {} },
  example.fetch,
);

console.log(`
  example app      ${EXAMPLE_ORIGIN}   ← open this: connect a budget and chat

Wattfare is running (test mode, sandbox upstream).

  service          ${url}
  API              ${url}/api/v1
  sandbox          ${url}/sandbox/api/v1
  health           ${url}/healthz

  publishable key  ${app.publishableKey}
  secret key       ${app.secretKey}
  demo user        ${DEMO_USER} (connected, $5.00 monthly cap)

Try it:
  curl -s '${url}/api/v1/status?userId=${DEMO_USER}' \\
    -H 'authorization: Bearer ${app.secretKey}'
`);
