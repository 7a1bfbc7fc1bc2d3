/**
 * Hostile cases against metered (`upto`) routes on the local edge: usage reports that do not come
 * from the origin, and Permit2 witnesses signed for other terms than the 402 offered. For each:
 * what was charged is exactly what the origin reported (or nothing), and the payer's balance shows it.
 */
import { decodePaymentRequiredHeader } from '@x402/core/http';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import type { PrivateKeyAccount } from 'viem';
import { officialClientFor } from '../../local/agent';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { edgeFetch, paymentHeader } from '../support/edge-client';

const METERED = '/metered/**';
const MAXIMUM = 5000n;
const OTHER_FACILITATOR = '0x000000000000000000000000000000000000dEaD';

let stack: LocalStack;
let payer: PrivateKeyAccount;

beforeAll(async () => {
  stack = await startLocalStack({
    routes: [
      { pattern: METERED, scheme: 'upto', maxPrice: '$0.005' },
      { pattern: '/articles/*', price: '$0.001' },
    ],
  });
  payer = await stack.chain.newFundedWallet(1_000_000n);
  await stack.chain.approvePermit2(payer);
}, 120_000);
afterAll(() => stack?.close());

async function offered(path: string): Promise<PaymentRequirements> {
  const response = await edgeFetch(stack, path);
  expect(response.status).toBe(402);
  return decodePaymentRequiredHeader(response.headers.get('payment-required')!).accepts[0];
}

/** The official upto client signs `signed`; the payload then claims to accept `claimed` (the offered terms). */
async function signedFor(path: string, signed: PaymentRequirements, claimed: PaymentRequirements): Promise<PaymentPayload> {
  const payload = await officialClientFor(payer).createPaymentPayload({ x402Version: 2, resource: { url: `${stack.edge.url}${path}` }, accepts: [signed] });
  return { ...payload, accepted: claimed };
}

const settledReceipts = async () => (await stack.receipts()).filter((r) => r.status === 'settled');

it('a usage report sent by the client never reaches the origin, and the origin\'s own report is what is charged', async () => {
  const path = '/metered/client-injected';
  stack.origin.setBehavior(path, { status: 200, body: '{}', headers: { 'Settlement-Overrides': '{"amount":"800"}' } });
  const terms = await offered(path);
  const before = await stack.chain.usdcBalance(payer.address);
  const response = await edgeFetch(stack, path, { ...paymentHeader(await signedFor(path, terms, terms)), 'settlement-overrides': '{"amount":"0"}' });
  expect(response.status).toBe(200);
  expect(stack.origin.received.filter((r) => r.path === path).map((r) => r.headers['settlement-overrides'])).toEqual([undefined]);
  expect(await stack.chain.usdcBalance(payer.address)).toBe(before - 800n);
});

it('a viewer\'s override header is stripped on free and unpaid traffic too', async () => {
  await edgeFetch(stack, '/free-page', { 'settlement-overrides': '{"amount":"1"}' });
  await edgeFetch(stack, '/metered/unpaid', { 'settlement-overrides': '{"amount":"1"}' });
  expect(stack.origin.received.filter((r) => r.headers['settlement-overrides'] !== undefined)).toEqual([]);
});

it('a client-injected report with the origin silent charges the route default (the maximum), never the client\'s figure', async () => {
  const path = '/metered/silent-origin';
  stack.origin.setBehavior(path, { status: 200, body: '{}' });
  const terms = await offered(path);
  const before = await stack.chain.usdcBalance(payer.address);
  const response = await edgeFetch(stack, path, { ...paymentHeader(await signedFor(path, terms, terms)), 'Settlement-Overrides': '{"amount":"1"}' });
  expect(response.status).toBe(200);
  expect(await stack.chain.usdcBalance(payer.address)).toBe(before - MAXIMUM);
});

it.each([
  ['a maximum below the offered one', (t: PaymentRequirements) => ({ ...t, amount: '1' })],
  ['a witness naming another facilitator', (t: PaymentRequirements) => ({ ...t, extra: { ...t.extra, facilitatorAddress: OTHER_FACILITATOR } })],
])('refuses %s before the origin and the facilitator, charging nothing', async (_what, alter) => {
  const path = `/metered/witness-${_what.length}`;
  const terms = await offered(path);
  const before = await stack.chain.usdcBalance(payer.address);
  const settledBefore = (await settledReceipts()).length;
  const response = await edgeFetch(stack, path, paymentHeader(await signedFor(path, alter(terms), terms)));
  expect(response.status).toBe(402);
  expect(await response.json()).toMatchObject({ error: 'invalid_upto_evm_witness_mismatch' });
  expect(stack.origin.requestsFor(path)).toBe(0);
  expect(await stack.chain.usdcBalance(payer.address)).toBe(before);
  expect((await settledReceipts()).length).toBe(settledBefore);
});

it('refuses a Permit2 authorization for another spender than the upto proxy', async () => {
  const path = '/metered/other-spender';
  const terms = await offered(path);
  const payload = await signedFor(path, terms, terms);
  const inner = payload.payload as { permit2Authorization: Record<string, unknown> };
  const tampered = { ...payload, payload: { ...payload.payload, permit2Authorization: { ...inner.permit2Authorization, spender: OTHER_FACILITATOR } } };
  const response = await edgeFetch(stack, path, paymentHeader(tampered));
  expect(response.status).toBe(402);
  expect(await response.json()).toMatchObject({ error: 'invalid_upto_evm_witness_mismatch' });
  expect(stack.origin.requestsFor(path)).toBe(0);
});
