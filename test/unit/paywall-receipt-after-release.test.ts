/**
 * x402:settledReceipt=after-release: the content of a settled payment is released once its
 * receipt's write is sent; the next invocation of the function waits for the answer, retries, and
 * logs the complete record when the write finally fails. The default mode is covered by the
 * other paywall tests (paywall-round-trips.test.ts among them).
 */
import type { SettleResponse } from '@x402/core/types';
import { encodeHandoff } from '../../lambda/core/handoff';
import { Paywall } from '../../lambda/core/paywall';
import type { FacilitatorPort } from '../../lambda/core/ports';
import { testEdgeConfig } from '../support/config';
import { MemoryReceipts, reservedRow } from '../support/memory-receipts';

const TX = `0x${'ab'.repeat(32)}`;
const PAYER = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';
const SETTLED: SettleResponse = { success: true, transaction: TX, network: 'eip155:84532', payer: PAYER };

/** A settled write the test answers: `succeed()` or `fail()`, in the order they were made. */
class AnsweredWrites extends MemoryReceipts {
  readonly writes: Array<{ readonly amount?: string; readonly succeed: () => void; readonly fail: () => void }> = [];
  override async markSettled(paymentId: string, txHash: string, at: string, amount?: string) {
    await new Promise<void>((resolve, reject) => this.writes.push({ amount, succeed: resolve, fail: () => reject(new Error('ProvisionedThroughputExceededException')) }));
    return super.markSettled(paymentId, txHash, at);
  }
}

/** Lets every promise that can settle now settle (ordering, not time: nothing is awaited that has a timer). */
const settleWhatCan = () => new Promise<void>((resolve) => setImmediate(resolve));

const METERED = testEdgeConfig({ settledReceipt: 'after-release', routes: [{ pattern: '/metered/*', scheme: 'upto', maxPrice: '$0.005' }] });

function afterRelease(settle: FacilitatorPort['settle'] = async () => SETTLED, sent: () => Promise<void> = async () => undefined, config = testEdgeConfig({ settledReceipt: 'after-release' })) {
  const receipts = new AnsweredWrites();
  const logs: Array<Record<string, unknown>> = [];
  const paywall = new Paywall(config, {
    facilitator: { verify: async () => ({ isValid: true }), settle },
    receipts,
    receiptWritesSent: sent,
    clock: Date.now,
    log: (line) => logs.push(line),
  });
  const paid = async (paymentId: string, method = 'GET') => {
    await receipts.reserve(reservedRow(paymentId));
    const handoff = encodeHandoff({ kind: 'settle', paymentId, routeIndex: 0, resource: 'https://example.com/articles/one' });
    return method === 'GET' ? paywall.onOriginResponse({ method, uri: '/articles/one', handoff }, 200) : paywall.onOriginRequest({ method, uri: '/articles/one', handoff });
  };
  /** The function's next invocation: a free request, which has no port call of its own. */
  const next = () => paywall.onOriginResponse({ method: 'GET', uri: '/free', handoff: undefined }, 200);
  const events = () => logs.map((line) => line.event).filter(Boolean);
  return { paywall, receipts, logs, paid, next, events };
}

it('releases the content with PAYMENT-RESPONSE while the receipt write is still unanswered; the next invocation waits for it', async () => {
  const { receipts, paid, next, events } = afterRelease();
  const outcome = await paid('p1');
  expect(outcome).toMatchObject({ kind: 'release', setHeaders: { 'payment-response': expect.any(String) } });
  expect(receipts.writes).toHaveLength(1);
  expect(receipts.rows.get('p1')?.status).toBe('reserved');

  let answered = false;
  const invocation = next().then((result) => ((answered = true), result));
  await settleWhatCan();
  expect(answered).toBe(false);
  receipts.writes[0].succeed();
  expect(await invocation).toEqual({ kind: 'pass' });
  expect(receipts.rows.get('p1')).toMatchObject({ status: 'settled', txHash: TX });
  expect(events()).toContain('x402.settled');
});

it('a POST: forwarded to the origin once the write is sent, the same way', async () => {
  const { receipts, paid } = afterRelease();
  expect(await paid('p2', 'POST')).toMatchObject({ kind: 'forward' });
  expect(receipts.rows.get('p2')?.status).toBe('reserved');
  receipts.writes[0].succeed();
});

it('answers only once the write is sent (receiptWritesSent)', async () => {
  let sent!: () => void;
  const { receipts, paid } = afterRelease(undefined, () => new Promise<void>((resolve) => (sent = resolve)));
  let released = false;
  const outcome = paid('p3').then((result) => ((released = true), result));
  await settleWhatCan();
  expect(receipts.writes).toHaveLength(1);
  expect(released).toBe(false);
  sent();
  expect(await outcome).toMatchObject({ kind: 'release' });
  receipts.writes[0].succeed();
});

it('a failed write is retried by the next invocation, which answers once the retry is', async () => {
  const { receipts, paid, next, events } = afterRelease();
  await paid('p4');
  let answered = false;
  const invocation = next().then(() => (answered = true));
  receipts.writes[0].fail();
  await settleWhatCan();
  expect(receipts.writes).toHaveLength(2);
  expect(answered).toBe(false);
  receipts.writes[1].succeed();
  await invocation;
  expect(receipts.rows.get('p4')).toMatchObject({ status: 'settled', txHash: TX });
  expect(events()).not.toContain('x402.receipt_fallback');
});

it('a write that fails every attempt leaves the complete record in the x402.receipt_fallback line', async () => {
  const { receipts, paid, next, logs } = afterRelease();
  await paid('p5');
  const invocation = next();
  for (let attempt = 0; attempt < 3; attempt++) {
    await settleWhatCan();
    receipts.writes[attempt].fail();
  }
  await invocation;
  expect(receipts.writes).toHaveLength(3);
  expect(receipts.rows.get('p5')?.status).toBe('reserved');
  expect(logs.find((line) => line.event === 'x402.receipt_fallback')).toEqual(expect.objectContaining({ status: 'settled', paymentId: 'p5', txHash: TX, payer: PAYER, at: expect.any(String) }));
});

it('an upto payment: settled for the charge the origin reported, the receipt written after the release with that amount', async () => {
  const amounts: string[] = [];
  const { receipts, paywall } = afterRelease(async (_payload, requirements) => (amounts.push(requirements.amount), SETTLED), undefined, METERED);
  await receipts.reserve(reservedRow('m1', { scheme: 'upto', amount: '5000', maxAmount: '5000', resource: 'https://example.com/metered/one', route: '/metered/*' }));
  const handoff = encodeHandoff({ kind: 'settle', paymentId: 'm1', routeIndex: 0, resource: 'https://example.com/metered/one' });
  const usage = JSON.stringify({ amount: '1234' });
  expect(await paywall.onOriginResponse({ method: 'GET', uri: '/metered/one', handoff }, 200, undefined, usage)).toMatchObject({ kind: 'release' });
  expect(amounts).toEqual(['1234']);
  expect(receipts.writes.map((write) => write.amount)).toEqual(['1234']);
  expect(receipts.rows.get('m1')?.status).toBe('reserved');
  receipts.writes[0].succeed();
});

it('a settlement that failed is recorded before the answer, and the content withheld', async () => {
  const { receipts, paid } = afterRelease(async () => ({ success: false, errorReason: 'invalid_exact_evm_payload_authorization_valid_before', transaction: '', network: 'eip155:84532' }));
  expect(await paid('p6')).toMatchObject({ kind: 'respond', response: { status: 402 } });
  expect(receipts.rows.get('p6')).toMatchObject({ status: 'failed', errorReason: 'invalid_exact_evm_payload_authorization_valid_before' });
  expect(receipts.writes).toHaveLength(0);
});

it('needs the port that says when a write is sent', () => {
  expect(
    () => new Paywall(testEdgeConfig({ settledReceipt: 'after-release' }), { facilitator: { verify: async () => ({ isValid: true }), settle: async () => SETTLED }, receipts: new MemoryReceipts(), clock: Date.now, log: () => undefined }),
  ).toThrow(/settledReceipt after-release and ports.receiptWritesSent go together/);
});
