import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import { passkeyKey, walletKey, webauthnChallengeKey } from "../kv/keys.ts";
import { WattfareError } from "../errors.ts";
import type { Passkey, Wallet } from "./wallet.ts";
import { newWallet } from "./wallets.ts";

/** Where passkeys live: the service's own origin and its host as the RP id. */
export interface RelyingParty {
  origin: string;
  rpId: string;
}

/** The relying party of a public URL (`http://localhost:8000` → `localhost`). */
export function relyingParty(publicUrl: string): RelyingParty {
  const url = new URL(publicUrl);
  return { origin: url.origin, rpId: url.hostname };
}

const CHALLENGE_TTL_MS = 5 * 60_000;

function refused(): WattfareError {
  return new WattfareError(
    "invalid_session",
    "That passkey could not be verified; try again.",
  );
}

/** Registration options for a new wallet's first passkey, or another for `walletId`. */
export async function registrationOptions(
  kv: Deno.Kv,
  rp: RelyingParty,
  walletId: string | null,
): Promise<unknown> {
  const options = await generateRegistrationOptions({
    rpName: "Wattfare",
    rpID: rp.rpId,
    userName: walletId
      ? `wallet ${walletId.slice(2, 8)}`
      : "My Wattfare wallet",
    attestationType: "none",
    authenticatorSelection: {
      residentKey: "required",
      userVerification: "preferred",
    },
  });
  return await rememberChallenge(kv, options);
}

/**
 * Verifies a registration and stores the passkey: on `walletId`, or on a
 * new wallet created in the same commit. Returns the wallet's id.
 */
export async function registerPasskey(
  kv: Deno.Kv,
  rp: RelyingParty,
  walletId: string | null,
  response: unknown,
  now = Date.now(),
): Promise<string> {
  let verification;
  try {
    verification = await verifyRegistrationResponse({
      // deno-lint-ignore no-explicit-any
      response: response as any,
      expectedChallenge: (challenge) => useChallenge(kv, challenge),
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpId,
      requireUserVerification: false,
    });
  } catch {
    throw refused();
  }
  if (!verification.verified || !verification.registrationInfo) throw refused();
  const { credential } = verification.registrationInfo;
  const wallet: Wallet | null = walletId ? null : newWallet(now);
  const passkey: Passkey = {
    id: credential.id,
    walletId: walletId ?? wallet!.id,
    publicKey: credential.publicKey,
    counter: credential.counter,
    transports: credential.transports ?? [],
    createdAt: now,
  };
  const op = kv.atomic()
    .check({ key: passkeyKey(passkey.id), versionstamp: null })
    .set(passkeyKey(passkey.id), passkey);
  if (wallet) {
    op.check({ key: walletKey(wallet.id), versionstamp: null })
      .set(walletKey(wallet.id), wallet);
  }
  if (!(await op.commit()).ok) throw refused();
  return passkey.walletId;
}

/** Sign-in options: any passkey of this site (discoverable credentials). */
export async function authenticationOptions(
  kv: Deno.Kv,
  rp: RelyingParty,
): Promise<unknown> {
  const options = await generateAuthenticationOptions({
    rpID: rp.rpId,
    userVerification: "preferred",
  });
  return await rememberChallenge(kv, options);
}

/** Verifies a sign-in; returns the wallet the passkey belongs to. */
export async function authenticate(
  kv: Deno.Kv,
  rp: RelyingParty,
  response: unknown,
): Promise<string> {
  const id = (response as { id?: unknown } | null)?.id;
  // Credential ids are base64url; checking the form first keeps odd input
  // (and keys too long for KV) away from the store.
  if (typeof id !== "string" || !/^[A-Za-z0-9_-]{1,1024}$/.test(id)) {
    throw refused();
  }
  const entry = await kv.get<Passkey>(passkeyKey(id));
  const passkey = entry.value;
  if (!passkey) throw refused();
  let verification;
  try {
    verification = await verifyAuthenticationResponse({
      // deno-lint-ignore no-explicit-any
      response: response as any,
      expectedChallenge: (challenge) => useChallenge(kv, challenge),
      expectedOrigin: rp.origin,
      expectedRPID: rp.rpId,
      credential: {
        id: passkey.id,
        publicKey: passkey.publicKey as Uint8Array<ArrayBuffer>,
        counter: passkey.counter,
        // deno-lint-ignore no-explicit-any
        transports: passkey.transports as any,
      },
      requireUserVerification: false,
    });
  } catch {
    throw refused();
  }
  if (!verification.verified) throw refused();
  // The counter only moves forward; a clone replaying an old one fails above.
  await kv.atomic().check(entry).set(passkeyKey(id), {
    ...passkey,
    counter: verification.authenticationInfo.newCounter,
  }).commit();
  return passkey.walletId;
}

/** Stores an options' challenge until it is used or expires; returns the options. */
async function rememberChallenge<T extends { challenge: string }>(
  kv: Deno.Kv,
  options: T,
): Promise<T> {
  await kv.set(webauthnChallengeKey(options.challenge), true, {
    expireIn: CHALLENGE_TTL_MS,
  });
  return options;
}

/** A challenge is good once: it is deleted as it is accepted. */
async function useChallenge(kv: Deno.Kv, challenge: string): Promise<boolean> {
  const entry = await kv.get(webauthnChallengeKey(challenge));
  if (entry.value !== true) return false;
  const result = await kv.atomic().check(entry)
    .delete(webauthnChallengeKey(challenge)).commit();
  return result.ok;
}
