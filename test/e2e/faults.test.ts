import { createWalletClient, custom, type PrivateKeyAccount } from 'viem';
import { wrapFetchWithPayment as wrapFetchWithPaymentV1 } from 'x402-fetch';
import { localUsdcAbi } from '../../local/chain';
import { DynamoReceiptStore } from '../../lambda/edge/dynamo-receipt-store';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { edgeFetch, expectReceiptsReconcile, paymentHeader, signedPaymentFor } from '../support/edge-client';
import { officialClient } from '../support/payer';
import { wrapFetchWithPayment } from '@x402/fetch';

let stack: LocalStack;
let agent: PrivateKeyAccount;

beforeAll(async () => {
  stack = await startLocalStack({ facilitatorVerifyTimeoutMs: 1000, facilitatorSettleTimeoutMs: 1500 });
  agent = await stack.chain.newFundedWallet(1_000_000n);
});
afterEach(() => {
  stack.facilitator.setFault('none');
  stack.origin.reset();
});
afterAll(() => stack?.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('origin failure', () => {
  it('charges nothing when the origin answers 500, releases the nonce, and accepts the same payment once it recovers', async () => {
    const path = '/articles/flaky';
    const before = await stack.chain.usdcBalance(agent.address);
    const payment = await signedPaymentFor(stack, agent, path);

    stack.origin.setBehavior(path, { status: 500 });
    const failed = await edgeFetch(stack, path, paymentHeader(payment));
    expect(failed.status).toBe(500);
    expect(failed.headers.get('payment-response')).toBeNull();
    expect(await stack.chain.usdcBalance(agent.address)).toBe(before);
    expect((await stack.receipts()).find((r) => r.resource.endsWith(path))).toMatchObject({ status: 'released' });

    stack.origin.setBehavior(path, undefined);
    const retried = await edgeFetch(stack, path, paymentHeader(payment));
    expect(retried.status).toBe(200);
    expect(await stack.chain.usdcBalance(agent.address)).toBe(before - 1000n);
    expect((await stack.receipts()).find((r) => r.resource.endsWith(path))).toMatchObject({ status: 'settled' });
  });

  it('never caches an origin error under the payment: the same payment presented again reaches the origin and is released again', async () => {
    const path = '/articles/missing-for-now';
    const payment = await signedPaymentFor(stack, agent, path);
    stack.origin.setBehavior(path, { status: 404 });
    expect((await edgeFetch(stack, path, paymentHeader(payment))).status).toBe(404);
    // CloudFront would cache a plain 404 for 10 s under this payment's cache key.
    expect((await edgeFetch(stack, path, paymentHeader(payment))).status).toBe(404);
    expect(stack.origin.requestsFor(path)).toBe(2);
    expect((await stack.receipts()).find((r) => r.resource.endsWith(path))).toMatchObject({ status: 'released', reservations: 2 });
  });

  it('charges nothing for a 404', async () => {
    const before = await stack.chain.usdcBalance(agent.address);
    const response = await edgeFetch(stack, '/api/missing', paymentHeader(await signedPaymentFor(stack, agent, '/api/missing')));
    expect(response.status).toBe(404);
    expect(await stack.chain.usdcBalance(agent.address)).toBe(before);
  });
});

describe('facilitator failure fails closed', () => {
  it.each(['down', 'unavailable', 'garbage', 'slow'] as const)('at verify (%s): 503 with Retry-After, origin never reached', async (fault) => {
    const path = `/articles/verify-${fault}`;
    const payment = await signedPaymentFor(stack, agent, path);
    stack.facilitator.setFault(fault);
    const response = await edgeFetch(stack, path, paymentHeader(payment));
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toMatchObject({ error: 'facilitator_unavailable' });
    expect(stack.origin.requestsFor(path)).toBe(0);
  });

  it('at settle: the content is withheld, nothing is charged and the receipt says why', async () => {
    const path = '/articles/settle-down';
    const before = await stack.chain.usdcBalance(agent.address);
    const payment = await signedPaymentFor(stack, agent, path);
    stack.origin.setBehavior(path, { delayMs: 800 });
    const pending = edgeFetch(stack, path, paymentHeader(payment));
    while (stack.origin.requestsFor(path) === 0) await sleep(20); // the origin has it: verified and reserved
    stack.facilitator.setFault('down');
    const response = await pending;
    expect(response.status).toBe(503);
    const text = await response.text();
    expect(text).not.toContain('The full text');
    expect(JSON.parse(text)).toMatchObject({ error: 'facilitator_unavailable' });
    expect(await stack.chain.usdcBalance(agent.address)).toBe(before);
    expect((await stack.receipts()).find((r) => r.resource.endsWith(path))).toMatchObject({ status: 'failed', errorReason: 'unexpected_settle_error' });
  });
});

describe('a chunked origin (Transfer-Encoding: chunked, no Content-Length)', () => {
  /** Fails the settlement once the payment is verified and reserved, while the origin streams its answer. */
  async function chunkedPaidRequestFailingAtSettle(path: string, fault: () => void) {
    const payment = await signedPaymentFor(stack, agent, path);
    const before = await stack.chain.usdcBalance(agent.address);
    stack.origin.setBehavior(path, { chunked: true, delayMs: 800 });
    const pending = edgeFetch(stack, path, paymentHeader(payment));
    while (stack.origin.requestsFor(path) === 0) await sleep(20); // the origin has it: verified and reserved
    fault();
    const response = await pending;
    const text = await response.text();
    expect(text).not.toContain('The full text');
    expect(await stack.chain.usdcBalance(agent.address)).toBe(before);
    return { response, json: () => JSON.parse(text) };
  }
  afterEach(() => stack.chain.setRpcFault(undefined));

  it('the facilitator down at settle: the function\'s JSON 503 reaches the client, not CloudFront\'s 502', async () => {
    const { response, json } = await chunkedPaidRequestFailingAtSettle('/articles/chunked-settle-down', () => stack.facilitator.setFault('down'));
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(json()).toMatchObject({ error: 'facilitator_unavailable' });
  });

  it('the settlement refused: the function\'s JSON 402 with a reason code reaches the client', async () => {
    const { response, json } = await chunkedPaidRequestFailingAtSettle('/articles/chunked-settle-refused', () => stack.chain.setRpcFault({ methods: ['eth_sendRawTransaction'] }));
    expect(response.status).toBe(402);
    expect(json().error).toMatch(/^[a-z][a-z0-9_]*$/);
  });
});

describe('settlement refused after verification', () => {
  /** The payer empties its wallet while the origin is answering: verify passed, settle cannot. */
  async function drainDuring(agentWithGas: PrivateKeyAccount, path: string, request: () => Promise<Response>): Promise<Response> {
    stack.origin.setBehavior(path, { delayMs: 400 });
    const pending = request();
    while (stack.origin.requestsFor(path) === 0) await sleep(20); // the origin has it: verified and reserved
    const wallet = createWalletClient({ account: agentWithGas, chain: stack.chain.chain, transport: custom(stack.chain.provider) });
    const balance = await stack.chain.usdcBalance(agentWithGas.address);
    await wallet.writeContract({ address: stack.chain.usdc, abi: localUsdcAbi, functionName: 'transfer', args: [stack.chain.facilitatorAccount.address, balance] });
    return pending;
  }

  it.each(['v2', 'v1'] as const)('%s: withholds the content with a 402 naming a reason code, and the receipt says why', async (version) => {
    const spender = await stack.chain.newFundedWallet(100_000n, { ethWei: 10n ** 18n });
    const path = `/articles/drained-${version}`;
    const pay = version === 'v2' ? wrapFetchWithPayment(fetch, officialClient(spender)) : wrapFetchWithPaymentV1(fetch, spender);
    const response = await drainDuring(spender, path, () => pay(`${stack.edge.url}${path}`));
    expect(response.status).toBe(402);
    const body = await response.json();
    expect(body.error).toMatch(/^[a-z][a-z0-9_]*$/);
    expect(body.message.length).toBeLessThanOrEqual(400);
    expect(body.message).not.toContain('\n');
    expect(JSON.stringify(body)).not.toContain('The full text');
    const receipt = (await stack.receipts()).find((r) => r.resource.endsWith(path));
    expect(receipt).toMatchObject({ status: 'failed', errorReason: body.error });
    expect(receipt?.txHash).toBeUndefined();
  });
});

describe('receipt store failure fails closed', () => {
  it('answers 503 and neither serves nor charges when DynamoDB is unreachable', async () => {
    const broken = await startLocalStack({
      configure: (config) => ({ ...config, receiptTable: { ...config.receiptTable, endpoint: 'http://127.0.0.1:9' } }),
    });
    try {
      const payer = await broken.chain.newFundedWallet(10_000n);
      const response = await edgeFetch(broken, '/articles/no-db', paymentHeader(await signedPaymentFor(broken, payer, '/articles/no-db')));
      expect(response.status).toBe(503);
      expect(await response.json()).toMatchObject({ error: 'receipt_store_unavailable' });
      expect(broken.origin.requestsFor('/articles/no-db')).toBe(0);
      expect(await broken.chain.usdcBalance(payer.address)).toBe(10_000n);
    } finally {
      await broken.close();
    }
  });

  it('never moves a settled receipt back: a settled payment cannot be released or failed', async () => {
    const settled = (await stack.receipts()).find((r) => r.status === 'settled')!;
    const store = new DynamoReceiptStore(stack.dynamo.client, stack.config.receiptTable.tableName);
    await expect(store.release(settled.paymentId, new Date().toISOString())).rejects.toThrow(/conditional/i);
    await expect(store.markFailed(settled.paymentId, 'x', new Date().toISOString())).rejects.toThrow(/conditional/i);
  });
});

describe('money', () => {
  it('reconciles: every settled receipt is an on-chain transfer and vice versa', async () => {
    expect((await expectReceiptsReconcile(stack)).settled).toBe(1);
  });
});
