/**
 * The admin CLI: `deno task wattfare apps create|list|rotate-secret`.
 * It opens the same KV store as the service (`WATTFARE_KV`).
 */
import { parseArgs } from "node:util";
import { ConfigError, loadConfig } from "./config.ts";
import { openKv } from "./kv/open_kv.ts";
import {
  type AppSummary,
  createApp,
  listApps,
  rotateSecret,
} from "./apps/apps.ts";

const USAGE = `Usage:
  deno task wattfare apps create --name NAME --origin URL [--origin URL…] [--mode test|live] [--json]
  deno task wattfare apps list [--json]
  deno task wattfare apps rotate-secret APP_ID [--json]`;

/** Runs one CLI command; returns the process exit code. */
export async function runCli(
  args: string[],
  env: Record<string, string | undefined> = Deno.env.toObject(),
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        name: { type: "string" },
        origin: { type: "string", multiple: true },
        mode: { type: "string", default: "test" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const [group, command, appId, ...extra] = positionals;
  if (group !== "apps" || extra.length) return fail("unknown command");

  let config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return fail(error.message, 2);
    throw error;
  }
  const kv = await openWhenFree(config.kvPath);
  try {
    switch (command) {
      case "create": {
        if (!values.name) return fail("--name is required");
        if (!values.origin?.length) {
          return fail("at least one --origin is required");
        }
        if (values.mode !== "test" && values.mode !== "live") {
          return fail("--mode must be test or live");
        }
        const app = await createApp(kv, {
          name: values.name,
          origins: values.origin,
          mode: values.mode,
        });
        print(app, values.json);
        return 0;
      }
      case "list": {
        const apps = await listApps(kv);
        if (values.json) console.log(JSON.stringify(apps));
        else if (!apps.length) console.log("No apps yet.");
        else apps.forEach((app) => print(app, false));
        return 0;
      }
      case "rotate-secret": {
        if (!appId) return fail("rotate-secret needs an APP_ID");
        const app = await rotateSecret(kv, appId);
        if (!app) return fail(`no app with id ${appId}`);
        print(app, values.json);
        return 0;
      }
      default:
        return fail("unknown command");
    }
  } catch (error) {
    if (error instanceof RangeError) return fail(error.message);
    throw error;
  } finally {
    kv.close();
  }
}

function print(app: AppSummary, json: boolean): void {
  if (json) {
    console.log(JSON.stringify(app));
    return;
  }
  console.log(`${app.name} (${app.mode})
  appId           ${app.appId}
  origins         ${app.origins.join(", ")}
  publishableKey  ${app.publishableKey}${
    app.secretKey
      ? `\n  secretKey       ${app.secretKey}   (shown once: store it now)`
      : ""
  }`);
}

function fail(message: string, code = 1): number {
  console.error(`wattfare: ${message}\n\n${USAGE}`);
  return code;
}

/** The local KV file admits one process; wait for a running service to let go. */
async function openWhenFree(path: string | undefined): Promise<Deno.Kv> {
  const deadline = Date.now() + 30_000;
  let told = false;
  while (true) {
    try {
      const kv = await openKv(path);
      await kv.get(["apps"]);
      return kv;
    } catch (error) {
      if (!String(error).includes("locked") || Date.now() > deadline) {
        throw error;
      }
      if (!told) {
        console.error(
          `wattfare: ${path} is in use (is the service running?); waiting up to 30 s…`,
        );
        told = true;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

if (import.meta.main) Deno.exit(await runCli(Deno.args));
