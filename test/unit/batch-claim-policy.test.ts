import { claimDue, maxUnclaimedAgeSeconds, type ClaimCandidate } from '../../lambda/core/batch/claim-policy';

const NOW = 1_800_000_000;
const policy = { thresholdAtomic: 5000n, maxAgeSeconds: 3600 };
const channel = (over: Partial<ClaimCandidate> = {}): ClaimCandidate => ({
  charged: 2000n,
  reservedTo: 2000n,
  signedMax: 2000n,
  balance: 10_000n,
  withdrawalPending: false,
  totalClaimed: 0n,
  withdrawRequestedAt: 0,
  unclaimedSince: NOW - 60,
  config: { withdrawDelay: 86_400 },
  ...over,
});

it('waits while the unclaimed amount is below the threshold and its oldest charge younger than the cadence', () => {
  expect(claimDue(channel(), policy, NOW)).toBeUndefined();
});

it('claims at the threshold, past the cadence, and at once when a withdrawal is pending', () => {
  expect(claimDue(channel({ charged: 5000n, reservedTo: 5000n, signedMax: 5000n }), policy, NOW)).toBe('threshold');
  expect(claimDue(channel({ unclaimedSince: NOW - 3600 }), policy, NOW)).toBe('age');
  expect(claimDue(channel({ withdrawRequestedAt: NOW - 1, withdrawalPending: true }), policy, NOW)).toBe('withdrawal_pending');
  // A row charged before the timestamp existed is claimed rather than left to a withdrawal.
  expect(claimDue(channel({ unclaimedSince: undefined }), policy, NOW)).toBe('age');
});

it('has nothing to claim when everything served is claimed, whatever else holds', () => {
  expect(claimDue(channel({ totalClaimed: 2000n, withdrawRequestedAt: NOW, withdrawalPending: true, unclaimedSince: 0 }), policy, NOW)).toBeUndefined();
  // Unserved reservations and vouchers above what was served are not claimable.
  expect(claimDue(channel({ charged: 0n, reservedTo: 9000n, signedMax: 9000n, unclaimedSince: 0 }), policy, NOW)).toBeUndefined();
});

it('keeps the cadence within a third of the channel withdraw delay', () => {
  expect(maxUnclaimedAgeSeconds(900, policy)).toBe(300);
  expect(claimDue(channel({ config: { withdrawDelay: 900 }, unclaimedSince: NOW - 300 }), policy, NOW)).toBe('age');
  expect(maxUnclaimedAgeSeconds(86_400, policy)).toBe(3600);
});
