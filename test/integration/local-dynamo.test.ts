/** local/dynamo.ts: dynalite in memory with the receipt table's schema from lambda/core/receipt.ts. */
import { DescribeTableCommand, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { RECEIPT_INDEXES, RECEIPT_PARTITION_KEY } from '../../lambda/core/receipt';
import { createReceiptTable, startLocalDynamo, type LocalDynamo } from '../../local/dynamo';

let ddb: LocalDynamo;
beforeAll(async () => {
  ddb = await startLocalDynamo();
  await createReceiptTable(ddb.client, 'receipts');
});
afterAll(async () => {
  await ddb?.close();
});

describe('local dynamo', () => {
  it('creates the receipt table ACTIVE, on demand, with the byPayer and byRoute indexes', async () => {
    expect(ddb.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const { Table } = await ddb.client.send(new DescribeTableCommand({ TableName: 'receipts' }));
    expect(Table?.TableStatus).toBe('ACTIVE');
    expect(Table?.KeySchema).toEqual([{ AttributeName: RECEIPT_PARTITION_KEY, KeyType: 'HASH' }]);
    expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
    const indexes = Object.fromEntries((Table?.GlobalSecondaryIndexes ?? []).map((i) => [i.IndexName, i.KeySchema]));
    expect(indexes).toEqual({
      [RECEIPT_INDEXES.byPayer.name]: [
        { AttributeName: 'payer', KeyType: 'HASH' },
        { AttributeName: 'createdAt', KeyType: 'RANGE' },
      ],
      [RECEIPT_INDEXES.byRoute.name]: [
        { AttributeName: 'route', KeyType: 'HASH' },
        { AttributeName: 'createdAt', KeyType: 'RANGE' },
      ],
    });
  });

  it('supports conditional puts (one winner among concurrent writers) and GSI queries', async () => {
    const item = (i: number) => ({
      [RECEIPT_PARTITION_KEY]: { S: 'eip155:84532:0xusdc:0xpayer:0xnonce' },
      payer: { S: '0xpayer' },
      route: { S: '/paid' },
      createdAt: { S: `2026-01-01T00:00:0${i}Z` },
    });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        ddb.client.send(new PutItemCommand({ TableName: 'receipts', Item: item(i), ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': RECEIPT_PARTITION_KEY } })),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.name)).toEqual(
      Array(9).fill('ConditionalCheckFailedException'),
    );
    const byPayer = await ddb.client.send(
      new QueryCommand({
        TableName: 'receipts',
        IndexName: RECEIPT_INDEXES.byPayer.name,
        KeyConditionExpression: 'payer = :p',
        ExpressionAttributeValues: { ':p': { S: '0xpayer' } },
      }),
    );
    expect(byPayer.Count).toBe(1);
  });
});
