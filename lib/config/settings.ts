/**
 * What cdk-x402 can be told: the construct props, each also the CDK context key `x402:<field>`
 * (context-keys.ts), with enum values equal to the context strings. Validated by resolve.ts into
 * the configuration every construct takes.
 */
import type { PricedRoute } from '../../lambda/core/config';

/** Which part of AWS charges the agents. */
export enum Engine {
  /** Our Lambda@Edge functions verify each payment and settle it through an x402 facilitator. */
  EDGE = 'edge',
  /** AWS WAF's native Monetize action issues the 402s and settles (Base and Base Sepolia, USDC). */
  WAF = 'waf',
}

/** Whether AWS WAF monetization settles real money (waf engine). */
export enum CurrencyMode {
  /** Settles on testnets (Base Sepolia). */
  TEST = 'TEST',
  /** Settles on mainnets (Base). */
  REAL = 'REAL',
}

/** How closely AWS Bot Control inspects requests (its price differs). */
export enum BotControlInspectionLevel {
  /** Bots that identify themselves. */
  COMMON = 'COMMON',
  /** Adds browser fingerprinting and machine learning (more detection, higher WAF cost). */
  TARGETED = 'TARGETED',
}

/** How paywalled cache behaviors cache. */
export enum PaidCaching {
  /**
   * The cache key includes the payment (edge engine: the payment id the viewer-request derives;
   * waf engine: the `payment-signature` and `x-payment` headers), so every payment is a cache miss
   * that settles, while unpaid traffic (humans, free routes) keeps the CDN cache.
   */
  PAYMENT_KEYED = 'payment-keyed',
  /** The managed CachingDisabled policy. */
  DISABLED = 'disabled',
}

/** How a built distribution's origin is kept from being reached around CloudFront (lib/origin-protection.ts). */
export enum OriginProtection {
  /**
   * HTTP origins get a rotated secret header that the origin checks; S3 origins with origin access
   * control and VPC origins need nothing.
   */
  SECRET_HEADER = 'secret-header',
  /** Nothing is added, and synth warns about an HTTP origin. */
  NONE = 'none',
}

/** Who checks on chain what the edge's local check cannot (balance, nonce unused), before the origin is asked (edge engine). */
export enum PaymentVerifier {
  /** The facilitator's /verify, for every payment. */
  FACILITATOR = 'facilitator',
  /**
   * An EOA payment whose signature the edge recovered is checked by simulating its transfer with
   * one `eth_call` on `rpcUrl` (what the facilitator's /verify itself simulates): one facilitator
   * call per payment (the settle) instead of two. Smart-wallet payments, and any payment the RPC
   * does not answer in time, go to the facilitator's /verify. A facilitator outage is then met at
   * settlement, after the origin answered: the content is withheld and nothing is charged.
   */
  RPC = 'rpc',
}

/** When the edge writes a settled payment's receipt (edge engine; exact and upto routes). */
export enum SettledReceipt {
  /** Before the content is released: the response waits for the write's answer (one more round trip to the table's region). */
  BEFORE_RELEASE = 'before-release',
  /**
   * Once the write is sent: the content is released without waiting for its answer, which the
   * function's next invocation confirms (retried, else logged as `x402.receipt_fallback`); a
   * container reclaimed first leaves the reservation, which `cdk-x402 reconcile` settles from the
   * chain. One round trip less per paid request.
   */
  AFTER_RELEASE = 'after-release',
}

/** What the edge does with a Web Bot Auth signer that `agents` does not list. */
export enum UnknownAgents {
  /** Not verified, and its key directory is never fetched: it pays as anyone, unnamed. */
  IGNORE = 'ignore',
  /** Its key directory is fetched (bounded, cached) and, verified, it is recorded by its host. */
  VERIFY = 'verify',
}

/** An agent the publisher knows, verified by the edge (Web Bot Auth), by AWS WAF Bot Control, or both. */
export interface TrustedAgent {
  /** What receipts, reports and price rules call it: 1 to 64 of `a-z 0-9 . _ -`. */
  readonly name: string;
  /**
   * The https origin the agent sends in its `Signature-Agent` header: the edge verifies its
   * signatures against the key directory at `<origin>/.well-known/http-message-signatures-directory`.
   * @default - not verified by the edge
   */
  readonly signatureAgent?: string;
  /**
   * Its AWS Bot Control bot name (label `bot:name:<botName>`): a request Bot Control labels
   * `web_bot_auth:verified` with this name is forwarded to the edge as this agent, verified.
   * @default - not verified by WAF
   */
  readonly botName?: string;
}

/** The token payments are made in (EIP-3009), with its EIP-712 domain. */
export interface AssetSettings {
  /** Token contract address, EIP-55 checksummed. */
  readonly address: string;
  /** EIP-712 domain name of the token (its `name()`, e.g. "USDC"). */
  readonly name: string;
  /** EIP-712 domain version of the token (its `version()`, e.g. "2"). */
  readonly version: string;
  /** The token's `decimals()` (6 for USDC). */
  readonly decimals: number;
  /**
   * Ticker shown to people in 402 bodies.
   * @default 'USDC' for a network's USDC, else 'tokens'
   */
  readonly symbol?: string;
}

/** A time-bound pass on sale (edge engine): one payment, then offline-verified requests until it expires. */
export interface PassOffer {
  /** Lower-case letters, digits and `-` (at most 32): the pass is sold at `/.well-known/x402/pass/<name>`. */
  readonly name: string;
  /** `"$0.50"` (USD of a USD stablecoin) or an integer of atomic units, like a route's price. */
  readonly price: string;
  /** How long a pass is valid from its purchase: `<n>m`, `<n>h` or `<n>d`, from 1m to 31d. */
  readonly duration: string;
  /** Route patterns the pass opens; each must lie within a priced route of `routes`. */
  readonly routes: string[];
  /**
   * Requests one pass allows, from 1 to 10,000,000. Counted per pass by the viewer-request without
   * a table write on the request path, so it may be exceeded by a bounded few (docs/passes.md, "Quota").
   * @default - no quota: unlimited requests while the pass lasts
   */
  readonly quota?: number;
  /**
   * Whether the pass opens the metered (`scheme: "upto"`) routes its `routes` reach, unmetered
   * (true), or leaves them to pay per use (false). Required when `routes` reach a metered route, so
   * a pass never gives away metered work by accident (docs/metering.md); not allowed otherwise.
   * @default - not set: the pass's routes reach no metered route
   */
  readonly metered?: boolean;
  /**
   * Shown to agents in the 402 that advertises the pass and at its sale URL (at most 500 characters).
   * @default '<duration> pass for <routes>'
   */
  readonly description?: string;
}

/** A P-256 public key as a JWK, as `cdk-x402 pass-key create` prints it. */
export interface PassPublicKeyJwk {
  /** Always `EC`. */
  readonly kty: string;
  /** Always `P-256`. */
  readonly crv: string;
  /** base64url x coordinate. */
  readonly x: string;
  /** base64url y coordinate. */
  readonly y: string;
}

/** A key that signs (or signed) passes; `cdk-x402 pass-key create` prints the entry. */
export interface PassKey {
  /** Key id in the pass header (`[A-Za-z0-9_-]`, at most 64). */
  readonly kid: string;
  /** The public key, baked into the viewer-request to verify passes offline. */
  readonly publicKey: PassPublicKeyJwk;
  /**
   * Secrets Manager secret (name in us-east-1, or ARN) holding the PKCS#8 PEM private key; only the
   * origin-facing functions may read it. Required for the active (not retired) key.
   * @default - none: a retired key that only verifies
   */
  readonly secret?: string;
  /**
   * When the key was retired (ISO 8601): it no longer signs, and verifies until the last pass it
   * signed has expired (at most 31 days later; synth then says it can be removed).
   * @default - the active key
   */
  readonly retiredAt?: string;
}

/**
 * Everything cdk-x402 can be told. Each field is also the context key `x402:<field>`, with the
 * same validation and messages.
 */
export interface X402Settings {
  /** Checksummed (EIP-55) address receiving the payments. */
  readonly payTo: string;
  /**
   * Priced routes in precedence order: the first match prices a request. A pattern is
   * `[METHOD ]/path` with `*` for one path segment and `**` for any depth; `GET /x` prices GET and
   * HEAD of /x, and the edge engine refuses (405) other methods there.
   */
  readonly routes: PricedRoute[];
  /**
   * Which part of AWS charges the agents.
   * @default Engine.EDGE
   */
  readonly engine?: Engine;
  /**
   * CAIP-2 network id: `eip155:84532` Base Sepolia, `eip155:8453` Base (the waf engine settles only on these two).
   * @default 'eip155:84532' (Base Sepolia)
   */
  readonly network?: string;
  /**
   * The token payments are made in (edge engine).
   * @default the USDC of the network
   */
  readonly asset?: AssetSettings;
  /**
   * x402 facilitator base URL (https, edge engine).
   * @default 'https://x402.org/facilitator' on testnets; the CDP facilitator with `cdpApiKeySecret`; required on mainnets otherwise
   */
  readonly facilitatorUrl?: string;
  /**
   * Secrets Manager secret (name in us-east-1, or full ARN) holding a Coinbase CDP secret API key
   * as JSON `{"apiKeyId": "...", "apiKeySecret": "..."}`; the edge functions read it at run time to
   * sign each call to the CDP facilitator. Only its id is baked into the bundle.
   * @default - no facilitator authentication
   */
  readonly cdpApiKeySecret?: string;
  /**
   * The facilitator's receiver authorizer for `batch-settlement` routes (EIP-55 checksummed): the
   * address that signs their claims, which every channel config names (the `receiverAuthorizer` of
   * the batch-settlement kind in the facilitator's /supported). Pinned, the edge's 402 names it
   * without reading /supported; it must be the facilitator's, or every deposit is refused at the
   * facilitator (docs/batch-settlement.md).
   * @default - read from the facilitator's /supported, cached per container
   */
  readonly receiverAuthorizer?: string;
  /**
   * JSON-RPC endpoint (https) of the payment network, asked `eth_getCode(from)` when a signature
   * does not recover to the payer (edge engine): an account without code is refused at the edge,
   * one with code (a smart wallet) goes to the facilitator. A valid signature never waits for it.
   * The URL, with any key in it, is baked into the edge functions' code.
   * @default - no RPC: every such signature goes to the facilitator, rate-bounded per payer and client
   */
  readonly rpcUrl?: string;
  /**
   * Bound on each `eth_getCode` and `eth_call` of `rpcUrl`, in milliseconds (100..2000); one
   * unanswered in time leaves the payment to the facilitator.
   * @default 500
   */
  readonly rpcTimeoutMs?: number;
  /**
   * Who checks a payment on chain before the origin is asked (edge engine); `RPC` needs `rpcUrl`.
   * @default PaymentVerifier.FACILITATOR
   */
  readonly verifier?: PaymentVerifier;
  /**
   * Bound on the facilitator's /verify in the viewer-request, in milliseconds (500..4000; the trigger has 5 s in all).
   * @default 3000
   */
  readonly verifyTimeoutMs?: number;
  /**
   * Bound on the facilitator's /settle in the origin-response, in milliseconds (1000..25000; the trigger has 30 s).
   * @default 20000
   */
  readonly settleTimeoutMs?: number;
  /**
   * Default lifetime of a payment authorization, in seconds (30..3600).
   * @default 120
   */
  readonly maxTimeoutSeconds?: number;
  /**
   * Bot Control categories that must pay.
   * @default ['ai', 'http_library', 'scraping_framework']
   */
  readonly eligibleBotCategories?: string[];
  /**
   * Bot Control signals that make a request payment-eligible.
   * @default ['non_browser_user_agent']
   */
  readonly eligibleBotSignals?: string[];
  /**
   * Verified bots that pass free even in an eligible category: Bot Control bot names (`googlebot`)
   * or `category:<name>`.
   * @default ['category:search_engine']
   */
  readonly freeBots?: string[];
  /**
   * How closely AWS Bot Control inspects requests.
   * @default BotControlInspectionLevel.COMMON
   */
  readonly botControlInspectionLevel?: BotControlInspectionLevel;
  /**
   * Requests per 5 minutes per IP for payment-eligible traffic (10..2000000000); over it, WAF answers 429.
   * @default - no limit
   */
  readonly rateLimit?: number;
  /**
   * waf engine: whether payments are real; must agree with the network.
   * @default CurrencyMode.TEST on testnets, CurrencyMode.REAL on mainnets
   */
  readonly currencyMode?: CurrencyMode;
  /**
   * waf engine: the base price (`"$0.001"`, at least $0.001, 3 decimals); every route price must be base × 1..100.
   * @default the largest common step of the route prices
   */
  readonly basePrice?: string;
  /**
   * How paywalled cache behaviors cache.
   * @default PaidCaching.PAYMENT_KEYED
   */
  readonly paidCaching?: PaidCaching;
  /**
   * Viewer headers forwarded to the origin on paywalled behaviors, besides the payment hand-off (at most 9).
   * @default ['accept', 'accept-language', 'content-type', 'origin', 'referer', 'user-agent']
   */
  readonly originRequestHeaders?: string[];
  /**
   * How a built distribution's origin is kept from being reached around CloudFront.
   * @default OriginProtection.SECRET_HEADER
   */
  readonly originProtection?: OriginProtection;
  /**
   * Time-bound passes on sale (edge engine only; needs `passKeys`): each sold at
   * `/.well-known/x402/pass/<name>`, then presented as `Authorization: Bearer <pass>`.
   * @default - no passes
   */
  readonly passes?: PassOffer[];
  /**
   * The keys passes are signed with: exactly one active key with its secret, and the retired keys
   * whose passes may still be valid.
   * @default - none (required with `passes`)
   */
  readonly passKeys?: PassKey[];
  /**
   * Payer addresses refused (403 `payer_denied`) before any check (edge engine only), e.g.
   * sanctioned addresses; compared case-insensitively (docs/security.md, "Denied payers").
   * @default - none
   */
  readonly deniedPayers?: string[];
  /**
   * A file of payer addresses to refuse, one a line (`#` comments), read at synth and baked into
   * the viewer-request; `cdk-x402 denylist import <sdn.csv>` writes it from the OFAC SDN list. A
   * relative path is relative to the directory `cdk synth` runs in. Merged with `deniedPayers`.
   * @default - none
   */
  readonly deniedPayersFile?: string;
  /**
   * Agents the publisher knows (edge engine): a verified one is recorded by name on its receipts
   * (docs/identity.md).
   * @default - none
   */
  readonly agents?: TrustedAgent[];
  /**
   * What the edge does with a Web Bot Auth signer not in `agents`.
   * @default UnknownAgents.IGNORE
   */
  readonly unknownAgents?: UnknownAgents;
  /**
   * When the edge engine writes a settled payment's receipt, before or after the content is released (docs/engines.md).
   * @default SettledReceipt.BEFORE_RELEASE
   */
  readonly settledReceipt?: SettledReceipt;
}

/** The reference stack's own settings, on top of {@link X402Settings}. */
export interface ReferenceStackSettings extends X402Settings {
  /** Domain name of the origin the reference distribution fronts (HTTPS, TLS 1.2). */
  readonly origin: string;
  /**
   * Name of the reference stack.
   * @default 'CdkX402'
   */
  readonly stackName?: string;
  /**
   * Region of the stack (the edge functions and the web ACL always go to us-east-1).
   * @default 'us-east-1'
   */
  readonly region?: string;
}
