/**
 * What cdk-x402 can be told: the construct props, each also the CDK context key `x402:<field>`
 * (see context-keys.ts). Validated by resolve.ts into the configuration every construct takes.
 */
import type { PricedRoute } from '../../lambda/core/config';

/** `edge`: our Lambda@Edge verifier settles through an x402 facilitator. `waf`: AWS WAF's native Monetize action. */
export type X402Engine = 'edge' | 'waf';
/** WAF monetization: `TEST` settles on testnets (Base Sepolia), `REAL` on mainnets (Base). */
export type CurrencyMode = 'TEST' | 'REAL';
/** Bot Control inspection level: `COMMON` (self-identifying bots) or `TARGETED` (adds fingerprinting, ML). */
export type BotControlInspectionLevel = 'COMMON' | 'TARGETED';
/**
 * How paid cache behaviors cache. `payment-keyed`: the cache key includes the payment (edge engine:
 * the payment id viewer-request derives; waf engine: the `payment-signature` and `x-payment`
 * headers), so every payment is a cache miss (and settles) while unpaid traffic (humans, free
 * routes) keeps the CDN cache. `disabled`: the managed CachingDisabled policy.
 */
export type PaidCaching = 'payment-keyed' | 'disabled';
/**
 * How a built distribution's origin is kept from being reached around CloudFront (see
 * lib/origin-protection.ts). `secret-header`: HTTP origins get a rotated secret header that the
 * origin checks (S3 with origin access control and VPC origins need nothing). `none`: nothing is
 * added, and synth warns about an HTTP origin.
 */
export type OriginProtection = 'secret-header' | 'none';

/** One priced route, long form (the short form is just the price string). */
export interface RouteSettings {
  /** `"$0.001"` (USD of a USD stablecoin) or an integer of atomic units (`"1000"`). */
  readonly price: string;
  /** Shown to agents in the 402. @default '' */
  readonly description?: string;
  /** MIME type of the paid resource, shown in the 402. @default '' */
  readonly mimeType?: string;
  /** Lifetime of a payment authorization for this route. @default x402:maxTimeoutSeconds */
  readonly maxTimeoutSeconds?: number;
}

/** Route pattern (`[METHOD ]/path`, `*` one segment, `**` any depth) → price, in precedence order. */
export type RoutesSetting = Readonly<Record<string, string | RouteSettings>> | readonly PricedRoute[];

/** The token payments are made in (EIP-3009), with its EIP-712 domain. */
export interface AssetSettings {
  readonly address: string;
  readonly name: string;
  readonly version: string;
  readonly decimals: number;
  /** @default 'USDC' for a network's USDC, else 'tokens' */
  readonly symbol?: string;
}

/**
 * Everything cdk-x402 can be told. Each field is also the context key `x402:<field>`.
 * Only `payTo` and `routes` are required.
 */
export interface X402Settings {
  /** @default 'edge' */
  readonly engine?: X402Engine;
  /** CAIP-2 network id. @default 'eip155:84532' (Base Sepolia) */
  readonly network?: string;
  /** Checksummed (EIP-55) address receiving the payments. */
  readonly payTo?: string;
  /** @default the USDC of the network */
  readonly asset?: AssetSettings;
  /** x402 facilitator (edge engine). @default 'https://x402.org/facilitator' on testnets; the CDP facilitator with {@link cdpApiKeySecret}; else required on mainnets */
  readonly facilitatorUrl?: string;
  /**
   * Secrets Manager secret (name in us-east-1, or full ARN) holding a Coinbase CDP secret API key
   * as JSON `{"apiKeyId": "...", "apiKeySecret": "..."}`; the edge functions read it at run time to
   * sign each call to the CDP facilitator. Only its id is baked into the bundle.
   * @default - no facilitator authentication
   */
  readonly cdpApiKeySecret?: string;
  /** Bound on the facilitator's /verify in the viewer-request (5 s budget in all). @default 3000 */
  readonly verifyTimeoutMs?: number;
  /** Bound on the facilitator's /settle in the origin-response (30 s budget). @default 20000 */
  readonly settleTimeoutMs?: number;
  /** Default lifetime of a payment authorization, in seconds. @default 120 */
  readonly maxTimeoutSeconds?: number;
  readonly routes?: RoutesSetting;
  /** Bot Control categories that must pay. @default ['ai', 'http_library', 'scraping_framework'] */
  readonly eligibleBotCategories?: readonly string[];
  /** Bot Control signals that make a request payment-eligible. @default ['non_browser_user_agent'] */
  readonly eligibleBotSignals?: readonly string[];
  /**
   * Verified bots that pass free even in an eligible category: Bot Control bot names (`googlebot`)
   * or `category:<name>`. @default ['category:search_engine']
   */
  readonly freeBots?: readonly string[];
  /** @default 'COMMON' */
  readonly botControlInspectionLevel?: BotControlInspectionLevel;
  /** Requests per 5 minutes per IP for payment-eligible traffic; over it, WAF answers 429. @default - no limit */
  readonly rateLimit?: number;
  /** waf engine. @default 'TEST' on testnets, 'REAL' on mainnets */
  readonly currencyMode?: CurrencyMode;
  /** waf engine base price; every route price must be base × 1..100. @default the largest common step of the prices */
  readonly basePrice?: string;
  /** @default 'payment-keyed' */
  readonly paidCaching?: PaidCaching;
  /** Viewer headers forwarded to the origin on paywalled behaviors (besides the payment hand-off). */
  readonly originRequestHeaders?: readonly string[];
  /** @default 'secret-header' */
  readonly originProtection?: OriginProtection;
}

/** The reference stack's own settings, on top of {@link X402Settings}. */
export interface ReferenceStackSettings extends X402Settings {
  /** Domain name of the origin the reference distribution fronts. */
  readonly origin?: string;
  /** @default 'CdkX402' */
  readonly stackName?: string;
  /** @default 'us-east-1' */
  readonly region?: string;
}
