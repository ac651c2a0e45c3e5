import { Hono } from "hono";
import { generateText, streamText } from "ai";
import { toWattfareError, Wattfare } from "wattfare/server";
import { bundleClient } from "./bundle_client.ts";

/** How the example app reaches Wattfare. */
export interface ExampleOptions {
  /** The Wattfare service, e.g. `http://localhost:8000`. */
  wattfareUrl: string;
  publishableKey: string;
  secretKey: string;
  /** The model the chat uses. */
  model?: string;
}

const USER_COOKIE = "demo_user";

/**
 * A small chat app that lets its users fund their own AI through Wattfare.
 * It has its own (toy) accounts: each browser gets a user id in a cookie.
 */
export function createExampleApp(
  options: ExampleOptions,
): Hono<{ Variables: { userId: string } }> {
  const wf = new Wattfare({
    secretKey: options.secretKey,
    baseUrl: options.wattfareUrl,
  });
  const model = options.model ?? "openai/gpt-4o-mini";
  const app = new Hono<{ Variables: { userId: string } }>();
  let client: Promise<Uint8Array> | null = null;

  // The app's own sign-in, reduced to a cookie: Wattfare keys everything by it.
  app.use(async (c, next) => {
    const existing = /(?:^|;\s*)demo_user=([a-z0-9_]{8,64})/.exec(
      c.req.header("cookie") ?? "",
    )?.[1];
    const userId = existing ??
      `user_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    c.set("userId", userId);
    await next();
    if (!existing) {
      c.header(
        "set-cookie",
        `${USER_COOKIE}=${userId}; Path=/; HttpOnly; SameSite=Lax`,
      );
    }
  });

  app.get("/", (c) =>
    c.html(page(options), 200, {
      // Lets the Wattfare popup keep `window.opener`; `same-origin` would cut it.
      "cross-origin-opener-policy": "same-origin-allow-popups",
      "content-security-policy":
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self' " +
        new URL(options.wattfareUrl).origin,
    }));

  app.get("/app.js", async (c) => {
    client ??= bundleClient();
    return c.body(await client as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "text/javascript; charset=utf-8",
    });
  });

  app.get(
    "/app.css",
    async (c) =>
      c.body(
        await Deno.readTextFile(new URL("./style.css", import.meta.url)),
        200,
        {
          "content-type": "text/css; charset=utf-8",
        },
      ),
  );

  // The token route: Wattfare's session for the signed-in user.
  app.post("/api/wattfare-token", (c) =>
    wf.sessionHandler({
      getUserId: () => c.var.userId,
      limits: { monthlyUsd: 5 },
    })(c.req.raw));

  // Chat: streamed as newline-delimited JSON events the page renders.
  app.post("/api/chat", async (c) => {
    const { messages } = await c.req.json();
    const result = streamText({
      model: wf.user(c.var.userId).model(model),
      messages,
      // Errors arrive as stream parts below and become UI states.
      onError: () => {},
    });
    const encoder = new TextEncoder();
    const line = (event: unknown) =>
      encoder.encode(JSON.stringify(event) + "\n");
    return new Response(
      new ReadableStream({
        async start(controller) {
          for await (const part of result.fullStream) {
            if (part.type === "text-delta") {
              controller.enqueue(line({ type: "text", text: part.text }));
            } else if (part.type === "error") {
              const error = toWattfareError(part.error);
              controller.enqueue(line({
                type: "error",
                code: error?.code ?? "unknown",
                message: error?.message ?? "Something went wrong.",
              }));
            }
          }
          controller.close();
        },
      }),
      { headers: { "content-type": "application/x-ndjson" } },
    );
  });

  // A one-shot tool paid by a grant: no connection needed.
  app.post("/api/rewrite", async (c) => {
    const { grantToken, text } = await c.req.json();
    try {
      const result = await generateText({
        model: wf.grant(grantToken).model(model),
        prompt: `Rewrite this paragraph more clearly:\n\n${text}`,
      });
      return c.json({ text: result.text });
    } catch (err) {
      const error = toWattfareError(err);
      if (error?.code === "grant_invalid") {
        return c.json({ error: "grant_used" }, 402);
      }
      throw err;
    }
  });

  return app;
}

function page(options: ExampleOptions): string {
  const config = JSON.stringify({
    publishableKey: options.publishableKey,
    wattfareUrl: options.wattfareUrl,
  }).replaceAll("<", "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Quill · an example app on Wattfare</title>
<link rel="stylesheet" href="/app.css">
<script type="module" src="/app.js"></script>
</head>
<body>
<div id="root" data-config='${config.replaceAll("'", "&#39;")}'></div>
</body>
</html>`;
}
