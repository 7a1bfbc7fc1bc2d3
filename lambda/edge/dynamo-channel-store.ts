import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { Hex } from 'viem';
import { admitIncrement, claimableNow, LedgerReasons, MAX_LEDGER_AMOUNT, reservationBound } from '../core/batch/ledger';
import type { ChannelChainState, ChannelRow, ChannelStorePort, CommittedRequest, Reservation, ReserveOutcome } from '../core/batch/channel-books';
import type { ChannelClaimsPort, ClaimTarget, ConfirmedClaim } from '../core/batch/claims';
import type { ConfirmedRefund } from '../core/batch/refunds';
import type { ChannelConfig } from '../core/batch/voucher';
import { BATCH_CHANNEL_PREFIX, BATCH_CLAIM_PREFIX, BATCH_REFUND_PREFIX, BATCH_SETTLE_PREFIX, RECEIPT_PARTITION_KEY, type Receipt } from '../core/receipt';
import { receiptItem } from './dynamo-receipt-store';

export type { ChannelChainState, ChannelRow, PendingIncrement, Reservation, ReserveOutcome } from '../core/batch/channel-books';

/** A confirmed `settle` that paid out a channel's claims up to `settledTo`, as its history records it. */
export interface ConfirmedSettlement {
  readonly previousSettledTo: bigint;
  readonly settledTo: bigint;
  /** Absent: the chain had nothing left to settle (someone else swept it). */
  readonly transaction?: string;
  /** Epoch milliseconds. */
  readonly settledAt: number;
}

const RESERVATION_ID = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * Batch-settlement channel rows in the receipt table (bookkeeping rows, `#batch-channel:<id>`).
 * Every change is one conditional UpdateItem on the channel's row, so concurrent requests of one
 * channel (several containers, several regions writing to the table's region) never reserve more
 * than the vouchers cover nor more than the deposit, and an increment is committed or released once.
 */
export class DynamoChannelStore implements ChannelClaimsPort, ChannelStorePort {
  constructor(
    private readonly client: Pick<DynamoDBClient, 'send'>,
    private readonly tableName: string,
  ) {}

  /**
   * Records a channel seen on chain for the first time (after its deposit). With no earlier books
   * the baseline is what the chain says was claimed (the spec's rule after state loss): nothing
   * below it can be charged again. 'exists' leaves the row untouched.
   */
  async open(channelId: Hex, config: ChannelConfig, chain: ChannelChainState): Promise<'opened' | 'exists'> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            [RECEIPT_PARTITION_KEY]: { S: this.id(channelId) },
            config: { S: JSON.stringify(config) },
            charged: num(chain.totalClaimed),
            reservedTo: num(chain.totalClaimed),
            signedMax: num(0n),
            pending: { M: {} },
            committed: { M: {} },
            committedTo: { M: {} },
            ...chainAttributes(chain),
          },
          ConditionExpression: 'attribute_not_exists(#id)',
          ExpressionAttributeNames: { '#id': RECEIPT_PARTITION_KEY },
        }),
      );
      return 'opened';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'exists';
      throw error;
    }
  }

  /**
   * Mirrors the chain's view (after a deposit, top-up, claim, refund or withdrawal). A refunded
   * channel whose balance is again above its claimed total was topped up: it reopens (the refund
   * left exactly the claimed total). A channel closing whose refund is not confirmed yet stays
   * closed: its refund returns the top-up too, or the mirror after it reopens the channel.
   */
  async syncChain(channelId: Hex, chain: ChannelChainState): Promise<void> {
    const values = chainAttributes(chain);
    const row = await this.update(channelId, {
      UpdateExpression: `SET ${Object.keys(values).map((k) => `#${k} = :${k}`).join(', ')}`,
      ConditionExpression: 'attribute_exists(#id)',
      ExpressionAttributeNames: { '#id': RECEIPT_PARTITION_KEY, ...Object.fromEntries(Object.keys(values).map((k) => [`#${k}`, k])) },
      ExpressionAttributeValues: Object.fromEntries(Object.entries(values).map(([k, v]) => [`:${k}`, v])),
      ReturnValues: 'ALL_NEW',
    });
    if (row && row.refundedAt && chain.balance > chain.totalClaimed) {
      await this.update(channelId, {
        UpdateExpression: 'REMOVE #closingAt, #refundedAt, #quietCharged, #quietSince',
        ConditionExpression: 'attribute_exists(#refundedAt) AND #balance > #totalClaimed',
        ExpressionAttributeNames: { '#closingAt': 'closingAt', '#refundedAt': 'refundedAt', '#quietCharged': 'quietCharged', '#quietSince': 'quietSince', '#balance': 'balance', '#totalClaimed': 'totalClaimed' },
      });
    }
  }

  /** Notes the charged total the claims run sees, when it changed since the last run (or was never noted): the channel's idle clock restarts `nowSeconds`. */
  async noteQuiet(channelId: Hex, charged: bigint, nowSeconds: number): Promise<void> {
    await this.update(channelId, {
      UpdateExpression: 'SET #quietCharged = :charged, #quietSince = :now',
      ConditionExpression: 'attribute_exists(#id) AND (attribute_not_exists(#quietCharged) OR #quietCharged <> :charged)',
      ExpressionAttributeNames: { '#id': RECEIPT_PARTITION_KEY, '#quietCharged': 'quietCharged', '#quietSince': 'quietSince' },
      ExpressionAttributeValues: { ':charged': num(charged), ':now': num(BigInt(nowSeconds)) },
    });
  }

  /**
   * Marks an idle channel closing for its refund, only if nothing was charged since the claims run
   * read `charged` and no reservation is in flight: from then on `reserve` refuses it, so nothing is
   * served that the refund leaves unclaimed. False: a request came in between (try the next run).
   */
  async beginClosing(channelId: Hex, charged: bigint, nowSeconds: number): Promise<boolean> {
    const marked = await this.update(channelId, {
      UpdateExpression: 'SET #closingAt = :now',
      ConditionExpression: 'attribute_exists(#id) AND attribute_not_exists(#closingAt) AND #charged = :charged AND #reservedTo = :charged AND size(#pending) = :zero',
      ExpressionAttributeNames: { '#id': RECEIPT_PARTITION_KEY, '#closingAt': 'closingAt', '#charged': 'charged', '#reservedTo': 'reservedTo', '#pending': 'pending' },
      ExpressionAttributeValues: { ':now': num(BigInt(nowSeconds)), ':charged': num(charged), ':zero': num(0n) },
    });
    return marked !== false;
  }

  /**
   * Records the confirmed refund of a closing channel (once), after adding it to the refund
   * history; the channel stays closed until a deposit raises its balance above the claimed total.
   * No transaction: nothing was left to return (an earlier refund confirmed but not recorded).
   */
  async recordRefund(channelId: Hex, refund: ConfirmedRefund): Promise<void> {
    if (refund.transaction) {
      await this.putOnce(`${BATCH_REFUND_PREFIX}${channelId.toLowerCase()}:${refund.refundNonce}`, {
        channelId: { S: channelId.toLowerCase() },
        refundNonce: num(refund.refundNonce),
        amount: num(refund.amount),
        previousTotalClaimed: num(refund.previousTotalClaimed),
        claimedTo: num(refund.claimedTo),
        refundTx: { S: refund.transaction },
        refundedAt: { S: new Date(refund.refundedAt).toISOString() },
      });
    }
    await this.update(channelId, {
      UpdateExpression: refund.transaction ? 'SET #refundedAt = :at, #refundTx = :tx' : 'SET #refundedAt = :at',
      ConditionExpression: 'attribute_exists(#closingAt) AND attribute_not_exists(#refundedAt)',
      ExpressionAttributeNames: { '#closingAt': 'closingAt', '#refundedAt': 'refundedAt', ...(refund.transaction ? { '#refundTx': 'refundTx' } : {}) },
      ExpressionAttributeValues: { ':at': num(BigInt(Math.floor(refund.refundedAt / 1000))), ...(refund.transaction ? { ':tx': { S: refund.transaction } } : {}) },
    });
  }

  /**
   * Reserves `price` under the voucher if reservedTo + price ≤ voucher ≤ balance, no withdrawal is
   * pending and the channel is not closing for a refund, in one conditional update; a voucher
   * higher than any seen becomes the one claims submit. A refusal reads the row once to say why.
   */
  async reserve(r: Reservation): Promise<ReserveOutcome> {
    if (!RESERVATION_ID.test(r.reservationId)) throw new RangeError(`reservation id must match ${RESERVATION_ID}`);
    const max = r.voucher.maxClaimableAmount;
    const bound = reservationBound(max, r.price);
    // Decided without a write: a price or voucher outside what DynamoDB numbers hold, or a voucher not covering even this request.
    if (r.price <= 0n || r.price > MAX_LEDGER_AMOUNT) return { status: 'refused', reason: LedgerReasons.invalidPrice };
    if (max > MAX_LEDGER_AMOUNT) return { status: 'refused', reason: LedgerReasons.cumulativeExceedsBalance };
    if (bound < 0n) return { status: 'refused', reason: LedgerReasons.cumulativeTooLow };

    const names = {
      '#id': RECEIPT_PARTITION_KEY,
      '#pending': 'pending',
      '#rid': r.reservationId,
      '#reservedTo': 'reservedTo',
      '#balance': 'balance',
      '#withdrawAt': 'withdrawRequestedAt',
      '#signedMax': 'signedMax',
      '#closingAt': 'closingAt',
    };
    const values = {
      ':price': num(r.price),
      ':entry': { M: { amount: num(r.price), expiresAt: num(BigInt(r.expiresAt)) } },
      ':bound': num(bound),
      ':max': num(max),
      ':zero': num(0n),
    };
    const admitted = 'attribute_exists(#id) AND attribute_not_exists(#closingAt) AND attribute_not_exists(#pending.#rid) AND #reservedTo <= :bound AND #balance >= :max AND #withdrawAt = :zero';
    // The common case (each voucher higher than the last): reserve and keep the voucher, one request.
    const raised = await this.update(r.channelId, {
      UpdateExpression: 'SET #pending.#rid = :entry, #signedMax = :max, #signature = :signature ADD #reservedTo :price',
      ConditionExpression: `${admitted} AND #signedMax < :max`,
      ExpressionAttributeNames: { ...names, '#signature': 'signature' },
      ExpressionAttributeValues: { ...values, ':signature': { S: r.voucher.signature } },
    });
    if (raised) return { status: 'reserved' };
    // A voucher at or below the highest one (concurrent requests arriving out of order) still pays if it covers.
    const covered = await this.update(r.channelId, {
      UpdateExpression: 'SET #pending.#rid = :entry ADD #reservedTo :price',
      ConditionExpression: `${admitted} AND #signedMax >= :max`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    });
    if (covered) return { status: 'reserved' };
    const row = await this.get(r.channelId);
    if (!row) return { status: 'refused', reason: 'batch_settlement_channel_unknown' };
    const why = admitIncrement(row, max, r.price);
    // The row changed between the update and the read (it admits now): still a refusal, the client retries.
    return { status: 'refused', reason: why.ok ? LedgerReasons.cumulativeTooLow : why.reason };
  }

  /**
   * The origin answered 2xx: charges the reservation, once. 'unknown' when it was already committed
   * or released. The first charge after a claim stamps `unclaimedSince`, which the claims' cadence reads.
   * The same update leaves the commit's marker (`committed[id]` = amount, time, route and resource, `committedTo[id]` =
   * charged after it; both right-hand sides read the row as it was before the update), so that a
   * commit whose answer was lost is decided from the row (ledger.ts `commitOutcome`), never guessed.
   */
  async commit(channelId: Hex, reservationId: string, price: bigint, nowSeconds = Math.floor(Date.now() / 1000)): Promise<'committed' | 'unknown'> {
    // The books only (tools and tests): no request to name in the marker.
    return (await this.commitCharged(channelId, reservationId, price, { route: '', resource: '' }, [], nowSeconds)) === undefined ? 'unknown' : 'committed';
  }

  /**
   * {@link commit}, returning the channel's charged cumulative right after this increment (undefined: nothing committed).
   * `receipted`: markers of earlier commits whose receipt is written, removed in the same update
   * (sibling keys of the maps this update sets, so no two paths overlap; a key already gone is no error).
   */
  async commitCharged(channelId: Hex, reservationId: string, price: bigint, request: CommittedRequest, receipted: readonly string[], nowSeconds = Math.floor(Date.now() / 1000)): Promise<bigint | undefined> {
    const done = receipted.filter((id) => id !== reservationId && RESERVATION_ID.test(id));
    const change = {
      UpdateExpression: `SET #unclaimedSince = if_not_exists(#unclaimedSince, :now), #committed.#rid = :marker, #committedTo.#rid = #charged + :price ADD #charged :price REMOVE #pending.#rid${done.map((_, i) => `, #committed.#done${i}, #committedTo.#done${i}`).join('')}`,
      names: { '#charged': 'charged', '#unclaimedSince': 'unclaimedSince', '#committed': 'committed', '#committedTo': 'committedTo', ...Object.fromEntries(done.map((id, i) => [`#done${i}`, id])) },
      values: { ':now': num(BigInt(nowSeconds)), ':marker': { M: { amount: num(price), at: num(BigInt(nowSeconds)), route: { S: request.route }, resource: { S: request.resource } } } },
    };
    const updated = await this.endReservation(channelId, reservationId, price, change, 'UPDATED_NEW');
    return updated ? BigInt(updated.charged?.N ?? '0') : undefined;
  }

  /** A stale commit's receipt is written: its marker goes (the claims run). */
  async forgetCommit(channelId: Hex, reservationId: string): Promise<void> {
    if (!RESERVATION_ID.test(reservationId)) return;
    await this.update(channelId, {
      UpdateExpression: 'REMOVE #committed.#rid, #committedTo.#rid',
      ConditionExpression: 'attribute_exists(#id)',
      ExpressionAttributeNames: { '#id': RECEIPT_PARTITION_KEY, '#committed': 'committed', '#committedTo': 'committedTo', '#rid': reservationId },
    });
  }

  /**
   * The receipt of a commit whose origin-response did not write it (the claims run, from the
   * commit's marker), unless it exists: an UpdateItem that creates it, as the history rows. True when written.
   */
  async recordMissingReceipt(receipt: Receipt): Promise<boolean> {
    return this.putOnce(receipt.paymentId, Object.fromEntries(Object.entries(receiptItem(receipt)).filter(([name]) => name !== RECEIPT_PARTITION_KEY)));
  }

  /** Writes the receipt of one served request, once per payment id. */
  async recordServed(receipt: Receipt): Promise<void> {
    await this.client
      .send(new PutItemCommand({ TableName: this.tableName, Item: receiptItem(receipt), ConditionExpression: 'attribute_not_exists(#id)', ExpressionAttributeNames: { '#id': RECEIPT_PARTITION_KEY } }))
      .catch((error: unknown) => {
        // Already written: a retry of a write whose answer was lost.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      });
  }

  /** The origin failed or never answered: gives the reservation back, once. */
  async release(channelId: Hex, reservationId: string, price: bigint): Promise<'released' | 'unknown'> {
    const change = { UpdateExpression: 'ADD #reservedTo :minus REMOVE #pending.#rid', names: { '#reservedTo': 'reservedTo' }, values: { ':minus': num(-price) } };
    return (await this.endReservation(channelId, reservationId, price, change)) ? 'released' : 'unknown';
  }

  /**
   * Releases the reservations whose origin-response never ran (expired at `nowSeconds`): without
   * this, a client that signs exactly charged + price (the official client) would be refused on that
   * channel for good. Each release is conditional on the entry still being there and expired, so a
   * late commit and a sweep never both apply. Returns how many were released.
   */
  async releaseExpired(channelId: Hex, nowSeconds: number): Promise<number> {
    const row = await this.get(channelId);
    if (!row) return 0;
    let released = 0;
    for (const [id, entry] of row.pending) {
      if (entry.expiresAt > nowSeconds) continue;
      const change = {
        UpdateExpression: 'ADD #reservedTo :minus REMOVE #pending.#rid',
        condition: '#pending.#rid.#expiresAt <= :now',
        names: { '#reservedTo': 'reservedTo', '#expiresAt': 'expiresAt' },
        values: { ':minus': num(-entry.amount), ':now': num(BigInt(nowSeconds)) },
      };
      if (await this.endReservation(channelId, id, entry.amount, change)) released++;
    }
    return released;
  }

  /** What a claim of this channel submits now, or undefined when nothing beyond the chain's claimed total was served. */
  async claimTarget(channelId: Hex): Promise<ClaimTarget | undefined> {
    const row = await this.get(channelId);
    if (!row?.signature) return undefined;
    const totalClaimed = claimableNow(row, row.totalClaimed);
    if (totalClaimed <= row.totalClaimed) return undefined;
    return { config: row.config, maxClaimableAmount: row.signedMax, signature: row.signature, totalClaimed, previousTotalClaimed: row.totalClaimed };
  }

  /**
   * Mirrors a claim the chain confirmed; a lower or equal total (an older claim) leaves the row as it
   * is. When it covers everything charged, `unclaimedSince` goes; otherwise it stays (charges
   * committed since the claim was read are younger than it, so the cadence errs early, never late).
   * The history row goes first: a run that fails after it leaves the row to the next run's mirror,
   * and one that fails before it leaves the claim without a transaction in the history (the chain
   * still has it; `cdk-x402 reconcile` names the gap).
   */
  async recordClaim(channelId: Hex, claim: ConfirmedClaim): Promise<void> {
    const { totalClaimed, transaction } = claim;
    await this.putOnce(`${BATCH_CLAIM_PREFIX}${channelId.toLowerCase()}:${totalClaimed}`, {
      channelId: { S: channelId.toLowerCase() },
      previousTotalClaimed: num(claim.previousTotalClaimed),
      totalClaimed: num(totalClaimed),
      claimTx: { S: transaction },
      claimedAt: { S: new Date(claim.claimedAt).toISOString() },
    });
    const input = {
      ExpressionAttributeNames: { '#id': RECEIPT_PARTITION_KEY, '#totalClaimed': 'totalClaimed', '#claimTx': 'claimTx' },
      ExpressionAttributeValues: { ':total': num(totalClaimed), ':tx': { S: transaction } },
    };
    const newer = 'attribute_exists(#id) AND #totalClaimed < :total';
    const all = await this.update(channelId, {
      UpdateExpression: 'SET #totalClaimed = :total, #claimTx = :tx REMOVE #unclaimedSince',
      ConditionExpression: `${newer} AND #charged <= :total`,
      ExpressionAttributeNames: { ...input.ExpressionAttributeNames, '#charged': 'charged', '#unclaimedSince': 'unclaimedSince' },
      ExpressionAttributeValues: input.ExpressionAttributeValues,
    });
    if (!all) await this.update(channelId, { ...input, UpdateExpression: 'SET #totalClaimed = :total, #claimTx = :tx', ConditionExpression: newer });
  }

  /**
   * Mirrors a confirmed `settle` that moved everything claimed up to `settledTo` to payTo (never
   * lowered), after adding it to the channel's settle history (once). No transaction: the chain had
   * nothing left to settle (someone else swept it).
   */
  async recordSettlement(channelId: Hex, settlement: ConfirmedSettlement): Promise<void> {
    const { settledTo, transaction } = settlement;
    await this.putOnce(`${BATCH_SETTLE_PREFIX}${channelId.toLowerCase()}:${settledTo}`, {
      channelId: { S: channelId.toLowerCase() },
      previousSettledTo: num(settlement.previousSettledTo),
      settledTo: num(settledTo),
      ...(transaction ? { settleTx: { S: transaction } } : {}),
      settledAt: { S: new Date(settlement.settledAt).toISOString() },
    });
    await this.update(channelId, {
      UpdateExpression: transaction ? 'SET #settledTo = :total, #settleTx = :tx' : 'SET #settledTo = :total',
      ConditionExpression: 'attribute_exists(#id) AND (attribute_not_exists(#settledTo) OR #settledTo < :total)',
      ExpressionAttributeNames: { '#id': RECEIPT_PARTITION_KEY, '#settledTo': 'settledTo', ...(transaction ? { '#settleTx': 'settleTx' } : {}) },
      ExpressionAttributeValues: { ':total': num(settledTo), ...(transaction ? { ':tx': { S: transaction } } : {}) },
    });
  }

  /** Every channel's id (a scan of the bookkeeping rows: for the scheduled claims, not the request path). */
  async listChannelIds(): Promise<Hex[]> {
    const ids: Hex[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: 'begins_with(#id, :prefix)',
          ProjectionExpression: '#id',
          ExpressionAttributeNames: { '#id': RECEIPT_PARTITION_KEY },
          ExpressionAttributeValues: { ':prefix': { S: BATCH_CHANNEL_PREFIX } },
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) ids.push(item[RECEIPT_PARTITION_KEY]!.S!.slice(BATCH_CHANNEL_PREFIX.length) as Hex);
      start = page.LastEvaluatedKey;
    } while (start);
    return ids;
  }

  async get(channelId: Hex): Promise<ChannelRow | undefined> {
    const { Item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: { [RECEIPT_PARTITION_KEY]: { S: this.id(channelId) } }, ConsistentRead: true }));
    if (!Item) return undefined;
    const big = (k: string) => BigInt(Item[k]?.N ?? '0');
    return {
      channelId: channelId.toLowerCase() as Hex,
      config: JSON.parse(Item.config?.S ?? '{}') as ChannelConfig,
      charged: big('charged'),
      reservedTo: big('reservedTo'),
      signedMax: big('signedMax'),
      ...(Item.signature?.S ? { signature: Item.signature.S as Hex } : {}),
      ...(Item.claimTx?.S ? { claimTx: Item.claimTx.S } : {}),
      ...(Item.unclaimedSince?.N ? { unclaimedSince: Number(Item.unclaimedSince.N) } : {}),
      settledTo: big('settledTo'),
      ...(Item.settleTx?.S ? { settleTx: Item.settleTx.S } : {}),
      pending: new Map(Object.entries(Item.pending?.M ?? {}).map(([id, v]) => [id, { amount: BigInt(v.M?.amount?.N ?? '0'), expiresAt: Number(v.M?.expiresAt?.N ?? '0') }])),
      committed: new Map(
        Object.entries(Item.committed?.M ?? {}).map(([id, v]) => [
          id,
          { amount: BigInt(v.M?.amount?.N ?? '0'), committedAt: Number(v.M?.at?.N ?? '0'), chargedTo: BigInt(Item.committedTo?.M?.[id]?.N ?? '0'), route: v.M?.route?.S ?? '', resource: v.M?.resource?.S ?? '' },
        ]),
      ),
      balance: big('balance'),
      totalClaimed: big('totalClaimed'),
      withdrawRequestedAt: Number(big('withdrawRequestedAt')),
      withdrawalPending: big('withdrawRequestedAt') !== 0n,
      refundNonce: big('refundNonce'),
      closing: Item.closingAt?.N !== undefined,
      ...(Item.closingAt?.N ? { closingAt: Number(Item.closingAt.N) } : {}),
      ...(Item.refundedAt?.N ? { refundedAt: Number(Item.refundedAt.N) } : {}),
      ...(Item.refundTx?.S ? { refundTx: Item.refundTx.S } : {}),
      ...(Item.quietCharged?.N ? { quietCharged: BigInt(Item.quietCharged.N), quietSince: Number(Item.quietSince?.N ?? '0') } : {}),
    };
  }

  /** Removes the reservation and applies `change`, if the reservation is still there with this amount. */
  private async endReservation(
    channelId: Hex,
    reservationId: string,
    price: bigint,
    change: { readonly UpdateExpression: string; readonly condition?: string; readonly names: Record<string, string>; readonly values?: Record<string, AttributeValue> },
    returnValues?: 'UPDATED_NEW',
  ): Promise<Record<string, AttributeValue> | false> {
    if (!RESERVATION_ID.test(reservationId)) return false;
    return this.update(channelId, {
      UpdateExpression: change.UpdateExpression,
      // The amount must be the reserved one: a forged hand-off cannot commit more than was reserved.
      ConditionExpression: `#pending.#rid.#amount = :price${change.condition ? ` AND ${change.condition}` : ''}`,
      ExpressionAttributeNames: { '#pending': 'pending', '#rid': reservationId, '#amount': 'amount', ...change.names },
      ExpressionAttributeValues: { ':price': num(price), ...change.values },
      ReturnValues: returnValues,
    });
  }

  /**
   * Writes a history row (or a missing receipt) once: an UpdateItem that creates it, conditional on
   * its absence, so a re-run leaves the first one as it is and the claims function needs no PutItem.
   */
  private async putOnce(id: string, attributes: Record<string, AttributeValue>): Promise<boolean> {
    const keys = Object.keys(attributes);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [RECEIPT_PARTITION_KEY]: { S: id } },
          UpdateExpression: `SET ${keys.map((k) => `#${k} = :${k}`).join(', ')}`,
          ConditionExpression: 'attribute_not_exists(#id)',
          ExpressionAttributeNames: { '#id': RECEIPT_PARTITION_KEY, ...Object.fromEntries(keys.map((k) => [`#${k}`, k])) },
          ExpressionAttributeValues: Object.fromEntries(keys.map((k) => [`:${k}`, attributes[k]!])),
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return false;
    }
  }

  /** One conditional UpdateItem on the channel's row; false when its condition did not hold, else the attributes asked for (none: empty). */
  private async update(
    channelId: Hex,
    input: Pick<UpdateItemCommandInput, 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues' | 'ReturnValues'>,
  ): Promise<Record<string, AttributeValue> | false> {
    try {
      const { Attributes } = await this.client.send(new UpdateItemCommand({ TableName: this.tableName, Key: { [RECEIPT_PARTITION_KEY]: { S: this.id(channelId) } }, ...input }));
      return Attributes ?? {};
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  private id(channelId: Hex): string {
    return `${BATCH_CHANNEL_PREFIX}${channelId.toLowerCase()}`;
  }
}

const num = (v: bigint): AttributeValue => ({ N: v.toString() });

function chainAttributes(chain: ChannelChainState): Record<string, AttributeValue> {
  return {
    balance: num(chain.balance),
    totalClaimed: num(chain.totalClaimed),
    withdrawRequestedAt: num(BigInt(chain.withdrawRequestedAt)),
    refundNonce: num(chain.refundNonce),
  };
}
