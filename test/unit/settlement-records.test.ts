/** lambda/ingest/settlement-records.ts: a WAF settlement record → a receipt row; windows and checkpoints. */
import type { SettlementRecord } from '@aws-sdk/client-wafv2';
import {
  advanceCheckpoint,
  atomicAmountOf,
  compileIngestRoutes,
  networkOf,
  overwritableBy,
  planWindows,
  receiptStatusOf,
  routeOf,
  toReceiptRow,
  UNMATCHED_ROUTE,
  wafPaymentId,
} from '../../lambda/ingest/settlement-records';
import { INGEST_SETTINGS, PAY_TO, WEB_ACL_ARN } from '../support/waf-settlements';

const ARN = WEB_ACL_ARN;
const SETTINGS = INGEST_SETTINGS;
const ROUTES = compileIngestRoutes(SETTINGS);
const HOUR = 3_600_000;
const NOW = Date.parse('2026-11-20T12:00:00Z');

function record(over: Partial<SettlementRecord> = {}): SettlementRecord {
  return {
    Timestamp: new Date('2026-11-20T11:00:05Z'),
    RequestTimestamp: new Date('2026-11-20T11:00:00Z'),
    Status: 'SETTLED',
    Amount: '0.001',
    Currency: 'USDC',
    Network: 'BASE_SEPOLIA',
    PayerAddress: '0x4292AbC0000000000000000000000000000Ca763',
    WalletAddress: PAY_TO,
    TransactionId: '0x8f1e00000000000000000000000000000000000000000000000000000000be5',
    RequestId: 'req-1',
    ContentPath: '/articles/hello',
    WebAclArn: ARN,
    SourceName: 'gptbot',
    ...over,
  };
}

describe('a WAF settlement record as a receipt row', () => {
  it('maps every WAF status; only SETTLED is revenue, and nothing unknown is counted', () => {
    expect(receiptStatusOf('SETTLED')).toEqual({ status: 'settled' });
    expect(receiptStatusOf('PENDING')).toEqual({ status: 'reserved' });
    expect(receiptStatusOf('FAILED')).toEqual({ status: 'failed', errorReason: 'waf_failed' });
    expect(receiptStatusOf('SERVICE_ERROR')).toEqual({ status: 'failed', errorReason: 'waf_service_error' });
    expect(receiptStatusOf('SKIPPED_ORIGIN_ERROR')).toEqual({ status: 'released', errorReason: 'waf_skipped_origin_error' });
    expect(receiptStatusOf('DUPLICATE')).toEqual({ status: 'released', errorReason: 'waf_duplicate' });
    expect(receiptStatusOf('REFUNDED')).toEqual({ status: 'reserved', errorReason: 'waf_status_refunded' });
  });

  it('keys a settlement by its WAF request id, which PENDING and SETTLED share (a PENDING record has no transaction id yet)', () => {
    const pending = record({ Status: 'PENDING', TransactionId: undefined, Timestamp: new Date('2026-11-20T11:00:01Z') });
    expect(wafPaymentId(pending)).toBe('waf:req-1');
    expect(wafPaymentId(record())).toBe('waf:req-1');
    expect(wafPaymentId(record({ RequestId: undefined }))).toMatch(/^waf:tx:0x8f1e/);
    const anonymous = record({ RequestId: undefined, TransactionId: undefined });
    expect(wafPaymentId(anonymous)).toMatch(/^waf:h:[0-9a-f]{40}$/);
    expect(wafPaymentId({ ...anonymous, Status: 'FAILED', Timestamp: new Date() })).toBe(wafPaymentId(anonymous));
  });

  it('reads WAF amounts (decimal USDC) into atomic units, refusing what it cannot read exactly', () => {
    expect(atomicAmountOf('0.001', 6)).toBe('1000');
    expect(atomicAmountOf('1', 6)).toBe('1000000');
    expect(atomicAmountOf('0.0100', 6)).toBe('10000');
    expect(atomicAmountOf('0.0000000', 6)).toBe('0');
    expect(atomicAmountOf('0.0000001', 6)).toBeUndefined();
    expect(atomicAmountOf('$0.001', 6)).toBeUndefined();
    expect(atomicAmountOf(undefined, 6)).toBeUndefined();
  });

  it('names networks in CAIP-2', () => {
    expect(networkOf(record(), 'x')).toBe('eip155:84532');
    expect(networkOf(record({ Network: 'BASE' }), 'x')).toBe('eip155:8453');
    expect(networkOf(record({ Network: 'eip155:8453' }), 'x')).toBe('eip155:8453');
    expect(networkOf(record({ Network: undefined }), 'eip155:84532')).toBe('eip155:84532');
    expect(networkOf(record({ Network: 'SOLANA_DEVNET' }), 'x')).toBe('SOLANA_DEVNET');
  });

  it('finds the route of a path like the web ACL does (first match, case-insensitive, trailing slash, any method)', () => {
    expect(routeOf('/articles/hello', ROUTES)).toBe('/articles/*');
    expect(routeOf('/ARTICLES/Hello/', ROUTES)).toBe('/articles/*');
    expect(routeOf('/api/premium-report?x=1', ROUTES)).toBe('GET /api/premium-report');
    expect(routeOf('/articles/a/../b', ROUTES)).toBe('/articles/*');
    expect(routeOf('/free', ROUTES)).toBe(UNMATCHED_ROUTE);
    expect(routeOf(undefined, ROUTES)).toBe(UNMATCHED_ROUTE);
  });

  it('fills a row the reports read like an edge receipt: engine waf, payer, payTo, USDC of the network, times', () => {
    const { row, amountProblem } = toReceiptRow(record(), SETTINGS, ROUTES);
    expect(amountProblem).toBeUndefined();
    expect(row).toEqual({
      paymentId: 'waf:req-1',
      status: 'settled',
      engine: 'waf',
      network: 'eip155:84532',
      payer: '0x4292AbC0000000000000000000000000000Ca763',
      payTo: PAY_TO,
      amount: '1000',
      asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
      resource: '/articles/hello',
      route: '/articles/*',
      createdAt: '2026-11-20T11:00:00.000Z',
      updatedAt: '2026-11-20T11:00:05.000Z',
      txHash: '0x8f1e00000000000000000000000000000000000000000000000000000000be5',
      wafStatus: 'SETTLED',
      wafAmount: '0.001',
      wafRequestId: 'req-1',
      wafSourceName: 'gptbot',
    });
    const odd = toReceiptRow(record({ Amount: 'n/a', PayerAddress: undefined }), SETTINGS, ROUTES);
    expect(odd.row).toMatchObject({ amount: '0', wafAmount: 'n/a', payer: '(unknown)' });
    expect(odd.amountProblem).toMatch(/not a decimal amount of USDC/);
  });

  it('lets a row only move up: PENDING < released/failed < SETTLED', () => {
    expect(overwritableBy('reserved')).toEqual([]);
    expect(overwritableBy('failed').sort()).toEqual(['reserved']);
    expect(overwritableBy('released').sort()).toEqual(['reserved']);
    expect(overwritableBy('settled').sort()).toEqual(['failed', 'released', 'reserved']);
  });
});

describe('the window a run reads', () => {
  it('starts a first run initialLookback ago and cuts the window into chunks', () => {
    const plan = planWindows(undefined, NOW, SETTINGS);
    expect(plan.chunks.map((c) => [c.start.toISOString(), c.end.toISOString()])).toEqual([
      ['2026-11-19T12:00:00.000Z', '2026-11-19T18:00:00.000Z'],
      ['2026-11-19T18:00:00.000Z', '2026-11-20T00:00:00.000Z'],
      ['2026-11-20T00:00:00.000Z', '2026-11-20T06:00:00.000Z'],
      ['2026-11-20T06:00:00.000Z', '2026-11-20T12:00:00.000Z'],
    ]);
    expect(plan.cappedFrom).toBeUndefined();
  });

  it('re-reads the overlap behind the checkpoint, and reaches back to the oldest record still pending', () => {
    const end = new Date(NOW - 5 * 60_000).toISOString();
    expect(planWindows({ windowEnd: end }, NOW, SETTINGS).chunks[0].start.toISOString()).toBe('2026-11-20T11:40:00.000Z');
    const pinned = planWindows({ windowEnd: end, oldestPendingAt: '2026-11-20T09:30:00.000Z' }, NOW, SETTINGS);
    expect(pinned.chunks[0].start.toISOString()).toBe('2026-11-20T09:30:00.000Z');
    expect(pinned.chunks.at(-1)!.end.getTime()).toBe(NOW);
  });

  it('never reads further back than maxLookbackSeconds (and says so)', () => {
    const plan = planWindows({ windowEnd: '2026-10-01T00:00:00.000Z' }, NOW, SETTINGS);
    expect(plan.chunks[0].start.getTime()).toBe(NOW - 7 * 24 * HOUR);
    expect(plan.cappedFrom!.toISOString()).toBe('2026-09-30T23:45:00.000Z');
  });

  it('moves the checkpoint forward only, keeping the previous pending record until the run has re-read past it', () => {
    const previous = { windowEnd: '2026-11-20T11:55:00.000Z', oldestPendingAt: '2026-11-20T09:30:00.000Z' };
    // Stopped after a chunk that ends before the previous end: nothing is forgotten.
    expect(advanceCheckpoint(previous, new Date('2026-11-20T10:00:00Z'), undefined)).toEqual(previous);
    // Past the previous end: only what is still pending now counts.
    expect(advanceCheckpoint(previous, new Date(NOW), undefined)).toEqual({ windowEnd: '2026-11-20T12:00:00.000Z' });
    expect(advanceCheckpoint(previous, new Date(NOW), new Date('2026-11-20T11:00:00Z'))).toEqual({ windowEnd: '2026-11-20T12:00:00.000Z', oldestPendingAt: '2026-11-20T11:00:00.000Z' });
  });
});
