/** The edge's deny-list: refused on the claimed payer, before any check (lambda/core/deny-list.ts, paywall.ts). */
import type { PaymentPayload } from '@x402/core/types';
import { claimedPayer, PayerDenyList } from '../../lambda/core/deny-list';
import { decodePaymentHeader } from '../../lambda/core/payment-header';
import { Paywall, type PaywallRequest } from '../../lambda/core/paywall';
import type { PaymentPrecheck } from '../../lambda/core/precheck';
import { isRejection } from '../../lambda/core/rejection';
import { testEdgeConfig } from '../support/config';
import { MemoryReceipts } from '../support/memory-receipts';

const DENIED = '0xAaAa000000000000000000000000000000000001';
const ALLOWED = '0xBbBb000000000000000000000000000000000002';

function paymentFrom(from: string): PaymentPayload {
  return {
    x402Version: 2,
    accepted: { scheme: 'exact', network: 'eip155:84532', amount: '1000', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', payTo: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C', maxTimeoutSeconds: 120, extra: {} },
    payload: { signature: '0x00', authorization: { from, to: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C', value: '1000', validAfter: '0', validBefore: '9999999999', nonce: `0x${'11'.repeat(32)}` } },
  } as PaymentPayload;
}
const header = (payload: unknown) => Buffer.from(JSON.stringify(payload)).toString('base64');

describe('PayerDenyList', () => {
  const list = new PayerDenyList([DENIED.toLowerCase()]);
  it('refuses a listed payer whatever the case it is written in, with 403 payer_denied', () => {
    for (const payer of [DENIED, DENIED.toLowerCase(), `0x${DENIED.slice(2).toUpperCase()}`]) {
      expect(list.refusal(payer)).toMatchObject({ kind: 'rejection', status: 403, reason: 'payer_denied' });
    }
  });
  it('lets any other payer, or none, through', () => {
    expect(list.refusal(ALLOWED)).toBeUndefined();
    expect(list.refusal(undefined)).toBeUndefined();
  });
});

describe('claimedPayer', () => {
  it('reads authorization.from of a decoded payment, unverified', () => {
    const decoded = decodePaymentHeader(2, header(paymentFrom(DENIED)));
    if (isRejection(decoded)) throw new Error(decoded.message);
    expect(claimedPayer(decoded)).toBe(DENIED);
  });
  it('is undefined for a payload without an authorization', () => {
    expect(claimedPayer({ x402Version: 2, payload: { ...paymentFrom(DENIED), payload: { signature: '0x00' } } })).toBeUndefined();
  });
});

describe('Paywall with a deny-list', () => {
  const logs: unknown[] = [];
  const calls = { facilitator: 0, precheck: 0 };
  const facilitator = {
    verify: async () => (calls.facilitator++, { isValid: true, payer: ALLOWED }),
    settle: async () => (calls.facilitator++, { success: true, transaction: '0x', network: 'eip155:84532', payer: ALLOWED }),
  };
  const precheck: PaymentPrecheck = { check: async () => (calls.precheck++, { kind: 'rejection', status: 402, reason: 'invalid_exact_evm_signature', message: 'checked' }) };
  const receipts = new MemoryReceipts();
  const paywall = new Paywall(testEdgeConfig({ deniedPayers: [DENIED.toLowerCase()] }), { facilitator: facilitator as never, receipts, clock: () => Date.now(), log: (line) => logs.push(line) }, precheck);
  const request = (payload: unknown): PaywallRequest => ({ method: 'GET', uri: '/articles/one', host: 'example.com', header: (name) => (name === 'payment-signature' ? header(payload) : undefined) });

  it('answers 403 payer_denied JSON before the local check, the facilitator or the receipt table, and counts PaymentsDenied', async () => {
    const outcome = await paywall.onViewerRequest(request(paymentFrom(DENIED)));
    expect(outcome).toMatchObject({ kind: 'respond', response: { status: 403, headers: { 'content-type': 'application/json' } } });
    if (outcome.kind !== 'respond') throw new Error('not refused');
    expect(JSON.parse(outcome.response.body)).toMatchObject({ error: 'payer_denied' });
    expect(outcome.response.headers).not.toHaveProperty('payment-required');
    expect(calls).toEqual({ facilitator: 0, precheck: 0 });
    expect(receipts.rows.size).toBe(0);
    expect(JSON.stringify(logs)).toContain('"PaymentsDenied":1');
  });

  it('goes on to the local check for a payer not on the list', async () => {
    await paywall.onViewerRequest(request(paymentFrom(ALLOWED)));
    expect(calls.precheck).toBe(1);
  });
});
