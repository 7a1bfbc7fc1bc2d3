/**
 * The proof of a sign-in with x (lambda/core/passes/sign-in.ts): parsed, validated and its EIP-191
 * signature of the EIP-4361 text recovered, as the `sign-in-with-x` package's server helpers do.
 *
 * Why not the package's helpers in the viewer bundle: its sign-in-with-x module imports, at top
 * level, an EIP-4361 ABNF parser and a Solana signature library, which the bundler cannot drop; the
 * viewer bundle grew from 230 to 300 KB zipped with them. So the few checks are here, on this
 * bundle's own secp256k1 recovery, and test/unit/passes/sign-in.test.ts proves each verdict and
 * the signed text equal the package's (`parseSIWxHeader`, `validateSIWxMessage`,
 * `formatSIWEMessage`, `verifySIWxSignature`), with the same reason codes.
 */
import { getAddress, hashMessage, isAddress } from 'viem';
import { isRejection, reject, Reasons, type Rejection } from '../rejection';
import { recoverSigner } from '../secp256k1';
import { MAX_SIGN_IN_HEADER_LENGTH } from './sign-in';
import { SIGN_IN_MAX_AGE_SECONDS, SIGN_IN_WITH_X } from './sign-in-challenge';

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

function refused(reason: string, message: string): Rejection {
  return reject(402, reason, message);
}
