/**
 * The HTML of the sandbox's stand-in for OpenRouter's consent page: a plain
 * form with no script and no external resources, so it works anywhere the
 * sandbox runs (offline CI, headless browsers) and is easy to drive in tests.
 */
import type { AuthRequest } from "./auth_request.ts";

export interface ConsentView {
  request: AuthRequest;
  /** The spending limit as the user typed it, when the page is shown again. */
  limit?: string;
  /** Why that limit was refused. */
  limitProblem?: string;
}

/** The app's name as the page shows it: the callback's host, as OpenRouter
 * names localhost apps. */
export function appName(request: AuthRequest): string {
  return request.callbackUrl.host;
}

export function consentPage(view: ConsentView): string {
  const { request, limit = "", limitProblem } = view;
  const app = escapeHtml(appName(request));
  const hidden = [["callback_url", request.callbackUrl.href]];
  if (request.challenge) {
    hidden.push(
      ["code_challenge", request.challenge.value],
      ["code_challenge_method", request.challenge.method],
    );
  }
  const destination = request.callbackUrl.origin +
    request.callbackUrl.pathname;
  return layout(
    `Authorize ${app}`,
    `<h1>Authorize ${app} to use your OpenRouter credits</h1>
<p>${app} will get an API key that spends from your account.</p>
<form method="post" action="auth">
${
      hidden.map(([name, value]) =>
        `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`
      ).join("\n")
    }
<label for="limit">Spending limit (USD, optional)</label>
<input id="limit" name="limit" type="number" min="0" step="any" inputmode="decimal" placeholder="No limit" value="${
      escapeHtml(limit)
    }"${
      limitProblem ? ' aria-invalid="true" aria-describedby="limit-error"' : ""
    }>
${
      limitProblem
        ? `<p class="error" id="limit-error" role="alert">${
          escapeHtml(limitProblem)
        }</p>`
        : ""
    }
<!-- Authorize comes first so that Enter in the limit field authorizes. -->
<div class="actions">
<button type="submit" name="decision" value="authorize" class="primary">Authorize</button>
<button type="submit" name="decision" value="cancel">Cancel</button>
</div>
</form>
<p class="fine">You will return to ${escapeHtml(destination)}. PKCE: ${
      request.challenge?.method ?? "none"
    }.</p>`,
  );
}

/** The page for a request that cannot be authorized at all. */
export function problemPage(message: string): string {
  return layout(
    "Invalid authorization request",
    `<h1>Invalid authorization request</h1>
<p class="error" role="alert">${escapeHtml(message)}</p>`,
  );
}

export function htmlResponse(html: string, status = 200): Response {
  return new Response(html, {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-store",
      // No script or outside resource is needed; framing is refused so the
      // Authorize button cannot be clickjacked. There is deliberately no
      // form-action: browsers apply it to the redirect to callback_url too.
      "content-security-policy":
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
    },
  });
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · OpenRouter sandbox</title>
<style>
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; color: #1a1a1a; background: #f4f4f5; }
main { max-width: 28rem; margin: 4rem auto; padding: 2rem; background: #fff; border-radius: 12px; box-shadow: 0 1px 4px rgb(0 0 0 / 0.12); }
.banner { margin: 0 0 1rem; padding: 0.25rem 0.75rem; border-radius: 6px; background: #fef3c7; color: #92400e; font-size: 0.875rem; }
h1 { font-size: 1.375rem; line-height: 1.3; margin: 0 0 0.75rem; }
label { display: block; font-weight: 600; margin: 1.25rem 0 0.25rem; }
input[type=number] { box-sizing: border-box; width: 100%; padding: 0.5rem; font: inherit; border: 1px solid #a1a1aa; border-radius: 6px; }
.actions { display: flex; gap: 0.75rem; margin-top: 1.5rem; }
button { flex: 1; padding: 0.6rem; font: inherit; border-radius: 6px; border: 1px solid #a1a1aa; background: #fff; cursor: pointer; }
button.primary { background: #4f46e5; border-color: #4f46e5; color: #fff; font-weight: 600; }
.error { color: #b91c1c; }
.fine { margin-top: 1.5rem; font-size: 0.8125rem; color: #52525b; overflow-wrap: anywhere; }
</style>
</head>
<body>
<main>
<p class="banner">Sandbox: a simulated OpenRouter. No real credits are spent.</p>
${body}
</main>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}
