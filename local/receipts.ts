import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Receipt } from '../lambda/core/receipt';
import { receiptFromItem } from '../lambda/edge/dynamo-receipt-store';

/** Every receipt row (the local table is small): for the demo's printout and reconciliation tests. */
export async function listReceipts(client: DynamoDBClient, tableName: string): Promise<Receipt[]> {
  const rows: Receipt[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey, ConsistentRead: true }));
    for (const item of page.Items ?? []) rows.push(receiptFromItem(item));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return rows;
}
