/** lambda/core/batch/refunds.ts: when the claims run closes and refunds an idle channel, what the refund claims and returns, and the facilitator payload. */
import type { PaymentPayload } from '@x402/core/types';
import { refundChannel, refundOf, refundStep, type RefundCandidate } from '../../lambda/core/batch/refunds';
import type { FacilitatorPort } from '../../lambda/core/ports';

const NOW = 1_800_000_000;
const IDLE = 3600;
const config = { payer: '0x1111111111111111111111111111111111111111', payerAuthorizer: '0x1111111111111111111111111111111111111111', receiver: '0x2222222222222222222222222222222222222222', receiverAuthorizer: '0x3333333333333333333333333333333333333333', token: '0x4444444444444444444444444444444444444444', withdrawDelay: 900, salt: `0x${'00'.repeat(32)}` } as const;
const idle: RefundCandidate = {
  channelId: `0x${'ab'.repeat(32)}`,
  config: config as unknown as RefundCandidate['config'],
  signature: `0x${'cd'.repeat(65)}`,
  charged: 5000n,
  reservedTo: 5000n,
  signedMax: 5000n,
  balance: 200_000n,
  totalClaimed: 2000n,
  refundNonce: 3n,
  withdrawalPending: false,
  pending: { size: 0 },
  quietCharged: 5000n,
  quietSince: NOW - IDLE,
};

describe('refundStep', () => {
  it('closes a channel idle for the whole period with nothing in flight and something to return', () => {
    expect(refundStep(idle, IDLE, NOW)).toBe('close');
  });

  it.each([
    ['idle one second short', { quietSince: NOW - IDLE + 1 }],
    ['charged since the run last looked', { quietCharged: 4000n }],
    ['never looked at by a run', { quietCharged: undefined, quietSince: undefined }],
    ['a reservation in flight', { pending: { size: 1 }, reservedTo: 6000n }],
    ['nothing left to return (all claimed or served)', { balance: 5000n }],
    ['no voucher to claim with', { signature: undefined }],
    ['already refunded', { closingAt: NOW - 60, refundedAt: NOW - 30 }],
  ])('leaves a channel alone when %s', (_case, change) => {
    expect(refundStep({ ...idle, ...change }, IDLE, NOW)).toBeUndefined();
  });

  it('refunds a channel already closing (this run marked it, or an earlier refund failed), also with idle refunds off', () => {
    expect(refundStep({ ...idle, closingAt: NOW - 300 }, IDLE, NOW)).toBe('refund');
    expect(refundStep({ ...idle, closingAt: NOW - 300 }, 0, NOW)).toBe('refund');
    expect(refundStep(idle, 0, NOW)).toBeUndefined();
  });
});

describe('refundOf', () => {
  it('claims every served request (capped as any claim) and returns the rest of the deposit', () => {
    expect(refundOf(idle)).toEqual({ claimTotal: 5000n, amount: 195_000n });
    expect(refundOf({ ...idle, signedMax: 4000n })).toEqual({ claimTotal: 4000n, amount: 196_000n });
    expect(refundOf({ ...idle, charged: 2000n, reservedTo: 2000n })).toEqual({ claimTotal: 2000n, amount: 198_000n });
    expect(refundOf({ ...idle, balance: 5000n })).toEqual({ claimTotal: 5000n, amount: 0n });
  });
});

describe('refundChannel', () => {
  const terms = { network: 'eip155:84532', payTo: config.receiver, asset: config.token } as const;
  const facilitatorAnswering = (answer: Awaited<ReturnType<FacilitatorPort['settle']>>) => {
    const sent: PaymentPayload[] = [];
    const facilitator: FacilitatorPort = { verify: () => Promise.reject(new Error('not called')), settle: async (payload) => (sent.push(payload), answer) };
    return { sent, facilitator };
  };

  it("sends the official channel manager's refund payload (claim of the served total, amount, nonce) and returns what the chain confirmed", async () => {
    const { sent, facilitator } = facilitatorAnswering({ success: true, transaction: '0xfeed', network: 'eip155:84532', amount: '195000' });
    const refund = await refundChannel(idle, { facilitator, terms, timeoutMs: 10_000, clock: () => 42 });
    expect(refund).toEqual({ refundNonce: 3n, amount: 195_000n, previousTotalClaimed: 2000n, claimedTo: 5000n, transaction: '0xfeed', refundedAt: 42 });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.accepted).toMatchObject({ scheme: 'batch-settlement', network: 'eip155:84532', payTo: config.receiver, asset: config.token, amount: '0' });
    expect(sent[0]!.payload).toEqual({
      type: 'refund',
      channelConfig: config,
      voucher: { channelId: idle.channelId, maxClaimableAmount: '5000', signature: idle.signature },
      amount: '195000',
      refundNonce: '3',
      claims: [{ voucher: { channel: config, maxClaimableAmount: '5000' }, signature: idle.signature, totalClaimed: '5000' }],
    });
  });

  it('sends no claim when everything served is claimed, and nothing at all when nothing is left to return', async () => {
    const { sent, facilitator } = facilitatorAnswering({ success: true, transaction: '0xfeed', network: 'eip155:84532' });
    await refundChannel({ ...idle, totalClaimed: 5000n }, { facilitator, terms, timeoutMs: 10_000, clock: () => 42 });
    expect((sent[0]!.payload as { claims: unknown[]; amount: string }).claims).toEqual([]);
    expect((sent[0]!.payload as { amount: string }).amount).toBe('195000');
    // Nothing sent, so nothing claimed: the served 3000 above the chain's 2000 is left to the claims.
    expect(await refundChannel({ ...idle, balance: 5000n }, { facilitator, terms, timeoutMs: 10_000, clock: () => 42 })).toEqual({ refundNonce: 3n, amount: 0n, previousTotalClaimed: 2000n, claimedTo: 2000n, transaction: '', refundedAt: 42 });
    expect(sent).toHaveLength(1);
  });

  it('throws, recording nothing, when the facilitator does not confirm', async () => {
    const { facilitator } = facilitatorAnswering({ success: false, errorReason: 'invalid_batch_settlement_evm_refund_simulation_failed', transaction: '', network: 'eip155:84532' });
    await expect(refundChannel(idle, { facilitator, terms, timeoutMs: 10_000, clock: () => 42 })).rejects.toThrow(/refund of 0xabab.* failed: invalid_batch_settlement_evm_refund_simulation_failed/);
  });
});
