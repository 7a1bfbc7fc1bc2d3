/**
 * x402:settledReceipt=after-release through the local stack: the official client pays, the content
 * is released once the settled receipt's write is sent, and every receipt lands `settled` with the
 * chain's transaction. A DynamoDB that refuses the settled write is met by the function's retry, or,
 * when every attempt fails, by the log fallback and `cdk-x402 reconcile` from the chain. Never
 * content without a settlement, never a nonce settled twice.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodePaymentResponseHeader } from '@x402/core/http';
import { wrapFetchWithPayment } from '@x402/fetch';
import type { PrivateKeyAccount } from 'viem';
import { ExitCode } from '../../cli/errors';
import type { Receipt } from '../../lambda/core/receipt';
import { SettledReceipt } from '../../lib/config/settings';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { cli } from '../support/cli';
import { expectReceiptsReconcile } from '../support/edge-client';
import { officialClient } from '../support/payer';

let stack: LocalStack;
let agent: PrivateKeyAccount;
let proxy: Server;
const logs: Array<Record<string, unknown>> = [];
/** HTTP requests writing a settled receipt that the proxy answers with a 500 (the SDK retries each once). */
let failSettledWrites = 0;
let settledWritesRefused = 0;
/** While set, the answers to settled-receipt writes are held back (the write itself reaches DynamoDB). */
let holdSettledAnswers = false;
const heldAnswers: Array<() => void> = [];

/** An HTTP proxy on loopback to DynamoDB that refuses the next {@link failSettledWrites} settled-receipt writes. */
async function startDynamoProxy(target: string): Promise<string> {
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (failSettledWrites > 0 && req.headers['x-amz-target'] === 'DynamoDB_20120810.UpdateItem' && body.includes('":to":{"S":"settled"}')) {
        failSettledWrites--;
        settledWritesRefused++;
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'injected: the settled receipt was not written' }));
        return;
      }
      const hold = holdSettledAnswers && req.headers['x-amz-target'] === 'DynamoDB_20120810.UpdateItem' && body.includes('":to":{"S":"settled"}');
      const upstream = httpRequest(`${target}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (answer) => {
        const pass = () => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        };
        if (hold && holdSettledAnswers) heldAnswers.push(pass);
        else pass();
      });
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  stack = await startLocalStack({
    settledReceipt: SettledReceipt.AFTER_RELEASE,
    log: (line) => void logs.push(line),
    configure: async (config) => ({ ...config, receiptTable: { ...config.receiptTable, endpoint: await startDynamoProxy(config.receiptTable.endpoint!) } }),
  });
  agent = await stack.chain.newFundedWallet(1_000_000n);
});
afterAll(async () => {
  await stack?.close();
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
});
afterEach(() => {
  failSettledWrites = 0;
  stack.origin.reset();
});

/** `read()` once it is truthy, polled for at most 15 s (what after-release writes lands after the response); else its last value. */
async function eventually<T>(read: () => T | Promise<T>): Promise<T> {
  const until = Date.now() + 15_000;
  for (;;) {
    const value = await read();
    if (value || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The receipt settled with `txHash`, once it is. */
const settledReceipt = (txHash: string): Promise<Receipt | undefined> => eventually(async () => (await stack.receipts()).find((r) => r.status === 'settled' && r.txHash === txHash));

const settledTransfersOf = async (txHash: string) => (await stack.chain.settledTransfers()).filter((t) => t.txHash === txHash);

it('the official client pays GETs and a POST, gets the content with PAYMENT-RESPONSE, and every receipt becomes settled with the chain’s transaction', async () => {
  expect(stack.config.settledReceipt).toBe('after-release');
  stack.origin.setBehavior('/api/orders', { status: 201, body: '{"order":"placed"}', headers: { 'content-type': 'application/json' } });
  const pay = wrapFetchWithPayment(fetch, officialClient(agent));
  const transactions: string[] = [];
  const requests = [
    ['/articles/after-1', {}, 200],
    ['/articles/after-2', {}, 200],
    // Settled in the origin-request, before the order is placed.
    ['/api/orders', { method: 'POST', body: '{"item":"one"}', headers: { 'content-type': 'application/json' } }, 201],
  ] as const;
  for (const [path, init, status] of requests) {
    const response = await pay(`${stack.edge.url}${path}`, init);
    expect(response.status).toBe(status);
    const settlement = decodePaymentResponseHeader(response.headers.get('payment-response')!);
    expect(settlement).toMatchObject({ success: true, payer: agent.address });
    transactions.push(settlement.transaction);
  }
  for (const txHash of transactions) {
    expect(await settledReceipt(txHash)).toMatchObject({ status: 'settled', txHash, payer: agent.address });
    expect(await settledTransfersOf(txHash)).toHaveLength(1);
  }
  await expectReceiptsReconcile(stack);
});

it('releases the content while the settled write’s answer is still held back; DynamoDB has applied the write meanwhile', async () => {
  holdSettledAnswers = true;
  try {
    const pay = wrapFetchWithPayment(fetch, officialClient(agent));
    const response = await pay(`${stack.edge.url}/articles/after-answer-held`);
    expect(response.status).toBe(200);
    const { transaction } = decodePaymentResponseHeader(response.headers.get('payment-response')!);
    // Still held: the edge has not read DynamoDB's answer, yet the row is settled.
    expect(await settledReceipt(transaction)).toMatchObject({ status: 'settled', txHash: transaction });
    expect(await eventually(() => heldAnswers.length)).toBe(1);
  } finally {
    holdSettledAnswers = false;
    for (const pass of heldAnswers.splice(0)) pass();
  }
});

it('a settled write DynamoDB refuses once is retried by the function: the receipt still lands settled', async () => {
  // One attempt of the paywall's: the SDK's request and its own retry.
  failSettledWrites = 2;
  const pay = wrapFetchWithPayment(fetch, officialClient(agent));
  const response = await pay(`${stack.edge.url}/articles/after-refused-once`);
  expect(response.status).toBe(200);
  const { transaction } = decodePaymentResponseHeader(response.headers.get('payment-response')!);
  expect(await settledReceipt(transaction)).toMatchObject({ status: 'settled', txHash: transaction });
  expect(failSettledWrites).toBe(0);
  expect(logs.filter((line) => line.event === 'x402.receipt_fallback')).toEqual([]);
  await expectReceiptsReconcile(stack);
});

it('a settled write refused every time: content served once settled, the record in the log fallback, and reconcile settles the row from the chain', async () => {
  const refusedBefore = settledWritesRefused;
  failSettledWrites = 1_000;
  const pay = wrapFetchWithPayment(fetch, officialClient(agent));
  const response = await pay(`${stack.edge.url}/articles/after-refused-always`);
  expect(response.status).toBe(200);
  const { transaction } = decodePaymentResponseHeader(response.headers.get('payment-response')!);
  expect(await settledTransfersOf(transaction)).toHaveLength(1);

  // The function's attempts (3, each the SDK's request and its retry) all refused: the complete record goes to the log.
  expect(await eventually(() => logs.find((line) => line.event === 'x402.receipt_fallback' && line.txHash === transaction))).toMatchObject({ status: 'settled', payer: agent.address, at: expect.any(String) });
  expect(settledWritesRefused - refusedBefore).toBe(6);
  failSettledWrites = 0;
  const [row] = (await stack.receipts()).filter((r) => r.status === 'reserved');
  expect(row).toMatchObject({ payer: agent.address, amount: '1000' });

  // Reconcile, run once the origin functions' time is past (not the authorization's expiry): settled with the chain's transaction.
  const run = await cli(['reconcile', '--table', stack.config.receiptTable.tableName, '--region', 'us-east-1', '--rpc-url', stack.chain.rpcUrl, '--json'], {
    dynamo: stack.dynamo.client,
    now: Date.now() + 90_000,
  });
  expect(run.code).toBe(ExitCode.ok);
  const result = JSON.parse(run.stdout) as { rows: Array<{ paymentId: string; outcome: string; write: string; txHash?: string }> };
  expect(result.rows).toEqual([expect.objectContaining({ paymentId: row.paymentId, outcome: 'settled', write: 'applied', txHash: transaction })]);
  expect((await stack.receipts()).find((r) => r.paymentId === row.paymentId)).toMatchObject({ status: 'settled', txHash: transaction });
  await expectReceiptsReconcile(stack);
});
