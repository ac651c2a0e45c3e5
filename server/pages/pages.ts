import { type Context, Hono } from "hono";
import { h } from "preact";
import { renderToString } from "preact-render-to-string";
import type { Env } from "../http/env.ts";
import { WattfareError } from "../errors.ts";
import { islands, pageLayout, routes } from "./manifest.gen.ts";
import { collectIslands, registerIslands } from "./island_marker.ts";
import { islandAssets } from "./island_assets.ts";
import { PAGE_SECURITY_HEADERS } from "./security_headers.ts";
import type { RouteModule } from "./page.ts";

registerIslands(islands);

const STATIC_DIR = new URL("../../static/", import.meta.url);
const IMMUTABLE = "public, max-age=31536000, immutable";

/** Pages from `routes/`, island scripts under `/_islands/`, files from `static/`. */
export function pages(): Hono<Env> {
  const app = new Hono<Env>();

  app.get("/_islands/:file", async (c) => {
    const bytes = (await islandAssets(c.var.config.production)).files.get(
      c.req.param("file"),
    );
    if (!bytes) throw notFound(c.req.path);
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": IMMUTABLE,
    });
  });

  app.get("/static/:file{[a-z0-9_.-]+}", async (c) => {
    const file = c.req.param("file");
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(new URL(file, STATIC_DIR));
    } catch {
      throw notFound(c.req.path);
    }
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      "content-type": file.endsWith(".css")
        ? "text/css; charset=utf-8"
        : "application/octet-stream",
      "cache-control": "public, max-age=300",
    });
  });

  for (const [path, route] of Object.entries(routes)) {
    app.get(path, (c) => renderRoute(c, route));
  }
  return app;
}

async function renderRoute(
  c: Context<Env>,
  route: RouteModule,
): Promise<Response> {
  const data = route.load ? await route.load(c) : undefined;
  if (data instanceof Response) return data;
  const url = new URL(c.req.url);
  const { result: body, islands: used } = collectIslands(() =>
    renderToString(h(route.default, { url, params: c.req.param(), data }))
  );
  const assets = used.length
    ? await islandAssets(c.var.config.production)
    : null;
  const scripts = used.map((name) => `/_islands/${assets!.entries.get(name)}`);
  const html = renderToString(
    h(pageLayout.default, {
      title: route.title ?? "Wattfare",
      scripts,
      styles: ["/static/app.css"],
      children: h("main", { dangerouslySetInnerHTML: { __html: body } }),
    }),
  );
  return c.html(`<!doctype html>${html}`, 200, {
    ...PAGE_SECURITY_HEADERS,
    "cache-control": "no-store",
  });
}

function notFound(path: string): WattfareError {
  return new WattfareError("not_found", `No file at ${path}.`);
}
