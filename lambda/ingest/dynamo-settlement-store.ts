import {
  ConditionalCheckFailedException,
  GetItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { RECEIPT_PARTITION_KEY, WAF_INGEST_CHECKPOINT_ID } from '../core/receipt';
import { overwritableBy, type Checkpoint, type WafReceiptRow } from './settlement-records';

export type UpsertResult = 'created' | 'updated' | 'unchanged';

/** The checkpoint row as stored (also what `cdk-x402 status` shows). */
export interface IngestCheckpointRow extends Checkpoint {
  readonly webAclArn?: string;
  readonly lastRunAt?: string;
  readonly lastRunStatus?: 'ok' | 'error';
  readonly lastSuccessAt?: string;
  readonly lastError?: string;
  readonly lastErrorAt?: string;
  readonly consecutiveFailures?: number;
  readonly recordsLastRun?: number;
}

/**
 * Settlement rows and the ingestion checkpoint in the receipt table. Needs `dynamodb:UpdateItem`
 * (every write is an upsert) and `dynamodb:GetItem` (the checkpoint), nothing else.
 */
export class DynamoSettlementStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  /**
   * Writes a row unless the stored one is as final or more (see STATUS_RANK): re-reading the same
   * window changes nothing, a PENDING row becomes SETTLED or FAILED, and SETTLED is never
   * downgraded. `createdAt` is kept from the first write (the indexes sort on it).
   */
  async upsert(row: WafReceiptRow): Promise<UpsertResult> {
    const names: Record<string, string> = { '#pk': RECEIPT_PARTITION_KEY, '#createdAt': 'createdAt' };
    const values: Record<string, AttributeValue> = { ':createdAt': { S: row.createdAt } };
    const sets = ['#createdAt = if_not_exists(#createdAt, :createdAt)'];
    const removes: string[] = [];
    for (const field of ['status', 'engine', 'network', 'payer', 'payTo', 'amount', 'asset', 'resource', 'route', 'updatedAt', 'txHash', 'errorReason', 'wafStatus', 'wafAmount', 'wafRequestId', 'wafSourceName'] as const) {
      names[`#${field}`] = field;
      const value = row[field];
      if (value === undefined || value === '') {
        // e.g. a SETTLED record replacing a FAILED one drops the old error.
        if (field === 'errorReason' || field === 'txHash') removes.push(`#${field}`);
        else delete names[`#${field}`];
        continue;
      }
      values[`:${field}`] = { S: value };
      sets.push(`#${field} = :${field}`);
    }
    const lower = overwritableBy(row.status);
    lower.forEach((status, i) => (values[`:lower${i}`] = { S: status }));
    const condition = lower.length === 0
      ? 'attribute_not_exists(#pk)'
      : `attribute_not_exists(#pk) OR #status IN (${lower.map((_, i) => `:lower${i}`).join(', ')})`;
    try {
      const result = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [RECEIPT_PARTITION_KEY]: { S: row.paymentId } },
          UpdateExpression: `SET ${sets.join(', ')}${removes.length > 0 ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      return result.Attributes?.status ? 'updated' : 'created';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || (error as Error).name === 'ConditionalCheckFailedException') return 'unchanged';
      throw error;
    }
  }

  async readCheckpoint(): Promise<IngestCheckpointRow | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.tableName, Key: { [RECEIPT_PARTITION_KEY]: { S: WAF_INGEST_CHECKPOINT_ID } }, ConsistentRead: true }),
    );
    return Item ? checkpointFromItem(Item) : undefined;
  }

  /**
   * Records how far the records have been read. The end only moves forward: a slower run that
   * overlaps a faster one cannot move it back (its write is refused and ignored).
   */
  async saveProgress(checkpoint: Required<Pick<Checkpoint, 'windowEnd'>> & Checkpoint, webAclArn: string): Promise<boolean> {
    const pending = checkpoint.oldestPendingAt;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { [RECEIPT_PARTITION_KEY]: { S: WAF_INGEST_CHECKPOINT_ID } },
          UpdateExpression: `SET #end = :end, #acl = :acl${pending ? ', #pending = :pending' : ''}${pending ? '' : ' REMOVE #pending'}`,
          ConditionExpression: 'attribute_not_exists(#end) OR #end <= :end',
          ExpressionAttributeNames: { '#end': 'windowEnd', '#acl': 'webAclArn', '#pending': 'oldestPendingAt' },
          ExpressionAttributeValues: { ':end': { S: checkpoint.windowEnd }, ':acl': { S: webAclArn }, ...(pending ? { ':pending': { S: pending } } : {}) },
        }),
      );
      return true;
    } catch (error) {
      if ((error as Error).name === 'ConditionalCheckFailedException') return false;
      throw error;
    }
  }

  async recordSuccess(at: string, records: number): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { [RECEIPT_PARTITION_KEY]: { S: WAF_INGEST_CHECKPOINT_ID } },
        UpdateExpression: 'SET #runAt = :at, #status = :ok, #successAt = :at, #failures = :zero, #records = :records',
        ExpressionAttributeNames: { '#runAt': 'lastRunAt', '#status': 'lastRunStatus', '#successAt': 'lastSuccessAt', '#failures': 'consecutiveFailures', '#records': 'recordsLastRun' },
        ExpressionAttributeValues: { ':at': { S: at }, ':ok': { S: 'ok' }, ':zero': { N: '0' }, ':records': { N: String(records) } },
      }),
    );
  }

  /** Keeps the failure in the table, next to the checkpoint, until a run succeeds. */
  async recordFailure(at: string, error: string): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: { [RECEIPT_PARTITION_KEY]: { S: WAF_INGEST_CHECKPOINT_ID } },
        UpdateExpression: 'SET #runAt = :at, #status = :error, #lastError = :message, #errorAt = :at ADD #failures :one',
        ExpressionAttributeNames: { '#runAt': 'lastRunAt', '#status': 'lastRunStatus', '#lastError': 'lastError', '#errorAt': 'lastErrorAt', '#failures': 'consecutiveFailures' },
        ExpressionAttributeValues: { ':at': { S: at }, ':error': { S: 'error' }, ':message': { S: error.slice(0, 2000) }, ':one': { N: '1' } },
      }),
    );
  }
}

export function checkpointFromItem(item: Record<string, AttributeValue>): IngestCheckpointRow {
  const row: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (name === RECEIPT_PARTITION_KEY) continue;
    if (value.S !== undefined) row[name] = value.S;
    else if (value.N !== undefined) row[name] = Number(value.N);
  }
  return row as IngestCheckpointRow;
}
