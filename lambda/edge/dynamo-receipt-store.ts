import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type PutItemCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { ReceiptStorePort } from '../core/ports';
import { MAX_RESERVATIONS, RECEIPT_PARTITION_KEY, type Receipt, type ReceiptStatus } from '../core/receipt';

/** What `cdk-x402 reconcile` found on chain for a row the edge left in doubt. */
export type ReconciledStatus = { readonly status: 'settled'; readonly txHash: string } | { readonly status: 'released' };

/**
 * Receipt rows in DynamoDB. Each transition is conditional on the current status, so a replayed
 * nonce cannot be reserved twice and a settled row can never be released or failed afterwards.
 */
export class DynamoReceiptStore implements ReceiptStorePort {
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
  async reserve(receipt: Receipt): Promise<'reserved' | 'duplicate' | 'exhausted'> {
    const fresh = await this.putIf(receipt, 1, {
      ConditionExpression: 'attribute_not_exists(#id)',
      ExpressionAttributeNames: { '#id': RECEIPT_PARTITION_KEY },
    });
    if (fresh) return 'reserved';
    const { Item: held } = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { [RECEIPT_PARTITION_KEY]: { S: receipt.paymentId } },
        ConsistentRead: true,
        ProjectionExpression: '#status, #reservations',
        ExpressionAttributeNames: { '#status': 'status', '#reservations': 'reservations' },
      }),
    );
    if (held?.status?.S !== ('released' satisfies ReceiptStatus)) return 'duplicate';
    // Rows written before the count existed were reserved once.
    const seen = held.reservations?.N;
    const count = seen === undefined ? 1 : Number(seen);
    if (count >= MAX_RESERVATIONS) return 'exhausted';
    const again = await this.putIf(receipt, count + 1, {
      ConditionExpression: `#status = :released AND ${seen === undefined ? 'attribute_not_exists(#reservations)' : '#reservations = :seen'}`,
      ExpressionAttributeNames: { '#status': 'status', '#reservations': 'reservations' },
      ExpressionAttributeValues: { ':released': { S: 'released' satisfies ReceiptStatus }, ...(seen === undefined ? {} : { ':seen': { N: seen } }) },
    });
    return again ? 'reserved' : 'duplicate';
  }

  /** Writes the receipt as its `reservations`-th reservation if the condition holds; false if not. */
  private async putIf(
    receipt: Receipt,
    reservations: number,
    condition: Pick<PutItemCommandInput, 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>,
  ): Promise<boolean> {
    try {
      await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: toItem({ ...receipt, reservations }), ...condition }));
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  markSettled(paymentId: string, txHash: string, at: string): Promise<void> {
    return this.transition(paymentId, 'settled', at, { txHash });
  }

  markFailed(paymentId: string, errorReason: string, at: string, txHash?: string): Promise<void> {
    return this.transition(paymentId, 'failed', at, txHash ? { errorReason, txHash } : { errorReason });
  }

  release(paymentId: string, at: string): Promise<void> {
    return this.transition(paymentId, 'released', at, {});
  }

  /**
   * Closes a row the edge left in doubt with what the chain shows (`cdk-x402 reconcile`): settled
   * with the transaction found, or released when its authorization expired unused. Only if the row
   * is still exactly as it was read (same status and updatedAt): when the edge or another run moved
   * it first, nothing is written and the answer is 'changed'.
   */
  async reconcile(paymentId: string, seen: { readonly status: 'failed' | 'reserved'; readonly updatedAt: string }, to: ReconciledStatus, at: string): Promise<'applied' | 'changed'> {
    const fields: Record<string, string> = to.status === 'settled' ? { txHash: to.txHash, reconciledAt: at } : { reconciledAt: at };
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
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { [RECEIPT_PARTITION_KEY]: { S: paymentId } },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }
}

function toItem(receipt: Receipt): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = {};
  for (const [name, value] of Object.entries(receipt)) {
    if (typeof value === 'string') item[name] = { S: value };
    else if (typeof value === 'number') item[name] = { N: String(value) };
  }
  return item;
}
