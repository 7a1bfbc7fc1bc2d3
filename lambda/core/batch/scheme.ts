/**
 * The `batch-settlement` scheme on the request path (docs/batch-settlement.md): a deposit goes
 * through the facilitator once (verify + settle, which opens the channel's books); every request
 * after it pays with a cumulative voucher checked locally (voucher.ts) and reserved on the
 * channel's row in viewer-request, committed on a 2xx or released otherwise in origin-response.
 * No facilitator call and no transaction per request once the channel is open.
 */
import { randomBytes } from 'node:crypto';
import type { PaymentPayload, SettleResponse } from '@x402/core/types';
import type { Hex } from 'viem';
import type { EdgeConfig } from '../config';
import type { Handoff } from '../handoff';
import { evmChainId } from '../networks';
import { DECIMAL_UINT256, type DecodedPayment } from '../payment-header';
import type { Clock, FacilitatorPort, LogSink } from '../ports';
import { mismatchV2 } from '../terms-match';
import type { Receipt } from '../receipt';
import { oneLine, reasonCode, reject, Reasons, type Rejection } from '../rejection';
import type { RouteTerms } from '../requirements';
import type { ChannelChainState, ChannelRow, ChannelStorePort, CommittedRequest } from './channel-books';
import { commitOutcome, LedgerReasons, type CommitOutcome } from './ledger';
import { ReceiptedCommits } from './receipted-commits';
import { batchReceipt } from './served-receipt';
import { servedResponse, type ChannelSnapshot } from './terms';
import { parseVoucherPayload, VoucherReasons, type checkVoucher, type ChannelConfig, type ChannelTerms, type Voucher } from './voucher';

export type BatchHandoff = Extract<Handoff, { readonly kind: 'batch' }>;
/**
 * A refusal; `channel`: the books a corrective 402 reports, so that the official client re-signs on
 * them. `failedPayment`: a refused payment the failed-payment guard counts (abuse-guard.ts): against
 * the client only (`client`: the voucher's signature is not proven), or the payer's authorizer too
 * (`payer`: signed by it). Not set for a voucher that only lags the channel's books (concurrent
 * requests, a stale base: the official client recovers from those) or a dependency failure.
 */
export type BatchRefusal = Rejection & { readonly channel?: ChannelSnapshot; readonly failedPayment?: 'client' | 'payer' };

export interface BatchPorts {
  readonly facilitator: FacilitatorPort;
  readonly channels: ChannelStorePort;
  readonly clock: Clock;
  readonly log: LogSink;
  /** Logs and counts a channel-store failure (the paywall's receipt-store error). */
  readonly storeError: (operation: string, id: string, error: unknown) => void;
  /**
   * The voucher's signature check (the viewer-request's pre-check, which carries libsecp256k1):
   * absent in the origin-facing functions, which only commit or release, so their bundles stay small.
   */
  readonly checkVoucher?: typeof checkVoucher;
  /**
   * The receiver authorizer the facilitator signs claims with (its /supported, cached), asked before
   * a deposit: undefined when it cannot be read. Absent in the origin-facing functions, which take no deposits.
   */
  readonly facilitatorReceiverAuthorizer?: (timeoutMs: number) => Promise<string | undefined>;
}

/**
 * Seconds a reservation is held for its origin-response: beyond the 30 s origin trigger and
 * CloudFront's origin attempts. After it, a sweep may release it (and a late commit then finds nothing).
 */
export const RESERVATION_SECONDS = 120;
/** Seconds a client should wait before retrying after a dependency failed. */
const RETRY_AFTER_SECONDS = 5;
/** Kept free in the viewer trigger after each facilitator call (5 s in all). */
const VIEWER_RESERVE_MS = 1_000;
/** A served request's receipt write is retried this often before falling back to the log. */
const RECEIPT_WRITE_ATTEMPTS = 3;

export type BatchSettled =
  | { readonly kind: 'served'; readonly settlement: SettleResponse; readonly charged: bigint }
  | { readonly kind: 'released' }
  | { readonly kind: 'refused'; readonly rejection: Rejection };

export class BatchSettlementScheme {
  private readonly chainId: number;
  private readonly receiptedCommits = new ReceiptedCommits();

  constructor(
    private readonly config: Pick<EdgeConfig, 'network' | 'payTo' | 'asset' | 'facilitator'>,
    private readonly ports: BatchPorts,
  ) {
    const chainId = evmChainId(config.network);
    if (chainId === undefined) throw new Error(`network "${config.network}" is not eip155:<chainId>: batch-settlement channels live on an EVM chain`);
    this.chainId = chainId;
  }

  /**
   * viewer-request: a deposit (through the facilitator) or a voucher (locally), then one increment
   * of the route's price reserved on the channel. Returns the hand-off for origin-response.
   */
  async admit(payment: DecodedPayment, terms: RouteTerms, routeIndex: number, resource: string, remaining: () => number): Promise<BatchHandoff | BatchRefusal> {
    if (payment.x402Version !== 2) return reject(400, Reasons.invalidVersion, 'batch-settlement payments need x402 v2 (PAYMENT-SIGNATURE)');
    const mismatch = mismatchV2(payment.payload.accepted, terms);
    if (mismatch) return mismatch;
    const raw = payment.payload.payload as { type?: unknown; deposit?: unknown };
    if (raw.type !== 'deposit' && raw.type !== 'voucher') {
      return reject(400, Reasons.batchPayloadType, `payload.type is ${JSON.stringify(raw.type ?? null)}: send "deposit" (the first request on a channel, or a top-up) or "voucher"`);
    }
    const parsed = parseVoucherPayload(raw);
    if (!parsed) {
      return reject(400, VoucherReasons.invalidPayload, 'payload needs channelConfig {payer, payerAuthorizer, receiver, receiverAuthorizer, token, withdrawDelay, salt} and voucher {channelId, maxClaimableAmount, signature}');
    }
    const { config, voucher } = parsed;
    if (raw.type === 'deposit') {
      const short = depositShortfall(raw.deposit, terms);
      if (short) return short;
    }
    if (!this.ports.checkVoucher) throw new Error('this paywall has no voucher check: only the viewer-request function admits payments');
    const checked = this.ports.checkVoucher(config, voucher, this.channelTerms(terms));
    if (!checked.ok) return { ...reject(402, checked.reason, voucherRefusal(checked.reason)), failedPayment: 'client' };
    if (raw.type === 'deposit') {
      const opened = await this.deposit(payment.payload, terms, voucher.channelId, config, remaining);
      if (opened) return opened;
    }
    return this.reserve(payment.payload, voucher, config, terms, routeIndex, resource, remaining);
  }

  /** origin-response: 2xx commits the reservation (then the receipt), anything else releases it. */
  async settle(handoff: BatchHandoff, terms: RouteTerms, originStatus: number): Promise<BatchSettled> {
    const channelId = handoff.channelId as Hex;
    const price = BigInt(terms.requirements.amount);
    if (originStatus < 200 || originStatus > 299) {
      // A release that fails leaves the reservation to the expiry sweep: nothing is charged either way.
      await this.ports.channels.release(channelId, handoff.reservationId, price).catch((error: unknown) => this.ports.storeError('releaseIncrement', channelId, error));
      this.ports.log({ event: 'x402.released', channelId, reservationId: handoff.reservationId, originStatus });
      return { kind: 'released' };
    }
    const outcome = await this.commit(channelId, handoff.reservationId, price, { route: terms.route.pattern, resource: handoff.resource });
    switch (outcome.kind) {
      case 'committed':
        break;
      case 'gone':
        this.ports.log({ event: 'x402.batch_reservation_lost', channelId, reservationId: handoff.reservationId });
        return {
          kind: 'refused',
          rejection: reject(503, Reasons.batchReservationExpired, 'the origin answered after this request\'s reservation expired, so the content is withheld; nothing was charged: send the same voucher again', RETRY_AFTER_SECONDS),
        };
      case 'pending':
        return { kind: 'refused', rejection: reject(503, Reasons.receiptStoreUnavailable, 'the payment could not be booked right now, so the content is withheld; nothing was charged', RETRY_AFTER_SECONDS) };
      case 'unknown':
        // The commit may have applied: its marker stays on the row, and the claims run writes its receipt.
        this.ports.log({ event: 'x402.batch_commit_unconfirmed', channelId, reservationId: handoff.reservationId });
        return {
          kind: 'refused',
          rejection: reject(503, Reasons.receiptStoreUnavailable, 'the payment could not be confirmed right now, so the content is withheld; if the increment was booked, the channel\'s receipts carry it', RETRY_AFTER_SECONDS),
        };
    }
    const { charged } = outcome;
    // Only a written receipt lets the marker go (with this container's next commit on the channel, or the claims run's).
    if (await this.recordServed(this.receipt(handoff, terms, price, charged))) this.receiptedCommits.remember(channelId, handoff.reservationId);
    return { kind: 'served', charged, settlement: servedResponse(terms.network, handoff.payer, price, channelId, charged) };
  }

  /**
   * Commits the reservation; after an error or a failed condition (an SDK retry of a commit that had
   * applied fails it), the row decides what happened: its marker (committed), the reservation still
   * there (committed again, once), or neither (released or swept). `unknown`: not even the row could be read.
   * The commit removes the markers of this container's earlier receipted commits on the channel:
   * forgotten once it applied, else offered again to the next commit (removing a marker twice is harmless).
   */
  private async commit(channelId: Hex, reservationId: string, price: bigint, request: CommittedRequest): Promise<{ readonly kind: 'committed'; readonly charged: bigint } | { readonly kind: 'gone' | 'pending' | 'unknown' }> {
    const receipted = this.receiptedCommits.of(channelId, reservationId);
    for (let attempt = 1; ; attempt++) {
      try {
        const charged = await this.ports.channels.commitCharged(channelId, reservationId, price, request, receipted);
        if (charged !== undefined) {
          this.receiptedCommits.removed(channelId, receipted);
          return { kind: 'committed', charged };
        }
      } catch (error) {
        this.ports.storeError('commitIncrement', channelId, error);
      }
      let outcome: CommitOutcome;
      try {
        outcome = commitOutcome(await this.ports.channels.get(channelId), reservationId, price);
      } catch (error) {
        this.ports.storeError('readCommit', channelId, error);
        return { kind: 'unknown' };
      }
      if (outcome.kind === 'committed') {
        this.receiptedCommits.removed(channelId, receipted);
        this.ports.log({ event: 'x402.batch_commit_recovered', channelId, reservationId, charged: outcome.charged.toString() });
      }
      if (outcome.kind !== 'pending' || attempt === 2) return outcome;
    }
  }

  private channelTerms(terms: RouteTerms): ChannelTerms {
    const { extra } = terms.requirements;
    return {
      chainId: this.chainId,
      payTo: this.config.payTo as Hex,
      asset: this.config.asset.address as Hex,
      receiverAuthorizer: String(extra.receiverAuthorizer) as Hex,
      withdrawDelay: Number(extra.withdrawDelay),
    };
  }

  /**
   * The deposit, through the facilitator: verified, then settled (the deposit is on chain before
   * the request is served, as with the official server), then the channel's books opened with the
   * chain state the facilitator read (a top-up updates them). Undefined when the books are ready.
   */
  private async deposit(payload: PaymentPayload, terms: RouteTerms, channelId: Hex, config: ChannelConfig, remaining: () => number): Promise<BatchRefusal | undefined> {
    const budget = (limit: number) => viewerBudget(limit, remaining);
    const { requirements } = terms;
    // Neither check depends on the other: the row's state and the facilitator's authorizer are read together.
    const [closed, unclaimable] = await Promise.all([this.closedToDeposits(channelId), this.unclaimable(terms, budget(this.config.facilitator.verifyTimeoutMs))]);
    if (closed) return closed;
    if (unclaimable) return unclaimable;
    try {
      const verdict = await this.ports.facilitator.verify(payload, requirements, budget(this.config.facilitator.verifyTimeoutMs));
      if (!verdict.isValid) {
        const reason = reasonCode(verdict.invalidReason, Reasons.unexpectedVerifyError);
        return { ...reject(402, reason, oneLine(verdict.invalidMessage ?? `the facilitator refused the deposit: ${reason}`)), failedPayment: 'payer' };
      }
    } catch (error) {
      this.ports.log({ event: 'x402.facilitator_error', phase: 'verify', scheme: 'batch-settlement', error: String(error) });
      return reject(503, Reasons.facilitatorUnavailable, 'the payment facilitator is unreachable; nothing was deposited or charged', RETRY_AFTER_SECONDS);
    }
    let settlement: SettleResponse;
    try {
      settlement = await this.ports.facilitator.settle(payload, requirements, budget(this.config.facilitator.settleTimeoutMs));
    } catch (error) {
      this.ports.log({ event: 'x402.facilitator_error', phase: 'settle', scheme: 'batch-settlement', channelId, error: String(error) });
      return reject(503, Reasons.facilitatorUnavailable, 'the deposit could not be confirmed, so nothing was served or charged; check the channel on chain before depositing again', RETRY_AFTER_SECONDS);
    }
    if (!settlement.success) {
      const reason = reasonCode(settlement.errorReason, Reasons.settlementFailed);
      const pending = reason === Reasons.settlementPending;
      return reject(pending ? 503 : 402, reason, oneLine(`the deposit was not made: ${settlement.errorMessage ?? reason}`), pending ? RETRY_AFTER_SECONDS : undefined);
    }
    const chain = chainStateOf(settlement.extra?.channelState);
    this.ports.log({ event: 'x402.batch_deposit', channelId, payer: config.payer, txHash: settlement.transaction, balance: chain?.balance.toString() });
    if (!chain) {
      return reject(503, Reasons.unexpectedSettleError, `the deposit settled (transaction ${settlement.transaction}) but the facilitator did not report the channel's state; nothing was charged: retry with a voucher`, RETRY_AFTER_SECONDS);
    }
    try {
      if ((await this.ports.channels.open(channelId, config, chain)) === 'exists') await this.ports.channels.syncChain(channelId, chain);
    } catch (error) {
      this.ports.storeError('openChannel', channelId, error);
      return reject(503, Reasons.receiptStoreUnavailable, `the deposit settled (transaction ${settlement.transaction}) but the channel could not be booked right now; nothing was charged`, RETRY_AFTER_SECONDS);
    }
    return undefined;
  }

  /**
   * A deposit onto a channel whose payer is withdrawing, or that the claims run is refunding, would
   * move the money and then be refused its request: refused before the facilitator is called.
   * After the refund (or the withdrawal's end) a deposit reopens the channel.
   */
  private async closedToDeposits(channelId: Hex): Promise<BatchRefusal | undefined> {
    let row: ChannelRow | undefined;
    try {
      row = await this.ports.channels.get(channelId);
    } catch (error) {
      this.ports.storeError('readChannel', channelId, error);
      return reject(503, Reasons.receiptStoreUnavailable, 'payments cannot be booked right now; nothing was deposited or charged', RETRY_AFTER_SECONDS);
    }
    if (row?.withdrawalPending) return reject(402, LedgerReasons.withdrawalPending, 'the payer started withdrawing this channel: a deposit onto it is not taken (nothing was deposited); open a new channel');
    if (row?.closing && row.refundedAt === undefined) {
      return reject(402, LedgerReasons.channelClosing, 'the channel was idle and is being refunded to the payer: nothing was deposited; deposit again once the refund is confirmed, or open a new channel');
    }
    return undefined;
  }

  /**
   * A deposit is taken only into a channel the facilitator can claim: the official facilitator
   * accepts a deposit whose config names the offered receiver authorizer, but signs claims only as
   * its own. A pinned `x402:receiverAuthorizer` that is not (or no longer) the facilitator's would
   * otherwise open channels nobody can claim, whose payers withdraw everything after the delay.
   */
  private async unclaimable(terms: RouteTerms, timeoutMs: number): Promise<BatchRefusal | undefined> {
    if (!this.ports.facilitatorReceiverAuthorizer) throw new Error('this paywall has no receiver authorizer port: only the viewer-request function takes deposits');
    const offered = String(terms.requirements.extra.receiverAuthorizer);
    const theirs = await this.ports.facilitatorReceiverAuthorizer(timeoutMs);
    if (theirs === undefined) {
      return reject(503, Reasons.batchReceiverAuthorizerUnknown, "the facilitator's receiver authorizer could not be read, and a deposit is taken only into a channel it can claim; nothing was deposited or charged", RETRY_AFTER_SECONDS);
    }
    if (theirs.toLowerCase() === offered.toLowerCase()) return undefined;
    this.ports.log({ event: 'x402.batch_receiver_authorizer_mismatch', offered, facilitator: theirs });
    return reject(503, Reasons.batchReceiverAuthorizerMismatch, `this route offers receiver authorizer ${offered}, but the facilitator claims as ${theirs}: no deposit is taken until the configuration names the facilitator's; nothing was deposited or charged`, RETRY_AFTER_SECONDS);
  }

  /**
   * A voucher for a channel without a row: its deposit settled but the row could not be written
   * (DynamoDB failed right after it). The facilitator's verify of the voucher checks the channel
   * config against the offer and the voucher's signature, and reads the channel on chain; the row
   * opens with that state, baseline the chain's `totalClaimed` (the spec's rule after state loss).
   * Undefined when the row is there now (opened here or meanwhile).
   */
  private async openFromChain(payload: PaymentPayload, terms: RouteTerms, channelId: Hex, config: ChannelConfig, remaining: () => number): Promise<BatchRefusal | undefined> {
    let verdict: Awaited<ReturnType<FacilitatorPort['verify']>>;
    try {
      verdict = await this.ports.facilitator.verify(payload, terms.requirements, viewerBudget(this.config.facilitator.verifyTimeoutMs, remaining));
    } catch (error) {
      this.ports.log({ event: 'x402.facilitator_error', phase: 'verify', scheme: 'batch-settlement', channelId, error: String(error) });
      return reject(503, Reasons.facilitatorUnavailable, `channel ${channelId} is not booked here and its state on chain could not be read right now; nothing was charged`, RETRY_AFTER_SECONDS);
    }
    if (!verdict.isValid) {
      if (verdict.invalidReason === CHANNEL_NOT_FOUND) return { ...reject(402, Reasons.batchChannelUnknown, `no deposit was seen for channel ${channelId}: send a deposit payload first`), failedPayment: 'payer' };
      const reason = reasonCode(verdict.invalidReason, Reasons.unexpectedVerifyError);
      return { ...reject(402, reason, oneLine(verdict.invalidMessage ?? `the facilitator refused the voucher: ${reason}`)), failedPayment: 'payer' };
    }
    const chain = chainStateOf(verdict.extra);
    if (!chain || String(verdict.extra?.channelId).toLowerCase() !== channelId.toLowerCase()) {
      return reject(503, Reasons.unexpectedVerifyError, `the facilitator did not report channel ${channelId}'s state; nothing was charged`, RETRY_AFTER_SECONDS);
    }
    const opened = await this.ports.channels.open(channelId, config, chain);
    this.ports.log({ event: 'x402.batch_channel_from_chain', channelId, opened, balance: chain.balance.toString(), totalClaimed: chain.totalClaimed.toString() });
    return undefined;
  }

  /** Reserves one increment under the voucher; a refusal for a voucher too low carries the books to re-sign on. */
  private async reserve(payload: PaymentPayload, voucher: Voucher, config: ChannelConfig, terms: RouteTerms, routeIndex: number, resource: string, remaining: () => number): Promise<BatchHandoff | BatchRefusal> {
    const channelId = voucher.channelId;
    const price = BigInt(terms.requirements.amount);
    const reservationId = randomBytes(16).toString('base64url');
    const now = Math.floor(this.ports.clock() / 1000);
    const reservation = { channelId, reservationId, voucher, price, expiresAt: now + RESERVATION_SECONDS };
    try {
      let outcome = await this.ports.channels.reserve(reservation);
      if (outcome.status === 'refused' && outcome.reason === 'batch_settlement_channel_unknown') {
        const refusal = await this.openFromChain(payload, terms, channelId, config, remaining);
        if (refusal) return refusal;
        outcome = await this.ports.channels.reserve(reservation);
      }
      let row: ChannelRow | undefined;
      if (outcome.status === 'refused' && outcome.reason === LedgerReasons.cumulativeTooLow) {
        row = await this.ports.channels.get(channelId);
        // Reservations whose origin-response never ran hold the channel's books up: released here, where they block.
        if (row && [...row.pending.values()].some((p) => p.expiresAt <= now) && (await this.ports.channels.releaseExpired(channelId, now)) > 0) {
          outcome = await this.ports.channels.reserve(reservation);
          row = outcome.status === 'refused' ? await this.ports.channels.get(channelId) : undefined;
        }
      }
      if (outcome.status === 'reserved') {
        return { kind: 'batch', routeIndex, resource, channelId, reservationId, payer: config.payer.toLowerCase() };
      }
      if (outcome.reason === 'batch_settlement_channel_unknown') {
        return { ...reject(402, Reasons.batchChannelUnknown, `no deposit was seen for channel ${channelId}: send a deposit payload first`), failedPayment: 'payer' };
      }
      if (outcome.reason === LedgerReasons.cumulativeTooLow && row) {
        const base = row.reservedTo;
        return {
          ...reject(402, LedgerReasons.cumulativeTooLow, `the voucher (${voucher.maxClaimableAmount}) must be at least ${base + price}: ${base} charged or reserved on the channel plus this request's ${price}`),
          channel: { ...row, channelId, chargedCumulativeAmount: base },
        };
      }
      return reject(402, outcome.reason, refusalMessage(outcome.reason, voucher));
    } catch (error) {
      this.ports.storeError('reserveIncrement', channelId, error);
      return reject(503, Reasons.receiptStoreUnavailable, 'payments cannot be booked right now; nothing was charged', RETRY_AFTER_SECONDS);
    }
  }

  /** One receipt per served request; its id is unique because the channel's charged cumulative only grows. */
  private receipt(handoff: BatchHandoff, terms: RouteTerms, price: bigint, charged: bigint): Receipt {
    return {
      ...batchReceipt({
        network: this.config.network,
        payTo: this.config.payTo,
        asset: this.config.asset.address,
        channelId: handoff.channelId,
        payer: handoff.payer,
        amount: price,
        chargedTo: charged,
        reservationId: handoff.reservationId,
        resource: handoff.resource,
        route: terms.route.pattern,
        at: this.ports.clock(),
        withdrawDelay: terms.route.batch?.withdrawDelay ?? 0,
      }),
      ...(terms.tier === undefined ? {} : { tier: terms.tier }),
      ...(handoff.agent ? { agent: handoff.agent } : {}),
      ...(handoff.botCategory ? { botCategory: handoff.botCategory } : {}),
      ...(handoff.botOrganization ? { botOrganization: handoff.botOrganization } : {}),
    };
  }

  /**
   * The increment is charged: the receipt must exist. Retry, then leave a complete record in the log
   * (and the commit's marker on the row, from which the claims run writes it). True when written.
   */
  private async recordServed(receipt: Receipt): Promise<boolean> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= RECEIPT_WRITE_ATTEMPTS; attempt++) {
      try {
        await this.ports.channels.recordServed(receipt);
        this.ports.log({ event: 'x402.batch_served', paymentId: receipt.paymentId, channelId: receipt.batchChannelId, cumulative: receipt.batchCumulative, amount: receipt.amount });
        return true;
      } catch (error) {
        lastError = error;
      }
    }
    this.ports.storeError('recordServed', receipt.paymentId, lastError);
    this.ports.log({ event: 'x402.receipt_fallback', ...receipt });
    return false;
  }
}

/** The facilitator's reason for a voucher on a channel the chain has no deposit for (the official batch-settlement facilitator's). */
const CHANNEL_NOT_FOUND = 'invalid_batch_settlement_evm_channel_not_found';

/** What a facilitator call may take of the viewer trigger's time left. */
function viewerBudget(limit: number, remaining: () => number): number {
  return Math.max(1, Math.min(limit, remaining() - VIEWER_RESERVE_MS));
}

/** The facilitator's `channelState` of a settled deposit (or `extra` of a verified voucher), or undefined when it is missing or malformed. */
function chainStateOf(value: unknown): ChannelChainState | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const state = value as Record<string, unknown>;
  const uint = (v: unknown) => (typeof v === 'string' && /^\d{1,39}$/.test(v) ? BigInt(v) : typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? BigInt(v) : undefined);
  const [balance, totalClaimed, withdrawRequestedAt, refundNonce] = [state.balance, state.totalClaimed, state.withdrawRequestedAt, state.refundNonce].map(uint);
  if (balance === undefined || totalClaimed === undefined || withdrawRequestedAt === undefined || refundNonce === undefined) return undefined;
  return { balance, totalClaimed, withdrawRequestedAt: Number(withdrawRequestedAt), refundNonce };
}

/**
 * A deposit whose `deposit.amount` is below the route's `extra.minDeposit` (what the 402 asks for,
 * the initial deposit and every top-up alike), refused before the facilitator is asked; or a
 * deposit without a decimal amount. Undefined when the amount is enough.
 */
export function depositShortfall(deposit: unknown, terms: RouteTerms): Rejection | undefined {
  const amount = (deposit as { amount?: unknown } | undefined)?.amount;
  if (typeof amount !== 'string' || !DECIMAL_UINT256.test(amount)) {
    return reject(400, VoucherReasons.invalidPayload, 'a deposit payload needs deposit.amount, a decimal integer of atomic units');
  }
  const minimum = BigInt(String(terms.requirements.extra.minDeposit));
  if (BigInt(amount) >= minimum) return undefined;
  return reject(402, Reasons.batchDepositBelowMinimum, `the deposit (${amount}) is below this route's minDeposit (${minimum}, extra.minDeposit): deposit at least that; nothing was deposited or charged`);
}

function voucherRefusal(reason: string): string {
  switch (reason) {
    case VoucherReasons.channelIdMismatch:
      return 'voucher.channelId is not the EIP-712 hash of channelConfig on this chain';
    case VoucherReasons.invalidSignature:
      return "the voucher is not signed by the channel's payerAuthorizer (65-byte ECDSA, low s)";
    case VoucherReasons.needsChainCheck:
      return 'channelConfig.payerAuthorizer is zero: the edge checks EOA vouchers only; open the channel with a payer authorizer key';
    default:
      return `channelConfig is not opened on the offered terms (receiver = payTo, token, receiverAuthorizer, withdrawDelay): ${reason}`;
  }
}

function refusalMessage(reason: string, voucher: Voucher): string {
  switch (reason) {
    case LedgerReasons.cumulativeExceedsBalance:
      return `the voucher (${voucher.maxClaimableAmount}) is above the channel's deposit: top it up with a deposit payload`;
    case LedgerReasons.withdrawalPending:
      return 'the payer started withdrawing this channel: no new charges on it; open a new channel';
    case LedgerReasons.channelClosing:
      return 'the channel was idle and is being refunded to the payer: no new charges on it; once the refund is confirmed a deposit (top-up) reopens it, or open a new channel';
    default:
      return `the voucher does not pay this request: ${reason}`;
  }
}
