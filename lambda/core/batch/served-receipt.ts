/**
 * The receipt of one request served on a batch-settlement channel: written by origin-response after
 * its commit, or by the claims run from a commit's marker when origin-response could not write it.
 */
import type { Receipt } from '../receipt';

export interface BatchReceiptFields {
  readonly network: string;
  readonly payTo: string;
  readonly asset: string;
  readonly channelId: string;
  readonly payer: string;
  /** The increment. */
  readonly amount: bigint;
  /** The channel's charged cumulative right after this request: unique per channel, so the receipt's id. */
  readonly chargedTo: bigint;
  readonly reservationId: string;
  readonly resource: string;
  readonly route: string;
  /** Epoch milliseconds. */
  readonly at: number;
  /** The channel's withdraw delay: the voucher stays claimable at least that long. */
  readonly withdrawDelay: number;
}

export function batchReceipt(f: BatchReceiptFields): Receipt {
  const at = new Date(f.at).toISOString();
  const channelId = f.channelId.toLowerCase();
  return {
    paymentId: `${f.network}:batch:${channelId}:${f.chargedTo}`,
    status: 'settled',
    engine: 'edge',
    network: f.network,
    payer: f.payer.toLowerCase(),
    payTo: f.payTo,
    amount: f.amount.toString(),
    scheme: 'batch-settlement',
    batchChannelId: channelId,
    batchCumulative: f.chargedTo.toString(),
    asset: f.asset,
    nonce: f.reservationId,
    resource: f.resource,
    route: f.route,
    x402Version: 2,
    createdAt: at,
    updatedAt: at,
    expiresAt: Math.floor(f.at / 1000) + f.withdrawDelay,
  };
}

/**
 * `errorReason` of a receipt the claims run wrote from a commit's marker: the increment was charged
 * but its origin-response wrote no receipt (it could not confirm the commit, so the content was
 * withheld, or it was cut off): the payer paid for a request the edge may not have delivered.
 */
export const RECEIPT_FROM_COMMIT_MARKER = 'batch_charged_without_receipt';

/** The route of such a receipt when the commit's marker names none (the receipt table's byRoute index needs one). */
export const UNKNOWN_ROUTE = '(unknown)';
