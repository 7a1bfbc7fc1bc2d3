/**
 * Metered (`upto`) routes end to end: the official upto client signs a Permit2 maximum through the
 * local edge, the sample origin reports the actual charge in Settlement-Overrides, the edge settles
 * that amount on the local chain (Permit2 and the upto proxy at their canonical addresses) and
 * records it. Receipts reconcile with the chain's USDC transfers.
 */
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from '@x402/core/http';
import type { PaymentPayload } from '@x402/core/types';
import { createWalletClient, erc20Abi, http, parseEventLogs, type Hex, type PrivateKeyAccount } from 'viem';
import { baseSepolia } from 'viem/chains';
import { wrapFetchWithPayment as wrapFetchWithPaymentV1 } from 'x402-fetch';
import { officialClientFor } from '../../local/agent';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { edgeFetch, paymentHeader } from '../support/edge-client';

const MAXIMUM = 5000n; // $0.005
const ROUTES = [
  { pattern: '/metered/**', scheme: 'upto' as const, maxPrice: '$0.005', description: 'Metered inference', mimeType: 'application/json' },
  { pattern: '/metered-zero/**', scheme: 'upto' as const, maxPrice: '$0.005', usageMissing: 'zero' as const },
  { pattern: '/articles/*', price: '$0.001' },
];

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ routes: ROUTES });
}, 120_000);
afterAll(() => stack?.close());

/** A payer with 1 USDC and its one-time Permit2 approval (the demo setup). */
async function approvedPayer(): Promise<PrivateKeyAccount> {
  const payer = await stack.chain.newFundedWallet(1_000_000n);
  await stack.chain.approvePermit2(payer);
  return payer;
}

/** The origin answers `path` with 200 and these headers (its usage report, say). */
function originAnswers(path: string, headers: Record<string, string> = {}, status = 200): void {
  stack.origin.setBehavior(path, { status, body: JSON.stringify({ tokens: 42 }), headers: { 'content-type': 'application/json', ...headers } });
}

/** The official upto client's payment for the terms the edge offers at `path`. */
async function signedFor(payer: PrivateKeyAccount, path: string): Promise<PaymentPayload> {
  const offered = await edgeFetch(stack, path);
  expect(offered.status).toBe(402);
  return officialClientFor(payer).createPaymentPayload(decodePaymentRequiredHeader(offered.headers.get('payment-required')!));
}

async function paidRequest(payer: PrivateKeyAccount, path: string, extra: Record<string, string> = {}): Promise<Response> {
  return edgeFetch(stack, path, { ...paymentHeader(await signedFor(payer, path)), ...extra });
}

async function receiptFor(path: string) {
  const rows = (await stack.receipts()).filter((r) => r.resource.endsWith(path));
  expect(rows).toHaveLength(1);
  return rows[0];
}

const usage = (amount: string) => ({ 'Settlement-Overrides': JSON.stringify({ amount }) });

it('offers upto with the maximum and the facilitator address read from /supported', async () => {
  const response = await edgeFetch(stack, '/metered/terms');
  expect(response.status).toBe(402);
  expect(decodePaymentRequiredHeader(response.headers.get('payment-required')!).accepts).toEqual([
    {
      scheme: 'upto',
      network: 'eip155:84532',
      amount: MAXIMUM.toString(),
      asset: stack.chain.usdc,
      payTo: stack.payTo,
      maxTimeoutSeconds: 120,
      extra: { name: 'USDC', version: '2', assetTransferMethod: 'permit2', facilitatorAddress: stack.chain.facilitatorAccount.address },
    },
  ]);
  expect(stack.origin.requestsFor('/metered/terms')).toBe(0);
});

it('lists no upto offer in the v1 body (x402 v1 has no upto): the legacy v1 client signs nothing and pays nothing', async () => {
  const response = await edgeFetch(stack, '/metered/v1');
  const body = await response.json();
  expect(body).toMatchObject({ x402Version: 1, error: 'payment_required', accepts: [], payment: { scheme: 'upto', amount: MAXIMUM.toString() } });
  expect(body.message).toContain('metered (upto) payments need x402 v2');
  expect(body.message).not.toContain('X-PAYMENT');

  const legacy = await approvedPayer();
  const before = await stack.chain.usdcBalance(legacy.address);
  const wallet = createWalletClient({ account: legacy, chain: baseSepolia, transport: http(stack.chain.rpcUrl) });
  await expect(wrapFetchWithPaymentV1(fetch, wallet as never)(`${stack.edge.url}/metered/v1`)).rejects.toThrow();
  expect(await stack.chain.usdcBalance(legacy.address)).toBe(before);
  expect(stack.origin.requestsFor('/metered/v1')).toBe(0);
  expect((await stack.receipts()).filter((r) => r.payer === legacy.address)).toEqual([]);
});

it('settles the actual amount below the maximum, removes the header and records maximum and actual', async () => {
  const payer = await approvedPayer();
  const before = await stack.chain.usdcBalance(payer.address);
  originAnswers('/metered/below', usage('1234'));
  const response = await paidRequest(payer, '/metered/below');
  expect(response.status).toBe(200);
  expect(response.headers.get('settlement-overrides')).toBeNull();
  expect(decodePaymentResponseHeader(response.headers.get('payment-response')!)).toMatchObject({ success: true, payer: payer.address, amount: '1234' });
  expect(await stack.chain.usdcBalance(payer.address)).toBe(before - 1234n);
  expect(await receiptFor('/metered/below')).toMatchObject({ status: 'settled', scheme: 'upto', amount: '1234', maxAmount: '5000', payer: payer.address });
});

it('settles exactly the maximum', async () => {
  const payer = await approvedPayer();
  const before = await stack.chain.usdcBalance(payer.address);
  originAnswers('/metered/max', usage('5000'));
  expect((await paidRequest(payer, '/metered/max')).status).toBe(200);
  expect(await stack.chain.usdcBalance(payer.address)).toBe(before - MAXIMUM);
  expect(await receiptFor('/metered/max')).toMatchObject({ status: 'settled', amount: '5000', maxAmount: '5000' });
});

it('caps a report above the maximum at the maximum (the payer never signed more)', async () => {
  const payer = await approvedPayer();
  const before = await stack.chain.usdcBalance(payer.address);
  originAnswers('/metered/above', usage('999999'));
  expect((await paidRequest(payer, '/metered/above')).status).toBe(200);
  expect(await stack.chain.usdcBalance(payer.address)).toBe(before - MAXIMUM);
  expect(await receiptFor('/metered/above')).toMatchObject({ status: 'settled', amount: '5000' });
});

it('settles nothing for a usage of 0: the reservation is released with amount 0', async () => {
  const payer = await approvedPayer();
  const before = await stack.chain.usdcBalance(payer.address);
  originAnswers('/metered/zero', usage('0'));
  const response = await paidRequest(payer, '/metered/zero');
  expect(response.status).toBe(200);
  expect(decodePaymentResponseHeader(response.headers.get('payment-response')!)).toMatchObject({ success: true, transaction: '', amount: '0' });
  expect(await stack.chain.usdcBalance(payer.address)).toBe(before);
  expect(await receiptFor('/metered/zero')).toMatchObject({ status: 'released', amount: '0', maxAmount: '5000' });
});

it('charges the maximum when the header is missing or malformed (usageMissing: maximum), and nothing on a usageMissing: zero route', async () => {
  const payer = await approvedPayer();
  const before = await stack.chain.usdcBalance(payer.address);
  originAnswers('/metered/missing');
  originAnswers('/metered/malformed', { 'Settlement-Overrides': 'forty-two tokens' });
  originAnswers('/metered-zero/missing');
  expect((await paidRequest(payer, '/metered/missing')).status).toBe(200);
  expect((await paidRequest(payer, '/metered/malformed')).status).toBe(200);
  expect((await paidRequest(payer, '/metered-zero/missing')).status).toBe(200);
  expect(await stack.chain.usdcBalance(payer.address)).toBe(before - 2n * MAXIMUM);
  expect(await receiptFor('/metered/missing')).toMatchObject({ status: 'settled', amount: '5000' });
  expect(await receiptFor('/metered/malformed')).toMatchObject({ status: 'settled', amount: '5000' });
  expect(await receiptFor('/metered-zero/missing')).toMatchObject({ status: 'released', amount: '0' });
});

it('settles nothing when the origin fails, even if it reported usage', async () => {
  const payer = await approvedPayer();
  const before = await stack.chain.usdcBalance(payer.address);
  originAnswers('/metered/fails', usage('1000'), 500);
  const response = await paidRequest(payer, '/metered/fails');
  expect(response.status).toBe(500);
  expect(response.headers.get('settlement-overrides')).toBeNull();
  expect(await stack.chain.usdcBalance(payer.address)).toBe(before);
  expect(await receiptFor('/metered/fails')).toMatchObject({ status: 'released' });
});

it('settles parallel replays of one authorization exactly once (a later copy is at most redelivered, uncharged)', async () => {
  const payer = await approvedPayer();
  const before = await stack.chain.usdcBalance(payer.address);
  originAnswers('/metered/replayed', usage('700'));
  const payment = await signedFor(payer, '/metered/replayed');
  const responses = await Promise.all(Array.from({ length: 5 }, () => edgeFetch(stack, '/metered/replayed', paymentHeader(payment))));
  const served = responses.filter((r) => r.status === 200);
  // One settlement; the same payment presented again after it may be redelivered once (maxRedeliveries 1), never charged again.
  expect(served.length).toBeGreaterThanOrEqual(1);
  expect(served.length).toBeLessThanOrEqual(2);
  expect(new Set(served.map((r) => decodePaymentResponseHeader(r.headers.get('payment-response')!).transaction)).size).toBe(1);
  expect(responses.filter((r) => r.status !== 200).map((r) => r.status)).toEqual(Array(5 - served.length).fill(402));
  expect(await stack.chain.usdcBalance(payer.address)).toBe(before - 700n);
  expect(await receiptFor('/metered/replayed')).toMatchObject({ status: 'settled', amount: '700' });
});

it('reconciles: every settled metered receipt is one USDC transfer of its actual amount to payTo, and nothing else reached payTo', async () => {
  const settled = (await stack.receipts()).filter((r) => r.status === 'settled');
  expect(settled.length).toBeGreaterThanOrEqual(6);
  let total = 0n;
  for (const receipt of settled) {
    const { logs } = await stack.chain.publicClient.getTransactionReceipt({ hash: receipt.txHash as Hex });
    const transfers = parseEventLogs({ abi: erc20Abi, eventName: 'Transfer', logs }).filter((l) => l.args.to.toLowerCase() === stack.payTo.toLowerCase());
    expect(transfers.map((t) => [t.args.from.toLowerCase(), t.args.value.toString()])).toEqual([[receipt.payer.toLowerCase(), receipt.amount]]);
    total += BigInt(receipt.amount);
  }
  expect(await stack.chain.usdcBalance(stack.payTo)).toBe(total);
});
