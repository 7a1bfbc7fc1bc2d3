/**
 * Cheap attacks on the publisher's bill are bounded, through the local edge (real chain, official
 * facilitator, dynalite): an authorization that is never spent cannot loop verify + reserve +
 * origin calls, and clients whose payments keep failing wait before the edge calls anything.
 * Each test speaks from its own client address (127.0.0.x), as the edge sees clients.
 */
import type { PrivateKeyAccount } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { rawRequest } from '../reliability/support/raw-http';
import { expectReceiptsReconcile, paymentHeader, signedPaymentFor, termsFor } from '../support/edge-client';
import { signPayment } from '../support/payer';

let stack: LocalStack;
let agent: PrivateKeyAccount;

beforeAll(async () => {
  stack = await startLocalStack();
  agent = await stack.chain.newFundedWallet(1_000_000n);
});
afterAll(() => stack?.close());

const nonceOf = (payment: { payload: Record<string, unknown> }) => (payment.payload as { authorization: { nonce: string } }).authorization.nonce;

it('reserves an authorization the origin never serves at most 4 times, then refuses it with 402 authorization_retries_exhausted', async () => {
  stack.origin.setBehavior('/articles/flaky', { status: 500 });
  const payment = await signedPaymentFor(stack, agent, '/articles/flaky');
  const before = await stack.chain.usdcBalance(agent.address);
  const present = async () => (await rawRequest(stack.edge.url, '/articles/flaky', { headers: paymentHeader(payment), clientAddress: '127.0.0.2' })).status;
  expect(await present()).toBe(500);
  // Presented again in parallel after the release: exactly one of them holds it.
  expect((await Promise.all([present(), present(), present()])).sort()).toEqual([402, 402, 500]);
  expect([await present(), await present()]).toEqual([500, 500]);

  const fifth = await rawRequest(stack.edge.url, '/articles/flaky', { headers: paymentHeader(payment), clientAddress: '127.0.0.2' });
  expect(fifth.status).toBe(402);
  expect(JSON.parse(fifth.body)).toMatchObject({ error: 'authorization_retries_exhausted', message: expect.stringMatching(/sign a new one/) });
  expect(stack.origin.requestsFor('/articles/flaky')).toBe(4);
  expect(await stack.chain.usdcBalance(agent.address)).toBe(before);
  const row = (await stack.receipts()).find((r) => r.nonce === nonceOf(payment));
  expect(row).toMatchObject({ status: 'released', reservations: 4 });
  stack.origin.setBehavior('/articles/flaky', undefined);
});

it('answers 429 with Retry-After, before any facilitator or DynamoDB call, to a client whose payments kept failing verification', async () => {
  const terms = await termsFor(stack, '/articles/backoff');
  for (let attempt = 0; attempt < 5; attempt++) {
    const unfunded = await signPayment(privateKeyToAccount(generatePrivateKey()), terms);
    const refused = await rawRequest(stack.edge.url, '/articles/backoff', { headers: paymentHeader(unfunded), clientAddress: '127.0.0.3' });
    expect(`${refused.status} ${JSON.parse(refused.body).error}`).toMatch(/^402 .*insufficient/);
  }

  const valid = await signedPaymentFor(stack, agent, '/articles/backoff');
  const verifies = stack.facilitator.calls.verify;
  const throttled = await rawRequest(stack.edge.url, '/articles/backoff', { headers: paymentHeader(valid), clientAddress: '127.0.0.3' });
  expect(throttled.status).toBe(429);
  expect(throttled.headers['retry-after']).toBe('10');
  expect(JSON.parse(throttled.body).error).toBe('too_many_failed_payments');
  expect(stack.facilitator.calls.verify).toBe(verifies);
  expect((await stack.receipts()).some((r) => r.nonce === nonceOf(valid))).toBe(false);
  expect(stack.origin.requestsFor('/articles/backoff')).toBe(0);

  // Other clients, and the payer, are not held back by that client's failures.
  const elsewhere = await rawRequest(stack.edge.url, '/articles/backoff', { headers: paymentHeader(valid), clientAddress: '127.0.0.4' });
  expect(elsewhere.status).toBe(200);
});

describe('money', () => {
  it('reconciles: only the payment served from the other client was charged', async () => {
    expect((await expectReceiptsReconcile(stack)).settled).toBe(1);
  });
});
