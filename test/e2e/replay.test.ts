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

it('accepts a payment once and refuses the same authorization sent again', async () => {
  const payment = await signedPaymentFor(stack, agent, '/articles/replayed');
  const first = await edgeFetch(stack, '/articles/replayed', paymentHeader(payment));
  expect(first.status).toBe(200);
  const balanceAfterFirst = await stack.chain.usdcBalance(agent.address);

  const second = await edgeFetch(stack, '/articles/replayed', paymentHeader(payment));
  expect(second.status).toBe(402);
  expect(await second.json()).toMatchObject({ error: 'invalid_exact_evm_nonce_already_used' });
  expect(await stack.chain.usdcBalance(agent.address)).toBe(balanceAfterFirst);
  expect(stack.origin.requestsFor('/articles/replayed')).toBe(1);
});

it('rejects a replayed authorization even when sent 10 times in parallel: exactly one is served and charged', async () => {
  const before = await stack.chain.usdcBalance(agent.address);
  const payment = await signedPaymentFor(stack, agent, '/articles/parallel');
  const responses = await Promise.all(Array.from({ length: 10 }, () => edgeFetch(stack, '/articles/parallel', paymentHeader(payment))));
  const statuses = responses.map((r) => r.status).sort();
  expect(statuses).toEqual([200, 402, 402, 402, 402, 402, 402, 402, 402, 402]);
  for (const refused of responses.filter((r) => r.status === 402)) {
    expect((await refused.json()).error).toMatch(/nonce_already_used/);
  }
  expect(stack.origin.requestsFor('/articles/parallel')).toBe(1);
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
    expect((await expectReceiptsReconcile(stack)).settled).toBe(2);
  });
});
