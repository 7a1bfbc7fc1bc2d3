/**
 * lambda/ingest against dynalite (the receipt table's schema) and WAFv2 mocked with
 * aws-sdk-client-mock (the control plane cannot run here), response shapes from the SDK's types.
 */
import { WAFInvalidParameterException, WAFInternalErrorException, ListSettlementRecordsCommand, WAFV2Client, type SettlementRecord } from '@aws-sdk/client-wafv2';
import { mockClient } from 'aws-sdk-client-mock';
import { WAF_INGEST_CHECKPOINT_ID } from '../../lambda/core/receipt';
import { DynamoSettlementStore } from '../../lambda/ingest/dynamo-settlement-store';
import { handler } from '../../lambda/ingest/handler';
import { ingestSettlements, type IngestPorts } from '../../lambda/ingest/ingest';
import { IngestEnvironment } from '../../lambda/ingest/settings';
import { createReceiptTable, startLocalDynamo, type LocalDynamo } from '../../local/dynamo';
import { listReceipts } from '../../local/receipts';
import { FakeSettlements, INGEST_SETTINGS, PAY_TO, throttled, WEB_ACL_ARN } from '../support/waf-settlements';

const ARN = WEB_ACL_ARN;
const OTHER_ARN = 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/someone-else/def';
const SETTINGS = INGEST_SETTINGS;
const MINUTE = 60_000;
const T0 = Date.parse('2026-11-20T12:00:00Z');

const wafMock = mockClient(WAFV2Client);
let ddb: LocalDynamo;
let tables = 0;

beforeAll(async () => {
  ddb = await startLocalDynamo();
});
afterAll(async () => {
  wafMock.restore();
  await ddb?.close();
});

/** A fresh table, a fake WAF and the ports of one ingestion, with a clock the test moves. */
async function setup(pageSize = 2) {
  const table = `receipts-${++tables}`;
  await createReceiptTable(ddb.client, table);
  let now = T0;
  const waf = new FakeSettlements(() => now, pageSize);
  wafMock.reset();
  wafMock.on(ListSettlementRecordsCommand).callsFake((input) => waf.list(input));
  const sleeps: number[] = [];
  const logs: Array<Record<string, any>> = [];
  const store = new DynamoSettlementStore(ddb.client, table);
  const ports: IngestPorts = {
    waf: new WAFV2Client({ region: 'us-east-1' }),
    store,
    clock: () => now,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    log: (line) => logs.push(line),
    random: () => 1,
  };
  return {
    table,
    waf,
    store,
    ports,
    sleeps,
    logs,
    run: () => ingestSettlements(SETTINGS, ARN, ports),
    at: (ms: number) => (now = ms),
    rows: async (): Promise<Array<Record<string, any>>> => listReceipts(ddb.client, table) as Promise<Array<Record<string, any>>>,
    checkpoint: () => store.readCheckpoint(),
  };
}

let requestIds = 0;
function settlement(at: number, over: Partial<SettlementRecord> = {}): SettlementRecord {
  const id = `req-${++requestIds}`;
  return {
    Timestamp: new Date(at),
    RequestTimestamp: new Date(at - 1000),
    Status: 'SETTLED',
    Amount: '0.001',
    Currency: 'USDC',
    Network: 'BASE_SEPOLIA',
    PayerAddress: '0x4292AbC0000000000000000000000000000Ca763',
    WalletAddress: PAY_TO,
    TransactionId: `0x${requestIds.toString(16).padStart(64, '0')}`,
    RequestId: id,
    ContentPath: '/articles/hello',
    WebAclArn: ARN,
    ...over,
  };
}

describe('settlement ingestion', () => {
  it('pages through the window (NextMarker) asking WAF for this web ACL, CLOUDFRONT scope, the TEST currency mode, and writes one row per record', async () => {
    const t = await setup(2);
    for (let i = 0; i < 5; i++) t.waf.add(settlement(T0 - (i + 1) * 10 * MINUTE, i === 4 ? { ContentPath: '/api/premium-report', Amount: '0.01' } : {}));
    const result = await t.run();

    expect(result).toMatchObject({ records: 5, created: 5, updated: 0, unchanged: 0, windowEnd: new Date(T0).toISOString(), partial: false });
    const lastChunk = t.waf.requests.filter((r) => r.TimeWindow!.EndTime!.getTime() === T0);
    expect(lastChunk.map((r) => r.NextMarker)).toEqual([undefined, '2', '4']);
    for (const request of t.waf.requests) {
      expect(request).toMatchObject({
        Scope: 'CLOUDFRONT',
        Currency: 'USDC',
        Limit: 100,
        Filters: [
          { Name: 'WebACLArn', Values: [ARN] },
          { Name: 'CurrencyMode', Values: ['TEST'] },
        ],
      });
    }
    expect(t.waf.requests[0].TimeWindow!.StartTime!.getTime()).toBe(T0 - 86_400_000);

    const rows = await t.rows();
    expect(rows).toHaveLength(5);
    expect(rows.every((r) => r.engine === 'waf' && r.status === 'settled' && r.payTo === PAY_TO && r.network === 'eip155:84532')).toBe(true);
    expect(rows.map((r) => [r.route, r.amount]).sort()).toEqual([
      ['/articles/*', '1000'], ['/articles/*', '1000'], ['/articles/*', '1000'], ['/articles/*', '1000'], ['GET /api/premium-report', '10000'],
    ]);
    expect(await t.checkpoint()).toMatchObject({ windowEnd: new Date(T0).toISOString(), webAclArn: ARN, lastRunStatus: 'ok', consecutiveFailures: 0, recordsLastRun: 5 });
    expect(t.logs).toContainEqual(expect.objectContaining({ SettlementRecordsIngested: 5, IngestionErrors: 0 }));
  });

  it('calls WAF in us-east-1 from the Lambda handler, configured by its environment, and writes to the table', async () => {
    const t = await setup();
    t.waf.add(settlement(Date.now() - 5 * MINUTE));
    const env = { ...process.env };
    Object.assign(process.env, {
      [IngestEnvironment.tableName]: t.table,
      [IngestEnvironment.webAclArn]: ARN,
      [IngestEnvironment.settings]: JSON.stringify(SETTINGS),
      AWS_REGION: 'eu-west-1',
      AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
    });
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      t.at(Date.now());
      const result = await handler({}, { getRemainingTimeInMillis: () => 300_000 });
      expect(result.created).toBe(1);
    } finally {
      process.env = env;
      log.mockRestore();
    }
    const client = wafMock.call(0).thisValue as WAFV2Client;
    expect(await client.config.region()).toBe('us-east-1');
    expect(await t.rows()).toHaveLength(1);
  });

  it('updates a PENDING row when it becomes SETTLED, reaching back past the overlap to see it resolve', async () => {
    const t = await setup();
    const pending = settlement(T0 - 2 * MINUTE, { Status: 'PENDING', TransactionId: undefined });
    t.waf.add(pending);
    await t.run();
    expect((await t.rows())[0]).toMatchObject({ paymentId: `waf:${pending.RequestId}`, status: 'reserved', wafStatus: 'PENDING' });
    expect((await t.rows())[0].txHash).toBeUndefined();
    expect((await t.checkpoint())!.oldestPendingAt).toBe(new Date(T0 - 2 * MINUTE - 1000).toISOString());

    // Two hours later (far beyond the 15-minute overlap) WAF reports it settled, under the same request id.
    t.waf.update(pending.RequestId!, { Status: 'SETTLED', TransactionId: '0xabc' });
    t.at(T0 + 120 * MINUTE);
    const second = await t.run();
    expect(t.waf.requests.at(-1)!.TimeWindow!.StartTime!.getTime()).toBeLessThanOrEqual(T0 - 2 * MINUTE);
    expect(second).toMatchObject({ updated: 1, created: 0 });
    const [row] = await t.rows();
    expect(row).toMatchObject({ status: 'settled', txHash: '0xabc', wafStatus: 'SETTLED', createdAt: new Date(T0 - 2 * MINUTE - 1000).toISOString() });
    expect((await t.checkpoint())!.oldestPendingAt).toBeUndefined();

    // Resolved: the next run is back to the overlap only.
    t.at(T0 + 125 * MINUTE);
    await t.run();
    expect(t.waf.requests.at(-1)!.TimeWindow!.StartTime!.getTime()).toBe(T0 + 120 * MINUTE - 15 * MINUTE);
  });

  it('never downgrades: a stale PENDING or FAILED record leaves a SETTLED row as it is; SETTLED replaces FAILED and drops its error', async () => {
    const t = await setup();
    const settled = settlement(T0 - MINUTE);
    t.waf.add(settled);
    await t.run();
    for (const status of ['PENDING', 'FAILED', 'SKIPPED_ORIGIN_ERROR'] as const) {
      t.waf.update(settled.RequestId!, { Status: status });
      expect(await t.run()).toMatchObject({ unchanged: 1, updated: 0 });
      expect((await t.rows())[0]).toMatchObject({ status: 'settled', wafStatus: 'SETTLED' });
    }

    const retried = settlement(T0 - MINUTE, { Status: 'SERVICE_ERROR', TransactionId: undefined });
    t.waf.add(retried);
    await t.run();
    expect((await t.rows()).find((r) => r.wafRequestId === retried.RequestId)).toMatchObject({ status: 'failed', errorReason: 'waf_service_error' });
    t.waf.update(retried.RequestId!, { Status: 'SETTLED', TransactionId: '0xdef' });
    await t.run();
    const row = (await t.rows()).find((r) => r.wafRequestId === retried.RequestId)!;
    expect(row).toMatchObject({ status: 'settled', txHash: '0xdef' });
    expect(row.errorReason).toBeUndefined();
  });

  it('over overlapping windows and late records, writes every record exactly once and loses none', async () => {
    const t = await setup(3);
    let start = T0;
    const expected = new Set<string>();
    const results: Array<Awaited<ReturnType<typeof t.run>>> = [];
    // Two hours of runs every 5 minutes; each interval brings 4 records, one of which WAF only
    // publishes 12 minutes later (within the 15-minute overlap).
    for (let step = 0; step < 24; step++) {
      const runAt = start + 5 * MINUTE;
      for (let i = 0; i < 4; i++) {
        const at = start + (i + 1) * MINUTE;
        const record = settlement(at, { PayerAddress: `0x${String(i).repeat(40)}` });
        t.waf.add(record, i === 3 ? { visibleAt: at + 12 * MINUTE } : {});
        expected.add(`waf:${record.RequestId}`);
      }
      t.at(runAt);
      results.push(await t.run());
      start = runAt;
    }
    // Let the last late records appear.
    t.at(start + 15 * MINUTE);
    results.push(await t.run());

    const rows = await t.rows();
    const ids = rows.map((r) => r.paymentId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(expected);
    const sum = (key: 'created' | 'updated' | 'unchanged' | 'records') => results.reduce((n, r) => n + r[key], 0);
    expect(sum('created')).toBe(expected.size);
    expect(sum('updated')).toBe(0);
    // Every run re-read the 15-minute overlap: most records were read several times, written once.
    expect(sum('unchanged')).toBeGreaterThan(expected.size);
    expect(sum('records')).toBe(sum('created') + sum('unchanged'));

    // Re-reading the whole span at once (a 3-hour overlap) changes nothing.
    const replay = await ingestSettlements({ ...SETTINGS, overlapSeconds: 3 * 3600 }, ARN, t.ports);
    expect(replay).toMatchObject({ created: 0, updated: 0, unchanged: expected.size });
    expect(await t.rows()).toHaveLength(expected.size);
  });

  it('ignores records of other web ACLs (the filter asks for ours; a record that slips through is dropped)', async () => {
    const t = await setup();
    t.waf.add(settlement(T0 - MINUTE));
    wafMock.on(ListSettlementRecordsCommand).callsFake((input) => {
      const page = t.waf.list(input);
      return { ...page, Settlements: [...(page.Settlements ?? []), settlement(T0 - MINUTE, { WebAclArn: OTHER_ARN })] };
    });
    expect(await t.run()).toMatchObject({ records: 1, created: 1 });
    expect(await t.rows()).toHaveLength(1);
  });

  it('retries throttling and WAF internal errors with exponential backoff, then succeeds', async () => {
    const t = await setup();
    t.waf.add(settlement(T0 - MINUTE));
    let calls = 0;
    wafMock.on(ListSettlementRecordsCommand).callsFake((input) => {
      calls++;
      if (calls <= 2) throw throttled();
      if (calls === 3) throw new WAFInternalErrorException({ $metadata: { httpStatusCode: 500 }, message: 'internal' });
      return t.waf.list(input);
    });
    const result = await t.run();
    expect(result.created).toBe(1);
    expect(t.sleeps.slice(0, 3)).toEqual([500, 1000, 2000]);
    expect(t.logs.filter((l) => l.event === 'x402.ingest_retry').map((l) => l.error)).toEqual([
      'ThrottlingException: Rate exceeded',
      'ThrottlingException: Rate exceeded',
      'WAFInternalErrorException: internal',
    ]);
  });

  it('keeps a failure durable and visible: checkpoint row, log line, IngestionErrors metric, rethrown; the checkpoint does not advance', async () => {
    const t = await setup();
    t.waf.add(settlement(T0 - MINUTE));
    await t.run();
    const before = (await t.checkpoint())!.windowEnd;

    // Throttled on every attempt: gives up after 6 attempts (5 waits, capped at 8 s).
    t.at(T0 + 5 * MINUTE);
    t.sleeps.length = 0;
    wafMock.on(ListSettlementRecordsCommand).rejects(throttled());
    await expect(t.run()).rejects.toThrow('Rate exceeded');
    expect(t.sleeps).toEqual([500, 1000, 2000, 4000, 8000]);
    // A parameter problem is not retried.
    t.sleeps.length = 0;
    wafMock.on(ListSettlementRecordsCommand).rejects(new WAFInvalidParameterException({ $metadata: { httpStatusCode: 400 }, message: 'bad TimeWindow' }));
    await expect(t.run()).rejects.toThrow('bad TimeWindow');
    expect(t.sleeps).toEqual([]);

    const failed = (await t.checkpoint())!;
    expect(failed).toMatchObject({ windowEnd: before, lastRunStatus: 'error', consecutiveFailures: 2, lastErrorAt: new Date(T0 + 5 * MINUTE).toISOString() });
    expect(failed.lastError).toContain('WAFInvalidParameterException: bad TimeWindow');
    expect(t.logs).toContainEqual(expect.objectContaining({ event: 'x402.ingest_error', webAclArn: ARN }));
    expect(t.logs).toContainEqual(expect.objectContaining({ IngestionErrors: 1, _aws: expect.objectContaining({ CloudWatchMetrics: [expect.objectContaining({ Namespace: 'CdkX402' })] }) }));

    // The next good run picks up where the last good one ended, and clears the failure count.
    wafMock.on(ListSettlementRecordsCommand).callsFake((input) => t.waf.list(input));
    await t.run();
    expect(t.waf.requests.at(-1)!.TimeWindow!.StartTime!.toISOString()).toBe(new Date(Date.parse(before!) - 15 * MINUTE).toISOString());
    expect(await t.checkpoint()).toMatchObject({ lastRunStatus: 'ok', consecutiveFailures: 0, windowEnd: new Date(T0 + 5 * MINUTE).toISOString() });
  });

  it('stops between chunks when the Lambda runs out of time and continues from there on the next run', async () => {
    const t = await setup();
    t.waf.add(settlement(T0 - 20 * 3_600_000));
    let remaining = 300_000;
    const result = await ingestSettlements(SETTINGS, ARN, { ...t.ports, remainingMs: () => (remaining -= 250_000) });
    expect(result).toMatchObject({ windows: 1, partial: true, created: 1, windowEnd: new Date(T0 - 18 * 3_600_000).toISOString() });
    const next = await t.run();
    expect(next).toMatchObject({ partial: false, windowEnd: new Date(T0).toISOString() });
    expect(t.waf.requests.at(-1)!.TimeWindow!.EndTime!.getTime()).toBe(T0);
  });

  it('keeps the checkpoint out of the indexes (no payer, route or createdAt) under a reserved id', async () => {
    const t = await setup();
    await t.run();
    const all = await listReceipts(ddb.client, t.table, { bookkeeping: true });
    const checkpoint = all.find((r) => r.paymentId === WAF_INGEST_CHECKPOINT_ID) as unknown as Record<string, unknown>;
    expect(checkpoint).toBeDefined();
    for (const key of ['payer', 'route', 'createdAt']) expect(checkpoint[key]).toBeUndefined();
  });
});
