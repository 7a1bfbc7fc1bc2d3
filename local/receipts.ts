import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Receipt } from '../lambda/core/receipt';

/** Every receipt row (the local table is small): for the demo's printout and reconciliation tests. */
export async function listReceipts(client: DynamoDBClient, tableName: string): Promise<Receipt[]> {
  const rows: Receipt[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey, ConsistentRead: true }));
    for (const item of page.Items ?? []) rows.push(fromItem(item) as unknown as Receipt);
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return rows;
}

function fromItem(item: Record<string, AttributeValue>): Record<string, string | number> {
  const row: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(item)) {
    if (value.S !== undefined) row[name] = value.S;
    else if (value.N !== undefined) row[name] = Number(value.N);
  }
  return row;
}
