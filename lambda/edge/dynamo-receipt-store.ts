import {
  ConditionalCheckFailedException,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { ReceiptStorePort } from '../core/ports';
import { RECEIPT_PARTITION_KEY, type Receipt, type ReceiptStatus } from '../core/receipt';

/**
 * Receipt rows in DynamoDB. Each transition is conditional on the current status, so a replayed
 * nonce cannot be reserved twice and a settled row can never be released or failed afterwards.
 */
export class DynamoReceiptStore implements ReceiptStorePort {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async reserve(receipt: Receipt): Promise<'reserved' | 'duplicate'> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: toItem(receipt),
          // A released authorization was never charged, so it may be presented again.
          ConditionExpression: 'attribute_not_exists(#id) OR #status = :released',
          ExpressionAttributeNames: { '#id': RECEIPT_PARTITION_KEY, '#status': 'status' },
          ExpressionAttributeValues: { ':released': { S: 'released' satisfies ReceiptStatus } },
        }),
      );
      return 'reserved';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'duplicate';
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

  private async transition(paymentId: string, to: ReceiptStatus, at: string, fields: Record<string, string>): Promise<void> {
    const names: Record<string, string> = { '#status': 'status', '#updatedAt': 'updatedAt' };
    const values: Record<string, AttributeValue> = {
      ':to': { S: to },
      ':reserved': { S: 'reserved' satisfies ReceiptStatus },
      ':at': { S: at },
    };
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
        ConditionExpression: '#status = :reserved',
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
