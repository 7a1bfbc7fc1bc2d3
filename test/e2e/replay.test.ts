import { decodePaymentResponseHeader } from '@x402/core/http';
import type { PrivateKeyAccount } from 'viem';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { edgeFetch, expectReceiptsReconcile, paymentHeader, signedPaymentFor } from '../support/edge-client';

let stack: LocalStack;
let agent: PrivateKeyAccount;

beforeAll(async () => {
  stack = await startLocalStack();
  agent = await stack.chain.newFundedWallet(1_000_000n);
});
afterAll(() => stack?.close());

it('delivers a settled payment presented again once more without a second charge, then refuses it', async () => {
  const payment = await signedPaymentFor(stack, agent, '/articles/replayed');
  const first = await edgeFetch(stack, '/articles/replayed', paymentHeader(payment));
  expect(first.status).toBe(200);
  const balanceAfterFirst = await stack.chain.usdcBalance(agent.address);

  // The payer may not have received the first response (agent gave up, connection lost).
  const second = await edgeFetch(stack, '/articles/replayed', paymentHeader(payment));
  expect(second.status).toBe(200);
  const settlement = (r: Response) => decodePaymentResponseHeader(r.headers.get('payment-response')!);
  expect(settlement(second)).toEqual(settlement(first));

  const third = await edgeFetch(stack, '/articles/replayed', paymentHeader(payment));
  expect(third.status).toBe(402);
  expect(await third.json()).toMatchObject({ error: 'invalid_exact_evm_nonce_already_used' });
  expect(await stack.chain.usdcBalance(agent.address)).toBe(balanceAfterFirst);
  expect(stack.origin.requestsFor('/articles/replayed')).toBe(2);
  expect((await stack.receipts()).find((r) => r.resource.endsWith('/articles/replayed'))).toMatchObject({ status: 'settled', redeliveries: 1 });
});

it('redelivers only the resource that was paid for', async () => {
  const payment = await signedPaymentFor(stack, agent, '/articles/paid-one');
  expect((await edgeFetch(stack, '/articles/paid-one', paymentHeader(payment))).status).toBe(200);
  const elsewhere = await edgeFetch(stack, '/articles/another-one', paymentHeader(payment));
  expect(elsewhere.status).toBe(402);
  expect(stack.origin.requestsFor('/articles/another-one')).toBe(0);
});

it('gives the redelivery back when the origin fails during it', async () => {
  const path = '/articles/redelivery-flaky';
  const payment = await signedPaymentFor(stack, agent, path);
  expect((await edgeFetch(stack, path, paymentHeader(payment))).status).toBe(200);
  stack.origin.setBehavior(path, { status: 500 });
  expect((await edgeFetch(stack, path, paymentHeader(payment))).status).toBe(500);
  stack.origin.setBehavior(path, undefined);
  expect((await edgeFetch(stack, path, paymentHeader(payment))).status).toBe(200);
  expect((await edgeFetch(stack, path, paymentHeader(payment))).status).toBe(402);
});

it('sent 10 times in parallel, one authorization is charged once and served at most once more than paid for', async () => {
  const before = await stack.chain.usdcBalance(agent.address);
  const payment = await signedPaymentFor(stack, agent, '/articles/parallel');
  // The copies meet warm containers: cold starts on this machine would starve the running viewer
  // requests of CPU past their 5 s (a CloudFront 503 no deployment gives).
  await stack.warmUp();
  const responses = await Promise.all(Array.from({ length: 10 }, () => edgeFetch(stack, '/articles/parallel', paymentHeader(payment))));
  const served = responses.filter((r) => r.status === 200).length;
  // Concurrent copies find the payment in flight (402); one arriving after settlement is a redelivery.
  expect(served).toBeGreaterThanOrEqual(1);
  expect(served).toBeLessThanOrEqual(2);
  for (const refused of responses.filter((r) => r.status !== 200)) {
    expect(refused.status).toBe(402);
    expect((await refused.json()).error).toMatch(/nonce_already_used/);
  }
  expect(stack.origin.requestsFor('/articles/parallel')).toBe(served);
  expect(await stack.chain.usdcBalance(agent.address)).toBe(before - 1000n);
});

it('refuses a payment for one route presented on another route with a different price', async () => {
  const payment = await signedPaymentFor(stack, agent, '/articles/cheap');
  const response = await edgeFetch(stack, '/api/premium-report', paymentHeader(payment));
  expect(response.status).toBe(402);
  expect((await response.json()).error).toBe('invalid_exact_evm_payload_authorization_value_mismatch');
  expect(stack.origin.requestsFor('/api/premium-report')).toBe(0);
});

describe('money', () => {
  it('reconciles: every settled receipt is an on-chain transfer and vice versa', async () => {
    expect((await expectReceiptsReconcile(stack)).settled).toBe(4);
  });
});
