import type { PaymentPayload } from '@x402/core/types';
import type { PaymentPayloadV1 } from '@x402/core/types/v1';
import { concat, encodeAbiParameters, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { DecodedPayment } from '../../lambda/core/payment-header';
import { ExactEvmPrecheck } from '../../lambda/core/precheck';
import { isRejection } from '../../lambda/core/rejection';
import { paymentRequiredV2, requirementsV1, routeTerms } from '../../lambda/core/requirements';
import { compileRoutes } from '../../lambda/core/routes';
import { testEdgeConfig } from '../support/config';
import { signPayment } from '../support/payer';
import { highSTwin } from '../support/signatures';

const config = testEdgeConfig();
const terms = routeTerms(compileRoutes(config)[0], config);
const precheck = new ExactEvmPrecheck(config);
const resource = 'https://example.com/articles/one';
const payer = privateKeyToAccount(generatePrivateKey());
const now = () => Math.floor(Date.now() / 1000);

async function signedV2(): Promise<PaymentPayload> {
  return signPayment(payer, paymentRequiredV2(terms, resource));
}

/** The official client returns v1 payloads under the v2 type. */
function asV1(payload: object): DecodedPayment {
  return { x402Version: 1, payload: payload as unknown as PaymentPayloadV1 };
}

/** Deep copy with a change applied after signing: the signature no longer covers it. */
function tampered(payload: PaymentPayload, change: (p: any) => void): DecodedPayment {
  const copy = JSON.parse(JSON.stringify(payload));
  change(copy);
  return { x402Version: 2, payload: copy };
}

describe('ExactEvmPrecheck', () => {
  it('accepts a payment signed by the official client and names its payer', async () => {
    const result = await precheck.check({ x402Version: 2, payload: await signedV2() }, terms, now());
    expect(isRejection(result)).toBe(false);
    expect(result).toMatchObject({ payer: payer.address, signature: 'recovered' });
  });

  it('accepts a v1 payment signed by the official client', async () => {
    const payload = await signPayment(payer, { x402Version: 1, accepts: [requirementsV1(terms, resource)!] });
    const result = await precheck.check(asV1(payload), terms, now());
    expect(result).toMatchObject({ payer: payer.address });
  });

  it.each([
    ['a tampered authorization value', (p: any) => (p.payload.authorization.value = '999'), 'invalid_exact_evm_payload_authorization_value_mismatch'],
    ['a tampered value matching a tampered accepted amount', (p: any) => { p.payload.authorization.value = '1'; p.accepted.amount = '1'; }, 'invalid_exact_evm_payload_authorization_value_mismatch'],
    ['a swapped recipient', (p: any) => (p.payload.authorization.to = '0x000000000000000000000000000000000000dEaD'), 'invalid_exact_evm_recipient_mismatch'],
    ['another network in accepted', (p: any) => (p.accepted.network = 'eip155:8453'), 'invalid_network'],
    ['another scheme in accepted', (p: any) => (p.accepted.scheme = 'upto'), 'invalid_scheme'],
    ['another asset in accepted', (p: any) => (p.accepted.asset = '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913'), 'invalid_exact_evm_asset_mismatch'],
    ['a changed maxTimeoutSeconds in accepted', (p: any) => (p.accepted.maxTimeoutSeconds = 1), 'invalid_payment_requirements'],
  ])('refuses %s with 402 %s', async (_, change, reason) => {
    const result = await precheck.check(tampered(await signedV2(), change), terms, now());
    expect(result).toMatchObject({ status: 402, reason });
  });

  // A smart wallet's signature does not recover to the wallet, and neither does a bad one: only the
  // payer's code tells them apart (the paywall asks the chain, or the facilitator decides).
  const SMART_WALLET_OWNER_SIGNATURE = async (p: any) => {
    const owner = privateKeyToAccount(generatePrivateKey());
    p.payload.signature = (await signPayment(owner, paymentRequiredV2(terms, resource)) as any).payload.signature;
  };
  const ERC6492_MAGIC = '0x6492649264926492649264926492649264926492649264926492649264926492';
  it.each([
    ['a 65-byte signature by another key (a 1271 wallet\'s owner, or a forger)', SMART_WALLET_OWNER_SIGNATURE],
    ['a tampered nonce', (p: any) => (p.payload.authorization.nonce = '0x' + '11'.repeat(32))],
    ['a tampered validBefore', (p: any) => (p.payload.authorization.validBefore = String(now() + 100))],
    ['a payer other than the signer', (p: any) => (p.payload.authorization.from = '0x000000000000000000000000000000000000dEaD')],
    ['a signature longer than 65 bytes (ERC-1271 wallets sign as they like)', (p: any) => (p.payload.signature = p.payload.signature + '00'.repeat(31))],
    ['a v outside {0, 1, 27, 28} (a Safe\'s eth_sign flavour writes 31 or 32)', (p: any) => (p.payload.signature = p.payload.signature.slice(0, -2) + '1f')],
  ])('passes on %s as a signature that does not recover, not as the payer\'s proven one', async (_, change) => {
    const payload = JSON.parse(JSON.stringify(await signedV2()));
    await change(payload);
    const result = await precheck.check({ x402Version: 2, payload }, terms, now());
    expect(result).toMatchObject({ payer: payload.payload.authorization.from, signature: 'unrecovered' });
  });

  it('passes on an ERC-6492-wrapped signature (a wallet not deployed yet) as counterfactual: only the facilitator can check it', async () => {
    const payload = JSON.parse(JSON.stringify(await signedV2()));
    const wrapped = encodeAbiParameters([{ type: 'address' }, { type: 'bytes' }, { type: 'bytes' }], ['0x000000000000000000000000000000000000fac7', '0x1234', payload.payload.signature as Hex]);
    payload.payload.signature = concat([wrapped, ERC6492_MAGIC]);
    expect(await precheck.check({ x402Version: 2, payload }, terms, now())).toMatchObject({ signature: 'counterfactual' });
  });

  // USDC's ECRecover reverts on both forms, so the payer's transfer could never settle.
  it.each([
    ['as its high-s twin (s\' = n - s, the other v)', (signature: Hex) => highSTwin(signature), /upper half of the curve order/],
    ['with v as the recovery bit (0 or 1)', (signature: Hex) => `${signature.slice(0, -2)}${(parseInt(signature.slice(-2), 16) - 27).toString(16).padStart(2, '0')}` as Hex, /v is 0[01]: USDC accepts only 27 or 28/],
  ])('refuses the payer\'s own signature %s with 402 invalid_exact_evm_signature, naming the fix', async (_, rewrite, message) => {
    const payload = JSON.parse(JSON.stringify(await signedV2()));
    payload.payload.signature = rewrite(payload.payload.signature);
    const result = await precheck.check({ x402Version: 2, payload }, terms, now());
    expect(result).toMatchObject({ status: 402, reason: 'invalid_exact_evm_signature' });
    expect(isRejection(result) && result.message).toMatch(message);
  });

  it('refuses an authorization valid far beyond the route\'s maxTimeoutSeconds (a year) with 402 valid_before', async () => {
    const yearLong = await signPayment(payer, paymentRequiredV2(routeTerms({ ...compileRoutes(config)[0], maxTimeoutSeconds: 365 * 24 * 3600 }, config), resource));
    const result = await precheck.check({ x402Version: 2, payload: { ...yearLong, accepted: terms.requirements } }, terms, now());
    expect(result).toMatchObject({ status: 402, reason: 'invalid_exact_evm_payload_authorization_valid_before' });
    expect(isRejection(result) && result.message).toMatch(/maxTimeoutSeconds \(120 s\)/);
  });

  it('allows validBefore up to maxTimeoutSeconds + 30 s of clock skew, and not a second more', async () => {
    const payload = await signedV2();
    const validBefore = Number((payload.payload as any).authorization.validBefore);
    const signedAt = validBefore - terms.route.maxTimeoutSeconds;
    expect(await precheck.check({ x402Version: 2, payload }, terms, signedAt - 30)).toMatchObject({ signature: 'recovered' });
    expect(await precheck.check({ x402Version: 2, payload }, terms, signedAt - 31)).toMatchObject({ status: 402, reason: 'invalid_exact_evm_payload_authorization_valid_before' });
  });

  it('refuses an expired authorization and one not yet valid', async () => {
    const payload = await signedV2();
    const { validAfter, validBefore } = (payload.payload as any).authorization;
    const expired = await precheck.check({ x402Version: 2, payload }, terms, Number(validBefore));
    expect(expired).toMatchObject({ status: 402, reason: 'invalid_exact_evm_payload_authorization_valid_before' });
    const early = await precheck.check({ x402Version: 2, payload }, terms, Number(validAfter) - 1);
    expect(early).toMatchObject({ status: 402, reason: 'invalid_exact_evm_payload_authorization_valid_after' });
  });

  it.each([
    ['a missing authorization', (p: any) => delete p.payload.authorization, /authorization" is missing/],
    ['a non-hex signature', (p: any) => (p.payload.signature = 'zz'), /signature/],
    ['a non-address payer', (p: any) => (p.payload.authorization.from = 'alice'), /authorization\.from/],
    ['a float value', (p: any) => (p.payload.authorization.value = '1000.5'), /authorization\.value/],
    ['a short nonce', (p: any) => (p.payload.authorization.nonce = '0x1234'), /nonce/],
  ])('answers 400 for %s', async (_, change, message) => {
    const result = await precheck.check(tampered(await signedV2(), change), terms, now());
    expect(result).toMatchObject({ status: 400, reason: 'invalid_payload' });
    expect(isRejection(result) && result.message).toMatch(message);
  });

  it('refuses a v1 payment naming another network', async () => {
    const payload = await signPayment(payer, { x402Version: 1, accepts: [requirementsV1(terms, resource)!] });
    const result = await precheck.check(asV1({ ...payload, network: 'base' }), terms, now());
    expect(result).toMatchObject({ status: 402, reason: 'invalid_network' });
  });
});

describe('route terms', () => {
  it('are the same bytes for the 402 and for the retry', () => {
    const again = routeTerms(compileRoutes(config)[0], config);
    expect(JSON.stringify(paymentRequiredV2(again, resource).accepts)).toBe(JSON.stringify(paymentRequiredV2(terms, resource).accepts));
    expect(Object.isFrozen(terms.requirements)).toBe(true);
  });
});
