import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type PutItemCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { HANDOFF_KEY_BYTES } from '../core/handoff-seal';
import type { PassUsage } from '../core/passes/quota';
import type { PassRecord, PassRecordsPort } from '../core/passes/scheme';
import type { HeldPassesPort } from '../core/passes/sign-in';
import type { ReceiptStorePort } from '../core/ports';
import { HANDOFF_KEY_ID, MAX_RESERVATIONS, PASS_REVOCATIONS_ID, PASS_USES_PREFIX, RECEIPT_INDEXES, RECEIPT_PARTITION_KEY, type Receipt, type ReceiptStatus } from '../core/receipt';

/** What `cdk-x402 reconcile` found on chain for a row the edge left in doubt. */
export type ReconciledStatus =
  /** `amount`: a metered (upto) row's actual charge, as the chain shows it. */
  | { readonly status: 'settled'; readonly txHash: string; readonly amount?: string }
  | { readonly status: 'released' };

/**
 * Receipt rows in DynamoDB. Each transition is conditional on the current status, so a replayed
 * nonce cannot be reserved twice and a settled row can never be released or failed afterwards.
 */
export class DynamoReceiptStore implements ReceiptStorePort, PassRecordsPort, HeldPassesPort {
  constructor(
    private readonly client: Pick<DynamoDBClient, 'send'>,
    private readonly tableName: string,
  ) {}

  /**
   * A new payment id is one conditional put. A released one (the origin failed, nothing was charged)
   * may be presented again, up to {@link MAX_RESERVATIONS} reservations in all: its count is read,
   * and the put is conditional on the row still being released with that count, so of parallel
   * presentations exactly one wins.
   */
  async reserve(receipt: Receipt): Promise<'reserved' | 'exhausted' | { readonly held: Receipt | undefined }> {
    const fresh = await this.putIf(receipt, 1, {
      ConditionExpression: 'attribute_not_exists(#id)',
      ExpressionAttributeNames: { '#id': RECEIPT_PARTITION_KEY },
    });
    if (fresh) return 'reserved';
    const held = await this.find(receipt.paymentId);
    if (held?.status !== 'released') return { held };
    // Rows written before the count existed were reserved once.
    const seen = held.reservations === undefined ? undefined : String(held.reservations);
    const count = seen === undefined ? 1 : Number(seen);
    if (count >= MAX_RESERVATIONS) return 'exhausted';
    const again = await this.putIf(receipt, count + 1, {
      ConditionExpression: `#status = :released AND ${seen === undefined ? 'attribute_not_exists(#reservations)' : '#reservations = :seen'}`,
      ExpressionAttributeNames: { '#status': 'status', '#reservations': 'reservations' },
      ExpressionAttributeValues: { ':released': { S: 'released' satisfies ReceiptStatus }, ...(seen === undefined ? {} : { ':seen': { N: seen } }) },
    });
    if (again) return 'reserved';
    // Another presentation re-reserved it first: decide on the row as it is now.
    return { held: await this.find(receipt.paymentId) };
  }

  /** Writes the receipt as its `reservations`-th reservation if the condition holds; false if not. */
  private async putIf(
    receipt: Receipt,
    reservations: number,
    condition: Pick<PutItemCommandInput, 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>,
  ): Promise<boolean> {
    try {
      await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: receiptItem({ ...receipt, reservations }), ...condition }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async forget(paymentId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.tableName,
          Key: this.key(paymentId),
          ConditionExpression: '#status = :reserved AND attribute_not_exists(#settleStartedAt)',
          ExpressionAttributeNames: { '#status': 'status', '#settleStartedAt': 'settleStartedAt' },
          ExpressionAttributeValues: { ':reserved': { S: 'reserved' satisfies ReceiptStatus } },
        }),
      );
    } catch (error) {
      // Anything but an untouched reservation is not ours to drop.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async claimForSettlement(paymentId: string, at: string): Promise<string | undefined> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(paymentId),
          UpdateExpression: 'SET #settleStartedAt = :at, #updatedAt = :at',
          ConditionExpression: '#status = :reserved AND attribute_not_exists(#settleStartedAt) AND attribute_exists(#payment)',
          ExpressionAttributeNames: { '#status': 'status', '#settleStartedAt': 'settleStartedAt', '#updatedAt': 'updatedAt', '#payment': 'payment' },
          ExpressionAttributeValues: { ':reserved': { S: 'reserved' satisfies ReceiptStatus }, ':at': { S: at } },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes?.payment?.S;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async markSettled(paymentId: string, txHash: string, at: string, amount?: string): Promise<void> {
    // The signed authorization is spent: no reason to keep it.
    return this.transition(paymentId, 'settled', at, amount === undefined ? { txHash } : { txHash, amount }, undefined, ['payment']);
  }

  /** The row as stored (strongly consistent read). */
  async find(paymentId: string): Promise<Receipt | undefined> {
    const { Item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: this.key(paymentId), ConsistentRead: true }));
    return Item && receiptFromItem(Item);
  }

  async claimRedelivery(paymentId: string, max: number, at: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(paymentId),
          UpdateExpression: 'SET #updatedAt = :at ADD #redeliveries :one',
          ConditionExpression: '#status = :settled AND (attribute_not_exists(#redeliveries) OR #redeliveries < :max)',
          ExpressionAttributeNames: { '#status': 'status', '#updatedAt': 'updatedAt', '#redeliveries': 'redeliveries' },
          ExpressionAttributeValues: { ':settled': { S: 'settled' satisfies ReceiptStatus }, ':at': { S: at }, ':one': { N: '1' }, ':max': { N: String(max) } },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async returnRedelivery(paymentId: string, at: string): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key(paymentId),
        UpdateExpression: 'SET #updatedAt = :at ADD #redeliveries :minusOne',
        ConditionExpression: '#status = :settled AND #redeliveries > :zero',
        ExpressionAttributeNames: { '#status': 'status', '#updatedAt': 'updatedAt', '#redeliveries': 'redeliveries' },
        ExpressionAttributeValues: { ':settled': { S: 'settled' satisfies ReceiptStatus }, ':at': { S: at }, ':minusOne': { N: '-1' }, ':zero': { N: '0' } },
      }),
    );
  }

  /** Adds the pass to its settled receipt row: `kind: pass` and the pass's terms (once; a second write finds them set). */
  async recordPass(paymentId: string, record: PassRecord, at: string): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key(paymentId),
        UpdateExpression: 'SET #kind = :pass, #passName = :name, #passScope = :scope, #passSeconds = :seconds, #passNotBefore = :nbf, #passExpiresAt = :exp, #passId = :id, #updatedAt = :at' + (record.passQuota === undefined ? '' : ', #passQuota = :quota'),
        ConditionExpression: '#status = :settled AND attribute_not_exists(#passId)',
        ExpressionAttributeNames: {
          '#kind': 'kind', '#passName': 'passName', '#passScope': 'passScope', '#passSeconds': 'passSeconds', '#passNotBefore': 'passNotBefore',
          '#passExpiresAt': 'passExpiresAt', '#passId': 'passId', '#updatedAt': 'updatedAt', '#status': 'status',
          ...(record.passQuota === undefined ? {} : { '#passQuota': 'passQuota' }),
        },
        ExpressionAttributeValues: {
          ':pass': { S: 'pass' },
          ':name': { S: record.passName },
          ':scope': { S: JSON.stringify(record.passScope) },
          ':seconds': { N: String(record.passSeconds) },
          ':nbf': { N: String(record.passNotBefore) },
          ':exp': { N: String(record.passExpiresAt) },
          ':id': { S: record.passId },
          ':at': { S: at },
          ':settled': { S: 'settled' satisfies ReceiptStatus },
          ...(record.passQuota === undefined ? {} : { ':quota': { N: String(record.passQuota) } }),
        },
      }),
    );
  }

  async findPass(paymentId: string): Promise<PassRecord | undefined> {
    const row = await this.find(paymentId);
    return row && passRecordOf(row);
  }

  /**
   * Adds a container's flushed uses to the pass's counter row, once per (container, sequence): the
   * row keeps each container's last applied sequence, so a flush sent again after its answer was
   * lost is refused by the condition instead of counted twice; a container's first flush also
   * counts it in `containers`. One write unit while the row is under 1 KB (about 40 containers'
   * sequence numbers).
   */
  async addPassUses(passId: string, container: string, sequence: number, uses: number, expiresAt: number): Promise<PassUsage | 'duplicate'> {
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key(`${PASS_USES_PREFIX}${passId}`),
          // `containers` is always set, so UPDATED_NEW always returns it.
          UpdateExpression: 'ADD #uses :uses SET #seq = :seq, #exp = :exp, #containers = if_not_exists(#containers, :zero) + :newContainer',
          ConditionExpression: 'attribute_not_exists(#seq) OR #seq < :seq',
          ExpressionAttributeNames: { '#uses': 'uses', '#seq': `f_${container}`, '#exp': 'passExpiresAt', '#containers': 'containers' },
          ExpressionAttributeValues: {
            ':uses': { N: String(uses) },
            ':seq': { N: String(sequence) },
            ':exp': { N: String(expiresAt) },
            ':zero': { N: '0' },
            ':newContainer': { N: sequence === 1 ? '1' : '0' },
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return { uses: Number(Attributes?.uses?.N ?? uses), containers: Number(Attributes?.containers?.N ?? 1) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'duplicate';
      throw error;
    }
  }

  /**
   * The passes on `payer`'s receipts since `sinceIso` that expire after `nowSeconds`: a query of the
   * `byPayer` index (the payer's receipts of the last 31 days, pass or not, are read and filtered:
   * at most {@link MAX_HELD_PASS_PAGES} pages of 1 MB; a payer with more finds the newest first).
   */
  async heldPasses(payer: string, sinceIso: string, nowSeconds: number): Promise<readonly PassRecord[]> {
    const index = RECEIPT_INDEXES.byPayer;
    const passes: PassRecord[] = [];
    let start: Record<string, AttributeValue> | undefined;
    for (let page = 0; page < MAX_HELD_PASS_PAGES; page++) {
      const { Items, LastEvaluatedKey } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: index.name,
          KeyConditionExpression: '#payer = :payer AND #createdAt >= :since',
          FilterExpression: '#kind = :pass AND #passExpiresAt > :now',
          ProjectionExpression: '#kind, #passName, #passScope, #passSeconds, #passNotBefore, #passExpiresAt, #passId, #passQuota',
          ExpressionAttributeNames: {
            '#payer': index.partitionKey, '#createdAt': index.sortKey, '#kind': 'kind', '#passName': 'passName', '#passScope': 'passScope',
            '#passSeconds': 'passSeconds', '#passNotBefore': 'passNotBefore', '#passExpiresAt': 'passExpiresAt', '#passId': 'passId', '#passQuota': 'passQuota',
          },
          ExpressionAttributeValues: { ':payer': { S: payer }, ':since': { S: sinceIso }, ':pass': { S: 'pass' }, ':now': { N: String(nowSeconds) } },
          ScanIndexForward: false,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of Items ?? []) {
        const record = passRecordOf(receiptFromItem(item));
        if (record) passes.push(record);
      }
      if (!LastEvaluatedKey) break;
      start = LastEvaluatedKey;
    }
    return passes;
  }

  /** The revocation list (an eventually consistent read: the viewer-request reloads it every minute anyway). */
  async revokedPasses(): Promise<Readonly<Record<string, number>>> {
    const { Item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: this.key(PASS_REVOCATIONS_ID), ProjectionExpression: 'revoked' }));
    return Object.fromEntries(Object.entries(Item?.revoked?.M ?? {}).map(([passId, exp]) => [passId, Number(exp.N)]));
  }

  /**
   * Puts a pass on the revocation list (`cdk-x402 pass revoke`) and drops the entries whose passes
   * have expired, so the list stays as small as the passes still valid. Each write is conditional
   * on the list's `version` as read, so two revocations at once never lose one: the loser reads again.
   */
  async revokePass(passId: string, expiresAt: number, nowSeconds: number, at: string): Promise<void> {
    for (;;) {
      const { Item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: this.key(PASS_REVOCATIONS_ID), ConsistentRead: true }));
      const kept = Object.entries(Item?.revoked?.M ?? {}).filter(([, exp]) => Number(exp.N) > nowSeconds);
      const revoked = Object.fromEntries([...kept, [passId, { N: String(expiresAt) }]]);
      const seen = Item?.version?.N;
      try {
        await this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: { ...this.key(PASS_REVOCATIONS_ID), revoked: { M: revoked }, version: { N: String(Number(seen ?? 0) + 1) }, updatedAt: { S: at } },
            ConditionExpression: seen === undefined ? 'attribute_not_exists(#version)' : '#version = :seen',
            ExpressionAttributeNames: { '#version': 'version' },
            ...(seen === undefined ? {} : { ExpressionAttributeValues: { ':seen': { N: seen } } }),
          }),
        );
        return;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
  }

  markFailed(paymentId: string, errorReason: string, at: string, txHash?: string): Promise<void> {
    return this.transition(paymentId, 'failed', at, txHash ? { errorReason, txHash } : { errorReason });
  }

  release(paymentId: string, at: string, amount?: string): Promise<void> {
    return this.transition(paymentId, 'released', at, amount === undefined ? {} : { amount });
  }

  async handoffKey({ create }: { readonly create: boolean }): Promise<Uint8Array> {
    const read = async () => {
      const { Item } = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: this.key(HANDOFF_KEY_ID), ConsistentRead: true, ProjectionExpression: '#key', ExpressionAttributeNames: { '#key': 'key' } }),
      );
      return Item?.key?.B;
    };
    const stored = await read();
    if (stored) return stored;
    if (!create) throw new Error(`the receipt table has no ${HANDOFF_KEY_ID} row yet (the viewer-request writes it)`);
    const key = randomBytes(HANDOFF_KEY_BYTES);
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: { ...this.key(HANDOFF_KEY_ID), key: { B: key } },
          ConditionExpression: 'attribute_not_exists(#id)',
          ExpressionAttributeNames: { '#id': RECEIPT_PARTITION_KEY },
        }),
      );
      return key;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const winner = await read();
      if (!winner) throw new Error(`the ${HANDOFF_KEY_ID} row vanished while it was written`);
      return winner;
    }
  }

  /**
   * Closes a row the edge left in doubt with what the chain shows (`cdk-x402 reconcile`): settled
   * with the transaction found, or released when its authorization expired unused. Only if the row
   * is still exactly as it was read (same status and updatedAt): when the edge or another run moved
   * it first, nothing is written and the answer is 'changed'.
   */
  async reconcile(paymentId: string, seen: { readonly status: 'failed' | 'reserved'; readonly updatedAt: string }, to: ReconciledStatus, at: string): Promise<'applied' | 'changed'> {
    const fields: Record<string, string> = to.status === 'settled' ? { txHash: to.txHash, ...(to.amount === undefined ? {} : { amount: to.amount }), reconciledAt: at } : { reconciledAt: at };
    try {
      await this.transition(paymentId, to.status, at, fields, seen);
      return 'applied';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'changed';
      throw error;
    }
  }

  /** Moves a row that is `from` (by default: reserved, whatever its updatedAt) to `to`. */
  private async transition(
    paymentId: string,
    to: ReceiptStatus,
    at: string,
    fields: Record<string, string>,
    from: { readonly status: ReceiptStatus; readonly updatedAt?: string } = { status: 'reserved' },
    remove: readonly string[] = [],
  ): Promise<void> {
    const names: Record<string, string> = { '#status': 'status', '#updatedAt': 'updatedAt' };
    const values: Record<string, AttributeValue> = {
      ':to': { S: to },
      ':from': { S: from.status },
      ':at': { S: at },
    };
    const conditions = ['#status = :from'];
    if (from.updatedAt !== undefined) {
      values[':seenAt'] = { S: from.updatedAt };
      conditions.push('#updatedAt = :seenAt');
    }
    const sets = ['#status = :to', '#updatedAt = :at'];
    for (const [name, value] of Object.entries(fields)) {
      names[`#${name}`] = name;
      values[`:${name}`] = { S: value };
      sets.push(`#${name} = :${name}`);
    }
    for (const name of remove) names[`#${name}`] = name;
    const removes = remove.length > 0 ? ` REMOVE ${remove.map((name) => `#${name}`).join(', ')}` : '';
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key(paymentId),
        UpdateExpression: `SET ${sets.join(', ')}${removes}`,
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  private key(paymentId: string): Record<string, AttributeValue> {
    return { [RECEIPT_PARTITION_KEY]: { S: paymentId } };
  }
}

/** Pages of a payer's receipts a sign-in reads at most (each up to 1 MB, some thousands of rows). */
export const MAX_HELD_PASS_PAGES = 3;

/** The pass a receipt row records, if its pass was issued. */
export function passRecordOf(row: Receipt): PassRecord | undefined {
  const { passName, passScope, passSeconds, passNotBefore, passExpiresAt, passId, passQuota } = row;
  if (row.kind !== 'pass' || !passName || !passScope || !passId || passSeconds === undefined || passNotBefore === undefined || passExpiresAt === undefined) return undefined;
  return { passName, passScope: JSON.parse(passScope) as string[], passSeconds, passNotBefore, passExpiresAt, passId, ...(passQuota === undefined ? {} : { passQuota }) };
}

/** A receipt as the table holds it (strings and numbers; nothing else is a receipt field). */
export function receiptItem(receipt: Receipt): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(receipt)) {
    if (typeof value === 'string') item[name] = { S: value };
    else if (typeof value === 'number') item[name] = { N: String(value) };
  }
  return item;
}

/** A receipt row as the table holds it, back to its schema (numbers stay numbers). */
export function receiptFromItem(item: Record<string, AttributeValue>): Receipt {
  const row: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (value.S !== undefined) row[name] = value.S;
    else if (value.N !== undefined) row[name] = Number(value.N);
  }
  return row as unknown as Receipt;
}
