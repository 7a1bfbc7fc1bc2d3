/**
 * The local signature check (EIP-712 digest laid out for TransferWithAuthorization, key recovery
 * by libsecp256k1 in WASM) against viem's `hashTypedData` and `recoverTypedDataAddress` on random
 * payments, valid and tampered: same digest, same verdict. USDC's two extra rules (s in the lower
 * half, v of 27 or 28) are applied on top of viem's verdict, which accepts both other forms.
 */
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { authorizationTypes } from '@x402/evm';
import { initWasmSecp256k1 } from '@solar-republic/wasm-secp256k1/gzipped';
import fc from 'fast-check';
import { bytesToHex, concat, encodeAbiParameters, hashTypedData, type Hex } from 'viem';
import { publicKeyToAddress } from 'viem/accounts';
import { checkSignature } from '../../lambda/core/precheck';
import { isRejection } from '../../lambda/core/rejection';
import { SECP256K1_ORDER } from '../../lambda/core/secp256k1';
import { domainSeparator, transferDigest, type TransferAuthorization, type TransferDomain } from '../../lambda/core/transfer-digest';
import { highSTwin } from '../support/signatures';

const CASES = 10_000;
const MAX_UINT256 = 2n ** 256n - 1n;
const ERC6492_MAGIC = '0x6492649264926492649264926492649264926492649264926492649264926492';

type Verdict = 'recovered' | 'unrecovered' | 'counterfactual' | 'highS' | 'vIsParity';

const hexBytes = (size: number) => fc.uint8Array({ minLength: size, maxLength: size }).map((bytes) => bytesToHex(bytes));
const uint256 = fc.oneof(fc.bigInt({ min: 0n, max: 2n ** 64n }), fc.bigInt({ min: 0n, max: MAX_UINT256 }), fc.constantFrom(0n, MAX_UINT256));
const text = fc.oneof(fc.constantFrom('USD Coin', 'USDC', '2'), fc.string({ maxLength: 24, unit: 'grapheme' }));
const domainArb = fc.record({
  name: text,
  version: text,
  chainId: fc.oneof(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.bigInt({ min: 1n, max: MAX_UINT256 })),
  verifyingContract: hexBytes(20),
});
const messageArb = fc.record({ to: hexBytes(20), value: uint256, validAfter: uint256, validBefore: uint256, nonce: hexBytes(32) });

/** What may go wrong between signing and checking. */
const tamperArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('field' as const), field: fc.constantFrom('from', 'to', 'value', 'validAfter', 'validBefore', 'nonce'), seed: messageArb, from: hexBytes(20) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('domain' as const), field: fc.constantFrom('name', 'version', 'chainId', 'verifyingContract'), other: domainArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('byte' as const), index: fc.integer({ min: 0, max: 64 }), mask: fc.integer({ min: 1, max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('v' as const), v: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'highS' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'vIsParity' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('scalar' as const),
      which: fc.constantFrom('r', 's'),
      value: fc.constantFrom(0n, 1n, SECP256K1_ORDER - 1n, SECP256K1_ORDER, SECP256K1_ORDER + 1n, MAX_UINT256),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('length' as const), delta: fc.integer({ min: -65, max: 40 }).filter((d) => d !== 0) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'erc6492' as const }) },
);
type Tamper = typeof tamperArb extends fc.Arbitrary<infer T> ? T : never;

function tamperSignature(signature: Hex, tamper: Tamper): Hex {
  const word = (value: bigint) => value.toString(16).padStart(64, '0');
  switch (tamper.kind) {
    case 'byte': {
      const bytes = Buffer.from(signature.slice(2), 'hex');
      bytes[tamper.index] ^= tamper.mask;
      return `0x${bytes.toString('hex')}`;
    }
    case 'v':
      return `${signature.slice(0, 130)}${tamper.v.toString(16).padStart(2, '0')}` as Hex;
    case 'highS':
      return highSTwin(signature);
    case 'vIsParity':
      return `${signature.slice(0, 130)}0${parseInt(signature.slice(130), 16) - 27}` as Hex;
    case 'scalar':
      return (tamper.which === 'r' ? `0x${word(tamper.value)}${signature.slice(66)}` : `${signature.slice(0, 66)}${word(tamper.value)}${signature.slice(130)}`) as Hex;
    case 'length':
      return (tamper.delta < 0 ? signature.slice(0, 132 + 2 * tamper.delta) : `${signature}${'ab'.repeat(tamper.delta)}`) as Hex;
    case 'erc6492':
      return concat([encodeAbiParameters([{ type: 'address' }, { type: 'bytes' }, { type: 'bytes' }], ['0x000000000000000000000000000000000000fac7', '0x1234', signature]), ERC6492_MAGIC]);
    default:
      return signature;
  }
}

interface ViemCheck {
  readonly digest: Hex;
  readonly from: string;
  readonly signature: Hex;
}

/**
 * viem's verdicts (support/viem-verdict-worker.js), computed by worker threads, one share of the
 * checks each, while this thread computes its own: the recoveries then use both cores.
 */
function viemVerdicts(): { verdicts(checks: readonly ViemCheck[]): Promise<Verdict[]>; close(): Promise<void> } {
  const workers = Array.from({ length: Math.max(1, Math.min(2, availableParallelism())) }, () =>
    new Worker(path.join(__dirname, '..', 'support', 'viem-verdict-worker.js'), { workerData: { secp256k1Order: SECP256K1_ORDER.toString() } }));
  let nextId = 0;
  const ask = (worker: Worker, checks: readonly ViemCheck[]) =>
    new Promise<Verdict[]>((resolve, reject) => {
      const id = nextId++;
      const onMessage = (message: { id: number; verdicts: Verdict[] }) => {
        if (message.id !== id) return;
        worker.off('message', onMessage).off('error', reject);
        resolve(message.verdicts);
      };
      worker.on('message', onMessage).once('error', reject);
      worker.postMessage({ id, checks });
    });
  return {
    async verdicts(checks) {
      const share = Math.ceil(checks.length / workers.length);
      const parts = await Promise.all(workers.map((worker, i) => ask(worker, checks.slice(i * share, (i + 1) * share))));
      return parts.flat();
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}

const viem = viemVerdicts();
afterAll(() => viem.close());

async function ourVerdict(domain: TransferDomain, authorization: TransferAuthorization, signature: Hex): Promise<Verdict> {
  const verdict = await checkSignature(domainSeparator(domain), authorization, signature);
  if (!isRejection(verdict)) return verdict;
  if (/upper half of the curve order/.test(verdict.message)) return 'highS';
  if (/v is 0[01]/.test(verdict.message)) return 'vIsParity';
  throw new Error(`unexpected refusal: ${verdict.message}`);
}

function viemDigest(domain: TransferDomain, authorization: TransferAuthorization): Hex {
  return hashTypedData({
    domain: { ...domain, verifyingContract: domain.verifyingContract as Hex },
    types: authorizationTypes,
    primaryType: 'TransferWithAuthorization',
    message: authorization as never,
  });
}

/** Each signed payment is checked as signed and in 9 tampered variants: signing is the costly part. */
const VARIANTS = 10;

it(`gives viem's digest and verdict on ${CASES} random payments, valid and tampered (fields, domain, signature bytes, v, high-s twins, r and s at the bounds, length, ERC-6492)`, async () => {
  // The payers sign with the package's own bindings (fast); ours only recover.
  const secp256k1 = await initWasmSecp256k1();
  const payers = Array.from({ length: 32 }, () => {
    const privateKey = secp256k1.gen_sk();
    return { privateKey, address: publicKeyToAddress(bytesToHex(secp256k1.sk_to_pk(privateKey, true))).toLowerCase() };
  });
  const seen = new Map<Verdict, number>();
  const payerArb = fc.integer({ min: 0, max: payers.length - 1 }).map((i) => payers[i]);
  const tampersArb = fc.array(tamperArb, { minLength: VARIANTS - 1, maxLength: VARIANTS - 1 }).map((tampers) => [{ kind: 'none' as const }, ...tampers]);
  await fc.assert(
    fc.asyncProperty(payerArb, domainArb, messageArb, tampersArb, async (payer, domain, message, tampers) => {
      const signed: TransferAuthorization = { ...message, from: payer.address };
      const signedDigest = viemDigest(domain, signed);
      const [rs, recovery] = secp256k1.sign(payer.privateKey, Buffer.from(signedDigest.slice(2), 'hex'));
      const variants = tampers.map((tamper) => {
        const signature = tamperSignature(`${bytesToHex(rs)}${(27 + recovery).toString(16)}` as Hex, tamper);
        const checkedDomain = tamper.kind === 'domain' ? { ...domain, [tamper.field]: tamper.other[tamper.field] } : domain;
        const checked = tamper.kind === 'field' ? { ...signed, [tamper.field]: tamper.field === 'from' ? tamper.from : tamper.seed[tamper.field as keyof typeof tamper.seed] } : signed;
        const digest = tamper.kind === 'domain' || tamper.kind === 'field' ? viemDigest(checkedDomain, checked) : signedDigest;
        return { signature, checkedDomain, checked, digest };
      });
      const expected = viem.verdicts(variants.map(({ digest, checked, signature }) => ({ digest, from: checked.from, signature })));
      const ours: Verdict[] = [];
      for (const { signature, checkedDomain, checked, digest } of variants) {
        expect(bytesToHex(transferDigest(domainSeparator(checkedDomain), checked))).toBe(digest);
        ours.push(await ourVerdict(checkedDomain, checked, signature));
      }
      const theirs = await expected;
      expect(ours).toEqual(theirs);
      for (const verdict of theirs) seen.set(verdict, (seen.get(verdict) ?? 0) + 1);
    }),
    { numRuns: CASES / VARIANTS },
  );
  // The generator reaches every verdict, each many times.
  for (const verdict of ['recovered', 'unrecovered', 'counterfactual', 'highS', 'vIsParity'] as const) expect(seen.get(verdict) ?? 0).toBeGreaterThan(CASES / 50);
}, 300_000);
