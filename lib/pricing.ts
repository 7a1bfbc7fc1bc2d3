/**
 * The configuration schema of cdk-x402: one definition for the flat `x402:*` CDK context keys and
 * for the typed construct props, validated at synth time with messages that name the key, the bad
 * value and the fix. Synth-time only: nothing here runs at the edge.
 *
 * Two steps: {@link settingsFromContext} turns context values (strings on the command line, JSON in
 * cdk.json) into {@link X402Settings}; {@link resolveX402Config} validates settings (from context
 * or written as props) into the {@link X402Config} every construct takes.
 */
import { keccak_256 } from '@noble/hashes/sha3';
import { DEFAULT_ELIGIBILITY_HEADER, type AssetConfig, type EdgeConfig, type FacilitatorAuth, type PricedRoute } from '../lambda/core/config';
import { CDP_FACILITATOR, isCdpFacilitatorUrl } from '../lambda/core/facilitators';
import { PAYMENT_ID_HEADER, PENDING_SETTLEMENT_HEADER } from '../lambda/core/handoff';
import { evmChainId, knownNetwork } from '../lambda/core/networks';
import { PaymentHeaders } from '../lambda/core/header-names';
import { formatAtomicUnits, priceToAtomicUnits } from '../lambda/core/price';
import { routePatternError } from '../lambda/core/routes';
import { analyzePaths } from './route-overlap';
import { sampleAddress } from './sample-addresses';

// ---------------------------------------------------------------------------------------------
// Settings (input)

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

// ---------------------------------------------------------------------------------------------
// Schema (one table: parsing, unknown-key detection, and the README reference all read it)

type ValueKind = 'string' | 'integer' | 'list' | 'object' | 'routes';

export interface ContextKeySpec {
  readonly key: `x402:${string}`;
  /** Name of the matching construct prop. */
  readonly prop: keyof ReferenceStackSettings;
  readonly kind: ValueKind;
  /** Default, as written in the README. */
  readonly default: string;
  readonly description: string;
  /** Which engine reads it; `reference` = only the reference stack. */
  readonly appliesTo: 'both' | 'edge' | 'waf' | 'reference';
}

export const DEFAULT_NETWORK = 'eip155:84532';
export const PUBLIC_TEST_FACILITATOR = 'https://x402.org/facilitator';
export { CDP_FACILITATOR };
/** Where the edge functions look up a secret given by name. */
const DEFAULT_SECRET_REGION = 'us-east-1';
export const DEFAULT_ELIGIBLE_BOT_CATEGORIES = ['ai', 'http_library', 'scraping_framework'] as const;
export const DEFAULT_ELIGIBLE_BOT_SIGNALS = ['non_browser_user_agent'] as const;
export const DEFAULT_FREE_BOTS = ['category:search_engine'] as const;
export const DEFAULT_ORIGIN_REQUEST_HEADERS = ['accept', 'accept-language', 'content-type', 'origin', 'referer', 'user-agent'] as const;
export const DEFAULT_REFERENCE_STACK_NAME = 'CdkX402';
export const DEFAULT_REFERENCE_REGION = 'us-east-1';

export const CONTEXT_KEYS: readonly ContextKeySpec[] = [
  { key: 'x402:engine', prop: 'engine', kind: 'string', default: 'edge', appliesTo: 'both', description: '`edge` (Lambda@Edge verifier + x402 facilitator) or `waf` (AWS WAF native Monetize action)' },
  { key: 'x402:network', prop: 'network', kind: 'string', default: DEFAULT_NETWORK, appliesTo: 'both', description: 'CAIP-2 network: `eip155:84532` Base Sepolia, `eip155:8453` Base (waf: only these two)' },
  { key: 'x402:payTo', prop: 'payTo', kind: 'string', default: '(required)', appliesTo: 'both', description: 'EIP-55 checksummed address that receives the payments' },
  { key: 'x402:asset', prop: 'asset', kind: 'object', default: 'USDC of the network', appliesTo: 'edge', description: 'token `{address, name, version, decimals, symbol}` (EIP-3009; name/version of its EIP-712 domain)' },
  { key: 'x402:facilitatorUrl', prop: 'facilitatorUrl', kind: 'string', default: `\`${PUBLIC_TEST_FACILITATOR}\` on testnets`, appliesTo: 'edge', description: 'x402 facilitator base URL (https); required on mainnets' },
  { key: 'x402:cdpApiKeySecret', prop: 'cdpApiKeySecret', kind: 'string', default: '(none)', appliesTo: 'edge', description: 'Secrets Manager secret (name in us-east-1 or ARN) with the CDP API key `{"apiKeyId","apiKeySecret"}`; makes the CDP facilitator the default' },
  { key: 'x402:verifyTimeoutMs', prop: 'verifyTimeoutMs', kind: 'integer', default: '3000', appliesTo: 'edge', description: 'bound on /verify inside the viewer-request (500..4000)' },
  { key: 'x402:settleTimeoutMs', prop: 'settleTimeoutMs', kind: 'integer', default: '20000', appliesTo: 'edge', description: 'bound on /settle inside the origin-response (1000..25000)' },
  { key: 'x402:maxTimeoutSeconds', prop: 'maxTimeoutSeconds', kind: 'integer', default: '120', appliesTo: 'edge', description: 'default lifetime of a payment authorization (30..3600 s)' },
  { key: 'x402:routes', prop: 'routes', kind: 'routes', default: '(required)', appliesTo: 'both', description: 'pattern → price (`"$0.001"` or atomic units) or `{price, description, mimeType, maxTimeoutSeconds}`; first match wins; `GET /x` prices GET and HEAD of /x, and the edge refuses (405) other methods there' },
  { key: 'x402:eligibleBotCategories', prop: 'eligibleBotCategories', kind: 'list', default: DEFAULT_ELIGIBLE_BOT_CATEGORIES.join(','), appliesTo: 'both', description: 'Bot Control categories that must pay' },
  { key: 'x402:eligibleBotSignals', prop: 'eligibleBotSignals', kind: 'list', default: DEFAULT_ELIGIBLE_BOT_SIGNALS.join(','), appliesTo: 'both', description: 'Bot Control signals that make a request payment-eligible' },
  { key: 'x402:freeBots', prop: 'freeBots', kind: 'list', default: DEFAULT_FREE_BOTS.join(','), appliesTo: 'both', description: 'verified bots that pass free: bot names (`googlebot`) or `category:<name>`' },
  { key: 'x402:botControlInspectionLevel', prop: 'botControlInspectionLevel', kind: 'string', default: 'COMMON', appliesTo: 'both', description: '`COMMON` or `TARGETED` (more detection, higher WAF cost)' },
  { key: 'x402:rateLimit', prop: 'rateLimit', kind: 'integer', default: '(none)', appliesTo: 'both', description: 'requests per 5 min per IP for payment-eligible traffic, then 429 (10..2000000000)' },
  { key: 'x402:currencyMode', prop: 'currencyMode', kind: 'string', default: 'TEST on testnets, REAL on mainnets', appliesTo: 'waf', description: '`TEST` or `REAL`; must agree with the network' },
  { key: 'x402:basePrice', prop: 'basePrice', kind: 'string', default: 'largest common step of the prices', appliesTo: 'waf', description: 'WAF base price (`"$0.001"`, min $0.001, 3 decimals); every route = base × 1..100' },
  { key: 'x402:paidCaching', prop: 'paidCaching', kind: 'string', default: 'payment-keyed', appliesTo: 'both', description: '`payment-keyed` (cache key includes the payment: the derived payment id with the edge engine, the payment headers with waf) or `disabled` (CachingDisabled)' },
  { key: 'x402:originRequestHeaders', prop: 'originRequestHeaders', kind: 'list', default: DEFAULT_ORIGIN_REQUEST_HEADERS.join(','), appliesTo: 'both', description: 'viewer headers forwarded to the origin on paywalled behaviors (max 9)' },
  { key: 'x402:originProtection', prop: 'originProtection', kind: 'string', default: 'secret-header', appliesTo: 'both', description: '`secret-header` (HTTP origins get a rotated secret header the origin checks) or `none` (synth warns: the origin can be reached around CloudFront)' },
  { key: 'x402:origin', prop: 'origin', kind: 'string', default: '(required)', appliesTo: 'reference', description: 'domain name of the origin behind the reference distribution' },
  { key: 'x402:stackName', prop: 'stackName', kind: 'string', default: DEFAULT_REFERENCE_STACK_NAME, appliesTo: 'reference', description: 'name of the reference stack' },
  { key: 'x402:region', prop: 'region', kind: 'string', default: DEFAULT_REFERENCE_REGION, appliesTo: 'reference', description: 'region of the reference stack (edge functions and the web ACL always go to us-east-1)' },
];

// ---------------------------------------------------------------------------------------------
// Errors

export interface ConfigProblem {
  /** The context key (`x402:payTo`); the construct prop has the same name without the prefix. */
  readonly key: string;
  readonly value: unknown;
  readonly problem: string;
  readonly fix: string;
}

/** Thrown at synth for invalid configuration: lists every problem, each with its fix. */
export class X402ConfigError extends Error {
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(
      `Invalid cdk-x402 configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}; ` +
        'context key x402:<name> = construct prop <name>):\n' +
        problems.map((p) => `  - ${p.key} = ${show(p.value)}: ${sentence(p.problem)}\n    Fix: ${sentence(p.fix)}`).join('\n'),
    );
    this.name = 'X402ConfigError';
  }
}

function sentence(text: string): string {
  return /[.?!]$/.test(text) ? text : `${text}.`;
}

function show(value: unknown): string {
  if (value === undefined) return '(not set)';
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

class Problems {
  readonly list: ConfigProblem[] = [];
  add(key: string, value: unknown, problem: string, fix: string): void {
    this.list.push({ key, value, problem, fix });
  }
  throwIfAny(): void {
    if (this.list.length > 0) throw new X402ConfigError(this.list);
  }
}

// ---------------------------------------------------------------------------------------------
// Context → settings

/**
 * Reads the `x402:*` keys of a CDK context (`app.node.getAllContext()`): strings from `-c` are
 * parsed (numbers, JSON objects, JSON arrays or comma-separated lists), cdk.json values taken as
 * they are. Unknown `x402:*` keys are errors (a typo must not silently drop a setting).
 */
export function settingsFromContext(context: Readonly<Record<string, unknown>>): ReferenceStackSettings {
  const problems = new Problems();
  const settings: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(context)) {
    if (!key.startsWith('x402:')) continue;
    const spec = CONTEXT_KEYS.find((s) => s.key === key);
    if (!spec) {
      const near = closestKey(key);
      problems.add(key, raw, 'is not a cdk-x402 setting', near ? `did you mean ${near}?` : `use one of ${CONTEXT_KEYS.map((s) => s.key).join(', ')}`);
      continue;
    }
    if (raw === undefined || raw === null || raw === '') continue;
    const value = parseContextValue(spec, raw, problems);
    if (value !== undefined) settings[spec.prop] = value;
  }
  problems.throwIfAny();
  return settings as ReferenceStackSettings;
}

function parseContextValue(spec: ContextKeySpec, raw: unknown, problems: Problems): unknown {
  switch (spec.kind) {
    case 'string':
      if (typeof raw === 'string') return raw.trim();
      problems.add(spec.key, raw, 'must be a string', `write it as a string, e.g. -c ${spec.key}=${spec.default}`);
      return undefined;
    case 'integer': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
      if (Number.isSafeInteger(n)) return n;
      problems.add(spec.key, raw, 'must be an integer', `e.g. -c ${spec.key}=${/^\d+$/.test(spec.default) ? spec.default : '100'}`);
      return undefined;
    }
    case 'list': {
      let value = raw;
      if (typeof value === 'string') {
        const text = value.trim();
        if (text.startsWith('[')) value = parseJson(spec, text, problems);
        else return text.split(',').map((s) => s.trim()).filter((s) => s !== '');
      }
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.map((v: string) => v.trim());
      if (value !== undefined) problems.add(spec.key, raw, 'must be a list of strings', `write a JSON array or a comma-separated list, e.g. -c ${spec.key}=${spec.default}`);
      return undefined;
    }
    case 'object':
    case 'routes': {
      const value = typeof raw === 'string' ? parseJson(spec, raw.trim(), problems) : raw;
      if (value === undefined) return undefined;
      if (typeof value === 'object' && value !== null && (spec.kind === 'routes' || !Array.isArray(value))) return value;
      problems.add(spec.key, raw, 'must be a JSON object', spec.kind === 'routes' ? `e.g. -c '${spec.key}={"/articles/*":"$0.001"}'` : 'see the configuration reference in the README');
      return undefined;
    }
  }
}

function parseJson(spec: ContextKeySpec, text: string, problems: Problems): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    problems.add(spec.key, text, `is not valid JSON (${(error as Error).message})`, 'quote the whole value for your shell, e.g. -c \'x402:routes={"/articles/*":"$0.001"}\'');
    return undefined;
  }
}

function closestKey(key: string): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const spec of CONTEXT_KEYS) {
    const distance = levenshtein(key.toLowerCase(), spec.key.toLowerCase());
    if (!best || distance < best.distance) best = { key: spec.key, distance };
  }
  return best && best.distance <= 4 ? best.key : undefined;
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

// ---------------------------------------------------------------------------------------------
// Resolved configuration (output)

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
  readonly currencyMode: CurrencyMode;
}

/** Validated configuration, the input of every construct. Build it with {@link resolveX402Config}. */
export interface X402Config {
  readonly engine: X402Engine;
  readonly network: string;
  readonly networkName: string;
  readonly payTo: string;
  readonly asset: AssetConfig;
  readonly facilitator: EdgeConfig['facilitator'];
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
  /** Settings that are valid but have no effect, worth a synth warning. */
  readonly warnings: readonly string[];
}

/** Bot Control categories known when this was written (others are accepted with a warning). */
export const KNOWN_BOT_CATEGORIES = [
  'advertising', 'ai', 'archiver', 'content_fetcher', 'email_client', 'http_library', 'link_checker',
  'miscellaneous', 'monitoring', 'scraping_framework', 'search_engine', 'security', 'seo', 'social_media',
] as const;
export const KNOWN_BOT_SIGNALS = ['automated_browser', 'known_bot_data_center', 'non_browser_user_agent'] as const;

const WAF_CHAINS: Record<string, { chain: WafPricing['chain']; mode: CurrencyMode }> = {
  'eip155:8453': { chain: 'BASE', mode: 'REAL' },
  'eip155:84532': { chain: 'BASE_SEPOLIA', mode: 'TEST' },
};
/** WAF prices have at most 3 decimals and a $0.001 minimum; 100 is the largest PriceMultiplier. */
const WAF_PRICE_DECIMALS = 3;
const WAF_MAX_MULTIPLIER = 100;
const WAF_MAX_ROUTES = 40;
/** CloudFront's default quota of headers per origin request policy, one of which is the hand-off. */
const MAX_ORIGIN_REQUEST_HEADERS = 9;

/** Validates settings (from context or props) and fills in defaults. Throws {@link X402ConfigError}. */
export function resolveX402Config(settings: X402Settings): X402Config {
  const problems = new Problems();
  const warnings: string[] = [];

  const engine = oneOf(problems, 'x402:engine', settings.engine, ['edge', 'waf'] as const, 'edge');
  const network = settings.network ?? DEFAULT_NETWORK;
  const known = knownNetwork(network);
  const chainId = evmChainId(network);
  if (chainId === undefined) {
    problems.add('x402:network', network, 'is not an EVM network in CAIP-2 form (eip155:<chainId>)', 'use eip155:84532 (Base Sepolia) or eip155:8453 (Base)');
  } else if (engine === 'waf' && !WAF_CHAINS[network]) {
    problems.add('x402:network', network, 'is not a network AWS WAF monetization settles on', 'with x402:engine=waf use eip155:84532 (Base Sepolia, TEST) or eip155:8453 (Base, REAL)');
  }

  const payTo = checkAddress(
    problems,
    'x402:payTo',
    settings.payTo,
    'set the wallet address that receives payments: -c x402:payTo=0xYourChecksummedAddress on the command line, or "x402:payTo": "0x..." in the context of cdk.json',
  );
  const sample = payTo === undefined ? undefined : sampleAddress(payTo);
  if (sample && !isTestnet(known)) {
    problems.add(
      'x402:payTo',
      payTo,
      `is ${sample}, printed in cdk-x402's README or tests, and x402:network ${network} is not a testnet cdk-x402 knows: real payments would go to whoever holds that address's key`,
      'set the address of your own wallet',
    );
  }

  const asset = resolveAsset(problems, settings.asset, known, engine, warnings);
  const facilitator = resolveFacilitator(problems, settings, engine, known, warnings);
  const maxTimeoutSeconds = intInRange(problems, 'x402:maxTimeoutSeconds', settings.maxTimeoutSeconds, 120, 30, 3600, 'the agent signs an authorization valid this long');

  const routes = asset ? resolveRoutes(problems, settings.routes, asset, engine, maxTimeoutSeconds) : [];

  const eligibleBotCategories = nameList(problems, 'x402:eligibleBotCategories', settings.eligibleBotCategories ?? DEFAULT_ELIGIBLE_BOT_CATEGORIES, KNOWN_BOT_CATEGORIES, warnings);
  const eligibleBotSignals = nameList(problems, 'x402:eligibleBotSignals', settings.eligibleBotSignals ?? DEFAULT_ELIGIBLE_BOT_SIGNALS, KNOWN_BOT_SIGNALS, warnings);
  const freeBotNames: string[] = [];
  const freeBotCategories: string[] = [];
  for (const entry of settings.freeBots ?? DEFAULT_FREE_BOTS) {
    const category = /^category:(.*)$/.exec(entry);
    const name = category ? category[1] : entry;
    if (!/^[a-z0-9][a-z0-9_.-]{0,63}$/.test(name)) {
      problems.add('x402:freeBots', entry, 'is not a Bot Control bot name or category:<name>', 'write lower-case names as in the labels, e.g. googlebot or category:search_engine');
    } else (category ? freeBotCategories : freeBotNames).push(name);
  }
  for (const category of freeBotCategories) {
    if (eligibleBotCategories.includes(category)) {
      warnings.push(`x402:freeBots lists category:${category}, which is also eligible: its verified bots pass free, unverified ones pay`);
    }
  }

  const botControlInspectionLevel = oneOf(problems, 'x402:botControlInspectionLevel', settings.botControlInspectionLevel, ['COMMON', 'TARGETED'] as const, 'COMMON');
  const rateLimit = settings.rateLimit === undefined ? undefined : intInRange(problems, 'x402:rateLimit', settings.rateLimit, 0, 10, 2_000_000_000, 'WAF rate limits count requests per IP over 5 minutes');
  const paidCaching = oneOf(problems, 'x402:paidCaching', settings.paidCaching, ['payment-keyed', 'disabled'] as const, 'payment-keyed');
  const originRequestHeaders = resolveOriginRequestHeaders(problems, settings.originRequestHeaders ?? DEFAULT_ORIGIN_REQUEST_HEADERS);
  const originProtection = oneOf(problems, 'x402:originProtection', settings.originProtection, ['secret-header', 'none'] as const, 'secret-header');

  let waf: WafPricing | undefined;
  if (engine === 'waf') {
    waf = resolveWafPricing(problems, settings, network, routes, asset);
  } else {
    if (settings.currencyMode !== undefined) warnings.push('x402:currencyMode only applies to the waf engine; the edge engine settles on x402:network');
    if (settings.basePrice !== undefined) warnings.push('x402:basePrice only applies to the waf engine');
  }

  problems.throwIfAny();
  return {
    engine,
    network,
    networkName: known?.displayName ?? network,
    payTo: payTo!,
    asset: asset!,
    facilitator,
    maxTimeoutSeconds,
    routes,
    eligibleBotCategories,
    eligibleBotSignals,
    freeBotNames,
    freeBotCategories,
    botControlInspectionLevel,
    rateLimit,
    paidCaching,
    originRequestHeaders,
    originProtection,
    eligibilityHeader: DEFAULT_ELIGIBILITY_HEADER,
    waf,
    warnings,
  };
}

/** The configuration baked into the Lambda@Edge bundles. */
export function toEdgeConfig(config: X402Config, receiptTable: { readonly tableName: string; readonly region: string }): EdgeConfig {
  return {
    network: config.network,
    payTo: config.payTo,
    asset: config.asset,
    facilitator: config.facilitator,
    routes: config.routes.map((r) => stripUndefined({ pattern: r.pattern, price: r.price, description: r.description, mimeType: r.mimeType, maxTimeoutSeconds: r.maxTimeoutSeconds })),
    eligibilityHeader: config.eligibilityHeader,
    receiptTable: { tableName: receiptTable.tableName, region: receiptTable.region },
    maxTimeoutSeconds: config.maxTimeoutSeconds,
  };
}

function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

// ---------------------------------------------------------------------------------------------
// Addresses (EIP-55)

/**
 * The EIP-55 checksummed form of a 20-byte hex address. cdk-x402 insists on checksummed addresses
 * because a typo in `payTo` sends real money to an address nobody controls; EIP-55 lets a random
 * typo through only about once in 4000. keccak-256 comes from @noble/hashes (audited, no
 * dependencies, the same code viem uses at runtime), since Node's `sha3-256` is not Keccak.
 */
export function toChecksumAddress(address: string): string {
  const lower = address.slice(2).toLowerCase();
  const hash = Buffer.from(keccak_256(lower)).toString('hex');
  let out = '0x';
  for (let i = 0; i < lower.length; i++) out += parseInt(hash[i], 16) >= 8 ? lower[i].toUpperCase() : lower[i];
  return out;
}

/** Why a string is not an acceptable EVM address, or undefined. */
export function addressProblem(value: string): { problem: string; fix?: string } | undefined {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) return { problem: 'is not an EVM address (0x followed by 40 hex digits)' };
  if (/^0x0{40}$/.test(value)) return { problem: 'is the zero address: payments sent there are burned' };
  const checksummed = toChecksumAddress(value);
  if (value === checksummed) return undefined;
  if (value === value.toLowerCase() || value.slice(2) === value.slice(2).toUpperCase()) {
    return {
      problem: 'has no EIP-55 checksum (all one case), so a typo could not be detected',
      fix: `copy the checksummed address from your wallet; if the address is right as typed, its checksummed form is ${checksummed}`,
    };
  }
  return { problem: 'fails its EIP-55 checksum: at least one character is mistyped', fix: 'copy the address again from your wallet; do not edit it by hand' };
}

function checkAddress(problems: Problems, key: string, value: unknown, missingFix: string): string | undefined {
  if (value === undefined || value === '') {
    problems.add(key, value, 'is required', missingFix);
    return undefined;
  }
  if (typeof value !== 'string') {
    problems.add(key, value, 'must be a string', missingFix);
    return undefined;
  }
  const issue = addressProblem(value);
  if (issue) {
    problems.add(key, value, issue.problem, issue.fix ?? missingFix);
    return undefined;
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Pieces

function oneOf<T extends string>(problems: Problems, key: string, value: unknown, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  problems.add(key, value, `must be one of ${allowed.join(', ')}`, `e.g. -c ${key}=${fallback}`);
  return fallback;
}

function intInRange(problems: Problems, key: string, value: unknown, fallback: number, min: number, max: number, why: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    problems.add(key, value, `must be an integer from ${min} to ${max} (${why})`, `choose a value in ${min}..${max}`);
    return fallback;
  }
  return value;
}

function nameList(problems: Problems, key: string, value: readonly string[], known: readonly string[], warnings: string[]): string[] {
  if (!Array.isArray(value)) {
    problems.add(key, value, 'must be a list of names', `e.g. -c ${key}=${known.slice(0, 2).join(',')}`);
    return [];
  }
  const out: string[] = [];
  for (const name of value) {
    if (typeof name !== 'string' || !/^[a-z][a-z0-9_]{0,63}$/.test(name)) {
      problems.add(key, name, 'is not a Bot Control label name', `use lower-case names as they appear in the labels: ${known.join(', ')}`);
    } else {
      if (!known.includes(name)) warnings.push(`${key}: "${name}" is not a Bot Control name known to cdk-x402 (${known.join(', ')}); check the spelling`);
      if (!out.includes(name)) out.push(name);
    }
  }
  return out;
}

function resolveAsset(
  problems: Problems,
  value: AssetSettings | undefined,
  known: ReturnType<typeof knownNetwork>,
  engine: X402Engine,
  warnings: string[],
): AssetConfig | undefined {
  if (value === undefined) {
    if (known) return { ...known.usdc, symbol: 'USDC' };
    problems.add('x402:asset', value, 'is required on a network cdk-x402 has no USDC address for', 'set {"address":"0x…","name":"<EIP-712 name>","version":"<EIP-712 version>","decimals":6}');
    return undefined;
  }
  if (typeof value !== 'object' || value === null) {
    problems.add('x402:asset', value, 'must be an object', 'set {"address":"0x…","name":"…","version":"…","decimals":6}');
    return undefined;
  }
  const before = problems.list.length;
  const address = checkAddress(problems, 'x402:asset.address', value.address, 'set the token contract address');
  if (typeof value.name !== 'string' || value.name.trim() === '') {
    problems.add('x402:asset.name', value.name, 'is required (the token\'s EIP-712 domain name)', 'read it from the token contract\'s name() / eip712Domain(), e.g. "USDC"');
  }
  if (typeof value.version !== 'string' || value.version.trim() === '') {
    problems.add('x402:asset.version', value.version, 'is required (the token\'s EIP-712 domain version)', 'read it from the token contract\'s version() / eip712Domain(), e.g. "2"');
  }
  if (typeof value.decimals !== 'number' || !Number.isInteger(value.decimals) || value.decimals < 0 || value.decimals > 36) {
    problems.add('x402:asset.decimals', value.decimals, 'must be an integer from 0 to 36', 'read it from the token contract\'s decimals(), e.g. 6 for USDC');
  }
  if (problems.list.length > before || !address) return undefined;
  const isKnownUsdc = known !== undefined && address.toLowerCase() === known.usdc.address.toLowerCase();
  if (engine === 'waf' && !isKnownUsdc) {
    problems.add('x402:asset', value, 'is not the USDC of the network, and AWS WAF monetization settles only in USDC', 'remove x402:asset (the waf engine always uses USDC)');
  }
  if (isKnownUsdc && (value.name !== known!.usdc.name || value.version !== known!.usdc.version || value.decimals !== known!.usdc.decimals)) {
    problems.add('x402:asset', value, `is ${known!.displayName} USDC but its EIP-712 domain/decimals differ (${known!.usdc.name}, version ${known!.usdc.version}, ${known!.usdc.decimals} decimals): signatures would not verify`, 'remove x402:asset to use the right values');
  }
  if (!isKnownUsdc && value.symbol === undefined) warnings.push('x402:asset has no symbol; 402 bodies will say "tokens"');
  return { address, name: value.name, version: value.version, decimals: value.decimals, symbol: value.symbol ?? (isKnownUsdc ? 'USDC' : 'tokens') };
}

/** Base Sepolia is the one testnet cdk-x402 knows; on any other network, payments may be real money. */
function isTestnet(known: ReturnType<typeof knownNetwork>): boolean {
  return known?.caip2 === 'eip155:84532';
}

function resolveFacilitator(
  problems: Problems,
  settings: X402Settings,
  engine: X402Engine,
  known: ReturnType<typeof knownNetwork>,
  warnings: string[],
): EdgeConfig['facilitator'] {
  const verifyTimeoutMs = intInRange(problems, 'x402:verifyTimeoutMs', settings.verifyTimeoutMs, 3000, 500, 4000, 'a viewer-request trigger has 5 s in all, DynamoDB included');
  const settleTimeoutMs = intInRange(problems, 'x402:settleTimeoutMs', settings.settleTimeoutMs, 20000, 1000, 25000, 'an origin-response trigger has 30 s in all');
  const testnet = known === undefined || isTestnet(known);
  let url = settings.facilitatorUrl;
  if (engine === 'waf') {
    if (url !== undefined) warnings.push('x402:facilitatorUrl has no effect with the waf engine: AWS verifies and settles payments itself');
    if (settings.cdpApiKeySecret !== undefined) warnings.push('x402:cdpApiKeySecret has no effect with the waf engine: AWS verifies and settles payments itself');
    return { url: url ?? PUBLIC_TEST_FACILITATOR, verifyTimeoutMs, settleTimeoutMs };
  }
  const auth = resolveCdpAuth(problems, settings.cdpApiKeySecret);
  if (url === undefined && auth) url = CDP_FACILITATOR;
  if (url === undefined) {
    if (!testnet) {
      problems.add(
        'x402:facilitatorUrl',
        url,
        `is required on ${known?.displayName ?? 'this network'}: the public facilitator ${PUBLIC_TEST_FACILITATOR} settles testnets only`,
        'set -c x402:cdpApiKeySecret=<secret with your CDP API key> for the Coinbase CDP facilitator, or -c x402:facilitatorUrl=https://<a facilitator that settles on this network> (see "Going live" in the README)',
      );
    }
    url = PUBLIC_TEST_FACILITATOR;
  } else {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (!parsed || parsed.protocol !== 'https:' || parsed.search !== '' || parsed.hash !== '') {
      problems.add('x402:facilitatorUrl', url, 'must be an https:// URL without query or fragment (Lambda@Edge calls it over the internet)', `e.g. -c x402:facilitatorUrl=${PUBLIC_TEST_FACILITATOR}`);
    } else {
      url = url.replace(/\/+$/, '');
      if (!testnet && url === PUBLIC_TEST_FACILITATOR) {
        problems.add('x402:facilitatorUrl', url, `settles testnets only, not ${known?.displayName}`, 'use a facilitator that settles on this network (see "Going live" in the README)');
      }
      const cdp = isCdpFacilitatorUrl(url);
      if (auth && !cdp) {
        problems.add(
          'x402:cdpApiKeySecret',
          settings.cdpApiKeySecret,
          `holds a Coinbase CDP API key, which cdk-x402 only ever sends to the CDP facilitator (${new URL(CDP_FACILITATOR).host}), but x402:facilitatorUrl is ${url}`,
          'remove x402:facilitatorUrl (the key makes the CDP facilitator the default), or remove x402:cdpApiKeySecret to use that facilitator without a CDP key',
        );
      }
      if (cdp && !auth) {
        problems.add(
          'x402:cdpApiKeySecret',
          undefined,
          'is required by the Coinbase CDP facilitator, which wants a JWT signed with a CDP API key on every call',
          'store the key in Secrets Manager as {"apiKeyId": "...", "apiKeySecret": "..."} and set -c x402:cdpApiKeySecret=<its name or ARN>',
        );
      }
    }
  }
  return auth ? { url, verifyTimeoutMs, settleTimeoutMs, auth } : { url, verifyTimeoutMs, settleTimeoutMs };
}

const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/;

function resolveCdpAuth(problems: Problems, secret: string | undefined): FacilitatorAuth | undefined {
  if (secret === undefined) return undefined;
  const arn = SECRET_ARN.exec(secret);
  if (arn) return { kind: 'cdp', secretId: secret, region: arn[1] };
  if (SECRET_NAME.test(secret) && !secret.startsWith('arn:')) return { kind: 'cdp', secretId: secret, region: DEFAULT_SECRET_REGION };
  problems.add(
    'x402:cdpApiKeySecret',
    secret,
    'is neither a Secrets Manager secret name nor a secret ARN',
    'use the secret\'s name (in us-east-1, e.g. x402/cdp-api-key) or its full ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-AbCdEf)',
  );
  return undefined;
}

function resolveRoutes(problems: Problems, value: RoutesSetting | undefined, asset: AssetConfig, engine: X402Engine, maxTimeoutSeconds: number): ResolvedRoute[] {
  const key = 'x402:routes';
  const example = `-c '${key}={"/articles/*":"$0.001"}'`;
  if (value === undefined) {
    problems.add(key, value, 'is required: without priced routes nothing is charged', `set at least one route, e.g. ${example}`);
    return [];
  }
  let entries: Array<[string, unknown]>;
  if (Array.isArray(value)) entries = value.map((r: PricedRoute) => [r?.pattern, r]);
  else if (typeof value === 'object' && value !== null) entries = Object.entries(value);
  else {
    problems.add(key, value, 'must be an object of pattern → price', `e.g. ${example}`);
    return [];
  }
  if (entries.length === 0) {
    problems.add(key, value, 'is empty: without priced routes nothing is charged', `set at least one route, e.g. ${example}`);
    return [];
  }
  if (engine === 'waf' && entries.length > WAF_MAX_ROUTES) {
    problems.add(key, `${entries.length} routes`, `has more routes than the waf engine supports (${WAF_MAX_ROUTES}: one Monetize rule each within the web ACL's capacity)`, 'merge routes with ** patterns, or use x402:engine=edge');
  }

  const routes: ResolvedRoute[] = [];
  for (const [pattern, raw] of entries) {
    const where = `${key}["${pattern}"]`;
    if (typeof pattern !== 'string') {
      problems.add(key, raw, 'has a route without a pattern', 'give every route a pattern like "/articles/*"');
      continue;
    }
    const patternIssue = routePatternError(pattern);
    if (patternIssue) {
      problems.add(where, pattern, `malformed route: ${patternIssue}`, 'write "[METHOD ]/path" with * for one path segment and ** for any depth, e.g. "GET /api/*"');
      continue;
    }
    const route = typeof raw === 'string' ? { price: raw } : (raw as Partial<RouteSettings>);
    if (typeof route !== 'object' || route === null || typeof route.price !== 'string') {
      problems.add(where, raw, 'needs a price', 'write "$0.001" or {"price":"$0.001","description":"…"}');
      continue;
    }
    const price = priceToAtomicUnits(route.price, asset.decimals);
    if ('error' in price) {
      problems.add(`${where}.price`, route.price, price.error, `write dollars with at most ${asset.decimals} decimals ("$0.001") or an integer of atomic units ("1000")`);
      continue;
    }
    if (route.description !== undefined && (typeof route.description !== 'string' || route.description.length > 500)) {
      problems.add(`${where}.description`, route.description, 'must be a string of at most 500 characters', 'shorten it');
    }
    if (route.mimeType !== undefined && (typeof route.mimeType !== 'string' || !/^[\w.+-]+\/[\w.+-]+$/.test(route.mimeType))) {
      problems.add(`${where}.mimeType`, route.mimeType, 'is not a MIME type', 'e.g. "text/html" or "application/json"');
    }
    if (route.maxTimeoutSeconds !== undefined) {
      intInRange(problems, `${where}.maxTimeoutSeconds`, route.maxTimeoutSeconds, maxTimeoutSeconds, 30, 3600, 'the authorization lifetime');
    }
    if (engine === 'waf') {
      const step = 10n ** BigInt(Math.max(0, asset.decimals - WAF_PRICE_DECIMALS));
      const amount = BigInt(price.amount);
      if (amount < step) {
        problems.add(`${where}.price`, route.price, `is below the waf engine's minimum of $0.001`, 'charge at least "$0.001", or use x402:engine=edge for smaller prices');
        continue;
      }
      if (amount % step !== 0n) {
        problems.add(`${where}.price`, route.price, 'has more than 3 decimals, which AWS WAF prices cannot express', 'round it to $0.001 steps, or use x402:engine=edge');
        continue;
      }
    }
    const parts = pattern.trim().split(/\s+/);
    routes.push(
      stripUndefined({
        pattern: pattern.trim(),
        price: route.price.trim(),
        description: route.description,
        mimeType: route.mimeType,
        maxTimeoutSeconds: route.maxTimeoutSeconds,
        amount: price.amount,
        method: parts.length === 2 ? parts[0] : undefined,
        path: parts[parts.length - 1].toLowerCase(),
      }),
    );
  }
  checkOverlaps(problems, routes, engine);
  return routes;
}

function resolveOriginRequestHeaders(problems: Problems, value: readonly string[]): string[] {
  const key = 'x402:originRequestHeaders';
  const out: string[] = [];
  for (const raw of value) {
    const name = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
    if (!/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) {
      problems.add(key, raw, 'is not an HTTP header name', 'e.g. accept-language');
    } else if (name === 'authorization') {
      problems.add(key, raw, 'cannot be forwarded by name in a CloudFront origin request policy', 'remove it (CloudFront forwards Authorization only with an all-viewer-headers policy)');
    } else if ([PENDING_SETTLEMENT_HEADER, PAYMENT_ID_HEADER, PaymentHeaders.signatureV2, PaymentHeaders.signatureV1].includes(name)) {
      // Handled by the paywall: the hand-off and the cache key (derived payment id, or the payment headers for the waf engine).
    } else if (!out.includes(name)) out.push(name);
  }
  if (out.length > MAX_ORIGIN_REQUEST_HEADERS) {
    problems.add(key, value, `lists ${out.length} headers; an origin request policy holds 10 by default and one is the payment hand-off (${PENDING_SETTLEMENT_HEADER})`, `keep at most ${MAX_ORIGIN_REQUEST_HEADERS}`);
  }
  return out;
}

function resolveWafPricing(problems: Problems, settings: X402Settings, network: string, routes: readonly ResolvedRoute[], asset: AssetConfig | undefined): WafPricing | undefined {
  const target = WAF_CHAINS[network];
  if (!target || !asset) return undefined;
  const currencyMode = oneOf(problems, 'x402:currencyMode', settings.currencyMode, ['TEST', 'REAL'] as const, target.mode);
  if (currencyMode !== target.mode) {
    problems.add(
      'x402:currencyMode',
      currencyMode,
      `settles on ${currencyMode === 'REAL' ? 'mainnets (Base)' : 'testnets (Base Sepolia)'} but x402:network is ${network} (${knownNetwork(network)?.displayName})`,
      `set -c x402:currencyMode=${target.mode}, or change x402:network to ${currencyMode === 'REAL' ? 'eip155:8453' : 'eip155:84532'}`,
    );
  }
  if (routes.length === 0) return undefined;
  // Prices in thousandths of a dollar (WAF's resolution): integers from here on.
  const unit = 10n ** BigInt(Math.max(0, asset.decimals - WAF_PRICE_DECIMALS));
  const milli = routes.map((r) => BigInt(r.amount) / unit);
  let base: bigint;
  if (settings.basePrice !== undefined) {
    const parsed = typeof settings.basePrice === 'string' ? priceToAtomicUnits(settings.basePrice.startsWith('$') ? settings.basePrice : `$${settings.basePrice}`, asset.decimals) : { error: 'must be a string' };
    if ('error' in parsed || BigInt(parsed.amount) % unit !== 0n || BigInt(parsed.amount) < unit) {
      problems.add('x402:basePrice', settings.basePrice, 'must be a dollar amount of at least $0.001 with at most 3 decimals', 'e.g. -c x402:basePrice=$0.001');
      return undefined;
    }
    base = BigInt(parsed.amount) / unit;
  } else {
    base = milli.reduce((a, b) => gcd(a, b));
  }
  const multipliers: number[] = [];
  routes.forEach((route, i) => {
    const where = `x402:routes["${route.pattern}"].price`;
    if (milli[i] % base !== 0n) {
      problems.add(where, route.price, `is not a whole multiple of the waf base price $${formatMilli(base)}: WAF charges base × an integer 1..100`, `make it a multiple of $${formatMilli(base)}, or lower x402:basePrice to a common step such as $${formatMilli(gcd(base, milli[i]))}`);
      return;
    }
    const multiplier = milli[i] / base;
    if (multiplier > BigInt(WAF_MAX_MULTIPLIER)) {
      const minBase = (milli[i] + BigInt(WAF_MAX_MULTIPLIER) - 1n) / BigInt(WAF_MAX_MULTIPLIER);
      problems.add(
        where,
        route.price,
        `is ${multiplier} × the waf base price $${formatMilli(base)}, but a WAF PriceMultiplier is at most ${WAF_MAX_MULTIPLIER}`,
        `keep every price within 100 × the base: raise x402:basePrice to at least $${formatMilli(minBase)} (and price every route as a multiple of it), or use x402:engine=edge`,
      );
      return;
    }
    multipliers.push(Number(multiplier));
  });
  return { chain: target.chain, basePrice: formatMilli(base), multipliers, currencyMode };
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function formatMilli(milli: bigint): string {
  return formatAtomicUnits(milli.toString(), WAF_PRICE_DECIMALS);
}

// ---------------------------------------------------------------------------------------------
// Route overlap analysis
//
// Routes are tried in order and the first match prices the request, with one rule for methods
// (lambda/core/routes.ts matchRoute): a route for every method does not price a path that an
// earlier method-specific route matched, so the edge refuses (405) the methods that route does not
// list instead of selling them at the broader price. Two routes may overlap only when the earlier
// one is strictly more specific (an exception carved out of the later one). A later route that an
// earlier one fully covers can never match (shadowed); two routes that overlap partially make the
// price depend on their order by accident. Both fail synth, with an example path;
// lib/route-overlap.ts finds those paths exactly. The waf engine has no such refusal: there a
// method-specific route before a route for every method would sell its other methods at the
// broader price, so that shape fails synth too.

/** Methods a route prices (HEAD with GET, as the edge does); undefined for every method. */
function routeMethods(route: ResolvedRoute): readonly string[] | undefined {
  if (route.method === undefined) return undefined;
  return route.method === 'GET' ? ['GET', 'HEAD'] : [route.method];
}

function checkOverlaps(problems: Problems, routes: readonly ResolvedRoute[], engine: X402Engine): void {
  for (let j = 1; j < routes.length; j++) {
    for (let i = 0; i < j; i++) {
      const earlier = routes[i];
      const later = routes[j];
      const earlierMethods = routeMethods(earlier);
      const laterMethods = routeMethods(later);
      const methodsMeet = !earlierMethods || !laterMethods || laterMethods.some((m) => earlierMethods.includes(m));
      if (!methodsMeet) continue;
      const paths = analyzePaths(earlier.path, later.path);
      if (paths.both === undefined) continue;
      const where = `x402:routes["${later.pattern}"]`;
      if (engine === 'waf' && earlierMethods && !laterMethods) {
        const otherMethod = earlierMethods.includes('POST') ? 'GET' : 'POST';
        problems.add(
          where,
          later.pattern,
          `would price the methods other than ${earlier.method} of paths the earlier route "${earlier.pattern}" matches (e.g. ${otherMethod} ${paths.both}) at its own price: AWS WAF cannot refuse the methods a route does not list`,
          `make "${later.pattern}" method-specific (e.g. "${earlier.method} ${later.pattern}"), make "${earlier.pattern}" apply to every method, or use x402:engine=edge, which answers 405 to those methods`,
        );
        continue;
      }
      // A route for every method after a method-specific one is refused (405) on the shared paths
      // for the other methods, so only the paths matter; otherwise the later route's methods must
      // all be priced by the earlier one.
      const laterWithinEarlier = paths.onlyB === undefined && (!earlierMethods || !laterMethods || laterMethods.every((m) => earlierMethods.includes(m)));
      const earlierWithinLater = paths.onlyA === undefined;
      const sameMethods = earlier.method === later.method;
      if (laterWithinEarlier && earlierWithinLater && sameMethods) {
        problems.add(where, later.pattern, `duplicates the earlier route "${earlier.pattern}" (matching is case-insensitive)`, 'remove one of them');
      } else if (laterWithinEarlier) {
        const why = earlier.method && !later.method
          ? `the earlier route "${earlier.pattern}" matches every path it would, and the edge refuses (405) the methods other than ${earlier.method} there rather than sell them at another price`
          : `the earlier route "${earlier.pattern}" matches every request it would (first match wins)`;
        problems.add(where, later.pattern, `can never match: ${why}`, `move "${later.pattern}" above "${earlier.pattern}" if it is an exception, or remove it`);
      } else if (!earlierWithinLater) {
        problems.add(
          where,
          later.pattern,
          `overlaps the earlier route "${earlier.pattern}" (both match e.g. ${methodLabel(earlier, later)}${paths.both}) without either containing the other, so the price of such paths depends on their order`,
          'make the patterns disjoint, or add a more specific route for the shared paths above both',
        );
      }
      // earlierWithinLater only: an intended exception (specific before general). Fine.
    }
  }
}

function methodLabel(a: ResolvedRoute, b: ResolvedRoute): string {
  const method = a.method ?? b.method;
  return method ? `${method} ` : '';
}

// ---------------------------------------------------------------------------------------------
// Reference stack settings

export interface ReferenceStackConfig {
  readonly config: X402Config;
  readonly origin: string;
  readonly stackName: string;
  readonly region: string;
}

/** Validates the reference stack's settings and the x402 settings together: one error lists every problem. */
export function resolveReferenceStackSettings(settings: ReferenceStackSettings): ReferenceStackConfig {
  const problems = new Problems();
  let config: X402Config | undefined;
  try {
    config = resolveX402Config(settings);
  } catch (error) {
    if (!(error instanceof X402ConfigError)) throw error;
    problems.list.push(...error.problems);
  }
  const origin = settings.origin;
  if (origin === undefined || origin === '') {
    problems.add('x402:origin', origin, 'is required: the reference distribution needs an origin to put the paywall in front of', 'set the domain name of your site\'s origin, e.g. -c x402:origin=origin.example.com');
  } else if (typeof origin !== 'string' || !/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i.test(origin)) {
    problems.add('x402:origin', origin, 'is not a domain name', /^https?:\/\//i.test(String(origin)) ? `drop the scheme and path: -c x402:origin=${String(origin).replace(/^https?:\/\//i, '').split('/')[0]}` : 'e.g. -c x402:origin=origin.example.com');
  }
  const stackName = settings.stackName ?? DEFAULT_REFERENCE_STACK_NAME;
  if (typeof stackName !== 'string' || !/^[A-Za-z][A-Za-z0-9-]{0,100}$/.test(stackName)) {
    problems.add('x402:stackName', stackName, 'is not a valid CloudFormation stack name', 'start with a letter; use letters, digits and hyphens (at most 101 characters)');
  }
  const region = settings.region ?? DEFAULT_REFERENCE_REGION;
  if (typeof region !== 'string' || !/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region)) {
    problems.add('x402:region', region, 'is not an AWS region', `e.g. -c x402:region=${DEFAULT_REFERENCE_REGION}`);
  }
  problems.throwIfAny();
  return { config: config!, origin: origin as string, stackName, region };
}

/** The configuration reference table of the README (a test keeps the README equal to it). */
export function contextKeysMarkdown(): string {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  const value = (text: string) => (/^\(.*\)$/.test(text) || / /.test(text) ? text : `\`${text}\``);
  return [
    '| context key (= construct prop) | default | engine | what it sets |',
    '|---|---|---|---|',
    ...CONTEXT_KEYS.map((k) => `| \`${k.key}\` | ${cell(value(k.default))} | ${k.appliesTo} | ${cell(k.description)} |`),
  ].join('\n');
}
