import { decodePaymentRequiredHeader } from '@x402/core/http';
import type { PaymentPayload, PaymentRequired } from '@x402/core/types';
import type { PrivateKeyAccount } from 'viem';
import type { LocalStack } from '../../local/stack';
import { encodePayment, signPayment } from './payer';

/** The terms a real 402 from the local edge offers for `path`. */
export async function termsFor(stack: LocalStack, path: string): Promise<PaymentRequired> {
  const response = await fetch(`${stack.edge.url}${path}`);
  if (response.status !== 402) throw new Error(`expected 402 for ${path}, got ${response.status}`);
  return decodePaymentRequiredHeader(response.headers.get('payment-required')!);
}

/** A v2 payment signed by the official client for the terms the edge offers for `path`. */
export async function signedPaymentFor(stack: LocalStack, agent: PrivateKeyAccount, path: string): Promise<PaymentPayload> {
  return signPayment(agent, await termsFor(stack, path));
}

/** Sends a request through the local edge with the given headers (an agent's user agent by default). */
export function edgeFetch(stack: LocalStack, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> {
  return fetch(`${stack.edge.url}${path}`, { method, headers: { 'user-agent': 'test-agent/1.0', ...headers } });
}

export function paymentHeader(payload: unknown): Record<string, string> {
  return { 'payment-signature': encodePayment(payload) };
}

/**
 * Money reconciles: every settled receipt is exactly one on-chain transfer to the publisher with
 * the same payer, amount, nonce and transaction, and every transfer to the publisher has one.
 */
export async function expectReceiptsReconcile(stack: LocalStack): Promise<{ settled: number }> {
  const receipts = (await stack.receipts()).filter((r) => r.status === 'settled');
  const transfers = (await stack.chain.settledTransfers()).filter((t) => t.to.toLowerCase() === stack.payTo.toLowerCase());
  const fromReceipts = receipts
    .map((r) => `${r.txHash}|${r.payer.toLowerCase()}|${r.amount}|${r.nonce.toLowerCase()}`)
    .sort();
  const fromChain = transfers
    .map((t) => `${t.txHash}|${t.from.toLowerCase()}|${t.value}|${t.nonce.toLowerCase()}`)
    .sort();
  expect(fromReceipts).toEqual(fromChain);
  const received = transfers.reduce((sum, t) => sum + t.value, 0n);
  expect(await stack.chain.usdcBalance(stack.payTo)).toBe(received);
  return { settled: receipts.length };
}
