/**
 * One ingestion run: read the checkpoint → plan the window → page through ListSettlementRecords,
 * chunk by chunk → upsert each record → advance the checkpoint → record the outcome (metrics, log,
 * and the checkpoint row, so a failure stays visible until a run succeeds).
 */
import { ListSettlementRecordsCommand, type SettlementRecord, type WAFV2Client } from '@aws-sdk/client-wafv2';
import { emfRecord, IngestMetrics } from '../core/metrics';
import type { Clock, LogSink } from '../core/ports';
import type { DynamoSettlementStore } from './dynamo-settlement-store';
import { advanceCheckpoint, compileIngestRoutes, planWindows, toReceiptRow, type Window } from './settlement-records';
import type { IngestSettings } from './settings';

/** ListSettlementRecords returns at most 100 records per page. */
export const PAGE_LIMIT = 100;

export interface IngestPorts {
  /** A us-east-1 client: CLOUDFRONT-scope monetization lives there. */
  readonly waf: Pick<WAFV2Client, 'send'>;
  readonly store: Pick<DynamoSettlementStore, 'upsert' | 'readCheckpoint' | 'saveProgress' | 'recordSuccess' | 'recordFailure'>;
  readonly clock: Clock;
  readonly sleep: (ms: number) => Promise<void>;
  readonly log: LogSink;
  /** 0..1; backoff jitter. */
  readonly random: () => number;
  /** Milliseconds left before the Lambda timeout; no new chunk starts when too little is left. */
  readonly remainingMs?: () => number;
}

export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** About 30 s of waiting in the worst case before a run gives up (the next run starts over). */
export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 6, baseDelayMs: 500, maxDelayMs: 8000 };
/** Stop starting new chunks with less than this left (one chunk's pages and writes fit in it). */
const CHUNK_TIME_RESERVE_MS = 60_000;
/** Concurrent DynamoDB writes per page. */
const WRITE_CONCURRENCY = 8;

export interface IngestRunResult {
  readonly windows: number;
  readonly pages: number;
  readonly records: number;
  readonly created: number;
  readonly updated: number;
  readonly unchanged: number;
  /** Where the checkpoint now stands. */
  readonly windowEnd: string;
  readonly oldestPendingAt?: string;
  /** True when the run stopped early for lack of time (the next run continues). */
  readonly partial: boolean;
}

/**
 * AWS WAF models no throttling exception: a throttled call fails with the generic
 * `ThrottlingException` (the SDK marks it `$retryable.throttling`). Internal errors and 5xx are
 * transient too. Everything else (bad parameters, missing permissions) is not retried.
 */
export function isRetryable(error: unknown): boolean {
  const e = error as { name?: string; $retryable?: unknown; $fault?: string; $metadata?: { httpStatusCode?: number } };
  if (!e || typeof e !== 'object') return false;
  if (e.$retryable) return true;
  const transient = new Set([
    'ThrottlingException', 'Throttling', 'ThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded',
    'RequestThrottledException', 'ProvisionedThroughputExceededException', 'SlowDown',
    'WAFInternalErrorException', 'WAFUnavailableEntityException', 'InternalFailure', 'ServiceUnavailable', 'InternalServerError',
    'TimeoutError', 'RequestTimeout', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE',
  ]);
  if (e.name && transient.has(e.name)) return true;
  const status = e.$metadata?.httpStatusCode;
  return status === 429 || (status !== undefined && status >= 500);
}

/** Exponential backoff with full jitter; `onRetry` sees each wait. */
export async function withRetry<T>(
  what: string,
  call: () => Promise<T>,
  ports: Pick<IngestPorts, 'sleep' | 'random' | 'log'>,
  policy: RetryPolicy = DEFAULT_RETRY,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (attempt >= policy.maxAttempts || !isRetryable(error)) throw error;
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      const delayMs = Math.round(cap * ports.random());
      ports.log({ event: 'x402.ingest_retry', what, attempt, delayMs, error: describe(error) });
      await ports.sleep(delayMs);
    }
  }
}

/** Runs one ingestion. Throws after recording the failure (so the Lambda errors too and alarms see it). */
export async function ingestSettlements(settings: IngestSettings, webAclArn: string, ports: IngestPorts, retry: RetryPolicy = DEFAULT_RETRY): Promise<IngestRunResult> {
  const startedAt = new Date(ports.clock()).toISOString();
  const counts = { windows: 0, pages: 0, records: 0, created: 0, updated: 0, unchanged: 0 };
  try {
    const routes = compileIngestRoutes(settings);
    const previous = await withRetry('read checkpoint', () => ports.store.readCheckpoint(), ports, retry);
    const plan = planWindows(previous, ports.clock(), settings);
    if (plan.cappedFrom) {
      ports.log({
        event: 'x402.ingest_window_capped',
        wanted: plan.cappedFrom.toISOString(),
        start: plan.chunks[0].start.toISOString(),
        message: `records before ${plan.chunks[0].start.toISOString()} are not re-read (maxLookbackSeconds): pending ones there keep their last state`,
      });
    }
    let checkpoint = previous;
    let oldestPending: Date | undefined;
    let partial = false;
    for (const [i, window] of plan.chunks.entries()) {
      if (i > 0 && ports.remainingMs && ports.remainingMs() < CHUNK_TIME_RESERVE_MS) {
        partial = true;
        break;
      }
      const pendingHere = await ingestWindow(window, settings, webAclArn, routes, ports, retry, counts);
      if (pendingHere && (!oldestPending || pendingHere < oldestPending)) oldestPending = pendingHere;
      const next = advanceCheckpoint(checkpoint, window.end, oldestPending);
      await withRetry('save checkpoint', () => ports.store.saveProgress(next, webAclArn), ports, retry);
      checkpoint = next;
      counts.windows++;
    }
    const written = counts.created + counts.updated;
    await withRetry('record success', () => ports.store.recordSuccess(startedAt, written), ports, retry);
    const result: IngestRunResult = { ...counts, windowEnd: checkpoint!.windowEnd!, oldestPendingAt: checkpoint?.oldestPendingAt, partial };
    ports.log({ event: 'x402.ingest_done', ...result });
    ports.log(emfRecord({ [IngestMetrics.settlementRecordsIngested]: written, [IngestMetrics.ingestionErrors]: 0 }, {}, ports.clock()));
    return result;
  } catch (error) {
    const message = describe(error);
    ports.log({ event: 'x402.ingest_error', error: message, webAclArn, ...counts });
    ports.log(emfRecord({ [IngestMetrics.ingestionErrors]: 1 }, {}, ports.clock()));
    try {
      await ports.store.recordFailure(startedAt, message);
    } catch (recordError) {
      ports.log({ event: 'x402.ingest_error_not_recorded', error: describe(recordError) });
    }
    throw error;
  }
}

/** Pages through one window; returns the time of the oldest record still pending in it. */
async function ingestWindow(
  window: Window,
  settings: IngestSettings,
  webAclArn: string,
  routes: ReturnType<typeof compileIngestRoutes>,
  ports: IngestPorts,
  retry: RetryPolicy,
  counts: { pages: number; records: number; created: number; updated: number; unchanged: number },
): Promise<Date | undefined> {
  let marker: string | undefined;
  let oldestPending: Date | undefined;
  do {
    const page = await withRetry(
      'ListSettlementRecords',
      () =>
        ports.waf.send(
          new ListSettlementRecordsCommand({
            Scope: 'CLOUDFRONT',
            Currency: 'USDC',
            TimeWindow: { StartTime: window.start, EndTime: window.end },
            Filters: [
              { Name: 'WebACLArn', Values: [webAclArn] },
              { Name: 'CurrencyMode', Values: [settings.currencyMode] },
            ],
            Limit: PAGE_LIMIT,
            NextMarker: marker,
          }),
        ),
      ports,
      retry,
    );
    counts.pages++;
    // The filter already asks for this web ACL only; a record of another one is never ours.
    const records = (page.Settlements ?? []).filter((r) => !r.WebAclArn || r.WebAclArn === webAclArn);
    counts.records += records.length;
    await forEachLimited(records, WRITE_CONCURRENCY, async (record: SettlementRecord) => {
      const { row, amountProblem } = toReceiptRow(record, settings, routes);
      if (amountProblem) ports.log({ event: 'x402.ingest_unreadable_amount', paymentId: row.paymentId, problem: amountProblem });
      if (row.status === 'reserved') {
        // Whichever timestamp the window filters on, the next run's window starts before both.
        const at = new Date(Math.min(Date.parse(row.createdAt), Date.parse(row.updatedAt)));
        if (!oldestPending || at < oldestPending) oldestPending = at;
      }
      const outcome = await withRetry(`write ${row.paymentId}`, () => ports.store.upsert(row), ports, retry);
      counts[outcome]++;
    });
    marker = page.NextMarker || undefined;
  } while (marker);
  return oldestPending;
}

async function forEachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function describe(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return e && typeof e === 'object' ? `${e.name ?? 'Error'}: ${e.message ?? String(error)}` : String(error);
}
