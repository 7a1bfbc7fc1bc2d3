/**
 * `cdk-x402 status`: what is deployed and whether it charges. The web ACL (GetWebACL) tells the
 * engine, whether charging is on, and for the waf engine the network, wallet, base price and each
 * route's multiplier; the stack's `X402Deployment` output adds the route patterns and, for the edge
 * engine, the prices; the checkpoint row of the receipt table tells the last ingestion (waf).
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetWebACLCommand, type WebACL } from '@aws-sdk/client-wafv2';
import { knownNetwork } from '../lambda/core/networks';
import { formatAtomicUnits } from '../lambda/core/price';
import { RECEIPT_PARTITION_KEY, WAF_INGEST_CHECKPOINT_ID } from '../lambda/core/receipt';
import { checkpointFromItem, type IngestCheckpointRow } from '../lambda/ingest/dynamo-settlement-store';
import type { DeploymentSummary } from '../lib/deployment-outputs';
import type { Session, TargetOptions } from './context';
import { CliError } from './errors';
import { ago, table } from './format';
import { describeWebAcl, type SwitchRule } from './waf-rules';

export interface RouteStatus {
  readonly route: string;
  /** Decimal USD (USDC) or atomic units with the asset, when known. */
  readonly price?: string;
  readonly amount?: string;
  /** waf engine. */
  readonly multiplier?: string;
  readonly charging?: boolean;
}

export interface StatusResult {
  readonly webAcl: { readonly arn: string; readonly name?: string; readonly description?: string };
  readonly foundBy: string;
  readonly engine: 'edge' | 'waf';
  /** `on`, `off`, `partial` (some routes), or `unknown` (no cdk-x402 switch found). */
  readonly charging: string;
  readonly network?: { readonly caip2: string; readonly name: string; readonly wafChain?: string; readonly currencyMode?: string };
  readonly wallet?: string;
  readonly basePrice?: string;
  readonly routes: readonly RouteStatus[];
  readonly receiptTable?: { readonly name: string; readonly region: string };
  readonly ingestion?: IngestCheckpointRow & { readonly state: 'ok' | 'failing' | 'never-ran' | 'unknown'; readonly note?: string };
  readonly problems: readonly string[];
  readonly notes: readonly string[];
}

const CHAINS: Record<string, string> = { BASE: 'eip155:8453', BASE_SEPOLIA: 'eip155:84532' };

export async function status(session: Session, _options: TargetOptions): Promise<StatusResult> {
  const target = await session.target({ webAcl: true, summary: true });
  const arn = target.webAclArn!;
  session.progress(`Reading web ACL ${arn}…`);
  const { WebACL: acl } = await session.aws({ operation: 'GetWebACL', resource: `web ACL ${arn}`, region: 'us-east-1' }, () =>
    session.deps.clients.waf().send(new GetWebACLCommand({ ARN: arn, Scope: 'CLOUDFRONT' })),
  );
  if (!acl) throw new CliError(`GetWebACL returned no web ACL for ${arn}`, 1);
  const state = describeWebAcl(acl);
  const summary = target.summary;
  const notes: string[] = [];
  if (!summary) notes.push('no X402Deployment stack output (pass --stack of a reference stack to see route patterns and edge prices)');

  const network = networkOf(acl, summary);
  const payment = acl.MonetizationConfig?.CryptoConfig?.PaymentNetworks?.[0];
  const basePrice = payment?.Prices?.[0]?.Amount ?? summary?.basePrice;
  const routes = state.engine === 'waf' ? wafRoutes(state.switches, basePrice, summary) : edgeRoutes(summary);

  let ingestion: StatusResult['ingestion'];
  let receiptTable: StatusResult['receiptTable'];
  if (target.tableName) {
    receiptTable = { name: target.tableName, region: session.region };
    if (state.engine === 'waf') ingestion = await readIngestion(session, target.tableName);
  } else if (state.engine === 'waf') {
    notes.push('receipt table unknown (pass --table or --stack): last ingestion not shown');
  }
  if (state.engine === 'edge') notes.push('edge engine: the verifier writes receipts as it settles (no ingestion)');

  return {
    webAcl: { arn, name: acl.Name, description: acl.Description },
    foundBy: target.foundBy,
    engine: state.engine,
    charging: state.charging,
    ...(network ? { network } : {}),
    ...(payment?.WalletAddress ?? summary?.payTo ? { wallet: payment?.WalletAddress ?? summary?.payTo } : {}),
    ...(basePrice && state.engine === 'waf' ? { basePrice } : {}),
    routes,
    ...(receiptTable ? { receiptTable } : {}),
    ...(ingestion ? { ingestion } : {}),
    problems: state.problems,
    notes,
  };
}

function networkOf(acl: WebACL, summary: DeploymentSummary | undefined): StatusResult['network'] {
  const payment = acl.MonetizationConfig?.CryptoConfig?.PaymentNetworks?.[0];
  const caip2 = (payment?.Chain && CHAINS[payment.Chain]) ?? summary?.network;
  if (!caip2) return undefined;
  return {
    caip2,
    name: knownNetwork(caip2)?.displayName ?? caip2,
    ...(payment?.Chain ? { wafChain: payment.Chain } : {}),
    ...(acl.MonetizationConfig?.CurrencyMode ?? summary?.currencyMode ? { currencyMode: acl.MonetizationConfig?.CurrencyMode ?? summary?.currencyMode } : {}),
  };
}

/** waf: price = base × the rule's multiplier (also while paused: the label keeps it). */
function wafRoutes(switches: readonly SwitchRule[], basePrice: string | undefined, summary: DeploymentSummary | undefined): RouteStatus[] {
  return switches
    .filter((s) => s.kind === 'monetize')
    .map((s) => {
      const rule = s as Extract<SwitchRule, { kind: 'monetize' }>;
      const routePattern = summary?.routes[rule.routeNumber - 1]?.pattern;
      const pattern = routePattern === undefined ? `route ${rule.routeNumber} (${rule.name})` : rule.ruleNumber === undefined ? routePattern : `${routePattern} priceBy[${rule.ruleNumber - 1}]`;
      const price = basePrice ? multiplyDecimal(basePrice, Number(rule.multiplier)) : undefined;
      return { route: pattern, ...(price ? { price } : {}), multiplier: rule.multiplier, charging: rule.charging };
    });
}

function edgeRoutes(summary: DeploymentSummary | undefined): RouteStatus[] {
  if (!summary) return [];
  const usdc = knownNetwork(summary.network)?.usdc.address.toLowerCase() === summary.asset.address.toLowerCase();
  return summary.routes.map((r) => ({
    route: r.pattern,
    amount: r.amount,
    price: usdc ? formatAtomicUnits(r.amount, summary.asset.decimals) : `${r.amount} atomic ${summary.asset.symbol}`,
  }));
}

/** "0.001" × 10 → "0.01", without floating point. */
function multiplyDecimal(decimal: string, factor: number): string {
  const [whole, fraction = ''] = decimal.split('.');
  const scaled = BigInt(whole + fraction) * BigInt(factor);
  return formatAtomicUnits(scaled.toString(), fraction.length);
}

async function readIngestion(session: Session, tableName: string): Promise<StatusResult['ingestion']> {
  session.progress(`Reading the ingestion checkpoint in ${tableName}…`);
  const { Item } = await session.aws({ operation: 'GetItem', resource: `receipt table ${tableName}` }, () =>
    session.deps.clients.dynamo(session.region).send(new GetItemCommand({ TableName: tableName, Key: { [RECEIPT_PARTITION_KEY]: { S: WAF_INGEST_CHECKPOINT_ID } } })),
  );
  if (!Item) return { state: 'never-ran', note: 'no checkpoint yet: the ingestion has not completed a run (it runs every few minutes after deploy)' };
  const row = checkpointFromItem(Item);
  return { ...row, state: row.lastRunStatus === 'error' ? 'failing' : row.lastRunStatus === 'ok' ? 'ok' : 'unknown' };
}

// ---------------------------------------------------------------------------------------------
// Text output

export function formatStatus(s: StatusResult, nowMs: number): string {
  const rows: Array<[string, string]> = [];
  rows.push(['web ACL', `${s.webAcl.name ?? '?'} (${s.webAcl.arn})`]);
  rows.push(['engine', s.engine === 'waf' ? 'waf (AWS WAF Monetize verifies and settles)' : 'edge (Lambda@Edge verifier + x402 facilitator)']);
  if (s.network) rows.push(['network', `${s.network.name} (${s.network.caip2}${s.network.wafChain ? `, WAF chain ${s.network.wafChain}` : ''}${s.network.currencyMode ? `, currency mode ${s.network.currencyMode}` : ''})`]);
  if (s.wallet) rows.push(['wallet', s.wallet]);
  if (s.basePrice) rows.push(['base price', `$${s.basePrice}`]);
  const switches = s.engine === 'waf' ? `${s.routes.filter((r) => r.charging).length}/${s.routes.length} Monetize rules charging` : 'x402-payment-eligible inserts the eligibility header';
  rows.push(['charging', s.charging === 'on' ? `on (${switches})` : s.charging === 'off' ? 'off (`cdk-x402 toggle on` to resume)' : s.charging === 'partial' ? `partial (${switches})` : 'unknown (no cdk-x402 rule found)']);
  if (s.receiptTable) rows.push(['receipts', `table ${s.receiptTable.name} (${s.receiptTable.region})`]);
  if (s.ingestion) {
    const i = s.ingestion;
    const text = i.state === 'never-ran'
      ? i.note!
      : `last success ${i.lastSuccessAt ?? 'never'} (${ago(i.lastSuccessAt, nowMs)}); last run ${i.lastRunStatus ?? '?'} at ${i.lastRunAt ?? '?'}; records read through ${i.windowEnd ?? '?'}` +
        (i.oldestPendingAt ? `; oldest pending ${i.oldestPendingAt}` : '') +
        (i.state === 'failing' ? `\nFAILING (${i.consecutiveFailures ?? '?'} run(s) in a row): ${i.lastError}` : '');
    rows.push(['ingestion', text]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  const out = rows.map(([k, v]) => `${k.padEnd(width)}  ${v.split('\n').join(`\n${' '.repeat(width + 2)}`)}`);
  if (s.routes.length > 0) {
    out.push('', s.engine === 'waf'
      ? table(['ROUTE', 'PRICE', 'MULTIPLIER', 'STATE'], s.routes.map((r) => [r.route, r.price ? `$${r.price}` : '?', `×${r.multiplier}`, r.charging ? 'charging' : 'counting (off)']), [1, 2])
      : table(['ROUTE', 'PRICE'], s.routes.map((r) => [r.route, /^\d/.test(r.price ?? '') && !/atomic/.test(r.price!) ? `$${r.price}` : r.price ?? '?'])));
  }
  for (const p of s.problems) out.push(`Problem: ${p}`);
  for (const n of s.notes) out.push(`Note: ${n}`);
  return out.join('\n');
}
