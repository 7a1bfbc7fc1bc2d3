/**
 * Claims and settlement off the request path (I/O only through the ports): the served amount of
 * each channel is claimed with its highest voucher in one `claimWithSignature` transaction per
 * batch (the facilitator signs as receiver authorizer), then one `settle` sweeps the claimed total
 * to payTo. Nothing is recorded for a claim the facilitator did not confirm; a batch it refuses is
 * retried channel by channel, so one channel whose claim cannot go through (a withdrawal finalized
 * under it, a receiver authorizer the facilitator no longer holds) does not hold up the others.
 */
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import type { Clock, FacilitatorPort } from '../ports';
import type { ChannelConfig } from './voucher';

/** One voucher claim as the batch-settlement contract takes it: totalClaimed is what was served. */
export interface ClaimTarget {
  readonly config: ChannelConfig;
  readonly maxClaimableAmount: bigint;
  readonly signature: `0x${string}`;
  readonly totalClaimed: bigint;
  /** The channel's claimed total before this claim (the mirrored chain state it was computed from). */
  readonly previousTotalClaimed: bigint;
}

/** A claim the chain confirmed, as its history records it. */
export interface ConfirmedClaim {
  readonly previousTotalClaimed: bigint;
  readonly totalClaimed: bigint;
  readonly transaction: string;
  /** Epoch milliseconds the facilitator confirmed it. */
  readonly claimedAt: number;
}

export interface ChannelClaimsPort {
  /** What a claim of the channel submits now, or undefined when nothing new was served. */
  claimTarget(channelId: `0x${string}`): Promise<ClaimTarget | undefined>;
  /** Mirrors a confirmed claim (never lowers what is recorded) and adds it to the channel's claim history (once). */
  recordClaim(channelId: `0x${string}`, claim: ConfirmedClaim): Promise<void>;
}

export interface ClaimTerms {
  readonly network: `${string}:${string}`;
  readonly payTo: `0x${string}`;
  readonly asset: `0x${string}`;
}

export interface ClaimRun {
  readonly claimed: ReadonlyArray<{ readonly channelId: `0x${string}`; readonly totalClaimed: bigint; readonly transaction: string }>;
  /** Channels whose claim the facilitator refused even alone (nothing recorded for them; the others were claimed). */
  readonly failed: ReadonlyArray<{ readonly channelId: `0x${string}`; readonly reason: string }>;
  /**
   * The settle transaction and the amount it moved to payTo; absent when nothing was claimed and no
   * earlier settle was owed. An empty transaction: the chain had nothing left to settle (`settle`
   * is permissionless, someone else swept it), so everything claimed is settled.
   */
  readonly settlement?: { readonly transaction: string; readonly amount: string };
}

/** The facilitator's answer to a `settle` when the receiver's claimed total is already settled. */
export const NOTHING_TO_SETTLE = 'invalid_batch_settlement_evm_nothing_to_settle';

/** Claims per transaction, as the official channel manager batches them. */
export const MAX_CLAIMS_PER_BATCH = 100;

/**
 * The requirements and payload envelope of the receiver's operations on its channels (`claim`,
 * `settle`, `refund`), sent to the facilitator's `/settle` as the official channel manager sends them.
 */
export function channelOperations(terms: ClaimTerms, timeoutMs: number): { readonly requirements: PaymentRequirements; readonly operation: (payload: Record<string, unknown>) => PaymentPayload } {
  const requirements: PaymentRequirements = {
    scheme: 'batch-settlement',
    network: terms.network,
    asset: terms.asset,
    amount: '0',
    payTo: terms.payTo,
    maxTimeoutSeconds: Math.max(1, Math.ceil(timeoutMs / 1000)),
    extra: {},
  };
  return { requirements, operation: (payload) => ({ x402Version: 2, accepted: requirements, payload }) };
}

export async function claimAndSettle(
  channelIds: readonly `0x${string}`[],
  deps: {
    readonly channels: ChannelClaimsPort;
    readonly facilitator: FacilitatorPort;
    readonly terms: ClaimTerms;
    readonly timeoutMs: number;
    readonly clock: Clock;
    /** An earlier run claimed but its settle failed: settle even when nothing is claimed now. */
    readonly settleOwed?: boolean;
  },
): Promise<ClaimRun> {
  const { channels, facilitator, terms, timeoutMs } = deps;
  const { requirements, operation } = channelOperations(terms, timeoutMs);

  const targets: Array<{ channelId: `0x${string}`; target: ClaimTarget }> = [];
  for (const channelId of channelIds) {
    const target = await channels.claimTarget(channelId);
    if (target) targets.push({ channelId, target });
  }
  const claimed: Array<ClaimRun['claimed'][number]> = [];
  const failed: Array<ClaimRun['failed'][number]> = [];
  const claim = async (batch: typeof targets) => {
    const claims = batch.map(({ target }) => ({
      voucher: { channel: target.config, maxClaimableAmount: target.maxClaimableAmount.toString() },
      signature: target.signature,
      totalClaimed: target.totalClaimed.toString(),
    }));
    const answer = await facilitator.settle(operation({ type: 'claim', claims }), requirements, timeoutMs);
    if (!answer.success) return `${answer.errorReason ?? 'unknown'}${answer.errorMessage ? ` (${answer.errorMessage})` : ''}`;
    const claimedAt = deps.clock();
    for (const { channelId, target } of batch) {
      await channels.recordClaim(channelId, { previousTotalClaimed: target.previousTotalClaimed, totalClaimed: target.totalClaimed, transaction: answer.transaction, claimedAt });
      claimed.push({ channelId, totalClaimed: target.totalClaimed, transaction: answer.transaction });
    }
    return undefined;
  };
  // One batch per receiver authorizer (the contract takes one signer per ClaimBatch).
  const byAuthorizer = new Map<string, typeof targets>();
  for (const t of targets) {
    const key = t.target.config.receiverAuthorizer.toLowerCase();
    byAuthorizer.set(key, [...(byAuthorizer.get(key) ?? []), t]);
  }
  for (const group of byAuthorizer.values()) {
    for (let i = 0; i < group.length; i += MAX_CLAIMS_PER_BATCH) {
      const batch = group.slice(i, i + MAX_CLAIMS_PER_BATCH);
      const refused = await claim(batch);
      if (!refused) continue;
      // A batch refused (one channel's claim would revert, or its authorizer is not the facilitator's): each channel alone, so one cannot hold up the others.
      for (const one of batch.length > 1 ? batch : []) {
        const alone = await claim([one]);
        if (alone) failed.push({ channelId: one.channelId, reason: alone });
      }
      if (batch.length === 1) failed.push({ channelId: batch[0]!.channelId, reason: refused });
    }
  }
  if (claimed.length === 0 && !deps.settleOwed) return { claimed, failed };
  const swept = await facilitator.settle(operation({ type: 'settle', receiver: terms.payTo, token: terms.asset }), requirements, timeoutMs);
  if (!swept.success && swept.errorReason === NOTHING_TO_SETTLE) return { claimed, failed, settlement: { transaction: '', amount: '0' } };
  if (!swept.success) throw new Error(`batch-settlement settle failed after claiming: ${swept.errorReason ?? 'unknown'}`);
  return { claimed, failed, settlement: { transaction: swept.transaction, amount: swept.amount ?? '' } };
}
