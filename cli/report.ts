/**
 * `cdk-x402 report`: revenue by route, by payer and by day. From the receipt table (default; both
 * engines, the waf engine's rows written by the settlement ingestion), or `--source waf` from
 * AWS WAF's own revenue statistics (GetRevenueStatistics*, waf engine only).
 */
import { QueryCommand, ScanCommand, type AttributeValue, type QueryCommandInput, type ScanCommandInput } from '@aws-sdk/client-dynamodb';
import {
  GetRevenueStatisticsCommand,
  GetRevenueStatisticsSummaryCommand,
  GetRevenueStatisticsTimeSeriesCommand,
  GetWebACLCommand,
  type MonetizationFilter,
  type RevenuePathStatistics,
  type SourceStatistics,
  type DataPointEntry,
} from '@aws-sdk/client-wafv2';
import { BATCH_CHANNEL_PREFIX, BATCH_CLAIM_PREFIX, BATCH_SETTLE_PREFIX, RECEIPT_INDEXES, RECEIPT_PARTITION_KEY, RESERVED_PAYMENT_ID_PREFIX } from '../lambda/core/receipt';
import type { Session, TargetOptions } from './context';
import { CliError, ExitCode } from './errors';
import { batchRevenue, type BatchChannelBooks, type BatchRevenueLine, type BatchClaimLike, type BatchReceiptLike, type BatchSettleLike } from './batch-revenue';
import { table } from './format';
import { channelRevenue, revenueFromReceipts, usdcAtomic, wafLine, type ChannelRowLike, type ReceiptLike, type RevenueLine, type RevenueReport } from './revenue';

export interface ReportOptions extends TargetOptions {
  readonly since: Date;
  readonly until: Date;
  readonly source: 'table' | 'waf';
  readonly route?: string;
  readonly payer?: string;
  /** waf source: TEST or REAL statistics. @default the web ACL's currency mode */
  readonly currencyMode?: 'TEST' | 'REAL';
}

export async function report(session: Session, options: ReportOptions): Promise<RevenueReport> {
  if (options.until <= options.since) {
    throw new CliError(`--until (${options.until.toISOString()}) must be after --since (${options.since.toISOString()})`, ExitCode.usage);
  }
  if (options.source === 'waf' && (options.route !== undefined || options.payer !== undefined)) {
    throw new CliError('--route and --payer select receipt table rows; WAF\'s statistics cannot be filtered by them', ExitCode.usage, 'drop --source waf, or drop --route/--payer');
  }
  if (options.source === 'table' && options.currencyMode !== undefined) {
    throw new CliError('--currency-mode applies to --source waf only (the receipt table records the network of each payment)', ExitCode.usage, 'add --source waf, or drop --currency-mode');
  }
  return options.source === 'waf' ? reportFromWaf(session, options) : reportFromTable(session, options);
}

// ---------------------------------------------------------------------------------------------
// Receipt table

const FIELDS = ['status', 'engine', 'network', 'payer', 'amount', 'asset', 'route', 'createdAt', 'kind', 'passName', 'scheme', 'maxAmount', 'agent', 'intent', 'botCategory', 'botOrganization', 'batchChannelId', 'batchCumulative'] as const;
/** What the batch-settlement channel rows and their claim and settle history add (read by a whole-table report only). */
const CHANNEL_FIELDS = ['config', 'charged', 'totalClaimed', 'settledTo', 'channelId', 'previousTotalClaimed', 'claimTx', 'claimedAt', 'previousSettledTo', 'settleTx', 'settledAt'] as const;

async function reportFromTable(session: Session, options: ReportOptions): Promise<RevenueReport> {
  const target = await session.target({ table: true });
  const tableName = target.tableName!;
  const dynamo = session.deps.clients.dynamo(session.region);
  const names: Record<string, string> = {};
  names['#pk'] = RECEIPT_PARTITION_KEY;
  const values: Record<string, AttributeValue> = {
    ':since': { S: options.since.toISOString() },
    ':until': { S: options.until.toISOString() },
  };
  const filters: string[] = [];
  let base: { kind: 'Query'; input: QueryCommandInput } | { kind: 'Scan'; input: ScanCommandInput };
  // An index when the report is for one route or one payer; otherwise the whole table.
  const index = options.route !== undefined ? { ...RECEIPT_INDEXES.byRoute, value: options.route } : options.payer !== undefined ? { ...RECEIPT_INDEXES.byPayer, value: options.payer } : undefined;
  if (options.route !== undefined && options.payer !== undefined) {
    filters.push('#payer = :payer');
    values[':payer'] = { S: options.payer };
  }
  if (index) {
    values[':key'] = { S: index.value };
    base = {
      kind: 'Query',
      input: { TableName: tableName, IndexName: index.name, KeyConditionExpression: `#${index.partitionKey} = :key AND #createdAt BETWEEN :since AND :until` },
    };
  } else {
    values[':reserved'] = { S: RESERVED_PAYMENT_ID_PREFIX };
    values[':channel'] = { S: BATCH_CHANNEL_PREFIX };
    values[':claim'] = { S: BATCH_CLAIM_PREFIX };
    values[':settle'] = { S: BATCH_SETTLE_PREFIX };
    filters.push('((#createdAt BETWEEN :since AND :until AND NOT begins_with(#pk, :reserved)) OR begins_with(#pk, :channel) OR begins_with(#pk, :claim) OR begins_with(#pk, :settle))');
    base = { kind: 'Scan', input: { TableName: tableName } };
  }
  // A whole-table report also reads the batch-settlement channel rows (their totals are lifetime, not windowed).
  const fields = index ? FIELDS : [...FIELDS, ...CHANNEL_FIELDS];
  for (const f of fields) names[`#${f}`] = f;
  const projection = ['#pk', ...fields.map((f) => `#${f}`)].join(', ');
  const how = index ? `index ${index.name} of` : 'scanning';
  session.progress(`Reading receipts (${how} table ${tableName}, ${session.region}, ${options.since.toISOString()} → ${options.until.toISOString()})…`);
  const rows: Array<ReturnType<typeof receiptOf>> = [];
  const channels: ChannelRowLike[] = [];
  const books: BatchChannelBooks[] = [];
  const claims: BatchClaimLike[] = [];
  const settles: BatchSettleLike[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  let pages = 0;
  let read = 0;
  do {
    const common = {
      ...base.input,
      ProjectionExpression: projection,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ...(filters.length > 0 ? { FilterExpression: filters.join(' AND ') } : {}),
      ExclusiveStartKey: startKey,
    };
    const page = await session.aws({ operation: base.kind, resource: `receipt table ${tableName}` }, () =>
      base.kind === 'Query' ? dynamo.send(new QueryCommand(common as QueryCommandInput)) : dynamo.send(new ScanCommand(common as ScanCommandInput)),
    );
    pages++;
    read += page.ScannedCount ?? 0;
    for (const item of page.Items ?? []) {
      const id = item[RECEIPT_PARTITION_KEY]?.S ?? '';
      if (id.startsWith(BATCH_CHANNEL_PREFIX)) {
        channels.push(channelOf(item));
        books.push({ channelId: id.slice(BATCH_CHANNEL_PREFIX.length), totalClaimed: item.totalClaimed?.N ?? '0', settledTo: item.settledTo?.N ?? '0' });
      } else if (id.startsWith(BATCH_CLAIM_PREFIX)) claims.push(claimOf(item));
      else if (id.startsWith(BATCH_SETTLE_PREFIX)) settles.push(settleOf(item));
      else rows.push(receiptOf(item));
    }
    startKey = page.LastEvaluatedKey;
    if (startKey || pages > 1) session.progress(`  ${pages} page(s), ${read} row(s) read, ${rows.length} in the window…`);
  } while (startKey);
  // BETWEEN is inclusive; the window is [since, until).
  const result = revenueFromReceipts(rows, options.since, options.until);
  const batchReceipts = rows.flatMap((r) => (r.scheme === BATCH_SCHEME && r.batch ? [r.batch] : []));
  const batch = index ? undefined : batchRevenue(batchReceipts, { claims, settles, channels: books }, options.since, options.until);
  return {
    ...result,
    ...(channels.length > 0 ? { channels: channelRevenue(channels) } : {}),
    ...(batch && batch.receipts.length > 0 ? { batch } : {}),
    notes: [
      ...result.notes,
      ...(rows.length === 0 ? ['no receipts in this window'] : []),
      ...(index ? ['batch-settlement channels and their claims are left out of a report for one route or payer'] : []),
    ],
  };
}

function channelOf(item: Record<string, AttributeValue>): ChannelRowLike {
  let token = '';
  try {
    token = String((JSON.parse(item.config?.S ?? '{}') as { token?: unknown }).token ?? '');
  } catch {
    // A row without a readable config still counts, under an unknown asset.
  }
  const n = (name: string) => item[name]?.N ?? '0';
  return { token, charged: n('charged'), totalClaimed: n('totalClaimed'), settledTo: n('settledTo') };
}

const BATCH_SCHEME = 'batch-settlement';

function claimOf(item: Record<string, AttributeValue>): BatchClaimLike {
  return { channelId: item.channelId?.S ?? '', previousTotalClaimed: item.previousTotalClaimed?.N ?? '0', totalClaimed: item.totalClaimed?.N ?? '0', claimTx: item.claimTx?.S ?? '', claimedAt: item.claimedAt?.S ?? '' };
}

function settleOf(item: Record<string, AttributeValue>): BatchSettleLike {
  return {
    channelId: item.channelId?.S ?? '',
    previousSettledTo: item.previousSettledTo?.N ?? '0',
    settledTo: item.settledTo?.N ?? '0',
    ...(item.settleTx?.S ? { settleTx: item.settleTx.S } : {}),
    settledAt: item.settledAt?.S ?? '',
  };
}

function receiptOf(item: Record<string, AttributeValue>): ReceiptLike & { readonly batch?: BatchReceiptLike } {
  const text = (name: string) => item[name]?.S ?? '';
  return {
    status: text('status'), engine: text('engine') || undefined, network: text('network'), payer: text('payer'), amount: text('amount'), asset: text('asset'), route: text('route'), createdAt: text('createdAt'),
    ...(item.kind ? { kind: text('kind'), passName: text('passName') } : {}),
    ...(item.scheme ? { scheme: text('scheme'), maxAmount: text('maxAmount') } : {}),
    ...(item.agent ? { agent: text('agent') } : {}),
    ...(item.intent ? { intent: text('intent') } : {}),
    ...(item.botCategory ? { botCategory: text('botCategory') } : {}),
    ...(item.botOrganization ? { botOrganization: text('botOrganization') } : {}),
    ...(text('scheme') === BATCH_SCHEME
      ? { batch: { paymentId: text(RECEIPT_PARTITION_KEY), status: text('status'), network: text('network'), asset: text('asset'), route: text('route'), createdAt: text('createdAt'), amount: text('amount'), channelId: text('batchChannelId'), cumulative: item.batchCumulative?.S ?? item.batchCumulative?.N ?? '' } }
      : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// AWS WAF revenue statistics

async function reportFromWaf(session: Session, options: ReportOptions): Promise<RevenueReport> {
  const target = await session.target({ webAcl: true });
  const arn = target.webAclArn!;
  const waf = session.deps.clients.waf();
  let mode = options.currencyMode;
  if (!mode) {
    session.progress(`Reading the currency mode of web ACL ${arn}…`);
    const { WebACL } = await session.aws({ operation: 'GetWebACL', resource: `web ACL ${arn}`, region: 'us-east-1' }, () => waf.send(new GetWebACLCommand({ ARN: arn, Scope: 'CLOUDFRONT' })));
    if (!WebACL?.MonetizationConfig) {
      throw new CliError(`web ACL ${arn} has no MonetizationConfig: it is not a waf engine deployment, so WAF has no revenue statistics for it`, ExitCode.usage, 'drop --source waf to report from the receipt table (the edge engine writes it directly)');
    }
    mode = WebACL.MonetizationConfig.CurrencyMode ?? 'REAL';
  }
  const network = mode === 'TEST' ? 'eip155:84532' : 'eip155:8453';
  const common = {
    Scope: 'CLOUDFRONT' as const,
    Currency: 'USDC' as const,
    TimeWindow: { StartTime: options.since, EndTime: options.until },
    Filters: [{ Name: 'WebACLArn', Values: [arn] }, { Name: 'CurrencyMode', Values: [mode] }] satisfies MonetizationFilter[],
  };
  const ctx = (operation: string) => ({ operation, resource: `web ACL ${arn} (currency mode ${mode})`, region: 'us-east-1' });

  session.progress('Reading WAF revenue statistics: summary…');
  const summary = await session.aws(ctx('GetRevenueStatisticsSummary'), () => waf.send(new GetRevenueStatisticsSummaryCommand(common)));
  session.progress('  by path…');
  const paths = await pages<RevenuePathStatistics>(session, ctx('GetRevenueStatistics'), async (NextMarker) => {
    const page = await waf.send(new GetRevenueStatisticsCommand({ ...common, StatisticType: 'TOP_PATHS_BY_REVENUE', SortBy: 'REVENUE', SortOrder: 'DESC', NextMarker }));
    return { items: page.RevenuePathStatistics ?? [], next: page.NextMarker };
  });
  session.progress('  by bot…');
  const sources = await pages<SourceStatistics>(session, ctx('GetRevenueStatistics'), async (NextMarker) => {
    const page = await waf.send(new GetRevenueStatisticsCommand({ ...common, StatisticType: 'TOP_SOURCES_BY_REVENUE', GroupBy: 'NAME', SortBy: 'REVENUE', SortOrder: 'DESC', NextMarker }));
    return { items: page.SourceStatistics ?? [], next: page.NextMarker };
  });
  session.progress('  by day…');
  const days = await pages<DataPointEntry>(session, ctx('GetRevenueStatisticsTimeSeries'), async (NextMarker) => {
    const page = await waf.send(new GetRevenueStatisticsTimeSeriesCommand({ ...common, StatisticType: 'DATE_HISTOGRAM', Interval: 'DAILY', NextMarker }));
    return { items: page.DataPoints ?? [], next: page.NextMarker };
  });

  const breakdown = summary.RevenueBreakdown ?? {};
  const total = wafLine('total', breakdown.TotalAmount, breakdown.TotalSettled, network);
  const notes = ['by payer: not in WAF\'s statistics (use the receipt table: drop --source waf)'];
  if (mode === 'TEST') notes.unshift('currency mode TEST: testnet USDC (Base Sepolia), not real revenue');
  if (breakdown.TotalMonetizeServed !== undefined) notes.push(`${breakdown.TotalMonetizeServed} payment request(s) (402) served`);
  return {
    source: 'waf',
    since: options.since.toISOString(),
    until: options.until.toISOString(),
    totals: {
      payments: total.payments,
      usd: total.usd,
      amounts: total.amounts,
      byStatus: { settled: breakdown.TotalSettled ?? 0 },
      byEngine: { waf: breakdown.TotalSettled ?? 0 },
    },
    byRoute: paths.map((p) => wafLine(p.Path ?? '(unknown path)', p.Amount, p.RequestCount, network)),
    byPayer: [],
    byDay: days
      .map((d) => wafLine(d.Date ? d.Date.toISOString().slice(0, 10) : '(unknown day)', d.TotalAmount, d.SettledCount, network))
      .filter((line) => line.payments > 0 || usdcAtomic(line.usd) !== '0')
      .sort((a, b) => a.key.localeCompare(b.key)),
    bySource: sources.map((s) => wafLine(s.SourceName ?? s.GroupByValue ?? '(unknown bot)', s.Amount, s.RequestCount, network)),
    notes,
  };
}

async function pages<T>(session: Session, ctx: { operation: string; resource: string; region: string }, page: (marker?: string) => Promise<{ items: T[]; next?: string }>): Promise<T[]> {
  const all: T[] = [];
  let marker: string | undefined;
  do {
    const result = await session.aws(ctx, () => page(marker));
    all.push(...result.items);
    marker = result.next || undefined;
  } while (marker);
  return all;
}

// ---------------------------------------------------------------------------------------------
// Text output

/** What `report --by` can show alone: one of the report's groupings. */
export const REPORT_GROUPINGS = ['route', 'payer', 'agent', 'category', 'organization', 'intent', 'day'] as const;
export type ReportGrouping = (typeof REPORT_GROUPINGS)[number];

/** The report as text; `by`: only the totals and that grouping (default: every grouping the report has). */
export function formatReport(report: RevenueReport, where: string, by?: ReportGrouping): string {
  const out: string[] = [];
  out.push(`Revenue ${report.since} → ${report.until} (${where})`);
  const t = report.totals;
  const order = ['reserved', 'failed', 'released'];
  const others = Object.entries(t.byStatus)
    .filter(([s]) => s !== 'settled')
    .sort(([a], [b]) => (order.indexOf(a) + 1 || 99) - (order.indexOf(b) + 1 || 99) || a.localeCompare(b))
    .map(([s, n]) => `${n} ${s === 'reserved' ? 'pending' : s}`);
  out.push(`Settled: ${t.payments} payment(s)${t.usd !== undefined ? `, $${t.usd}` : ''}${others.length > 0 ? `   (not revenue: ${others.join(', ')})` : ''}`);
  for (const a of t.amounts) out.push(`  ${a.atomic} atomic units of ${a.label}${a.usd !== undefined ? ` = $${a.usd}` : ''}`);
  const section = (title: string, column: string, rows: readonly RevenueLine[], grouping?: ReportGrouping) => {
    if (by !== undefined && grouping !== by) return;
    if (rows.length === 0) {
      if (by !== undefined) out.push('', `${title}: none in this window${grouping === 'agent' || grouping === 'intent' ? ` (no settled receipt records its ${grouping}; see docs/identity.md)` : grouping === 'category' || grouping === 'organization' ? ` (no settled receipt records a verified bot's ${grouping}: only the features a priceBy condition names are forwarded; see docs/identity.md)` : ''}`);
      return;
    }
    out.push('', title);
    const body = rows.flatMap((line) =>
      (line.amounts.length > 0 ? line.amounts : [undefined]).map((a, i) => [i === 0 ? line.key : '', i === 0 ? String(line.payments) : '', a?.usd ?? '', a?.atomic ?? '0', a?.label ?? '']),
    );
    out.push(table([column, 'PAYMENTS', 'USD', 'ATOMIC', 'ASSET'], body, [1, 2, 3]));
  };
  section(report.source === 'waf' ? 'By path' : 'By route', report.source === 'waf' ? 'PATH' : 'ROUTE', report.byRoute, 'route');
  section('By payer', 'PAYER', report.byPayer, 'payer');
  section('By verified agent', 'AGENT', report.byAgent ?? [], 'agent');
  section('By verified bot category', 'CATEGORY', report.byBotCategory ?? [], 'category');
  section('By verified bot organization', 'ORGANIZATION', report.byBotOrganization ?? [], 'organization');
  section('By intent', 'INTENT', report.byIntent ?? [], 'intent');
  if (report.byPass && by === undefined) section('Passes sold', 'PASS', report.byPass);
  if (report.metered && by === undefined) {
    const m = report.metered;
    out.push('', 'Metered (upto)', `  ${m.payments} payment(s): ${m.revenueAtomic} of ${m.maximumAtomic} atomic units authorized, average fill ratio ${(m.averageFillRatio * 100).toFixed(1)}%, ${m.refusals} refused`);
  }
  if (report.bySource) section('By bot', 'BOT', report.bySource, by === 'agent' ? 'agent' : undefined);
  section('By day (UTC)', 'DAY', report.byDay, 'day');
  if (report.channels && by === undefined) {
    out.push('', `Batch-settlement channels (lifetime, ${report.channels.channels} channel(s))`);
    const body = report.channels.amounts.flatMap((a) => [
      ['served', a.usd?.served ?? '', a.servedAtomic, a.label],
      ['claimed', a.usd?.claimed ?? '', a.claimedAtomic, a.label],
      ['settled', a.usd?.settled ?? '', a.settledAtomic, a.label],
      ['outstanding', a.usd?.outstanding ?? '', a.outstandingAtomic, a.label],
    ]);
    out.push(table(['', 'USD', 'ATOMIC', 'ASSET'], body, [1, 2]));
  }
  if (report.batch && (by === undefined || by === 'route' || by === 'day')) {
    const money = (line: BatchRevenueLine, which: 'served' | 'claimed' | 'settled') => line.usd?.[which] ?? line[`${which}Atomic`];
    const rows = (lines: readonly BatchRevenueLine[]) => lines.map((l) => [l.key, String(l.requests), money(l, 'served'), money(l, 'claimed'), money(l, 'settled'), l.usd ? `USD, ${l.label}` : `atomic, ${l.label}`]);
    if (by !== 'day') out.push('', 'Batch settlement by route (served, claimed on chain, settled to payTo)', table(['ROUTE', 'REQUESTS', 'SERVED', 'CLAIMED', 'SETTLED', 'UNIT'], rows(report.batch.byRoute), [1, 2, 3, 4]));
    if (by !== 'route') out.push('', 'Batch settlement by day (UTC)', table(['DAY', 'REQUESTS', 'SERVED', 'CLAIMED', 'SETTLED', 'UNIT'], rows(report.batch.byDay), [1, 2, 3, 4]));
    out.push('', '  each receipt\'s claim and settle transactions: --json (batch.receipts)');
  }
  if (report.notes.length > 0) out.push('', ...report.notes.map((n) => `Note: ${n}`));
  return out.join('\n');
}
