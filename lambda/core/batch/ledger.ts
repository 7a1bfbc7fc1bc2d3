/**
 * A channel's books at the edge, in bigint atomic units (no I/O): what served requests were
 * charged, what is reserved for requests in flight, the highest voucher seen, the mirrored chain
 * balance. The DynamoDB store applies the same rule as a conditional update; this module decides
 * it (to explain a refusal, and for the claims) and is what the unit tests pin down.
 *
 * Invariant: charged ≤ reservedTo ≤ signedMax ≤ balance, where reservedTo = charged + the
 * increments in flight. A claim submits totalClaimed = charged with the signedMax voucher, so it
 * never claims more than was served, nor more than the payer signed or deposited.
 */

/** DynamoDB numbers carry at most 38 significant digits; no real balance comes near. */
export const MAX_LEDGER_AMOUNT = 10n ** 38n - 1n;

export interface ChannelLedger {
  /** Cumulative amount of served requests (committed increments). */
  readonly charged: bigint;
  /** charged + the increments reserved for requests in flight. */
  readonly reservedTo: bigint;
  /** The highest voucher's maxClaimableAmount seen (0 before the first). */
  readonly signedMax: bigint;
  /** The channel's balance on chain, as last mirrored. */
  readonly balance: bigint;
  /** The payer has started a timed withdrawal: no new charges until it is resolved. */
  readonly withdrawalPending: boolean;
  /** The claims run is refunding the idle channel to the payer: no new charges until a deposit reopens it. */
  readonly closing?: boolean;
}

export const LedgerReasons = {
  /** The voucher does not cover this request on top of what is charged and reserved (a reused or lower voucher). */
  cumulativeTooLow: 'invalid_batch_settlement_evm_cumulative_amount_mismatch',
  cumulativeExceedsBalance: 'invalid_batch_settlement_evm_cumulative_exceeds_balance',
  withdrawalPending: 'batch_settlement_withdrawal_pending',
  channelClosing: 'batch_settlement_channel_closing',
  invalidPrice: 'batch_settlement_invalid_price',
} as const;
export type LedgerReason = (typeof LedgerReasons)[keyof typeof LedgerReasons];

/**
 * Whether a voucher for `maxClaimableAmount` pays a request of `price` now:
 * reservedTo + price ≤ maxClaimableAmount ≤ balance, no withdrawal pending, not closing for a refund.
 */
export function admitIncrement(ledger: ChannelLedger, maxClaimableAmount: bigint, price: bigint): { readonly ok: true } | { readonly ok: false; readonly reason: LedgerReason } {
  if (price <= 0n || price > MAX_LEDGER_AMOUNT) return { ok: false, reason: LedgerReasons.invalidPrice };
  if (ledger.withdrawalPending) return { ok: false, reason: LedgerReasons.withdrawalPending };
  if (ledger.closing) return { ok: false, reason: LedgerReasons.channelClosing };
  if (maxClaimableAmount > ledger.balance || maxClaimableAmount > MAX_LEDGER_AMOUNT) return { ok: false, reason: LedgerReasons.cumulativeExceedsBalance };
  if (ledger.reservedTo + price > maxClaimableAmount) return { ok: false, reason: LedgerReasons.cumulativeTooLow };
  return { ok: true };
}

/**
 * The bound the store's conditional update checks reservedTo against: reserving `price` under a
 * voucher for `maxClaimableAmount` is allowed while reservedTo ≤ maxClaimableAmount − price.
 * Negative when the voucher cannot even pay this one request.
 */
export function reservationBound(maxClaimableAmount: bigint, price: bigint): bigint {
  return maxClaimableAmount - price;
}

/** What a claim may submit now: every served request, never more than the payer signed or deposited. */
export function claimableNow(ledger: ChannelLedger, totalClaimedOnChain: bigint): bigint {
  const cap = [ledger.charged, ledger.signedMax, ledger.balance].reduce((a, b) => (a < b ? a : b));
  return cap > totalClaimedOnChain ? cap : totalClaimedOnChain;
}

/**
 * Seconds a commit's marker waits for its origin-response to write the receipt and remove it:
 * beyond the origin trigger's 30 s (an origin-response that committed has ended by then). An older
 * marker is one whose receipt may be missing; the claims run writes it (if absent) and removes it.
 */
export const COMMIT_MARKER_SECONDS = 120;

/** What a commit left on the row: the increment, the channel's charged cumulative right after it, and when. */
export interface CommitMarker {
  readonly amount: bigint;
  /** The request's route pattern and resource ('' when the commit named none). */
  readonly route: string;
  readonly resource: string;
  readonly chargedTo: bigint;
  /** Unix seconds. */
  readonly committedAt: number;
}

/**
 * A commit's outcome read from the row after its answer was lost (an error, or a retry whose
 * condition failed because the first attempt had applied): `committed` (its marker is there: serve
 * with that charged cumulative), `pending` (the reservation is still there: nothing was charged,
 * commit again) or `gone` (released or swept as expired: nothing was charged, withhold).
 */
export type CommitOutcome = { readonly kind: 'committed'; readonly charged: bigint } | { readonly kind: 'pending' } | { readonly kind: 'gone' };

export function commitOutcome(
  row: { readonly pending: ReadonlyMap<string, { readonly amount: bigint }>; readonly committed: ReadonlyMap<string, CommitMarker> } | undefined,
  reservationId: string,
  price: bigint,
): CommitOutcome {
  const marker = row?.committed.get(reservationId);
  if (marker?.amount === price) return { kind: 'committed', charged: marker.chargedTo };
  if (row?.pending.get(reservationId)?.amount === price) return { kind: 'pending' };
  return { kind: 'gone' };
}

/** The markers old enough that their origin-response has ended: their receipt is written if it is missing, then they go. */
export function staleCommits(committed: ReadonlyMap<string, CommitMarker>, nowSeconds: number): Array<[string, CommitMarker]> {
  return [...committed].filter(([, marker]) => marker.committedAt + COMMIT_MARKER_SECONDS <= nowSeconds);
}
