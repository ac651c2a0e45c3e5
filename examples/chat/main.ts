/**
 * The example app on its own: `deno run -A examples/chat/main.ts` with
 * WATTFARE_URL, WATTFARE_PUBLISHABLE_KEY and WATTFARE_SECRET_KEY set (and
 * EXAMPLE_PORT, default 5173). `deno task dev` starts it for you.
 */
import { createExampleApp } from "./example_app.ts";

const env = (name: string) => {
  const value = Deno.env.get(name);
  if (!value) {
    console.error(`example: set ${name}`);
    Deno.exit(2);
  }
  return value;
};

const app = createExampleApp({
  wattfareUrl: env("WATTFARE_URL"),
  publishableKey: env("WATTFARE_PUBLISHABLE_KEY"),
  secretKey: env("WATTFARE_SECRET_KEY"),
});
const port = Number(Deno.env.get("EXAMPLE_PORT") ?? 5173);
Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, app.fetch);
console.log(`Quill (example app) on http://127.0.0.1:${port}`);
