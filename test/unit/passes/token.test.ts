import { createHmac, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { PassPublicJwk } from '../../../lambda/core/config';
import { isRejection, type Rejection } from '../../../lambda/core/rejection';
import {
  assemblePassToken,
  claimsToBePass,
  MAX_PASS_TOKEN_LENGTH,
  PASS_CLOCK_SKEW_SECONDS,
  passId,
  passSigningInput,
  PassVerifier,
  type PassClaims,
} from '../../../lambda/core/passes/token';

const PAYER = `0x${'ab'.repeat(20)}`;
const OTHER_PAYER = `0x${'cd'.repeat(20)}`;
const PUBLISHER = `0x${'12'.repeat(20)}`;
const SITE = `${PUBLISHER}/0123456789abcdef`;
const NOW = 1_800_000_000;

function keyPair(): { privateKey: KeyObject; jwk: PassPublicJwk } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
  return { privateKey, jwk: { kty: kty as 'EC', crv: crv as 'P-256', x: x!, y: y! } };
}

const current = keyPair();
const previous = keyPair();
const verifier = new PassVerifier([{ kid: 'k2', jwk: current.jwk }, { kid: 'k1', jwk: previous.jwk }], SITE);

const claims = (overrides: Partial<PassClaims> = {}): PassClaims => ({
  iss: SITE,
  sub: PAYER,
  pass: 'day',
  scope: ['/articles/*'],
  nbf: NOW - 10,
  exp: NOW + 86_400,
  jti: passId('eip155:84532:0xusdc:0xpayer:0xnonce'),
  ...overrides,
});

function issue(c: PassClaims = claims(), kid = 'k2', key = current.privateKey): string {
  const input = passSigningInput(kid, c);
  return assemblePassToken(input, sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }));
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

function reason(result: PassClaims | Rejection): string {
  if (!isRejection(result)) throw new Error('expected a refusal');
  expect(result.status).toBe(402);
  return result.reason;
}

describe('pass tokens', () => {
  it('verifies a pass signed with the active key, and one of the retired key (rotation)', () => {
    expect(verifier.verify(issue(), NOW)).toEqual(claims());
    expect(verifier.verify(issue(claims(), 'k1', previous.privateKey), NOW)).toEqual(claims());
  });

  it('is a compact JWS whose header names ES256, the key and the pass type', () => {
    const [header, , signature] = issue().split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toEqual({ alg: 'ES256', kid: 'k2', typ: 'x402-pass+jwt' });
    expect(Buffer.from(signature, 'base64url')).toHaveLength(64);
    expect(claimsToBePass(issue())).toBe(true);
  });

  it('derives the same pass id from the same payment, another from another', () => {
    expect(passId('a')).toBe(passId('a'));
    expect(passId('a')).not.toBe(passId('b'));
    expect(passId('a')).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('refuses a tampered payload (longer pass, wider scope, another payer)', () => {
    const [header, , signature] = issue().split('.');
    for (const tampered of [claims({ exp: NOW + 365 * 86_400 }), claims({ scope: ['/**'] }), claims({ sub: OTHER_PAYER })]) {
      expect(reason(verifier.verify(`${header}.${b64(tampered)}.${signature}`, NOW))).toBe('pass_bad_signature');
    }
  });

  it('refuses a pass signed by another key under a known kid, and an unknown kid', () => {
    expect(reason(verifier.verify(issue(claims(), 'k2', keyPair().privateKey), NOW))).toBe('pass_bad_signature');
    expect(reason(verifier.verify(issue(claims(), 'k9', keyPair().privateKey), NOW))).toBe('pass_unknown_key');
  });

  it('refuses another site\'s pass even when it is signed with the same key', () => {
    expect(reason(verifier.verify(issue(claims({ iss: `${PUBLISHER}/fedcba9876543210` })), NOW))).toBe('pass_other_site');
  });

  it(`allows ${PASS_CLOCK_SKEW_SECONDS} s of clock skew at both ends, and not a second more`, () => {
    const c = claims({ nbf: NOW, exp: NOW + 3600 });
    const token = issue(c);
    expect(isRejection(verifier.verify(token, NOW - PASS_CLOCK_SKEW_SECONDS))).toBe(false);
    expect(reason(verifier.verify(token, NOW - PASS_CLOCK_SKEW_SECONDS - 1))).toBe('pass_not_yet_valid');
    expect(isRejection(verifier.verify(token, NOW + 3600 + PASS_CLOCK_SKEW_SECONDS - 1))).toBe(false);
    expect(reason(verifier.verify(token, NOW + 3600 + PASS_CLOCK_SKEW_SECONDS))).toBe('pass_expired');
  });

  it('refuses alg "none" and HS256 keyed with the public key (algorithm confusion)', () => {
    const payload = b64(claims());
    const none = `${b64({ alg: 'none', kid: 'k2', typ: 'x402-pass+jwt' })}.${payload}.${b64('x')}`;
    expect(reason(verifier.verify(none, NOW))).toBe('pass_unsupported_algorithm');
    const hsHeader = b64({ alg: 'HS256', kid: 'k2', typ: 'x402-pass+jwt' });
    const mac = createHmac('sha256', JSON.stringify(current.jwk)).update(`${hsHeader}.${payload}`).digest('base64url');
    expect(reason(verifier.verify(`${hsHeader}.${payload}.${mac}`, NOW))).toBe('pass_unsupported_algorithm');
    // An empty signature part (how "none" is usually written) is not even a JWS here.
    expect(reason(verifier.verify(`${b64({ alg: 'none', kid: 'k2', typ: 'x402-pass+jwt' })}.${payload}.`, NOW))).toBe('pass_malformed');
  });

  it('refuses an oversize token before parsing it', () => {
    const huge = issue(claims({ scope: Array.from({ length: 200 }, (_, i) => `/articles/section-${i}/*`) }));
    expect(huge.length).toBeGreaterThan(MAX_PASS_TOKEN_LENGTH);
    expect(claimsToBePass(huge)).toBe(true);
    expect(reason(verifier.verify(huge, NOW))).toBe('pass_too_large');
  });

  it('refuses garbage and incomplete claims, and leaves other bearer tokens alone', () => {
    for (const garbage of ['', 'a.b', 'a.b.c.d', '!!.??.##']) expect(reason(verifier.verify(garbage, NOW))).toBe('pass_malformed');
    const { jti: _jti, ...withoutId } = claims();
    expect(reason(verifier.verify(issue(withoutId as PassClaims), NOW))).toBe('pass_malformed');
    expect(reason(verifier.verify(issue(claims({ scope: [] })), NOW))).toBe('pass_malformed');
    const otherJwt = `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64({ sub: 'me' })}.${b64('sig')}`;
    expect(claimsToBePass(otherJwt)).toBe(false);
    expect(claimsToBePass('opaque-api-key')).toBe(false);
  });

  it('signs over exactly the first two parts (a PEM round trip of the key verifies too)', () => {
    const pem = current.privateKey.export({ format: 'pem', type: 'pkcs8' });
    expect(verifier.verify(issue(claims(), 'k2', createPrivateKey(pem)), NOW)).toEqual(claims());
  });
});
