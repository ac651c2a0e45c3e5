import type { Mode } from "../../sdk/secret_key.ts";
import type { Config } from "../config.ts";

/** Where a mode's inference goes: an OpenRouter-compatible API. */
export interface Upstream {
  /** The URL of `path` (e.g. `/chat/completions`) on this upstream. */
  url(path: string): string;
  fetch(request: Request): Promise<Response>;
}

/** An upstream reached over HTTP at `baseUrl`. */
export function httpUpstream(baseUrl: string): Upstream {
  return {
    url: (path) => baseUrl + path,
    fetch: (request) => fetch(request),
  };
}

/** An upstream served by a fetch handler in this process (the built-in sandbox). */
export function inProcessUpstream(
  handler: (request: Request) => Response | Promise<Response>,
): Upstream {
  return {
    url: (path) => `http://sandbox.internal${path}`,
    fetch: async (request) => await handler(request),
  };
}

/**
 * Picks the upstream of each mode: live → OpenRouter; test → the sandbox,
 * served in this process, or else at `WATTFARE_SANDBOX_URL`.
 */
export function upstreamsFor(
  config: Config,
  sandbox: ((request: Request) => Response | Promise<Response>) | undefined,
): Record<Mode, Upstream> {
  if (!sandbox && !config.sandboxUrl) {
    throw new TypeError(
      "test mode needs the in-process sandbox or WATTFARE_SANDBOX_URL",
    );
  }
  return {
    live: httpUpstream(config.upstreamUrl),
    test: sandbox
      ? inProcessUpstream(sandbox)
      : httpUpstream(config.sandboxUrl!),
  };
}
