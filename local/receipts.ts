import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RECEIPT_PARTITION_KEY, RESERVED_PAYMENT_ID_PREFIX, type Receipt } from '../lambda/core/receipt';
import { receiptFromItem } from '../lambda/edge/dynamo-receipt-store';

/** Every payment's row (the local table is small; bookkeeping rows only with `bookkeeping`): for the demo's printout and reconciliation tests. */
export async function listReceipts(client: DynamoDBClient, tableName: string, options: { readonly bookkeeping?: boolean } = {}): Promise<Receipt[]> {
  const rows: Receipt[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: startKey, ConsistentRead: true }));
    for (const item of page.Items ?? []) {
      if (options.bookkeeping || !item[RECEIPT_PARTITION_KEY]?.S?.startsWith(RESERVED_PAYMENT_ID_PREFIX)) rows.push(receiptFromItem(item));
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return rows;
}
