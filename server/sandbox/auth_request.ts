/**
 * The query of OpenRouter's consent page, `/auth?callback_url=…&code_challenge=…
 * &code_challenge_method=S256|plain`, validated. The consent form posts the
 * same fields back, so both requests go through here.
 */
import { challengeProblem, isPkceMethod, type PkceMethod } from "./pkce.ts";

export interface AuthRequest {
  /** Where the user returns with `?code=…` (or `?error=access_denied`). */
  callbackUrl: URL;
  /** Null when the app sent no challenge, which OpenRouter allows. */
  challenge: { value: string; method: PkceMethod } | null;
}

/** The request, or a message saying what is wrong with it. */
export function parseAuthRequest(
  params: URLSearchParams,
): AuthRequest | { problem: string } {
  const field = (name: string) => params.get(name) || undefined;
  const callback = field("callback_url");
  if (callback === undefined) return { problem: "callback_url is required." };
  const callbackUrl = URL.parse(callback);
  if (
    !callbackUrl ||
    (callbackUrl.protocol !== "http:" && callbackUrl.protocol !== "https:")
  ) {
    return { problem: "callback_url must be an absolute http(s) URL." };
  }

  const method = field("code_challenge_method");
  if (method !== undefined && !isPkceMethod(method)) {
    return { problem: 'code_challenge_method must be "S256" or "plain".' };
  }
  const value = field("code_challenge");
  if (value === undefined) {
    if (method !== undefined) {
      return {
        problem: `code_challenge_method ${method} needs a code_challenge.`,
      };
    }
    return { callbackUrl, challenge: null };
  }
  // OpenRouter's docs never name a default and call S256 the option "for
  // maximum security", i.e. not what you get by omitting it; RFC 7636 §4.3
  // makes an absent method `plain`, so that is what the sandbox does.
  const challenge = { value, method: method ?? "plain" } as const;
  const problem = challengeProblem(challenge.value, challenge.method);
  return problem === undefined ? { callbackUrl, challenge } : { problem };
}
