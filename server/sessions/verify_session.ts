import { decodeJwt, jwtVerify } from "jose";
import {
  SESSION_AUDIENCE,
  type SessionClaims,
} from "../../sdk/session_token.ts";
import { getApp } from "../apps/apps.ts";
import type { AppRecord } from "../apps/apps.ts";
import { WattfareError } from "../errors.ts";

/** A verified session: its claims and the app that signed it. */
export interface VerifiedSession {
  claims: SessionClaims;
  app: AppRecord;
}

/**
 * Verifies a session JWT: signature by the app it names (with the key
 * derived from that app's current secret), audience, expiry and claim
 * types. Every failure is the same `invalid_session`, so a caller learns
 * nothing about which check failed.
 */
export async function verifySession(
  kv: Deno.Kv,
  token: string,
  now = Date.now(),
): Promise<VerifiedSession> {
  const invalid = () =>
    new WattfareError(
      "invalid_session",
      "The session token is invalid or expired; mint a new one from your backend.",
    );
  let appId: unknown;
  try {
    appId = decodeJwt(token).appId;
  } catch {
    throw invalid();
  }
  if (typeof appId !== "string" || appId.length > 64) throw invalid();
  const app = await getApp(kv, appId);
  if (!app) throw invalid();
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, app.signingKey, {
      algorithms: ["HS256"],
      audience: SESSION_AUDIENCE,
      currentDate: new Date(now),
      requiredClaims: ["iat", "exp"],
    }));
  } catch {
    throw invalid();
  }
  if (
    typeof payload.appUserId !== "string" || payload.mode !== app.mode ||
    !validLimits(payload.limits)
  ) {
    throw invalid();
  }
  return { claims: payload as unknown as SessionClaims, app };
}

function validLimits(limits: unknown): boolean {
  if (limits === null) return true;
  if (typeof limits !== "object" || limits === undefined) return false;
  const monthly = (limits as { monthlyUsd?: unknown }).monthlyUsd;
  return monthly === null ||
    (typeof monthly === "number" && Number.isFinite(monthly) && monthly >= 0);
}
