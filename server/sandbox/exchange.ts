/**
 * `POST /api/v1/auth/keys`: an authorization code from the consent page and
 * its PKCE verifier become a key of the user's own, with the limit the user
 * chose. Errors follow OpenRouter's documented ones: 400 "Invalid
 * code_challenge_method" when the method differs from the one sent to `/auth`,
 * 403 "Invalid code or code_verifier" for anything else about the code.
 */
import { z } from "zod";
import type { AuthCodes } from "./auth_codes.ts";
import { openRouterError } from "./errors.ts";
import type { KeyStore } from "./keys.ts";
import { isPkceMethod, verifierMatches } from "./pkce.ts";

export interface ExchangeDeps {
  codes: AuthCodes;
  keys: KeyStore;
  /** The simulated OpenRouter account every consent comes from. */
  userId: string;
}

const bodySchema = z.looseObject({
  code: z.string().min(1),
  code_verifier: z.string().nullish(),
  code_challenge_method: z.string().nullish(),
});

/** Answers the exchange for a JSON body already parsed (undefined if not JSON). */
export async function exchangeAuthCode(
  deps: ExchangeDeps,
  body: unknown,
): Promise<Response> {
  const parsed = bodySchema.safeParse(body);
  if (!parsed.success) {
    return openRouterError(
      400,
      "Expected {code, code_verifier?, code_challenge_method?}",
    );
  }
  const { code, code_verifier: verifier, code_challenge_method: method } =
    parsed.data;
  if (method != null && !isPkceMethod(method)) {
    return openRouterError(400, "Invalid code_challenge_method");
  }
  // Any attempt uses the code up, even a failed one: RFC 6749 §4.1.2 makes
  // codes single-use, and a client that got the verifier or method wrong has
  // to start over anyway, so an intercepted code gets one guess at most.
  const grant = deps.codes.redeem(code);
  if (!grant) return openRouterError(403, "Invalid code or code_verifier");
  const { challenge } = grant;
  // An omitted method means "the one I sent to /auth", as OpenRouter's first
  // examples exchanged codes with no method at all.
  if (method != null && method !== (challenge?.method ?? null)) {
    return openRouterError(400, "Invalid code_challenge_method");
  }
  if (
    challenge &&
    (verifier == null ||
      !await verifierMatches(verifier, challenge.value, challenge.method))
  ) {
    return openRouterError(403, "Invalid code or code_verifier");
  }
  const key = deps.keys.create({ limit: grant.limit, label: grant.label });
  return Response.json({ key, user_id: deps.userId });
}

/** A user id in the shape OpenRouter's accounts have, `user_` + base62. */
export function newUserId(): string {
  const alphabet =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  const bytes = crypto.getRandomValues(new Uint8Array(27));
  return "user_" + Array.from(bytes, (b) => alphabet[b % 62]).join("");
}
