/**
 * Sign in with x: a pass holder that kept no token proves, with the `sign-in-with-x` extension of
 * `@x402/extensions` (CAIP-122; on EVM an EIP-4361 message signed with EIP-191), that it is the
 * wallet that bought a pass, and is admitted as that pass (docs/passes.md, "Signing in"). The
 * payer's passes come from the receipt table (the `byPayer` index), cached per container. No
 * facilitator, no settlement.
 *
 * Why not the package's server helpers in the viewer bundle: its sign-in-with-x module imports, at
 * top level, an EIP-4361 ABNF parser and a Solana signature library, which the bundler cannot drop;
 * the viewer bundle grew from 226 to 300 KB zipped with them. So the few checks are here, on this
 * bundle's own secp256k1 recovery, and test/unit/passes/sign-in.test.ts proves each verdict and
 * the signed message equal the package's (`parseSIWxHeader`, `validateSIWxMessage`,
 * `formatSIWEMessage`, `verifySIWxSignature`), with the same reason codes.
 */
import { randomBytes } from 'node:crypto';
import { getAddress, hashMessage, isAddress } from 'viem';
import { LruMap } from '../abuse-guard';
import type { Clock, LogSink } from '../ports';
import { isRejection, reject, Reasons, type Rejection } from '../rejection';
import { MAX_PASS_SECONDS } from './offers';
import type { PassRecord, PassScheme } from './scheme';
import { PASS_CLOCK_SKEW_SECONDS } from './token';
import { recoverSigner } from '../secp256k1';

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
/** How long a container trusts what the table said about a payer's passes (docs/passes.md). */
export const HELD_PASSES_TTL_SECONDS = 60;
/** ... and that a payer holds none: short, so a pass bought just now opens soon after. */
export const NO_PASS_TTL_SECONDS = 10;
/** Payers whose passes a container remembers (least recently used first out). */
export const HELD_PASSES_CACHE_ENTRIES = 2_000;
/** A proof longer than this is refused before it is decoded (real ones are ~1 KB). */
export const MAX_SIGN_IN_HEADER_LENGTH = 4_096;

/** Where the passes a payer bought are found: the receipt table's `byPayer` index. */
export interface HeldPassesPort {
  /** Passes recorded on `payer`'s receipts (checksummed address) created at or after `sinceIso`, expiring after `nowSeconds`. */
  heldPasses(payer: string, sinceIso: string, nowSeconds: number): Promise<readonly PassRecord[]>;
}

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

/** A proof as the client sends it (base64 JSON in the header; the package's `SIWxPayload`). */
export interface SignInProof {
  readonly domain: string;
  readonly address: string;
  readonly statement?: string;
  readonly uri: string;
  readonly version: string;
  readonly chainId: string;
  readonly type: 'eip191' | 'ed25519';
  readonly nonce: string;
  readonly issuedAt: string;
  readonly expirationTime?: string;
  readonly notBefore?: string;
  readonly requestId?: string;
  readonly resources?: readonly string[];
  readonly signature: string;
}

const REQUIRED_FIELDS = ['domain', 'address', 'uri', 'version', 'chainId', 'type', 'nonce', 'issuedAt', 'signature'] as const;
const OPTIONAL_FIELDS = ['statement', 'expirationTime', 'notBefore', 'requestId', 'signatureScheme'] as const;

/** The proof in a header, or why it is none. Fields with line breaks are refused: each is one line of the signed message. */
export function parseSignInProof(header: string): SignInProof | Rejection {
  if (header.length > MAX_SIGN_IN_HEADER_LENGTH) return refused(Reasons.signInMalformed, `a ${SIGN_IN_WITH_X} header is at most ${MAX_SIGN_IN_HEADER_LENGTH} characters`);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(header)) return refused(Reasons.signInMalformed, `the ${SIGN_IN_WITH_X} header is not base64`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
  } catch {
    return refused(Reasons.signInMalformed, `the ${SIGN_IN_WITH_X} header is not base64 JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null) return refused(Reasons.signInMalformed, `the ${SIGN_IN_WITH_X} header is not a JSON object`);
  const fields = parsed as Record<string, unknown>;
  const line = (value: unknown) => typeof value === 'string' && !/[\r\n]/.test(value);
  const bad = [
    ...REQUIRED_FIELDS.filter((name) => !line(fields[name])),
    ...OPTIONAL_FIELDS.filter((name) => fields[name] !== undefined && !line(fields[name])),
    ...(fields.resources !== undefined && !(Array.isArray(fields.resources) && fields.resources.every(line)) ? ['resources'] : []),
    ...(fields.type !== 'eip191' && fields.type !== 'ed25519' ? ['type'] : []),
  ];
  if (bad.length > 0) return refused(Reasons.signInMalformed, `the proof's ${[...new Set(bad)].join(', ')} ${bad.length === 1 ? 'is' : 'are'} missing or not single-line text`);
  return fields as unknown as SignInProof;
}

/**
 * The package's `validateSIWxMessage`, with this edge's clock: bound to `origin` (domain = its host,
 * the URI's origin = it), issued at most {@link SIGN_IN_MAX_AGE_SECONDS} ago and not in the future,
 * not expired, past its not-before. Nonces are not checked (docs/passes.md, "Replay").
 */
export function validateSignInProof(proof: SignInProof, origin: URL, nowMs: number): Rejection | undefined {
  if (proof.domain !== origin.host) return refused('invalid_siwx_domain_mismatch', `Domain mismatch: expected "${origin.host}", got "${proof.domain}"`);
  let uriOrigin: string;
  try {
    uriOrigin = new URL(proof.uri).origin;
  } catch {
    return refused('invalid_siwx_uri_mismatch', `Invalid URI: "${proof.uri}" is not a valid URL`);
  }
  if (uriOrigin !== origin.origin) return refused('invalid_siwx_uri_mismatch', `URI mismatch: expected origin "${origin.origin}", got "${uriOrigin}"`);
  const issuedAt = Date.parse(proof.issuedAt);
  if (Number.isNaN(issuedAt)) return refused('invalid_siwx_issued_at', 'Invalid issuedAt timestamp');
  const age = nowMs - issuedAt;
  if (age > SIGN_IN_MAX_AGE_SECONDS * 1000) return refused('invalid_siwx_issued_at_too_old', `Message too old: ${Math.round(age / 1000)}s exceeds ${SIGN_IN_MAX_AGE_SECONDS}s limit`);
  if (age < 0) return refused('invalid_siwx_issued_at_in_future', 'issuedAt is in the future');
  if (proof.expirationTime !== undefined) {
    const expiration = Date.parse(proof.expirationTime);
    if (Number.isNaN(expiration)) return refused('invalid_siwx_expiration_time', 'Invalid expirationTime timestamp');
    if (expiration < nowMs) return refused('invalid_siwx_expired', 'Message expired');
  }
  if (proof.notBefore !== undefined) {
    const notBefore = Date.parse(proof.notBefore);
    if (Number.isNaN(notBefore)) return refused('invalid_siwx_not_before', 'Invalid notBefore timestamp');
    if (nowMs < notBefore) return refused('invalid_siwx_not_yet_valid', 'Message not yet valid (notBefore is in the future)');
  }
  return undefined;
}

/** The EIP-4361 message an EVM proof signs: the package's `formatSIWEMessage` (the `siwe` library's text). */
export function signInMessage(proof: SignInProof, address: string): string {
  const chainId = Number(/^eip155:(\d+)$/.exec(proof.chainId)![1]);
  const fields = [`URI: ${proof.uri}`, `Version: ${proof.version}`, `Chain ID: ${chainId}`, `Nonce: ${proof.nonce}`, `Issued At: ${proof.issuedAt}`];
  if (proof.expirationTime) fields.push(`Expiration Time: ${proof.expirationTime}`);
  if (proof.notBefore) fields.push(`Not Before: ${proof.notBefore}`);
  if (proof.requestId !== undefined) fields.push(`Request ID: ${proof.requestId}`);
  if (proof.resources) fields.push(['Resources:', ...proof.resources.map((resource) => `- ${resource}`)].join('\n'));
  const header = `${proof.domain} wants you to sign in with your Ethereum account:\n${address}`;
  return `${proof.statement === undefined ? `${header}\n\n` : `${header}\n\n${proof.statement}\n`}\n${fields.join('\n')}`;
}

/**
 * Who signed a proof for this site (checksummed), or why it is refused. `resource` is the request's
 * `https://<host><path>`: a proof made for another host or scheme fails the domain or URI check.
 * EOA signatures only (recovery, no RPC): a smart wallet's EIP-1271 check would need a chain call.
 */
export function signedInPayer(header: string, resource: string, network: string, nowMs: number): string | Rejection {
  const proof = parseSignInProof(header);
  if (isRejection(proof)) return proof;
  // One network: a proof signed for another chain is not a statement about this site's payer.
  if (proof.chainId !== network || !/^eip155:\d+$/.test(proof.chainId)) return refused('invalid_siwx_chain_id', `sign in on ${network}, not ${proof.chainId}`);
  const invalid = validateSignInProof(proof, new URL(new URL(resource).origin), nowMs);
  if (invalid) return invalid;
  if (!isAddress(proof.address, { strict: false })) return refused(Reasons.signInMalformed, `the proof's address ${proof.address} is not an EVM address`);
  const address = getAddress(proof.address);
  const signer = recoverSigner(hashMessage(signInMessage(proof, address), 'bytes'), proof.signature);
  if (signer?.address !== address.toLowerCase()) return refused('invalid_siwx_signature', 'Signature verification failed');
  return address;
}

/** Each container's memory of which passes payers hold: one table query per payer per TTL. */
export class HeldPasses {
  private readonly cache: LruMap<{ readonly until: number; readonly passes: Promise<readonly PassRecord[]> }>;

  constructor(
    private readonly port: HeldPassesPort,
    private readonly clock: Clock,
    private readonly log: LogSink,
    capacity: number = HELD_PASSES_CACHE_ENTRIES,
  ) {
    this.cache = new LruMap(capacity);
  }

  /** The payer's unexpired passes; concurrent callers share one query; a failed query is not remembered. */
  async of(payer: string): Promise<readonly PassRecord[]> {
    const now = this.clock();
    const cached = this.cache.get(payer);
    if (cached && now < cached.until) return cached.passes;
    const nowSeconds = Math.floor(now / 1000);
    // A pass lasts at most MAX_PASS_SECONDS: older receipts hold none still valid.
    const since = new Date(now - MAX_PASS_SECONDS * 1000).toISOString();
    const passes = this.port.heldPasses(payer, since, nowSeconds);
    const entry = { until: now + HELD_PASSES_TTL_SECONDS * 1000, passes };
    this.cache.set(payer, entry);
    try {
      const held = await passes;
      if (held.length === 0) this.cache.set(payer, { until: now + NO_PASS_TTL_SECONDS * 1000, passes });
      return held;
    } catch (error) {
      if (this.cache.get(payer) === entry) this.cache.set(payer, { until: 0, passes });
      this.log({ event: 'x402.held_passes_error', payer, error: String(error) });
      throw error;
    }
  }
}

/** What a signed-in request is admitted as: the pass it holds that opens the request. */
export interface SignedInPass {
  readonly passId: string;
  /** The payer, lower-case (as in a pass's `sub`). */
  readonly payer: string;
}

/** The sign-in path of the pass scheme: the 402's challenge, and admitting a proof as a held pass. */
export class PassSignIn {
  constructor(
    private readonly scheme: PassScheme,
    private readonly held: HeldPasses,
    private readonly network: string,
    private readonly clock: Clock,
  ) {}

  challenge(resource: string): Record<string, unknown> {
    return signInChallenge(resource, this.network, this.clock(), signInNonce());
  }

  /**
   * A proof on a priced request: the pass of the signed-in payer that opens it, else why not (the
   * last pass's refusal, or `sign_in_no_pass`). A table that cannot be read fails closed (503).
   */
  async admit(header: string, routeIndex: number, method: string, path: string, resource: string): Promise<SignedInPass | Rejection> {
    const payer = signedInPayer(header, resource, this.network, this.clock());
    if (isRejection(payer)) return payer;
    let passes;
    try {
      passes = await this.held.of(payer);
    } catch {
      return reject(503, Reasons.receiptStoreUnavailable, 'passes cannot be looked up right now: present the pass token, or retry', 5);
    }
    const nowSeconds = Math.floor(this.clock() / 1000);
    let refusal: Rejection | undefined;
    for (const pass of passes) {
      // The same validity as a presented token (lambda/core/passes/token.ts), from the recorded terms.
      if (nowSeconds < pass.passNotBefore - PASS_CLOCK_SKEW_SECONDS || nowSeconds >= pass.passExpiresAt + PASS_CLOCK_SKEW_SECONDS) continue;
      refusal = this.scheme.refusal({ pass: pass.passName, scope: pass.passScope, jti: pass.passId }, routeIndex, method, path);
      if (!refusal) return { passId: pass.passId, payer: payer.toLowerCase() };
    }
    return refusal ?? reject(402, Reasons.signInNoPass, `${payer} holds no valid pass of this site: buy one (see the x402-pass offer)`);
  }
}

/** A fresh challenge nonce: 32 hex digits (EIP-4361 wants at least 8 alphanumerics). */
export function signInNonce(): string {
  return randomBytes(16).toString('hex');
}

function refused(reason: string, message: string): Rejection {
  return reject(402, reason, message);
}
