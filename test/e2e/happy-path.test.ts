import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from '@x402/core/http';
import { wrapFetchWithPayment } from '@x402/fetch';
import { createWalletClient, http, type PrivateKeyAccount } from 'viem';
import { baseSepolia } from 'viem/chains';
import { wrapFetchWithPayment as wrapFetchWithPaymentV1 } from 'x402-fetch';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { expectReceiptsReconcile } from '../support/edge-client';
import { officialClient } from '../support/payer';

let stack: LocalStack;
let agent: PrivateKeyAccount;

beforeAll(async () => {
  stack = await startLocalStack();
  agent = await stack.chain.newFundedWallet(1_000_000n);
});
afterAll(() => stack?.close());

it('answers an agent without payment with 402 and the exact terms, without touching the origin', async () => {
  const response = await fetch(`${stack.edge.url}/articles/hello`);
  expect(response.status).toBe(402);
  const required = decodePaymentRequiredHeader(response.headers.get('payment-required')!);
  expect(required.accepts).toEqual([
    {
      scheme: 'exact',
      network: 'eip155:84532',
      amount: '1000',
      asset: stack.chain.usdc,
      payTo: stack.payTo,
      maxTimeoutSeconds: 120,
      extra: { name: 'USDC', version: '2' },
    },
  ]);
  const body = await response.json();
  expect(body).toMatchObject({ x402Version: 1, error: 'payment_required', price: '0.001 USDC' });
  expect(body.message).toMatch(/0\.001 USDC on Base Sepolia/);
  expect(stack.origin.requestsFor('/articles/hello')).toBe(0);
});

it('serves a browser for free and never asks it to pay', async () => {
  const response = await fetch(`${stack.edge.url}/articles/hello`, { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0' } });
  expect(response.status).toBe(200);
  expect(await response.text()).toContain('The full text of the article');
});

it('releases the content once the official client pays, settles on chain and records the receipt', async () => {
  const payerBefore = await stack.chain.usdcBalance(agent.address);
  const publisherBefore = await stack.chain.usdcBalance(stack.payTo);

  const pay = wrapFetchWithPayment(fetch, officialClient(agent));
  const response = await pay(`${stack.edge.url}/articles/paid-one`);
  expect(response.status).toBe(200);
  expect(await response.text()).toContain('paid-one');

  const settlement = decodePaymentResponseHeader(response.headers.get('payment-response')!);
  expect(settlement).toMatchObject({ success: true, network: 'eip155:84532', payer: agent.address });
  expect(settlement.transaction).toMatch(/^0x[0-9a-f]{64}$/);

  expect(await stack.chain.usdcBalance(agent.address)).toBe(payerBefore - 1000n);
  expect(await stack.chain.usdcBalance(stack.payTo)).toBe(publisherBefore + 1000n);

  const receipts = await stack.receipts();
  expect(receipts).toEqual([
    expect.objectContaining({
      status: 'settled',
      txHash: settlement.transaction,
      payer: agent.address,
      payTo: stack.payTo,
      amount: '1000',
      route: '/articles/*',
      resource: expect.stringMatching(/\/articles\/paid-one$/),
      engine: 'edge',
    }),
  ]);
});

it('takes a v1 X-PAYMENT from the legacy official client (x402-fetch) and answers X-PAYMENT-RESPONSE too', async () => {
  const legacyAgent = await stack.chain.newFundedWallet(1_000_000n);
  const wallet = createWalletClient({ account: legacyAgent, chain: baseSepolia, transport: http(stack.chain.rpcUrl) });
  const pay = wrapFetchWithPaymentV1(fetch, wallet as never);
  const response = await pay(`${stack.edge.url}/api/premium-report`);
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ report: 'premium' });
  const v1Settlement = decodePaymentResponseHeader(response.headers.get('x-payment-response')!);
  expect(v1Settlement).toMatchObject({ success: true, payer: legacyAgent.address });
  expect(response.headers.get('payment-response')).toBe(response.headers.get('x-payment-response'));
  expect(await stack.chain.usdcBalance(legacyAgent.address)).toBe(1_000_000n - 10_000n);
  expect((await stack.receipts()).find((r) => r.payer === legacyAgent.address)).toMatchObject({ status: 'settled', x402Version: 1, amount: '10000' });
});

it('keeps its connections to the facilitator and to DynamoDB alive: payments in a row open no new ones', async () => {
  const pay = wrapFetchWithPayment(fetch, officialClient(agent));
  // Warms the functions' containers and their connections.
  expect((await pay(`${stack.edge.url}/articles/keep-alive`)).status).toBe(200);
  const calls = () => stack.facilitator.calls.verify + stack.facilitator.calls.settle;
  const before = { calls: calls(), facilitator: stack.facilitator.connections, dynamo: stack.dynamo.connections };
  for (let i = 0; i < 5; i++) expect((await pay(`${stack.edge.url}/articles/keep-alive-${i}`)).status).toBe(200);
  expect(calls() - before.calls).toBe(10);
  expect({ facilitator: stack.facilitator.connections - before.facilitator, dynamo: stack.dynamo.connections - before.dynamo }).toEqual({ facilitator: 0, dynamo: 0 });
});

describe('money', () => {
  it('reconciles: every settled receipt is an on-chain transfer and vice versa', async () => {
    expect((await expectReceiptsReconcile(stack)).settled).toBe(8);
  });
});
