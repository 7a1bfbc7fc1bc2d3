/**
 * What the ingestion Lambda is told, shared with the construct that deploys it
 * (lib/settlement-ingest.ts). No runtime imports: the construct library reads it at synth.
 */
import type { AssetConfig, PricedRoute } from '../core/config';

/** What the ingestion Lambda is told at deploy time (environment `X402_INGEST_SETTINGS`, JSON). */
export interface IngestSettings {
  /** CAIP-2 network the web ACL settles on (used when a record names none). */
  readonly network: string;
  readonly payTo: string;
  /** USDC of the network: WAF settles only in USDC. */
  readonly asset: AssetConfig;
  /** `TEST` records are only returned when asked for (ListSettlementRecords defaults to REAL). */
  readonly currencyMode: 'TEST' | 'REAL';
  /** Priced routes in precedence order, `price` in atomic units: a record's path → its route. */
  readonly routes: readonly PricedRoute[];
  /** Re-read this far behind the last checkpoint, for records that become visible late. */
  readonly overlapSeconds: number;
  /** Lookback of the very first run (no checkpoint yet). */
  readonly initialLookbackSeconds: number;
  /** Never read further back than this (ListSettlementRecords accepts at most 90 days). */
  readonly maxLookbackSeconds: number;
  /** One ListSettlementRecords window per chunk; the checkpoint advances after each. */
  readonly chunkSeconds: number;
}

/** The ingestion Lambda's environment (set by lib/settlement-ingest.ts). */
export const IngestEnvironment = {
  tableName: 'X402_RECEIPT_TABLE',
  webAclArn: 'X402_WEB_ACL_ARN',
  /** JSON {@link IngestSettings}. */
  settings: 'X402_INGEST_SETTINGS',
} as const;

/** ListSettlementRecords accepts time windows of at most 90 days. */
export const MAX_SETTLEMENT_WINDOW_SECONDS = 90 * 24 * 3600;

