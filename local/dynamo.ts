/**
 * Local DynamoDB for the demo and tests: dynalite 4, in memory, on 127.0.0.1 (random port), with
 * an AWS SDK v3 client using fake static credentials in us-east-1. dynalite supports conditional
 * writes and GSIs, but no transactions (TransactWriteItems).
 *
 * ```ts
 * const ddb = await startLocalDynamo();
 * await createReceiptTable(ddb.client, 'receipts');
 * // ... use ddb.client or ddb.endpoint ...
 * await ddb.close();
 * ```
 */
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { RECEIPT_INDEXES, RECEIPT_PARTITION_KEY } from '../lambda/core/receipt';
import { keepIdleConnections } from './idle-connections';

export const LOCAL_DYNAMO_REGION = 'us-east-1';
/** Fake credentials: dynalite accepts any. */
export const LOCAL_DYNAMO_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;

export interface LocalDynamo {
  /** e.g. `http://127.0.0.1:41235`; pass as `endpoint` to other DynamoDB clients. */
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  /** TCP connections accepted so far (clients that keep connections alive open few). */
  readonly connections: number;
  close(): Promise<void>;
}

export async function startLocalDynamo(opts: { port?: number } = {}): Promise<LocalDynamo> {
  // Tables become ACTIVE immediately instead of after dynalite's default 500 ms.
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  keepIdleConnections(server);
  let connections = 0;
  server.on('connection', () => connections++);
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_DYNAMO_REGION, credentials: LOCAL_DYNAMO_CREDENTIALS, maxAttempts: 1 });
  let closed = false;
  return {
    endpoint,
    client,
    get connections() {
      return connections;
    },
    async close() {
      if (closed) return;
      closed = true;
      client.destroy();
      await new Promise<void>((resolve, reject) => {
        server.close((err?: Error) => (err ? reject(err) : resolve()));
        // Other clients' keep-alive sockets would otherwise hold close() open.
        server.closeAllConnections();
      });
    },
  };
}

/**
 * Creates the receipt table from the schema in lambda/core/receipt.ts (partition key
 * RECEIPT_PARTITION_KEY, GSIs byPayer (payer, createdAt) and byRoute (route, createdAt), all
 * strings, projecting all attributes, PAY_PER_REQUEST) and waits until it is ACTIVE.
 */
export async function createReceiptTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const indexes = Object.values(RECEIPT_INDEXES);
  const attributes = new Set<string>([RECEIPT_PARTITION_KEY, ...indexes.flatMap((i) => [i.partitionKey, i.sortKey])]);
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...attributes].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
      KeySchema: [{ AttributeName: RECEIPT_PARTITION_KEY, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: indexes.map((i) => ({
        IndexName: i.name,
        KeySchema: [
          { AttributeName: i.partitionKey, KeyType: 'HASH' },
          { AttributeName: i.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: tableName });
}
