/**
 * When the scheduled claims claim a channel (no I/O): a channel's served but unclaimed amount is
 * only the receiver's once it is claimed on chain, and the payer can take back whatever is still
 * unclaimed when a timed withdrawal finalizes (`withdrawDelay` after it started). So a channel is
 * claimed at once when a withdrawal is pending, when its unclaimed amount reaches the threshold, or
 * when its oldest unclaimed charge is older than the cadence (capped at a third of the channel's
 * withdraw delay, so a claim is due well before any withdrawal could finalize).
 */
import { claimableNow, type ChannelLedger } from './ledger';

export interface ClaimPolicy {
  /** Claim once this much (atomic units) is served and unclaimed. */
  readonly thresholdAtomic: bigint;
  /** Claim once the oldest unclaimed charge is this old. */
  readonly maxAgeSeconds: number;
}

export interface ClaimCandidate extends ChannelLedger {
  /** Claimed on chain, as last mirrored. */
  readonly totalClaimed: bigint;
  /** Unix seconds the payer's timed withdrawal started, 0 if none. */
  readonly withdrawRequestedAt: number;
  /** Unix seconds of the oldest charge not claimed yet (absent when all is claimed). */
  readonly unclaimedSince?: number;
  readonly config: { readonly withdrawDelay: number };
}

export type ClaimReason = 'withdrawal_pending' | 'threshold' | 'age';

/** Why the channel is claimed now, or undefined when it waits (or has nothing to claim). */
export function claimDue(channel: ClaimCandidate, policy: ClaimPolicy, nowSeconds: number): ClaimReason | undefined {
  const unclaimed = claimableNow(channel, channel.totalClaimed) - channel.totalClaimed;
  if (unclaimed <= 0n) return undefined;
  if (channel.withdrawRequestedAt !== 0) return 'withdrawal_pending';
  if (unclaimed >= policy.thresholdAtomic) return 'threshold';
  // A row without the timestamp (charged before it was recorded) is treated as old: claimed now.
  const since = channel.unclaimedSince ?? 0;
  return nowSeconds - since >= maxUnclaimedAgeSeconds(channel.config.withdrawDelay, policy) ? 'age' : undefined;
}

/** The cadence, never more than a third of the channel's withdraw delay. */
export function maxUnclaimedAgeSeconds(withdrawDelay: number, policy: ClaimPolicy): number {
  return Math.min(policy.maxAgeSeconds, Math.floor(withdrawDelay / 3));
}
