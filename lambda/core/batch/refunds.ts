/**
 * Cooperative refunds of idle channels (I/O only through the facilitator port): a channel with no
 * charge for `refundIdleAfter` is first marked closing (the edge reserves nothing on it, and the
 * mark only lands when no reservation is in flight), then refunded in one facilitator `/settle`
 * `{type: "refund"}`: the facilitator claims what was served (`claimWithSignature`) and returns the
 * rest of the deposit (`refundWithSignature`, signed as receiver authorizer) in one multicall, as
 * the official channel manager's `refundChannel` asks it to.
 */
import type { Clock, FacilitatorPort } from '../ports';
import { channelOperations, type ClaimTerms } from './claims';
import { claimableNow, type ChannelLedger } from './ledger';
import type { ChannelConfig } from './voucher';

export interface RefundCandidate extends ChannelLedger {
  readonly channelId: `0x${string}`;
  readonly config: ChannelConfig;
  readonly signature?: `0x${string}`;
  readonly totalClaimed: bigint;
  readonly refundNonce: bigint;
  readonly pending: { readonly size: number };
  readonly closingAt?: number;
  readonly refundedAt?: number;
  readonly quietCharged?: bigint;
  readonly quietSince?: number;
}

/**
 * What the claims run does about a refund of the channel now: `close` (idle long enough, nothing in
 * flight, something to return: mark it closing, then refund), `refund` (already closing: the
 * refund is owed, from this run's mark or an earlier run that failed), or nothing.
 * `idleAfterSeconds` 0 turns idle refunds off (a channel already closing is still refunded).
 */
export function refundStep(channel: RefundCandidate, idleAfterSeconds: number, nowSeconds: number): 'close' | 'refund' | undefined {
  if (channel.refundedAt !== undefined) return undefined;
  if (channel.closingAt !== undefined) return 'refund';
  if (idleAfterSeconds <= 0 || !channel.signature) return undefined;
  if (channel.pending.size > 0 || channel.reservedTo !== channel.charged) return undefined;
  if (channel.quietCharged !== channel.charged || channel.quietSince === undefined || nowSeconds - channel.quietSince < idleAfterSeconds) return undefined;
  return refundOf(channel).amount > 0n ? 'close' : undefined;
}

/** What the refund claims first (every served request, capped as any claim) and returns: the rest of the deposit. */
export function refundOf(channel: RefundCandidate): { readonly claimTotal: bigint; readonly amount: bigint } {
  const claimTotal = claimableNow(channel, channel.totalClaimed);
  return { claimTotal, amount: channel.balance > claimTotal ? channel.balance - claimTotal : 0n };
}

/** A refund the chain confirmed, as the channel's history records it. */
export interface ConfirmedRefund {
  /** The refund nonce it was signed with (the chain's before it). */
  readonly refundNonce: bigint;
  /** Returned to the payer (atomic units); 0 when nothing was left to return. */
  readonly amount: bigint;
  /** The channel's claimed total before and after the refund's claim. */
  readonly previousTotalClaimed: bigint;
  readonly claimedTo: bigint;
  /** Empty when nothing was sent (nothing left to return: an earlier refund confirmed but not recorded). */
  readonly transaction: string;
  /** Epoch milliseconds. */
  readonly refundedAt: number;
}

/** Refunds a closing channel through the facilitator; throws when it did not confirm (nothing is recorded then). */
export async function refundChannel(
  channel: RefundCandidate,
  deps: { readonly facilitator: FacilitatorPort; readonly terms: ClaimTerms; readonly timeoutMs: number; readonly clock: Clock },
): Promise<ConfirmedRefund> {
  const { claimTotal, amount } = refundOf(channel);
  const base = { refundNonce: channel.refundNonce, previousTotalClaimed: channel.totalClaimed };
  // Nothing sent: nothing claimed either (what is served and unclaimed goes with the next run's claims).
  if (amount === 0n || !channel.signature) return { ...base, claimedTo: channel.totalClaimed, amount: 0n, transaction: '', refundedAt: deps.clock() };
  const { requirements, operation } = channelOperations(deps.terms, deps.timeoutMs);
  const voucher = { channelId: channel.channelId, maxClaimableAmount: channel.signedMax.toString(), signature: channel.signature };
  const claims = claimTotal > channel.totalClaimed
    ? [{ voucher: { channel: channel.config, maxClaimableAmount: channel.signedMax.toString() }, signature: channel.signature, totalClaimed: claimTotal.toString() }]
    : [];
  const payload = { type: 'refund', channelConfig: channel.config, voucher, amount: amount.toString(), refundNonce: channel.refundNonce.toString(), claims };
  const answer = await deps.facilitator.settle(operation(payload), requirements, deps.timeoutMs);
  if (!answer.success) throw new Error(`batch-settlement refund of ${channel.channelId} failed: ${answer.errorReason ?? 'unknown'}${answer.errorMessage ? ` (${answer.errorMessage})` : ''}`);
  return { ...base, claimedTo: claimTotal > channel.totalClaimed ? claimTotal : channel.totalClaimed, amount: answer.amount ? BigInt(answer.amount) : amount, transaction: answer.transaction, refundedAt: deps.clock() };
}
