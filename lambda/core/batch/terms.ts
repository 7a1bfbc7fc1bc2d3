/**
 * What a `batch-settlement` route offers and answers, as the official batch-settlement client
 * reads it (no I/O): the 402's `extra` (the official server's `enhancePaymentRequirements`), the
 * corrective 402 after a voucher that does not cover the request, and the PAYMENT-RESPONSE of a
 * served request. See docs/batch-settlement.md.
 */
import type { PaymentRequirements, SettleResponse } from '@x402/core/types';
import type { Address, Hex } from 'viem';
import { DEFAULT_MIN_DEPOSIT_MULTIPLIER, type BatchRouteTerms } from './route-terms';

/** The smallest deposit the 402 asks for: at least one request's price, as the official server announces it. */
export function minDepositOf(terms: BatchRouteTerms): string {
  const price = BigInt(terms.price);
  if (terms.minDeposit === undefined) return (price * BigInt(DEFAULT_MIN_DEPOSIT_MULTIPLIER)).toString();
  const configured = BigInt(terms.minDeposit);
  return (configured > price ? configured : price).toString();
}

/**
 * The requirements' `extra` of a batch-settlement route: the token's EIP-712 domain (the deposit's
 * ERC-3009 authorization), the receiver authorizer that signs our claims (the facilitator's:
 * pinned, or from its /supported), the withdraw delay a channel must be opened with, and the
 * minimum deposit. Without the receiver authorizer (a catalogue that does not know it) no channel
 * can be opened on these terms: the 402 always names it.
 */
export function batchExtra(asset: { readonly name: string; readonly version: string }, terms: BatchRouteTerms, receiverAuthorizer?: Address): Record<string, unknown> {
  return { name: asset.name, version: asset.version, ...(receiverAuthorizer ? { receiverAuthorizer } : {}), withdrawDelay: terms.withdrawDelay, minDeposit: minDepositOf(terms) };
}

/** A channel's books as the corrective 402 and the PAYMENT-RESPONSE report them (atomic units). */
export interface ChannelSnapshot {
  readonly channelId: Hex;
  /** What the client's next voucher must build on: charged plus what requests in flight reserved. */
  readonly chargedCumulativeAmount: bigint;
  readonly balance: bigint;
  readonly totalClaimed: bigint;
  readonly withdrawRequestedAt: number;
  readonly refundNonce: bigint;
  /** The highest voucher the edge holds, and its signature (absent before the first). */
  readonly signedMax: bigint;
  readonly signature?: Hex;
}

/**
 * The requirements of the corrective 402 the official client recovers from: the offered ones plus
 * `channelState` and the last signed voucher (`voucherState`), as the official server's
 * `enrichPaymentRequiredResponse` adds them. The client re-signs on `chargedCumulativeAmount`
 * after checking that voucher's signature is its own; without one it reads the chain instead.
 */
export function correctiveRequirements(offered: PaymentRequirements, channel: ChannelSnapshot): PaymentRequirements {
  return {
    ...offered,
    extra: {
      ...offered.extra,
      channelState: {
        channelId: channel.channelId,
        balance: channel.balance.toString(),
        totalClaimed: channel.totalClaimed.toString(),
        withdrawRequestedAt: channel.withdrawRequestedAt,
        refundNonce: channel.refundNonce.toString(),
        chargedCumulativeAmount: channel.chargedCumulativeAmount.toString(),
      },
      ...(channel.signature ? { voucherState: { signedMaxClaimable: channel.signedMax.toString(), signature: channel.signature } } : {}),
    },
  };
}

/**
 * The PAYMENT-RESPONSE of a served request: no transaction (the voucher is claimed later, off the
 * request path), what this request cost and the channel's charged cumulative after it, which the
 * official client checks against its own books before it signs the next voucher.
 */
export function servedResponse(network: string, payer: string, chargedAmount: bigint, channelId: Hex, chargedCumulative: bigint): SettleResponse {
  return {
    success: true,
    transaction: '',
    network: network as SettleResponse['network'],
    payer: payer.toLowerCase(),
    amount: '',
    extra: { chargedAmount: chargedAmount.toString(), channelState: { channelId, chargedCumulativeAmount: chargedCumulative.toString() } },
  };
}
