/**
 * What a deployed reference stack tells the `cdk-x402` CLI through its CloudFormation outputs:
 * the names of the outputs, and the deployment summary (engine, network, wallet, priced routes)
 * the CLI shows in `status`. No CDK import: the stack writes it, the CLI reads it.
 */
import type { ResolvedConfig } from './config/resolved';

/** Output keys of the reference stack (`ReferenceStack`). */
export const ReferenceOutputs = {
  distributionDomainName: 'DistributionDomainName',
  webAclArn: 'WebAclArn',
  receiptTableName: 'ReceiptTableName',
  dashboardName: 'DashboardName',
  /** The origin secret (x402:originProtection=secret-header): what the origin's check reads. */
  originSecretArn: 'OriginSecretArn',
  /** JSON {@link DeploymentSummary}. */
  deployment: 'X402Deployment',
} as const;

/** The deployed configuration in brief (JSON in the `X402Deployment` output). */
export interface DeploymentSummary {
  readonly engine: 'edge' | 'waf';
  /** CAIP-2. */
  readonly network: string;
  readonly payTo: string;
  readonly asset: { readonly address: string; readonly symbol: string; readonly decimals: number };
  /** waf engine. */
  readonly currencyMode?: 'TEST' | 'REAL';
  /** waf engine: the base price (decimal USDC) every PriceMultiplier multiplies. */
  readonly basePrice?: string;
  /** Priced routes in precedence order, `amount` in atomic units of the asset. */
  readonly routes: ReadonlyArray<{ readonly pattern: string; readonly amount: string }>;
  /** Set when routes were left out to keep the output small (CloudFormation limits output values). */
  readonly routesTruncated?: boolean;
}

/** CloudFormation output values are limited in size; the summary stays below this. */
export const MAX_SUMMARY_CHARS = 4000;

export function deploymentSummary(config: ResolvedConfig): DeploymentSummary {
  const base = {
    engine: config.engine,
    network: config.network,
    payTo: config.payTo,
    asset: { address: config.asset.address, symbol: config.asset.symbol, decimals: config.asset.decimals },
    ...(config.waf ? { currencyMode: config.waf.currencyMode, basePrice: config.waf.basePrice } : {}),
  };
  const routes = config.routes.map((r) => ({ pattern: r.pattern, amount: r.amount }));
  for (let kept = routes.length; kept >= 0; kept--) {
    const summary: DeploymentSummary = kept === routes.length ? { ...base, routes } : { ...base, routes: routes.slice(0, kept), routesTruncated: true };
    if (JSON.stringify(summary).length <= MAX_SUMMARY_CHARS) return summary;
  }
  return { ...base, routes: [], routesTruncated: true };
}

/** The summary from an output value, or undefined when it is missing or not one. */
export function parseDeploymentSummary(text: string | undefined): DeploymentSummary | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as DeploymentSummary;
    return value && (value.engine === 'edge' || value.engine === 'waf') && Array.isArray(value.routes) ? value : undefined;
  } catch {
    return undefined;
  }
}
