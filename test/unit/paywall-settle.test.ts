import type { SettleResponse } from '@x402/core/types';
import { encodeHandoff } from '../../lambda/core/handoff';
import { Paywall } from '../../lambda/core/paywall';
import { testEdgeConfig } from '../support/config';
import { MemoryReceipts, reservedRow } from '../support/memory-receipts';

const SETTLED: SettleResponse = { success: true, transaction: '0x' + 'ab'.repeat(32), network: 'eip155:84532', payer: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C' };
const PENDING: SettleResponse = { success: false, errorReason: 'settlement_pending', transaction: '0x' + 'cd'.repeat(32), network: 'eip155:84532' };
const USED: SettleResponse = { success: false, errorReason: 'invalid_exact_evm_nonce_already_used', transaction: '', network: 'eip155:84532' };

/** A paywall whose facilitator answers settle calls from a script (an Error = no answer), over one reserved payment. */
function paywallWith(script: Array<SettleResponse | Error>, remainingMs?: () => number, calls: number[] = []) {
  const receipts = new MemoryReceipts();
  const paywall = new Paywall(testEdgeConfig(), {
    facilitator: {
      verify: async () => ({ isValid: true }),
      settle: async (_payload, _requirements, timeoutMs) => {
        calls.push(timeoutMs);
        const next = script.shift() ?? new Error('script exhausted');
        if (next instanceof Error) throw next;
        return next;
      },
    },
    receipts,
    clock: Date.now,
    log: () => undefined,
  });
  void receipts.reserve(reservedRow('p'));
  const handoff = encodeHandoff({ kind: 'settle', paymentId: 'p', routeIndex: 0, resource: 'https://example.com/articles/one' });
  const settle = () => paywall.onOriginResponse({ method: 'GET', uri: '/articles/one', handoff }, 200, remainingMs);
  const failed = () => [...receipts.rows.values()].filter((r) => r.status === 'failed').map((r) => ({ reason: r.errorReason, txHash: r.txHash }));
  return { paywall, calls, failed, settle, receipts };
}

describe('settlement in doubt', () => {
  it('asks again when the first settle call got no answer, and releases the content if it settles then', async () => {
    const { settle, calls } = paywallWith([new Error('socket hang up'), SETTLED]);
    expect((await settle()).kind).toBe('release');
    expect(calls).toHaveLength(2);
  });

  it("asks again on x402's retryable settlement_pending, and releases the content once confirmed", async () => {
    const { settle, calls } = paywallWith([PENDING, SETTLED]);
    expect((await settle()).kind).toBe('release');
    expect(calls).toHaveLength(2);
  });

  it('withholds the content with 503 settlement_pending and keeps the transaction hash when it stays pending', async () => {
    const { settle, failed } = paywallWith([PENDING, PENDING]);
    const outcome = await settle();
    expect(outcome).toMatchObject({ kind: 'respond', response: { status: 503 } });
    if (outcome.kind === 'respond') expect(JSON.parse(outcome.response.body).message).not.toMatch(/nothing was charged/);
    expect(failed()).toEqual([{ reason: 'settlement_pending', txHash: PENDING.transaction }]);
  });

  it('calls it settlement_unconfirmed when the retry finds the authorization already used (the first call may have settled)', async () => {
    const { settle, failed } = paywallWith([new Error('timeout'), USED]);
    const outcome = await settle();
    expect(outcome).toMatchObject({ kind: 'respond', response: { status: 503 } });
    expect(failed()).toEqual([{ reason: 'settlement_unconfirmed', txHash: undefined }]);
  });

  it('does not retry a definitive refusal', async () => {
    const { settle, calls } = paywallWith([USED]);
    expect(await settle()).toMatchObject({ kind: 'respond', response: { status: 402 } });
    expect(calls).toHaveLength(1);
  });

  it('calls the facilitator at most twice', async () => {
    const { settle, calls, failed } = paywallWith([new Error('a'), new Error('b'), SETTLED]);
    expect(await settle()).toMatchObject({ kind: 'respond', response: { status: 503 } });
    expect(calls).toHaveLength(2);
    expect(failed()).toEqual([{ reason: 'unexpected_settle_error', txHash: undefined }]);
  });
});

describe('settlement within the trigger\'s time', () => {
  it('gives each settle call at most the time the trigger has left, less what recording needs', async () => {
    const { settle, calls } = paywallWith([SETTLED], () => 4_000);
    expect((await settle()).kind).toBe('release');
    expect(calls).toEqual([2_000]);
  });

  it('does not start a settle call that could not finish: releases the reservation and charges nothing', async () => {
    const { settle, calls, receipts } = paywallWith([SETTLED], () => 2_500);
    expect(await settle()).toMatchObject({ kind: 'respond', response: { status: 503 } });
    expect(calls).toHaveLength(0);
    expect(receipts.rows.get('p')).toMatchObject({ status: 'released' });
  });

  it('retries an unanswered settle only when the retry fits in the time left', async () => {
    // The first call used 9.5 s of the 12 s: 2.5 s left, less 2 s for recording, is too little.
    const calls: number[] = [];
    const { settle } = paywallWith([new Error('timeout'), SETTLED], () => 12_000 - calls.length * 9_500, calls);
    expect(await settle()).toMatchObject({ kind: 'respond', response: { status: 503 } });
    expect(calls).toEqual([10_000]);
  });
});
