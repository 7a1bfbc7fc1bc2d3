/**
 * A batch-settlement channel's books as the edge keeps them (one row per channel, written by
 * lambda/edge/dynamo-channel-store.ts), and the port the request path reaches them through.
 */
import type { Hex } from 'viem';
import type { Receipt } from '../receipt';
import type { ChannelLedger, CommitMarker, LedgerReason } from './ledger';
import type { ChannelConfig, Voucher } from './voucher';

/** The chain's view of a channel, as the facilitator reports it (`channelState`). */
export interface ChannelChainState {
  readonly balance: bigint;
  readonly totalClaimed: bigint;
  /** Unix seconds the payer's timed withdrawal started, 0 if none. */
  readonly withdrawRequestedAt: number;
  readonly refundNonce: bigint;
}

/** A channel row as stored. */
export interface ChannelRow extends ChannelLedger, ChannelChainState {
  readonly channelId: Hex;
  readonly config: ChannelConfig;
  /** The signature of the `signedMax` voucher (absent before the first voucher). */
  readonly signature?: Hex;
  /** The transaction of the last claim recorded. */
  readonly claimTx?: string;
  /** Unix seconds of the oldest charge not claimed yet (absent when everything charged is claimed). */
  readonly unclaimedSince?: number;
  /** How much of `totalClaimed` a confirmed `settle` has moved to payTo, and that transaction. */
  readonly settledTo: bigint;
  readonly settleTx?: string;
  /** Reservations in flight by id. */
  readonly pending: ReadonlyMap<string, PendingIncrement>;
  /** By reservation id, the commits whose receipt is not confirmed yet, or is but whose marker waits for the channel's next commit or the claims run. */
  readonly committed: ReadonlyMap<string, CommitMarker>;
  /** Unix seconds the claims run marked the idle channel closing for a refund (the edge reserves nothing on it); absent while open. */
  readonly closingAt?: number;
  /** Unix seconds the refund of the closing channel was confirmed (a deposit after it reopens the channel), and its transaction. */
  readonly refundedAt?: number;
  readonly refundTx?: string;
  /** The `charged` total the claims run last saw, and since when (Unix seconds): how long the channel has been idle. */
  readonly quietCharged?: bigint;
  readonly quietSince?: number;
}

export interface PendingIncrement {
  readonly amount: bigint;
  /** Unix seconds after which a sweep may release it (its origin-response never ran). */
  readonly expiresAt: number;
}

/** What a commit's marker names of its request, for the receipt the claims run writes if origin-response wrote none. */
export interface CommittedRequest {
  /** The route's pattern. */
  readonly route: string;
  readonly resource: string;
}

export interface Reservation {
  readonly channelId: Hex;
  /** Unique per request; travels to origin-response, which commits or releases it. */
  readonly reservationId: string;
  readonly voucher: Voucher;
  readonly price: bigint;
  /** Unix seconds; beyond any origin-response of this request (the origin's timeout and then some). */
  readonly expiresAt: number;
}

export type ReserveOutcome = { readonly status: 'reserved' } | { readonly status: 'refused'; readonly reason: LedgerReason | 'batch_settlement_channel_unknown' };

/** What viewer-request and origin-response do with a channel's row; each is one conditional write. */
export interface ChannelStorePort {
  open(channelId: Hex, config: ChannelConfig, chain: ChannelChainState): Promise<'opened' | 'exists'>;
  syncChain(channelId: Hex, chain: ChannelChainState): Promise<void>;
  reserve(r: Reservation): Promise<ReserveOutcome>;
  /**
   * Charges the reservation once and leaves its marker: the channel's charged cumulative after it,
   * or undefined when the reservation was not there (committed already, released or swept). The
   * same update removes the markers of `receipted` (earlier commits whose receipt is written).
   */
  commitCharged(channelId: Hex, reservationId: string, price: bigint, request: CommittedRequest, receipted: readonly string[]): Promise<bigint | undefined>;
  release(channelId: Hex, reservationId: string, price: bigint): Promise<'released' | 'unknown'>;
  releaseExpired(channelId: Hex, nowSeconds: number): Promise<number>;
  get(channelId: Hex): Promise<ChannelRow | undefined>;
  /** Writes the receipt of one served request (a conditional put: once per id). */
  recordServed(receipt: Receipt): Promise<void>;
}
