/**
 * The context-key table: one definition for parsing (context.ts), unknown-key detection and the
 * README's configuration reference, with the defaults as written there.
 */
import { CDP_FACILITATOR } from '../../lambda/core/facilitators';
import type { ReferenceStackSettings } from './settings';

type ValueKind = 'string' | 'integer' | 'list' | 'object' | 'routes' | 'passes' | 'agents' | 'objects';

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
  { key: 'x402:receiverAuthorizer', prop: 'receiverAuthorizer', kind: 'string', default: 'from the facilitator\'s /supported', appliesTo: 'edge', description: 'the facilitator\'s receiver authorizer for batch-settlement routes (checksummed address, the `receiverAuthorizer` of its batch-settlement kind in /supported): pinned, their 402 never waits for /supported; a wrong one makes the facilitator refuse every deposit (docs/batch-settlement.md)' },
  { key: 'x402:rpcUrl', prop: 'rpcUrl', kind: 'string', default: '(none)', appliesTo: 'edge', description: 'https JSON-RPC endpoint of the network: a signature that does not recover to the payer is checked with `eth_getCode(from)`, and refused at the edge when the payer has no code (recommended; the URL is baked into the edge code)' },
  { key: 'x402:verifier', prop: 'verifier', kind: 'string', default: 'facilitator', appliesTo: 'edge', description: '`facilitator` (its /verify checks every payment) or `rpc`: an EOA payment is checked by simulating its transfer with one `eth_call` on x402:rpcUrl, so the facilitator is called once per payment (the settle), not twice' },
  { key: 'x402:rpcTimeoutMs', prop: 'rpcTimeoutMs', kind: 'integer', default: '500', appliesTo: 'edge', description: 'bound on each `eth_getCode` and `eth_call` of x402:rpcUrl (100..2000); unanswered, the payment goes to the facilitator' },
  { key: 'x402:settledReceipt', prop: 'settledReceipt', kind: 'string', default: 'before-release', appliesTo: 'edge', description: '`before-release` (a paid response waits for its settled receipt\'s write) or `after-release`: released once the write is sent, one round trip less per paid request; the function\'s next invocation confirms it, `cdk-x402 reconcile` closes it from the chain if the container is reclaimed first (docs/engines.md)' },
  { key: 'x402:verifyTimeoutMs', prop: 'verifyTimeoutMs', kind: 'integer', default: '3000', appliesTo: 'edge', description: 'bound on /verify inside the viewer-request (500..4000)' },
  { key: 'x402:settleTimeoutMs', prop: 'settleTimeoutMs', kind: 'integer', default: '20000', appliesTo: 'edge', description: 'bound on /settle inside the origin-response (1000..25000)' },
  { key: 'x402:maxTimeoutSeconds', prop: 'maxTimeoutSeconds', kind: 'integer', default: '120', appliesTo: 'edge', description: 'default lifetime of a payment authorization (30..3600 s)' },
  { key: 'x402:routes', prop: 'routes', kind: 'routes', default: '(required)', appliesTo: 'both', description: 'pattern → price (`"$0.001"` or atomic units) or `{price, description, mimeType, maxTimeoutSeconds, priceBy, discovery}` or, metered, `{scheme: "upto", maxPrice, usageMissing}` or, with payment channels, `{scheme: "batch-settlement", price, minDeposit, withdrawDelay}`; first match wins; `priceBy` prices by query, header, path segment, body size, verified agent, verified bot category or organization, or declared intent, or makes a verified agent free or refuses it (edge; the waf engine takes rules on verified bot category and organization only, as WAF rules of their own: docs/identity.md); `upto` (edge) settles the charge the origin reports up to `maxPrice` (docs/metering.md); `batch-settlement` (edge) takes one deposit, then a voucher per request checked at the edge without a facilitator call (docs/batch-settlement.md); `discovery` puts Bazaar metadata in the 402 (docs/discovery.md); `GET /x` prices GET and HEAD of /x, and the edge refuses (405) other methods there' },
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
  { key: 'x402:passes', prop: 'passes', kind: 'passes', default: '(none)', appliesTo: 'edge', description: 'name → `{price, duration, routes, quota?, metered?, description?}`: time-bound passes sold at `/.well-known/x402/pass/<name>` (duration 1m..31d; each route within a priced route; quota 1..10,000,000 requests per pass; `metered` required when the routes reach an upto route: true opens it unmetered, false leaves it paid per use), presented as `Authorization: Bearer <pass>` (docs/passes.md)' },
  { key: 'x402:passKeys', prop: 'passKeys', kind: 'objects', default: '(none)', appliesTo: 'edge', description: 'pass signing keys as `cdk-x402 pass-key create` prints them: `[{kid, publicKey, secret, retiredAt?}]`, one active; retired keys verify until their passes expire' },
  { key: 'x402:deniedPayers', prop: 'deniedPayers', kind: 'list', default: '(none)', appliesTo: 'edge', description: 'payer addresses refused with 403 `payer_denied` before any facilitator, RPC or table call (docs/security.md, "Denied payers")' },
  { key: 'x402:deniedPayersFile', prop: 'deniedPayersFile', kind: 'string', default: '(none)', appliesTo: 'edge', description: 'file of payer addresses to refuse, one a line, read at synth (relative to the CDK app) and baked in; `cdk-x402 denylist import <sdn.csv>` writes it from the OFAC SDN list' },
  { key: 'x402:agents', prop: 'agents', kind: 'agents', default: '(none)', appliesTo: 'edge', description: 'name → `{signatureAgent?, botName?}`: agents recorded by name on their receipts when verified, by Web Bot Auth at the edge (`signatureAgent`: the https origin of their key directory) or by AWS Bot Control (`botName`, with its `web_bot_auth:verified` label) (docs/identity.md)' },
  { key: 'x402:unknownAgents', prop: 'unknownAgents', kind: 'string', default: 'ignore', appliesTo: 'edge', description: '`ignore` (a Web Bot Auth signer not in x402:agents is not verified, its directory never fetched) or `verify` (fetched, bounded and cached; recorded by its host)' },
  { key: 'x402:origin', prop: 'origin', kind: 'string', default: '(required)', appliesTo: 'reference', description: 'domain name of the origin behind the reference distribution' },
  { key: 'x402:stackName', prop: 'stackName', kind: 'string', default: DEFAULT_REFERENCE_STACK_NAME, appliesTo: 'reference', description: 'name of the reference stack' },
  { key: 'x402:region', prop: 'region', kind: 'string', default: DEFAULT_REFERENCE_REGION, appliesTo: 'reference', description: 'region of the reference stack (edge functions and the web ACL always go to us-east-1)' },
];

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
