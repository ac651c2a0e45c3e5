import type { Context } from "hono";
import type { ComponentType } from "preact";

/** A component whose props are only known to its page (islands take JSON props). */
// deno-lint-ignore no-explicit-any
export type AnyComponent = ComponentType<any>;
import type { Env } from "../http/env.ts";

/** What a page component receives. */
export interface PageProps<Data = unknown> {
  url: URL;
  params: Record<string, string>;
  data: Data;
}

/**
 * A module in `routes/`: a default-exported page component and, optionally,
 * a `load` function that runs first and returns the page's data, or a
 * `Response` to send instead (a redirect, an error).
 */
export interface RouteModule {
  default: AnyComponent;
  load?: (c: Context<Env>) => unknown | Response | Promise<unknown | Response>;
  /** The page's `<title>`. */
  title?: string;
}

/** `routes/_layout.tsx`: the HTML shell around every page. */
export interface LayoutModule {
  default: ComponentType<{
    title: string;
    children: preact.ComponentChildren;
    scripts: string[];
    styles: string[];
  }>;
}
