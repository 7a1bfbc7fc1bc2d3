/**
 * A stand-in for AWS WAF's ListSettlementRecords behind aws-sdk-client-mock: records (typed as the
 * SDK's SettlementRecord) are filtered by the request's TimeWindow (on Timestamp), WebACLArn and
 * CurrencyMode filters, and paged with NextMarker. A record becomes visible only from its
 * `visibleAt` wall time on, like a record WAF publishes late.
 */
import { knownNetwork } from '../../lambda/core/networks';
import type { IngestSettings } from '../../lambda/ingest/settings';
import { WAFV2ServiceException, type ListSettlementRecordsCommandInput, type ListSettlementRecordsCommandOutput, type SettlementRecord } from '@aws-sdk/client-wafv2';

/** The publisher's wallet and web ACL of the ingestion tests. */
export const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';
export const WEB_ACL_ARN = 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/site-x402/abc';

/** Ingestion settings of a Base Sepolia (TEST mode) deployment with two disjoint priced routes. */
export const INGEST_SETTINGS: IngestSettings = {
  network: 'eip155:84532',
  payTo: PAY_TO,
  asset: { ...knownNetwork('eip155:84532')!.usdc, symbol: 'USDC' },
  currencyMode: 'TEST',
  routes: [
    { pattern: '/articles/*', price: '1000' },
    { pattern: 'GET /api/premium-report', price: '10000' },
  ],
  overlapSeconds: 900,
  initialLookbackSeconds: 86400,
  maxLookbackSeconds: 7 * 86400,
  chunkSeconds: 6 * 3600,
};

export interface StoredSettlement {
  readonly record: SettlementRecord;
  /** Wall time (ms) from which WAF returns it. @default always */
  readonly visibleAt?: number;
  readonly currencyMode?: 'TEST' | 'REAL';
}

export class FakeSettlements {
  readonly stored: StoredSettlement[] = [];
  /** Calls seen, in order. */
  readonly requests: ListSettlementRecordsCommandInput[] = [];

  constructor(
    private readonly clock: () => number,
    /** Records per page (WAF's Limit is at most 100; smaller here to exercise NextMarker). */
    private readonly pageSize = 2,
  ) {}

  add(record: SettlementRecord, options: Omit<StoredSettlement, 'record'> = {}): void {
    this.stored.push({ record, ...options });
  }

  /** Replaces the stored record with the same RequestId (a settlement changing state). */
  update(requestId: string, changes: Partial<SettlementRecord>): void {
    const i = this.stored.findIndex((s) => s.record.RequestId === requestId);
    this.stored[i] = { ...this.stored[i], record: { ...this.stored[i].record, ...changes } };
  }

  list(input: ListSettlementRecordsCommandInput): Partial<ListSettlementRecordsCommandOutput> {
    this.requests.push(input);
    const filter = (name: string) => input.Filters?.find((f) => f.Name === name)?.Values;
    const acls = filter('WebACLArn');
    const mode = filter('CurrencyMode')?.[0] ?? 'REAL';
    const start = input.TimeWindow!.StartTime!.getTime();
    const end = input.TimeWindow!.EndTime!.getTime();
    const matching = this.stored
      .filter((s) => (s.visibleAt ?? 0) <= this.clock())
      .filter((s) => (s.currencyMode ?? 'TEST') === mode)
      .filter((s) => !acls || acls.includes(s.record.WebAclArn!))
      .filter((s) => s.record.Timestamp!.getTime() >= start && s.record.Timestamp!.getTime() < end)
      .map((s) => s.record);
    const offset = input.NextMarker ? Number(input.NextMarker) : 0;
    const size = Math.min(this.pageSize, input.Limit ?? 100);
    const page = matching.slice(offset, offset + size);
    return { Settlements: page, ...(offset + size < matching.length ? { NextMarker: String(offset + size) } : {}) };
  }
}

/** The error the SDK raises for a throttled WAF call: WAF models none, so it is the generic, unmodeled ThrottlingException. */
export function throttled(): WAFV2ServiceException {
  return new WAFV2ServiceException({ name: 'ThrottlingException', $fault: 'client', $metadata: { httpStatusCode: 400 }, message: 'Rate exceeded' });
}
