import { decideChannel, type ChannelBooks } from '../../cli/channel-reconcile-plan';
import type { ChannelChainState } from '../../lambda/edge/dynamo-channel-store';

const NOW = 2_000_000_000;
const DELAY = 86_400;
const books = (over: Partial<ChannelBooks> = {}): ChannelBooks => ({ channelId: `0x${'ab'.repeat(32)}`, charged: 3000n, signedMax: 3000n, totalClaimed: 3000n, withdrawDelay: DELAY, ...over });
const chain = (over: Partial<ChannelChainState> = {}): ChannelChainState => ({ balance: 10_000n, totalClaimed: 3000n, withdrawRequestedAt: 0, refundNonce: 0n, ...over });

it('is ok when the chain has claimed what the row records, within the deposit and the vouchers', () => {
  expect(decideChannel(books(), chain(), NOW)).toEqual({ outcome: 'ok', unclaimed: 0n, findings: [] });
  // Served, not claimed yet, for less than the withdraw delay: the claims run's business.
  expect(decideChannel(books({ charged: 4000n, signedMax: 4000n, unclaimedSince: NOW - DELAY + 1 }), chain(), NOW)).toMatchObject({ outcome: 'ok', unclaimed: 1000n });
});

it('repairs a claim confirmed on chain but not recorded, by mirroring the chain', () => {
  const onChain = chain({ totalClaimed: 3000n });
  expect(decideChannel(books({ totalClaimed: 1000n }), onChain, NOW)).toEqual({
    outcome: 'repaired',
    write: onChain,
    unclaimed: 0n,
    findings: ['claimed on chain up to 3000, recorded 1000: the row now mirrors the chain'],
  });
});

it('calls a claim recorded but not on chain, a charge over the highest voucher and a charge over the deposit mismatches, never repaired', () => {
  const notOnChain = decideChannel(books(), chain({ totalClaimed: 2000n }), NOW);
  expect(notOnChain).toMatchObject({ outcome: 'mismatch', findings: [expect.stringMatching(/records 3000 claimed, the chain only 2000/)] });
  expect(notOnChain.write).toBeUndefined();
  expect(decideChannel(books({ charged: 3500n }), chain({ totalClaimed: 3000n }), NOW).findings).toEqual([expect.stringMatching(/charged 3500 is more than the highest voucher, 3000/)]);
  expect(decideChannel(books({ charged: 3000n }), chain({ balance: 2500n, totalClaimed: 3000n }), NOW)).toMatchObject({ outcome: 'mismatch', findings: [expect.stringMatching(/more than the deposit on chain, 2500/)] });
});

it('says money is at risk when served vouchers stay unclaimed past the withdraw delay, or while the payer withdraws', () => {
  const stale = decideChannel(books({ charged: 5000n, signedMax: 5000n, unclaimedSince: NOW - DELAY }), chain(), NOW);
  expect(stale).toMatchObject({ outcome: 'at-risk', unclaimed: 2000n, findings: [expect.stringMatching(/^2000 served and unclaimed since .* longer than the channel's withdraw delay \(86400 s\)/)] });
  const withdrawing = decideChannel(books({ charged: 4000n, signedMax: 4000n, unclaimedSince: NOW }), chain({ withdrawRequestedAt: NOW - 60 }), NOW);
  expect(withdrawing).toMatchObject({ outcome: 'at-risk', findings: [`1000 served and unclaimed while the payer withdraws: lost to payTo unless claimed before ${new Date((NOW - 60 + DELAY) * 1000).toISOString()}`] });
});

it('names the worst finding and still writes the repair', () => {
  const both = decideChannel(books({ totalClaimed: 1000n, charged: 5000n, signedMax: 4000n }), chain({ totalClaimed: 3000n }), NOW);
  expect(both.outcome).toBe('mismatch');
  expect(both.write).toEqual(chain({ totalClaimed: 3000n }));
  expect(both.findings).toHaveLength(2);
});
