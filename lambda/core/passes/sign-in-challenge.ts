/**
 * The sign-in challenge a 402 carries for pass holders (CAIP-122 / Sign-In-With-X), apart from the
 * verifier: synth measures the 402's size with it and must not pull the edge's runtime into jsii.
 */
import { randomBytes } from 'node:crypto';

/** The extension's key in a 402 (`SIGN_IN_WITH_X` of the package). */
export const SIGN_IN_WITH_X = 'sign-in-with-x';
/** The request header a proof arrives in, lower-case as CloudFront gives it. */
export const SIGN_IN_HEADER = SIGN_IN_WITH_X;
/**
 * How long a proof is good for: its `expirationTime` is issuedAt + this, and a proof issued longer
 * ago is refused whatever it says (the package's default `maxAge`). The window a captured proof
 * can be replayed in.
 */
export const SIGN_IN_MAX_AGE_SECONDS = 300;
/** The `extensions` entry of a 402 that lets a pass holder sign in (the shape the official clients read). */
export function signInChallenge(resource: string, network: string, nowMs: number, nonce: string): Record<string, unknown> {
  const origin = new URL(resource);
  return {
    [SIGN_IN_WITH_X]: {
      info: {
        domain: origin.host,
        uri: resource,
        version: '1',
        statement: 'Sign in as the wallet that bought a pass for this site',
        nonce,
        issuedAt: new Date(nowMs).toISOString(),
        expirationTime: new Date(nowMs + SIGN_IN_MAX_AGE_SECONDS * 1000).toISOString(),
        resources: [resource],
      },
      supportedChains: [{ chainId: network, type: 'eip191' }],
      // The payload's JSON Schema (the package's buildSIWxSchema) is left out: clients do not read it,
      // and it would add ~1 KB to a PAYMENT-REQUIRED header that intermediaries may cap at 2 KB.
    },
  };
}

/** A fresh challenge nonce: 32 hex digits (EIP-4361 wants at least 8 alphanumerics). */
export function signInNonce(): string {
  return randomBytes(16).toString('hex');
}
