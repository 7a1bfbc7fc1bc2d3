/**
 * Pure logic of the waf engine's settlement ingestion: how one AWS WAF settlement record
 * (ListSettlementRecords) becomes a receipt row, which status may overwrite which, and which time
 * window a run reads. No I/O: lambda/ingest/ingest.ts does the paging and the writes.
 */
import { createHash } from 'node:crypto';
import type { SettlementRecord } from '@aws-sdk/client-wafv2';
import { knownNetwork } from '../core/networks';
import type { ReceiptStatus } from '../core/receipt';
import { canonicalPath, compileRoutes, matchRoute, type CompiledRoute } from '../core/routes';
import { MAX_SETTLEMENT_WINDOW_SECONDS, type IngestSettings } from './settings';

/** Route of a record whose path matches no configured route (e.g. routes changed since). */
export const UNMATCHED_ROUTE = '(unmatched)';
/** Payer of a record that names none (index keys cannot be empty). */
export const UNKNOWN_PAYER = '(unknown)';

/** A receipt row written by the ingestion (the {@link Receipt} fields a WAF record can fill, plus WAF's own). */
export interface WafReceiptRow {
  readonly paymentId: string;
  readonly status: ReceiptStatus;
  readonly engine: 'waf';
  readonly network: string;
  readonly payer: string;
  readonly payTo: string;
  /** Atomic units of the asset, as a decimal string ("0" when WAF's amount could not be read). */
  readonly amount: string;
  readonly asset: string;
  readonly resource: string;
  readonly route: string;
  /** The request's time (RequestTimestamp, else the record's Timestamp); the indexes sort on it. */
  readonly createdAt: string;
  /** The record's Timestamp: when WAF last recorded its settlement state. */
  readonly updatedAt: string;
  readonly txHash?: string;
  readonly errorReason?: string;
  /** WAF's own status, kept verbatim (SETTLED, PENDING, FAILED, SERVICE_ERROR, SKIPPED_ORIGIN_ERROR, DUPLICATE). */
  readonly wafStatus: string;
  /** WAF's amount, verbatim (a decimal amount of USDC). */
  readonly wafAmount: string;
  readonly wafRequestId?: string;
  readonly wafSourceName?: string;
}

/**
 * The receipt status of a WAF settlement status. Only SETTLED is revenue. PENDING is held like the
 * edge's `reserved` (it resolves to SETTLED or FAILED); a skipped or duplicate settlement charged
 * nothing (`released`); a service error charged nothing either, but is a failure worth seeing.
 */
export function receiptStatusOf(wafStatus: string | undefined): { status: ReceiptStatus; errorReason?: string } {
  switch (wafStatus) {
    case 'SETTLED':
      return { status: 'settled' };
    case 'PENDING':
      return { status: 'reserved' };
    case 'FAILED':
      return { status: 'failed', errorReason: 'waf_failed' };
    case 'SERVICE_ERROR':
      return { status: 'failed', errorReason: 'waf_service_error' };
    case 'SKIPPED_ORIGIN_ERROR':
      return { status: 'released', errorReason: 'waf_skipped_origin_error' };
    case 'DUPLICATE':
      return { status: 'released', errorReason: 'waf_duplicate' };
    default:
      // A status this code does not know yet: held like PENDING (re-read, never counted as revenue).
      return { status: 'reserved', errorReason: `waf_status_${String(wafStatus ?? 'missing').toLowerCase()}` };
  }
}

/** Order of statuses: a row only ever moves up (SETTLED is final; a late PENDING never overwrites a result). */
export const STATUS_RANK: Readonly<Record<ReceiptStatus, number>> = { reserved: 0, released: 1, failed: 1, settled: 2 };

/** The statuses a row may hold for `next` to overwrite it. */
export function overwritableBy(next: ReceiptStatus): ReceiptStatus[] {
  return (Object.keys(STATUS_RANK) as ReceiptStatus[]).filter((s) => STATUS_RANK[s] < STATUS_RANK[next]);
}

/**
 * The idempotency key of a WAF settlement: the WAF request id, which every state of one monetized
 * request shares (a PENDING record has no transaction id yet, so the transaction id cannot be the
 * key). Without a request id: the transaction id; without both, a hash of the fields that do not
 * change while the settlement resolves.
 */
export function wafPaymentId(record: SettlementRecord): string {
  if (record.RequestId) return `waf:${record.RequestId}`;
  if (record.TransactionId) return `waf:tx:${record.TransactionId.toLowerCase()}`;
  const stable = [record.WebAclArn, iso(record.RequestTimestamp ?? record.Timestamp), record.PayerAddress, record.Amount, record.ContentPath, record.Network];
  return `waf:h:${createHash('sha256').update(JSON.stringify(stable)).digest('hex').slice(0, 40)}`;
}

/** ListSettlementRecords' `Network` (a WAF chain name such as BASE_SEPOLIA, or CAIP-2) as CAIP-2. */
export function networkOf(record: SettlementRecord, fallback: string): string {
  const name = record.Network?.trim();
  if (!name) return fallback;
  if (/^[a-z0-9-]+:/.test(name)) return name;
  const byChain: Record<string, string> = { BASE: 'eip155:8453', BASE_SEPOLIA: 'eip155:84532' };
  return byChain[name.toUpperCase().replace(/-/g, '_')] ?? name;
}

/**
 * WAF amounts are decimal amounts of the currency ("0.001" USDC); receipts hold atomic units.
 * Undefined when the text is not a non-negative decimal with at most `decimals` decimals.
 */
export function atomicAmountOf(amount: string | undefined, decimals: number): string | undefined {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(amount?.trim() ?? '');
  if (!match) return undefined;
  const fraction = match[2] ?? '';
  if (fraction.length > decimals && !/^0*$/.test(fraction.slice(decimals))) return undefined;
  return BigInt(match[1] + fraction.slice(0, decimals).padEnd(decimals, '0')).toString();
}

export interface RouteIndex {
  readonly routes: readonly CompiledRoute[];
}

export function compileIngestRoutes(settings: Pick<IngestSettings, 'routes' | 'asset'>): RouteIndex {
  return { routes: compileRoutes({ routes: settings.routes, asset: settings.asset, maxTimeoutSeconds: 60 }) };
}

/**
 * The route a monetized path belongs to. The record names no method, so a route matches on its
 * path with its own method (`GET /api/*` matches `/api/x`); the first match in precedence order
 * wins, as in the web ACL, where Monetize rules are evaluated in route order.
 */
export function routeOf(path: string | undefined, index: RouteIndex): string {
  if (!path) return UNMATCHED_ROUTE;
  const bare = path.split('?')[0];
  const canonical = canonicalPath(bare) ?? bare;
  const found = index.routes.findIndex((route) => matchRoute([route], route.method ?? 'GET', canonical).kind === 'priced');
  return found === -1 ? UNMATCHED_ROUTE : index.routes[found].pattern;
}

export interface MappedRecord {
  readonly row: WafReceiptRow;
  /** Set when WAF's amount could not be read (the row holds "0"; the record is logged). */
  readonly amountProblem?: string;
}

/** One settlement record → one receipt row. */
export function toReceiptRow(record: SettlementRecord, settings: IngestSettings, routes: RouteIndex): MappedRecord {
  const { status, errorReason } = receiptStatusOf(record.Status);
  const network = networkOf(record, settings.network);
  const known = knownNetwork(network);
  const decimals = known?.usdc.decimals ?? settings.asset.decimals;
  const atomic = atomicAmountOf(record.Amount, decimals);
  const updatedAt = iso(record.Timestamp) ?? iso(record.RequestTimestamp) ?? new Date(0).toISOString();
  const row: WafReceiptRow = stripUndefined({
    paymentId: wafPaymentId(record),
    status,
    engine: 'waf' as const,
    network,
    payer: record.PayerAddress || UNKNOWN_PAYER,
    payTo: record.WalletAddress ?? settings.payTo,
    amount: atomic ?? '0',
    asset: known?.usdc.address ?? (network === settings.network ? settings.asset.address : ''),
    resource: record.ContentPath ?? '',
    route: routeOf(record.ContentPath, routes),
    createdAt: iso(record.RequestTimestamp) ?? updatedAt,
    updatedAt,
    txHash: record.TransactionId || undefined,
    errorReason,
    wafStatus: record.Status ?? 'MISSING',
    wafAmount: record.Amount ?? '',
    wafRequestId: record.RequestId,
    wafSourceName: record.SourceName,
  });
  return atomic === undefined ? { row, amountProblem: `amount ${JSON.stringify(record.Amount)} is not a decimal amount of USDC` } : { row };
}

// ---------------------------------------------------------------------------------------------
// Windows and the checkpoint

/** The ingestion checkpoint (a reserved row of the receipt table). */
export interface Checkpoint {
  /** Records up to here have been read at least once. */
  readonly windowEnd?: string;
  /** The oldest record still PENDING when last read: the next run reads from here at the latest. */
  readonly oldestPendingAt?: string;
}

export interface Window {
  readonly start: Date;
  readonly end: Date;
}

export interface WindowPlan {
  readonly chunks: readonly Window[];
  /** Set when the window was cut to `maxLookbackSeconds`: records before `start` are not re-read. */
  readonly cappedFrom?: Date;
}

/**
 * The time range one run reads: from the checkpoint minus the overlap (records appear late), or
 * from the oldest record still pending (to see it resolve), whichever is earlier, up to now; never
 * further back than `maxLookbackSeconds`; cut into chunks of `chunkSeconds`.
 */
export function planWindows(checkpoint: Checkpoint | undefined, nowMs: number, settings: Pick<IngestSettings, 'overlapSeconds' | 'initialLookbackSeconds' | 'maxLookbackSeconds' | 'chunkSeconds'>): WindowPlan {
  const floor = nowMs - Math.min(settings.maxLookbackSeconds, MAX_SETTLEMENT_WINDOW_SECONDS) * 1000;
  const candidates: number[] = [];
  const end = Date.parse(checkpoint?.windowEnd ?? '');
  if (Number.isFinite(end)) candidates.push(end - settings.overlapSeconds * 1000);
  else candidates.push(nowMs - settings.initialLookbackSeconds * 1000);
  const pending = Date.parse(checkpoint?.oldestPendingAt ?? '');
  if (Number.isFinite(pending)) candidates.push(pending);
  let start = Math.min(...candidates, nowMs);
  let cappedFrom: Date | undefined;
  if (start < floor) {
    cappedFrom = new Date(start);
    start = floor;
  }
  const chunks: Window[] = [];
  const step = Math.max(1, settings.chunkSeconds) * 1000;
  for (let from = start; from < nowMs; from += step) chunks.push({ start: new Date(from), end: new Date(Math.min(from + step, nowMs)) });
  if (chunks.length === 0) chunks.push({ start: new Date(start), end: new Date(nowMs) });
  return cappedFrom ? { chunks, cappedFrom } : { chunks };
}

/**
 * The checkpoint after the chunks up to `readThrough` were read. The end never moves back. While
 * this run has not yet passed the previous end, the previous oldest pending record is kept too:
 * the records between here and there have not been re-read yet.
 */
export function advanceCheckpoint(previous: Checkpoint | undefined, readThrough: Date, oldestPendingSeen: Date | undefined): Required<Pick<Checkpoint, 'windowEnd'>> & Checkpoint {
  const previousEnd = Date.parse(previous?.windowEnd ?? '');
  const behind = Number.isFinite(previousEnd) && readThrough.getTime() < previousEnd;
  const pending = [oldestPendingSeen?.getTime(), behind ? Date.parse(previous?.oldestPendingAt ?? '') : undefined].filter(
    (t): t is number => t !== undefined && Number.isFinite(t),
  );
  const windowEnd = new Date(behind ? previousEnd : readThrough.getTime()).toISOString();
  return pending.length > 0 ? { windowEnd, oldestPendingAt: new Date(Math.min(...pending)).toISOString() } : { windowEnd };
}

function iso(date: Date | undefined): string | undefined {
  return date instanceof Date && !Number.isNaN(date.getTime()) ? date.toISOString() : undefined;
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
