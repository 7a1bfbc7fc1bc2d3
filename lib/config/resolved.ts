/** The validated configuration (output of resolve.ts), what the constructs read. */
import type { AssetConfig, EdgeConfig, PricedRoute } from '../../lambda/core/config';
import type { ResolvedPasses } from './passes';
import type { BotControlInspectionLevel, CurrencyMode, Engine, OriginProtection, PaidCaching, SettledReceipt } from './settings';

export interface ResolvedRoute extends PricedRoute {
  /** Price in atomic units of the asset. */
  readonly amount: string;
  /** Upper-case method, or undefined for every method. */
  readonly method?: string;
  /** The path glob, lower-case (matching is case-insensitive). */
  readonly path: string;
}

export interface WafPricing {
  /** `BASE` or `BASE_SEPOLIA` (AWS::WAFv2::WebACL PaymentNetwork.Chain). */
  readonly chain: 'BASE' | 'BASE_SEPOLIA';
  /** Decimal USDC string, e.g. `"0.001"`. */
  readonly basePrice: string;
  /** One per route, same order: the route's price = base × multiplier. */
  readonly multipliers: readonly number[];
  /** One list per route, one entry per `priceBy` rule: its price's multiplier, undefined for `free` and `refuse`. */
  readonly ruleMultipliers: readonly (readonly (number | undefined)[])[];
  readonly currencyMode: CurrencyMode;
}

/**
 * Validated configuration with every default filled in (resolveX402Config), what the constructs
 * read; the public X402Config class carries it.
 */
export interface ResolvedConfig {
  readonly engine: Engine;
  readonly network: string;
  readonly networkName: string;
  readonly payTo: string;
  readonly asset: AssetConfig;
  readonly facilitator: EdgeConfig['facilitator'];
  readonly chainRpc?: EdgeConfig['chainRpc'];
  /** When a settled payment's receipt is written (edge engine). */
  readonly settledReceipt: SettledReceipt;
  readonly maxTimeoutSeconds: number;
  readonly routes: readonly ResolvedRoute[];
  readonly eligibleBotCategories: readonly string[];
  readonly eligibleBotSignals: readonly string[];
  readonly freeBotNames: readonly string[];
  readonly freeBotCategories: readonly string[];
  readonly botControlInspectionLevel: BotControlInspectionLevel;
  readonly rateLimit?: number;
  readonly paidCaching: PaidCaching;
  readonly originRequestHeaders: readonly string[];
  readonly originProtection: OriginProtection;
  /** Request header our WAF rule inserts on payment-eligible traffic (after WAF's prefix). */
  readonly eligibilityHeader: string;
  /** Only for the waf engine. */
  readonly waf?: WafPricing;
  /** Passes on sale (edge engine). */
  readonly passes?: ResolvedPasses;
  /** Payer addresses refused before any check, lower case (edge engine). */
  readonly deniedPayers?: readonly string[];
  /** Agents identified at the edge (edge engine). */
  readonly agents?: EdgeConfig['agents'];
  /** Settings that are valid but have no effect, worth a synth warning. */
  readonly warnings: readonly string[];
}

