import { Hono } from "hono";
import { renderToString } from "preact-render-to-string";
import type { Env } from "./env.ts";
import Home from "../../routes/index.tsx";

/** Server-rendered pages from `routes/`. */
export function pages(): Hono<Env> {
  const pages = new Hono<Env>();
  pages.get("/", (c) =>
    c.html(
      "<!doctype html>" +
        renderToString(Home({ publicUrl: c.var.config.publicUrl })),
    ));
  return pages;
}
