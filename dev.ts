/**
 * `deno task dev`: the service with its in-process sandbox, plus a seeded test
 * app whose keys are kept in `.data/dev-app.json` so they survive restarts.
 */
import { ConfigError, loadConfig } from "./server/config.ts";
import { startService } from "./server/start_service.ts";
import { type AppSummary, createApp, getApp } from "./server/apps/apps.ts";
import { approveTestConnection } from "./server/connections/connections.ts";
import { usdToNano } from "./server/money.ts";

const DEV_APP_FILE = ".data/dev-app.json";
const DEMO_USER = "demo-user";

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
    origins: ["http://localhost:8000", "http://localhost:5173"],
    mode: "test",
  });
  await Deno.mkdir(".data", { recursive: true });
  await Deno.writeTextFile(DEV_APP_FILE, JSON.stringify(app, null, 2) + "\n", {
    mode: 0o600,
  });
}
const record = (await getApp(service.kv, app.appId))!;
await approveTestConnection(
  service.kv,
  service.box,
  record,
  DEMO_USER,
  usdToNano(5, "down"),
);

const url = config.publicUrl;
console.log(`
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
