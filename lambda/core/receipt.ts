/**
 * The receipt table's schema: one row per payment, the source of truth for revenue.
 * Defined once here and imported by the handlers, the local edge and the CDK constructs.
 */
import { Reasons } from './rejection';

/** Partition key: `<network>:<payer>:<nonce>` for the edge engine, the transaction id for the waf engine. */
export const RECEIPT_PARTITION_KEY = 'paymentId';

/**
 * Partition keys starting with this are bookkeeping rows, never payments: they carry no `payer`,
 * `route` or `createdAt`, so the (sparse) indexes never see them, and reports skip them.
 */
export const RESERVED_PAYMENT_ID_PREFIX = '#';

/** The waf engine's ingestion checkpoint row (lambda/ingest writes it, the CLI's `status` reads it). */
export const WAF_INGEST_CHECKPOINT_ID = `${RESERVED_PAYMENT_ID_PREFIX}checkpoint:waf-settlements`;

/** The row holding the key that seals payments in the triggers' hand-off (lambda/core/handoff-seal.ts). */
export const HANDOFF_KEY_ID = `${RESERVED_PAYMENT_ID_PREFIX}handoff-key`;

/**
 * The revocation list of passes (lambda/core/passes/revocations.ts): attribute `revoked`, a map of
 * pass id → the pass's `exp`; `cdk-x402 pass revoke` writes it, the viewer-request reads it.
 */
export const PASS_REVOCATIONS_ID = `${RESERVED_PAYMENT_ID_PREFIX}revoked-passes`;

/**
 * Counter rows of passes with a quota (lambda/core/passes/quota.ts): `<prefix><passId>`, attribute
 * `uses` (all containers' flushed uses), `passExpiresAt`, and per container `f_<id>`, the sequence
 * number of its last applied flush.
 */
export const PASS_USES_PREFIX = `${RESERVED_PAYMENT_ID_PREFIX}pass-uses:`;

/**
 * Channel rows of the batch-settlement scheme (lambda/core/batch/, lambda/edge/dynamo-channel-store.ts):
 * `<prefix><channelId>`, the channel's config, books (charged, reservedTo, the reservations in
 * flight), highest voucher and mirrored chain state.
 */
export const BATCH_CHANNEL_PREFIX = `${RESERVED_PAYMENT_ID_PREFIX}batch-channel:`;

/**
 * Claim history of the batch-settlement scheme: `<prefix><channelId>:<totalClaimed>`, one row per
 * confirmed claim of a channel (`previousTotalClaimed`, `totalClaimed`, `claimTx`, `claimedAt`),
 * written once by the scheduled claims. A request whose receipt says `batchCumulative` = X was
 * claimed by the channel's first claim with totalClaimed ≥ X.
 */
export const BATCH_CLAIM_PREFIX = `${RESERVED_PAYMENT_ID_PREFIX}batch-claim:`;

/**
 * Settle history of the batch-settlement scheme: `<prefix><channelId>:<settledTo>`, one row per
 * channel and confirmed `settle` that swept its claims (`previousSettledTo`, `settledTo`,
 * `settleTx`, absent when someone else swept it, `settledAt`). A claim with totalClaimed = T was
 * paid out by the channel's first settle with settledTo ≥ T: one row per channel and sweep, rather
 * than a write on every claim row it covered.
 */
export const BATCH_SETTLE_PREFIX = `${RESERVED_PAYMENT_ID_PREFIX}batch-settle:`;

/**
 * Refund history of the batch-settlement scheme: `<prefix><channelId>:<refundNonce>`, one row per
 * confirmed cooperative refund of an idle channel (`refundNonce` it was signed with, `amount`
 * returned to the payer, `previousTotalClaimed` and `claimedTo` of the claim it made first,
 * `refundTx`, `refundedAt`), written once by the scheduled claims.
 */
export const BATCH_REFUND_PREFIX = `${RESERVED_PAYMENT_ID_PREFIX}batch-refund:`;

/** Global secondary indexes for revenue reports over time. */
export const RECEIPT_INDEXES = {
  byPayer: { name: 'byPayer', partitionKey: 'payer', sortKey: 'createdAt' },
  byRoute: { name: 'byRoute', partitionKey: 'route', sortKey: 'createdAt' },
} as const;

/**
 * reserved: verified and nonce held while the origin answers (`settleStartedAt` once an
 * origin-response began settling it: past the trigger's timeout such a row is in doubt);
 * settled: charged on chain (txHash set); failed: settlement refused or errored (errorReason set;
 * txHash too when a transaction was sent whose outcome was never confirmed: `settlement_pending`,
 * `settlement_unconfirmed`, which reconciliation against the chain resolves);
 * released: origin failed, nothing charged, the authorization may be presented again (or, set by
 * `cdk-x402 reconcile`, it expired unused).
 */
export type ReceiptStatus = 'reserved' | 'settled' | 'failed' | 'released';

export type Engine = 'edge' | 'waf';

export interface Receipt {
  readonly paymentId: string;
  readonly status: ReceiptStatus;
  readonly engine: Engine;
  readonly network: string;
  readonly payer: string;
  readonly payTo: string;
  /** Atomic units of the asset, as a decimal string: charged (for `upto`, the actual charge once settled). */
  readonly amount: string;
  /**
   * `upto`: the payment is metered; `amount` was reserved as {@link maxAmount} and is the actual
   * charge once settled. `batch-settlement`: one request served on a payment channel, `amount` its
   * increment, claimed on chain later with the channel's voucher (no `txHash` here). Unset: exact.
   */
  readonly scheme?: 'upto' | 'batch-settlement';
  /** `upto`: the maximum the payer authorized, atomic units. */
  readonly maxAmount?: string;
  /** `batch-settlement`: the channel (lower-case hex) whose voucher pays this request. */
  readonly batchChannelId?: string;
  /**
   * `batch-settlement`: the channel's charged cumulative right after this request (atomic units,
   * decimal string): the claim whose `totalClaimed` reaches it is the one that put this request on chain.
   */
  readonly batchCumulative?: string;
  readonly asset: string;
  readonly nonce: string;
  readonly resource: string;
  readonly route: string;
  /** The `priceBy` tier that priced the payment, when its rule names one. */
  readonly tier?: string;
  /** The verified agent that paid (its x402:agents name, or the host of its Signature-Agent), and who verified it. */
  readonly agent?: string;
  readonly agentVerifiedBy?: 'web-bot-auth' | 'waf';
  /** The category and organization of the bot AWS Bot Control verified, as our WAF rules forward them (only for features a priceBy condition names). */
  readonly botCategory?: string;
  readonly botOrganization?: string;
  readonly x402Version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly txHash?: string;
  readonly errorReason?: string;
  /** Epoch seconds after which the authorization can no longer be settled (its validBefore). */
  readonly expiresAt: number;
  /**
   * Set by `cdk-x402 reconcile` when it closed a row the edge left in doubt (`failed` with an
   * {@link IN_DOUBT_REASONS} reason, or `reserved` past `expiresAt`) from what the chain shows;
   * `errorReason` is kept as the reason it was in doubt.
   */
  readonly reconciledAt?: string;
  /**
   * The decoded payment (JSON) while the row is reserved: the origin-response reads it from here
   * to settle, so the signed authorization never reaches the origin. Removed once settled.
   */
  readonly payment?: string;
  /** When an origin-response started settling this reservation (set once, by a conditional write). */
  readonly settleStartedAt?: string;
  /** Deliveries of a settled payment after the first (a payer whose content was withheld or lost). */
  readonly redeliveries?: number;
  /** How often the authorization was reserved: 1, plus one per presentation after a release. */
  readonly reservations?: number;
  /** `pass`: the payment bought a pass (the fields below, set once its pass was issued); unset: a request. */
  readonly kind?: 'pass';
  readonly passName?: string;
  /** The pass's route patterns, as a JSON array. */
  readonly passScope?: string;
  readonly passSeconds?: number;
  /** Epoch seconds: the pass's `nbf` and `exp`. */
  readonly passNotBefore?: number;
  readonly passExpiresAt?: number;
  /** The pass's `jti`. */
  readonly passId?: string;
  /** The pass's `quota` (requests), when its offer had one. */
  readonly passQuota?: number;
}

/**
 * An authorization is reserved at most this often: once, and again after each of up to 3 releases
 * (the origin failed). Then it is refused, so a valid authorization that is never spent cannot
 * loop verify + reserve + origin calls for free.
 */
export const MAX_RESERVATIONS = 4;

/**
 * `failed` reasons that do not say whether the payer was charged: the facilitator's answer to
 * /settle was lost (`unexpected_settle_error`), its transaction was sent but not seen mined
 * (`settlement_pending`), or a retry found the authorization already used
 * (`settlement_unconfirmed`). The content was withheld; the chain decides (`cdk-x402 reconcile`).
 */
export const IN_DOUBT_REASONS: readonly string[] = [Reasons.unexpectedSettleError, Reasons.settlementPending, Reasons.settlementUnconfirmed];

/** The id of an edge-engine payment: EIP-3009 nonces are unique per (token, payer). */
export function paymentIdOf(network: string, asset: string, payer: string, nonce: string): string {
  return [network, asset.toLowerCase(), payer.toLowerCase(), nonce.toLowerCase()].join(':');
}
