/**
 * The pass token: a compact JWS (RFC 7515), ES256 over P-256, verified offline against public keys
 * baked in at synth. Pure: no I/O; signing happens behind a port (the private key never reaches
 * the viewer-request), verification is node:crypto only.
 *
 * Header `{alg: "ES256", kid, typ: "x402-pass+jwt"}`; claims {@link PassClaims}.
 */
import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import type { PassPublicJwk } from '../config';
import { reject, Reasons, type Rejection } from '../rejection';

export const PASS_TOKEN_TYPE = 'x402-pass+jwt';
export const PASS_ALGORITHM = 'ES256';
/**
 * A token longer than this is refused before it is parsed. Real passes are ~600 characters with a
 * few scope patterns (synth bounds the scope); the bound keeps hostile input from costing work.
 */
export const MAX_PASS_TOKEN_LENGTH = 4096;
/**
 * Seconds by which `nbf` and `exp` are stretched for clocks that disagree: Lambda hosts are
 * NTP-synchronized, so 60 s is generous; a pass is never valid more than a minute beyond its term.
 */
export const PASS_CLOCK_SKEW_SECONDS = 60;

export interface PassClaims {
  /** The site id baked at synth (config.passes.siteId). */
  readonly iss: string;
  /** The payer's address, lower-case. */
  readonly sub: string;
  /** The pass's name (its offer). */
  readonly pass: string;
  /** Route patterns the pass opens. */
  readonly scope: readonly string[];
  /** Epoch seconds. */
  readonly nbf: number;
  readonly exp: number;
  /** Unique per purchase, derived from its payment id ({@link passId}). */
  readonly jti: string;
  /** Requests the pass allows, counted per `jti` by the viewer-request (lambda/core/passes/quota.ts). */
  readonly quota?: number;
}

/** A pass's unique id: the same payment always yields the same id (a re-issued pass is the same pass). */
export function passId(paymentId: string): string {
  return createHash('sha256').update(paymentId, 'utf8').digest('base64url').slice(0, 32);
}

const base64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');

/** The bytes an ES256 signature covers: `base64url(header).base64url(claims)`. */
export function passSigningInput(kid: string, claims: PassClaims): string {
  return `${base64url(JSON.stringify({ alg: PASS_ALGORITHM, kid, typ: PASS_TOKEN_TYPE }))}.${base64url(JSON.stringify(claims))}`;
}

/** The compact token from its signing input and a JOSE ES256 signature (r ‖ s, 64 bytes). */
export function assemblePassToken(signingInput: string, signature: Uint8Array): string {
  if (signature.length !== 64) throw new Error(`an ES256 signature is 64 bytes (r || s), not ${signature.length}`);
  return `${signingInput}.${Buffer.from(signature).toString('base64url')}`;
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** A JWS header is tiny: a longer first part is not looked into. */
const MAX_HEADER_LENGTH = 512;

/** The header of a compact JWS, or undefined if it has none that parses. */
function header(token: string): Record<string, unknown> | undefined {
  const dot = token.indexOf('.');
  if (dot <= 0 || dot > MAX_HEADER_LENGTH || !BASE64URL.test(token.slice(0, dot))) return undefined;
  try {
    const parsed: unknown = JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8'));
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a bearer credential claims to be a pass (`typ` x402-pass+jwt): only those are ours to
 * judge. Any other bearer token (the origin's own sign-in, say) is left alone.
 */
export function claimsToBePass(token: string): boolean {
  return header(token)?.typ === PASS_TOKEN_TYPE;
}

/**
 * Verifies passes against the deployment's public keys and site id. A pass is valid from
 * `nbf - skew` to `exp + skew` (exclusive); the scope is the caller's to check against the request.
 */
export class PassVerifier {
  private readonly keys: ReadonlyMap<string, KeyObject>;

  constructor(
    keys: readonly { readonly kid: string; readonly jwk: PassPublicJwk }[],
    private readonly siteId: string,
    private readonly skewSeconds: number = PASS_CLOCK_SKEW_SECONDS,
  ) {
    this.keys = new Map(keys.map(({ kid, jwk }) => [kid, createPublicKey({ key: { ...jwk }, format: 'jwk' })]));
  }

  verify(token: string, nowSeconds: number): PassClaims | Rejection {
    if (token.length > MAX_PASS_TOKEN_LENGTH) return refused(Reasons.passTooLarge, `the pass is ${token.length} characters; a pass is at most ${MAX_PASS_TOKEN_LENGTH}`);
    const parts = token.split('.');
    if (parts.length !== 3 || !parts.every((part) => part !== '' && BASE64URL.test(part))) return refused(Reasons.passMalformed, 'the pass is not a compact JWS (three base64url parts)');
    const head = header(token);
    if (!head) return refused(Reasons.passMalformed, 'the pass header is not JSON');
    // Only ES256, whatever the header says: "none", HS256 (with the public key as the HMAC secret)
    // and every other algorithm are refused before any key is looked at.
    if (head.alg !== PASS_ALGORITHM) return refused(Reasons.passUnsupportedAlgorithm, `the pass is signed with ${JSON.stringify(head.alg)}; passes are ${PASS_ALGORITHM} only`);
    const key = typeof head.kid === 'string' ? this.keys.get(head.kid) : undefined;
    if (!key) return refused(Reasons.passUnknownKey, `the pass names key ${JSON.stringify(head.kid)}, which this site does not sign with (another site's pass, or a key retired long ago)`);
    const signature = Buffer.from(parts[2], 'base64url');
    const signed = signature.length === 64 && verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`, 'utf8'), { key, dsaEncoding: 'ieee-p1363' }, signature);
    if (!signed) return refused(Reasons.passBadSignature, 'the pass signature does not verify: it was altered or forged');
    const claims = parseClaims(parts[1]);
    if (!claims) return refused(Reasons.passMalformed, 'the pass claims are incomplete');
    if (claims.iss !== this.siteId) return refused(Reasons.passOtherSite, `the pass was issued by ${JSON.stringify(claims.iss)}, not by this site`);
    if (nowSeconds < claims.nbf - this.skewSeconds) return refused(Reasons.passNotYetValid, `the pass is valid from ${new Date(claims.nbf * 1000).toISOString()}`);
    if (nowSeconds >= claims.exp + this.skewSeconds) return refused(Reasons.passExpired, `the pass expired at ${new Date(claims.exp * 1000).toISOString()}: buy a new one`);
    return claims;
  }
}

function refused(reason: string, message: string): Rejection {
  return reject(402, reason, message);
}

/** Signed claims are ours, but a key can outlive a format: each field is checked anyway. */
function parseClaims(part: string): PassClaims | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const c = parsed as Record<string, unknown>;
  const text = (v: unknown): v is string => typeof v === 'string' && v !== '';
  const seconds = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
  if (!text(c.iss) || !text(c.sub) || !text(c.pass) || !text(c.jti) || !seconds(c.nbf) || !seconds(c.exp)) return undefined;
  if (!Array.isArray(c.scope) || c.scope.length === 0 || !c.scope.every(text)) return undefined;
  if (c.quota !== undefined && !(seconds(c.quota) && c.quota > 0)) return undefined;
  return { iss: c.iss, sub: c.sub, pass: c.pass, scope: c.scope, nbf: c.nbf, exp: c.exp, jti: c.jti, ...(c.quota === undefined ? {} : { quota: c.quota as number }) };
}
