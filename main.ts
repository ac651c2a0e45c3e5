import { ConfigError, loadConfig } from "./server/config.ts";
import { startService } from "./server/start_service.ts";

try {
  await startService(loadConfig());
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`wattfare: ${error.message}`);
  Deno.exit(2);
}
