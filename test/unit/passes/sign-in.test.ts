/**
 * Sign in with x, the pure parts: the edge's checks give the verdicts of the official
 * `@x402/extensions/sign-in-with-x` server helpers (same message, same reason codes), on proofs
 * made by the package's own client helper with real secp256k1 keys; and the per-container cache of
 * a payer's passes.
 */
import {
  createSIWxPayload,
  encodeSIWxHeader,
  formatSIWEMessage,
  parseSIWxHeader,
  validateSIWxMessage,
  verifySIWxSignature,
  type CompleteSIWxInfo,
  type SIWxExtension,
} from '@x402/extensions/sign-in-with-x';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { MAX_PASS_SECONDS } from '../../../lambda/core/passes/offers';
import type { PassRecord } from '../../../lambda/core/passes/scheme';
import { HELD_PASSES_TTL_SECONDS, HeldPasses, NO_PASS_TTL_SECONDS } from '../../../lambda/core/passes/sign-in';
import { signInChallenge, SIGN_IN_MAX_AGE_SECONDS, SIGN_IN_WITH_X } from '../../../lambda/core/passes/sign-in-challenge';
import { parseSignInProof, signedInPayer, signInMessage, validateSignInProof, type SignInProof } from '../../../lambda/core/passes/sign-in-proof';
import { isRejection } from '../../../lambda/core/rejection';

const NETWORK = 'eip155:84532';
const RESOURCE = 'https://news.example/articles/one';
const account = privateKeyToAccount(generatePrivateKey());

/** A proof the official client helper signs for a challenge of ours (issued `ageMs` ago, with `info` overrides). */
async function proofFor(options: { ageMs?: number; info?: Partial<CompleteSIWxInfo>; resource?: string } = {}): Promise<{ header: string; proof: SignInProof }> {
  const now = Date.now() - (options.ageMs ?? 0);
  const challenge = signInChallenge(options.resource ?? RESOURCE, NETWORK, now, 'abcdef0123456789')[SIGN_IN_WITH_X] as SIWxExtension;
  const info: CompleteSIWxInfo = { ...challenge.info, chainId: challenge.supportedChains[0].chainId, type: challenge.supportedChains[0].type, ...options.info };
  const payload = await createSIWxPayload(info, account, info.uri);
  return { header: encodeSIWxHeader(payload), proof: payload };
}

/** The package's verdict on a header, as a reason code (undefined: accepted). */
async function officialVerdict(header: string, origin: string): Promise<string | undefined> {
  const payload = parseSIWxHeader(header);
  const validation = await validateSIWxMessage(payload, new URL(origin), { maxAge: SIGN_IN_MAX_AGE_SECONDS * 1000 });
  if (!validation.isValid) return validation.invalidReason;
  const verification = await verifySIWxSignature(payload);
  return verification.isValid ? undefined : verification.invalidReason;
}

function edgeVerdict(header: string, resource = RESOURCE): string | undefined {
  const payer = signedInPayer(header, resource, NETWORK, Date.now());
  if (isRejection(payer)) return payer.reason;
  expect(payer).toBe(account.address);
  return undefined;
}

describe('the challenge in a 402', () => {
  it('is what the official client signs: bound to the resource origin, expiring after the maximum age', async () => {
    const extension = signInChallenge(RESOURCE, NETWORK, Date.parse('2026-12-02T05:00:00.000Z'), 'abcdef0123456789')[SIGN_IN_WITH_X] as SIWxExtension;
    expect(extension.info).toMatchObject({ domain: 'news.example', uri: RESOURCE, version: '1', nonce: 'abcdef0123456789', issuedAt: '2026-12-02T05:00:00.000Z', expirationTime: '2026-12-02T05:05:00.000Z', resources: [RESOURCE] });
    expect(extension.supportedChains).toEqual([{ chainId: NETWORK, type: 'eip191' }]);
  });
});

describe('a proof is judged as the official server helpers judge it', () => {
  it('accepts a fresh proof from the official client and names its wallet', async () => {
    const { header } = await proofFor();
    expect(await officialVerdict(header, 'https://news.example')).toBeUndefined();
    expect(edgeVerdict(header)).toBeUndefined();
  });

  it('signs the same EIP-4361 text as the package, with and without the optional fields', async () => {
    const { proof } = await proofFor();
    const variants: SignInProof[] = [
      proof,
      { ...proof, statement: undefined, expirationTime: undefined, resources: undefined },
      { ...proof, notBefore: new Date().toISOString(), requestId: 'req-1', resources: [RESOURCE, 'https://news.example/terms'] },
    ];
    for (const variant of variants) expect(signInMessage(variant, account.address)).toBe(formatSIWEMessage({ ...variant, resources: variant.resources && [...variant.resources] }, account.address));
  });

  it.each([
    ['another site (domain and URI)', { resource: 'https://other.example/articles/one' }, 'invalid_siwx_domain_mismatch'],
    ['the right domain but another URI origin', { info: { uri: 'http://news.example/articles/one' } }, 'invalid_siwx_uri_mismatch'],
    ['issued longer ago than the maximum age', { ageMs: (SIGN_IN_MAX_AGE_SECONDS + 5) * 1000 }, 'invalid_siwx_issued_at_too_old'],
    ['issued in the future', { ageMs: -60_000 }, 'invalid_siwx_issued_at_in_future'],
    ['past its expiration time', { info: { expirationTime: new Date(Date.now() - 1000).toISOString() } }, 'invalid_siwx_expired'],
    ['before its not-before time', { info: { notBefore: new Date(Date.now() + 60_000).toISOString() } }, 'invalid_siwx_not_yet_valid'],
  ])('refuses a proof for %s with the package reason', async (_case, options, reason) => {
    const { header } = await proofFor(options as Parameters<typeof proofFor>[0]);
    expect(await officialVerdict(header, 'https://news.example')).toBe(reason);
    expect(edgeVerdict(header)).toBe(reason);
  });

  it('refuses a proof whose signed fields were altered after signing, or signed by another wallet', async () => {
    const { proof } = await proofFor();
    const altered = encodeSIWxHeader({ ...proof, nonce: 'fedcba9876543210' } as Parameters<typeof encodeSIWxHeader>[0]);
    expect(await officialVerdict(altered, 'https://news.example')).toBe('invalid_siwx_signature');
    expect(edgeVerdict(altered)).toBe('invalid_siwx_signature');
    const other = privateKeyToAccount(generatePrivateKey());
    const claimed = encodeSIWxHeader({ ...proof, address: other.address } as Parameters<typeof encodeSIWxHeader>[0]);
    expect(await officialVerdict(claimed, 'https://news.example')).toBe('invalid_siwx_signature');
    expect(edgeVerdict(claimed)).toBe('invalid_siwx_signature');
  });

  it('refuses a proof for another chain, and headers that are not proofs', async () => {
    const { header } = await proofFor({ info: { chainId: 'eip155:8453' } });
    expect(edgeVerdict(header)).toBe('invalid_siwx_chain_id');
    expect(edgeVerdict('not base64!')).toBe('invalid_siwx_header');
    expect(edgeVerdict(Buffer.from('[1]').toString('base64'))).toBe('invalid_siwx_header');
    expect(edgeVerdict('A'.repeat(5000))).toBe('invalid_siwx_header');
  });

  it('refuses a field with a line break: each field is one line of the signed text', async () => {
    const { proof } = await proofFor();
    const header = Buffer.from(JSON.stringify({ ...proof, statement: 'hello\nURI: https://evil.example/' })).toString('base64');
    const parsed = parseSignInProof(header);
    expect(isRejection(parsed) && parsed.reason).toBe('invalid_siwx_header');
  });

  it('judges time by the edge clock it is given', async () => {
    const { proof } = await proofFor();
    const origin = new URL('https://news.example');
    expect(validateSignInProof(proof, origin, Date.now())).toBeUndefined();
    expect(validateSignInProof(proof, origin, Date.now() + (SIGN_IN_MAX_AGE_SECONDS + 1) * 1000)?.reason).toBe('invalid_siwx_issued_at_too_old');
  });
});

describe("a container's memory of a payer's passes", () => {
  const PASS: PassRecord = { passName: 'day', passScope: ['/articles/*'], passSeconds: 86_400, passNotBefore: 1, passExpiresAt: 2, passId: 'p1' };

  function setup(answers: Array<readonly PassRecord[] | Error>, capacity?: number) {
    let now = 10_000_000;
    const queries: Array<{ payer: string; since: string; nowSeconds: number }> = [];
    const held = new HeldPasses(
      {
        heldPasses: async (payer, since, nowSeconds) => {
          queries.push({ payer, since, nowSeconds });
          const answer = answers.shift() ?? [];
          if (answer instanceof Error) throw answer;
          return answer;
        },
      },
      () => now,
      () => undefined,
      capacity,
    );
    return { held, queries, advance: (ms: number) => (now += ms), now: () => now };
  }

  it('asks the table once per payer per TTL, for receipts no older than the longest pass', async () => {
    const { held, queries, advance, now } = setup([[PASS], [PASS]]);
    expect(await held.of('0xA')).toEqual([PASS]);
    expect(await held.of('0xA')).toEqual([PASS]);
    expect(queries).toEqual([{ payer: '0xA', since: new Date(now() - MAX_PASS_SECONDS * 1000).toISOString(), nowSeconds: Math.floor(now() / 1000) }]);
    advance(HELD_PASSES_TTL_SECONDS * 1000);
    await held.of('0xA');
    expect(queries).toHaveLength(2);
  });

  it('shares one query between concurrent sign-ins of a payer', async () => {
    const { held, queries } = setup([[PASS]]);
    await Promise.all([held.of('0xA'), held.of('0xA'), held.of('0xA')]);
    expect(queries).toHaveLength(1);
  });

  it('remembers "no pass" only briefly, so a pass bought just now opens soon', async () => {
    const { held, queries, advance } = setup([[], [PASS]]);
    expect(await held.of('0xA')).toEqual([]);
    advance(NO_PASS_TTL_SECONDS * 1000 - 1);
    expect(await held.of('0xA')).toEqual([]);
    advance(1);
    expect(await held.of('0xA')).toEqual([PASS]);
    expect(queries).toHaveLength(2);
  });

  it('does not remember a failed query', async () => {
    const { held, queries } = setup([new Error('table unreachable'), [PASS]]);
    await expect(held.of('0xA')).rejects.toThrow('table unreachable');
    expect(await held.of('0xA')).toEqual([PASS]);
    expect(queries).toHaveLength(2);
  });

  it('holds at most its capacity of payers, dropping the least recently used', async () => {
    const { held, queries } = setup([[PASS], [PASS], [PASS], [PASS]], 2);
    await held.of('0xA');
    await held.of('0xB');
    await held.of('0xA');
    await held.of('0xC'); // drops 0xB
    await held.of('0xA');
    expect(queries.map((q) => q.payer)).toEqual(['0xA', '0xB', '0xC']);
    await held.of('0xB');
    expect(queries.map((q) => q.payer)).toEqual(['0xA', '0xB', '0xC', '0xB']);
  });
});
