/**
 * The sandbox's OpenRouter consent page, `GET /auth` and its form's
 * `POST /auth`. OpenRouter serves it at `https://openrouter.ai/auth`, outside
 * `/api/v1`, hence an app of its own: mount it at `/` next to `/api/v1`
 * (standalone) or at `/sandbox` next to `/sandbox/api/v1` (inside Wattfare).
 *
 * There is no sign-in and no CSRF token: the simulated user is always signed
 * in, and a forged approval gains nothing, as anyone can mint sandbox keys
 * with `POST /api/v1/keys`.
 */
import { Hono } from "hono";
import type { AuthCodes } from "./auth_codes.ts";
import { type AuthRequest, parseAuthRequest } from "./auth_request.ts";
import {
  appName,
  consentPage,
  htmlResponse,
  problemPage,
} from "./consent_page.ts";
import { parseUsd } from "./money.ts";

/** The largest limit the page accepts, as `POST /keys` does. */
const MAX_LIMIT_ATTO = parseUsd("1000000000");

export function createConsentApp(codes: AuthCodes): Hono {
  const app = new Hono();

  app.get("/auth", (c) => {
    const request = parseAuthRequest(new URL(c.req.url).searchParams);
    if ("problem" in request) {
      return htmlResponse(problemPage(request.problem), 400);
    }
    return htmlResponse(consentPage({ request }));
  });

  app.post("/auth", async (c) => {
    const form = await formFields(c.req.raw);
    if (!form) {
      return htmlResponse(problemPage("Expected the consent form."), 400);
    }
    const request = parseAuthRequest(form);
    if ("problem" in request) {
      return htmlResponse(problemPage(request.problem), 400);
    }
    const decision = form.get("decision");
    if (decision === "cancel") {
      // OpenRouter does not document what a refusal returns; this is
      // RFC 6749 §4.1.2.1's answer, which OAuth clients already handle.
      return redirect(request, "error", "access_denied");
    }
    if (decision !== "authorize") {
      return htmlResponse(problemPage("Choose Authorize or Cancel."), 400);
    }
    const limitText = (form.get("limit") ?? "").trim();
    const limit = parseLimit(limitText);
    if (typeof limit === "object") {
      return htmlResponse(
        consentPage({ request, limit: limitText, limitProblem: limit.problem }),
        400,
      );
    }
    const code = codes.issue({
      challenge: request.challenge,
      limit,
      label: `${appName(request)} (OAuth)`,
    });
    return redirect(request, "code", code);
  });

  return app;
}

/** The posted form's text fields, or undefined if the body is not a form. */
async function formFields(
  request: Request,
): Promise<URLSearchParams | undefined> {
  try {
    const fields = new URLSearchParams();
    for (const [name, value] of await request.formData()) {
      if (typeof value === "string") fields.append(name, value);
    }
    return fields;
  } catch {
    return undefined;
  }
}

/** Back to the app, keeping the callback's own query parameters. */
function redirect(request: AuthRequest, name: string, value: string) {
  const url = new URL(request.callbackUrl);
  url.searchParams.set(name, value);
  return new Response(null, {
    status: 302,
    headers: { location: url.href, "cache-control": "no-store" },
  });
}

/**
 * The typed limit as an exact decimal for `KeyStore.create`: undefined for
 * no limit, or why it was refused. Accepts what a number input submits
 * (`5`, `2.50`, `.5`), never an exponent or a sign.
 */
function parseLimit(text: string): string | undefined | { problem: string } {
  if (text === "") return undefined;
  const invalid = {
    problem:
      "Enter an amount in USD, like 5 or 2.50, or leave it empty for no limit.",
  };
  if (!/^(?:\d+(?:\.\d*)?|\.\d+)$/.test(text)) return invalid;
  const decimal = (text.startsWith(".") ? "0" : "") + text.replace(/\.$/, "");
  let atto: bigint;
  try {
    atto = parseUsd(decimal);
  } catch {
    return invalid; // finer than 1e-18 USD
  }
  if (atto > MAX_LIMIT_ATTO) {
    return { problem: "The limit can be at most 1,000,000,000 USD." };
  }
  return decimal;
}
