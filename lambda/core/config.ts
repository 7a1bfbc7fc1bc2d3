/**
 * The configuration the edge handlers run with. Lambda@Edge has no environment variables, so the
 * CDK construct validates it at synth time and bakes it into the bundle as JSON.
 * One home for this shape: the constructs, the local edge and the handlers all import it.
 */
export interface AssetConfig {
  /** Token contract address (EIP-3009). */
  readonly address: string;
  /** EIP-712 domain name of the token ("USDC" on Base Sepolia, "USD Coin" on Base). */
  readonly name: string;
  /** EIP-712 domain version of the token. */
  readonly version: string;
  readonly decimals: number;
  /** Ticker shown to people in 402 bodies. */
  readonly symbol: string;
}

/** One priced route (a construct prop, validated at synth, and what the edge bundles carry). */
export interface PricedRoute {
  /** `[METHOD ]/path` where `*` matches within one path segment and `**` across segments. */
  readonly pattern: string;
  /**
   * `"$0.001"` (USD of a USD stablecoin) or an integer of atomic units (`"1000"`): what an `exact`
   * route charges. An `upto` route takes `maxPrice` instead.
   */
  readonly price?: string;
  /**
   * `exact`: the price, fixed before the origin runs. `upto`: the agent signs `maxPrice`, the origin
   * reports the actual charge in its `Settlement-Overrides` response header (docs/metering.md).
   * `batch-settlement`: the agent deposits into a payment channel once, then pays `price` per
   * request with a cumulative voucher the edge checks and books without a facilitator call; claims
   * run off the request path (docs/batch-settlement.md).
   * @default 'exact'
   */
  readonly scheme?: 'exact' | 'upto' | 'batch-settlement';
  /** `upto` routes only: the most one request may cost, written like `price`. */
  readonly maxPrice?: string;
  /**
   * `upto` routes only: what a 2xx response without a readable `Settlement-Overrides` header is
   * charged: `maximum` (the signed maximum) or `zero` (nothing).
   * @default 'maximum'
   */
  readonly usageMissing?: 'maximum' | 'zero';
  /**
   * `batch-settlement` routes only: the smallest deposit the 402 asks for, written like `price`
   * (the official client deposits at least this, and at least one request's price).
   * @default 10 × price (the official server's default)
   */
  readonly minDeposit?: string;
  /**
   * `batch-settlement` routes only: seconds a payer's timed withdrawal waits before it pays out
   * what is still unclaimed (900..2,592,000, the contract's bounds); the scheduled claims must run
   * well inside it (docs/batch-settlement.md).
   * @default 900
   */
  readonly withdrawDelay?: number;
  /**
   * Shown to agents in the 402 (at most 500 characters).
   * @default ''
   */
  readonly description?: string;
  /**
   * MIME type of the paid resource, shown in the 402 (e.g. `text/html`).
   * @default ''
   */
  readonly mimeType?: string;
  /**
   * How long a payment authorization for this route may be valid, in seconds (30..3600).
   * @default the configuration's maxTimeoutSeconds
   */
  readonly maxTimeoutSeconds?: number;
  /**
   * Prices chosen by request features: the first rule whose conditions all hold prices the
   * request, else `price` does (edge engine only; docs/configuration.md "Request-priced routes").
   * @default the route has one price
   */
  readonly priceBy?: PriceRule[];
  /**
   * Bazaar discovery metadata carried in this route's 402 (`extensions.bazaar`, docs/discovery.md):
   * what to send and what comes back, so agents and facilitators can list the resource.
   * @default the 402 carries no discovery metadata
   */
  readonly discovery?: RouteDiscovery;
}

/** A route's Bazaar discovery metadata: small examples and JSON Schemas (the whole PAYMENT-REQUIRED header stays within 2 KB). */
export interface RouteDiscovery {
  /** An example input: the query parameters (GET, HEAD, DELETE routes) or the body (POST, PUT, PATCH). @default none */
  readonly input?: { [key: string]: any };
  /** JSON Schema of that input. @default none */
  readonly inputSchema?: { [key: string]: any };
  /** How a POST, PUT or PATCH route takes its body. @default 'json' */
  readonly bodyType?: 'json' | 'form-data' | 'text';
  /** An example response and its JSON Schema. @default none */
  readonly output?: RouteDiscoveryOutput;
}

/** The response side of {@link RouteDiscovery}. */
export interface RouteDiscoveryOutput {
  /** An example response body. @default none */
  readonly example?: any;
  /** JSON Schema of the response body. @default none */
  readonly schema?: { [key: string]: any };
}

/** One `priceBy` rule: its price applies when every condition holds. */
export interface PriceRule {
  /**
   * `"$0.001"` or atomic units, like a route's price; or `"free"` (served without payment: only
   * with an `agent` condition, so only for verified agents), or `"refuse"` (403 `agent_refused`,
   * no payment taken).
   */
  readonly price: string;
  /** Conditions on request features, all of which must hold (at least one). */
  readonly when: PriceCondition[];
  /**
   * A name for this price (`[a-z0-9-]`, at most 32), recorded in the receipt.
   * @default none
   */
  readonly tier?: string;
}

/**
 * A condition on exactly one request feature: `query`, `header`, `segment` (compared with
 * `equalTo`, `oneOf`, `min`, `max`), `contentLength` (POST, PUT and PATCH routes only), or
 * `agent` / `botCategory` / `botOrganization` / `intent` (compared with `equalTo`, `oneOf`; docs/identity.md).
 */
export interface PriceCondition {
  /** A query parameter's name. @default not a query condition */
  readonly query?: string;
  /** A request header's name (lower-case). @default not a header condition */
  readonly header?: string;
  /** The zero-based index of a segment of the canonical path. @default not a segment condition */
  readonly segment?: number;
  /** The body size in bytes, from `Content-Length`. @default not a body-size condition */
  readonly contentLength?: PriceBounds;
  /** `true`: the verified agent's name (x402:agents); an unverified request never matches. @default not an agent condition */
  readonly agent?: boolean;
  /** `true`: the category of a bot AWS Bot Control verified, as our WAF rule forwards it; an unverified bot never matches. @default not a bot category condition */
  readonly botCategory?: boolean;
  /** `true`: the organization (`google`, `microsoft`...) of a bot AWS Bot Control verified, as our WAF rule forwards it from its `bot:organization:<o>` label; an unverified bot never matches. @default not a bot organization condition */
  readonly botOrganization?: boolean;
  /** `true`: the intent the request declares in its `x402-intent` header (`training`, `inference`, `search`...). @default not an intent condition */
  readonly intent?: boolean;
  /** The feature's value is exactly this. @default any value */
  readonly equalTo?: string;
  /** The feature's value is one of these. @default any value */
  readonly oneOf?: string[];
  /** The feature is a number at least this. @default no lower bound */
  readonly min?: number;
  /** The feature is a number at most this. @default no upper bound */
  readonly max?: number;
}

/** A condition only a verified identity can meet: the verified agent, or the category or organization of a bot Bot Control verified. */
export function isVerifiedIdentity(condition: PriceCondition): boolean {
  return condition.agent !== undefined || condition.botCategory !== undefined || condition.botOrganization !== undefined;
}

/** Inclusive numeric bounds. */
export interface PriceBounds {
  /** @default no lower bound */
  readonly min?: number;
  /** @default no upper bound */
  readonly max?: number;
}

/**
 * The Coinbase CDP facilitator wants a JWT per request signed with a CDP API key. The key lives in
 * AWS Secrets Manager as JSON `{"apiKeyId": "...", "apiKeySecret": "..."}`: only its id is baked
 * into the bundle, the functions read it at run time.
 */
export interface FacilitatorAuth {
  readonly kind: 'cdp';
  /** Name or ARN of the secret. */
  readonly secretId: string;
  /** Region of the secret. */
  readonly region: string;
}

export interface EdgeConfig {
  /** CAIP-2 network, e.g. `eip155:84532`. */
  readonly network: string;
  /** Address receiving payments. */
  readonly payTo: string;
  readonly asset: AssetConfig;
  readonly facilitator: {
    readonly url: string;
    /** Bounds the viewer-request's wait (Lambda@Edge viewer triggers have 5 s in all). */
    readonly verifyTimeoutMs: number;
    /** Bounds the origin-response's wait for the on-chain settlement (origin triggers have 30 s). */
    readonly settleTimeoutMs: number;
    /** How the edge authenticates to the facilitator; none for the public test facilitator. */
    readonly auth?: FacilitatorAuth;
    /** batch-settlement routes' receiver authorizer, pinned at synth; unset: read from its /supported. */
    readonly receiverAuthorizer?: string;
  };
  /** Priced routes in precedence order: the first match prices the request. */
  readonly routes: readonly PricedRoute[];
  /** Request header our WAF rules insert on payment-eligible traffic (value `true`). */
  readonly eligibilityHeader: string;
  readonly receiptTable: {
    readonly tableName: string;
    readonly region: string;
    /** Only for the local edge and tests (dynalite on loopback). */
    readonly endpoint?: string;
  };
  /** Default authorization lifetime for routes that do not set one. */
  readonly maxTimeoutSeconds: number;
  /**
   * How often a settled payment, presented again while its authorization is valid, is delivered
   * again without a charge (for payers whose content was withheld or lost). @default 1
   */
  readonly maxRedeliveries?: number;
  /** Per-container bounds on failing clients and payers; DEFAULT_ABUSE_LIMITS (abuse-guard.ts) when unset. */
  readonly abuseLimits?: AbuseLimits;
  /**
   * A JSON-RPC endpoint of `network`, asked `eth_getCode(from)` only when a signature does not
   * recover to its payer: no code means an EOA, whose bad signature is then refused at the edge
   * instead of by the facilitator; answers are cached per container. Unset: every such signature
   * goes to the facilitator (as a smart wallet's might be valid), rate-bounded per client and payer.
   */
  readonly chainRpc?: {
    readonly url: string;
    /** Bounds each lookup; an unanswered one sends the payment to the facilitator. */
    readonly timeoutMs: number;
    /**
     * Verify EOA payments (signature recovered locally) by simulating their
     * `transferWithAuthorization` with one `eth_call`, instead of the facilitator's /verify: one
     * facilitator call per payment instead of two. An unanswered simulation falls back to /verify.
     * @default false
     */
    readonly verifyTransfers?: boolean;
  };
  /**
   * `after-release`: a settled exact or upto payment's content is released once the receipt's write
   * is on its socket, not answered; the function's next invocation confirms it (retried, else the
   * `x402.receipt_fallback` log line), a container reclaimed first leaves the reservation to
   * `cdk-x402 reconcile`. Unset: the receipt is written before the release (x402:settledReceipt).
   */
  readonly settledReceipt?: 'after-release';
  /** Time-bound passes sold at their own URL and verified offline (lambda/core/passes/, docs/passes.md). */
  readonly passes?: PassesConfig;
  /** Payer addresses refused (403 payer_denied) before any check, in lower case (lambda/core/deny-list.ts). */
  readonly deniedPayers?: readonly string[];
  /** Who the agent is (Web Bot Auth at the edge, or AWS Bot Control's verdict forwarded by WAF): lambda/core/identity/agents.ts. */
  readonly agents?: AgentsConfig;
}

/** An agent the publisher knows (x402:agents), validated at synth (lib/config/agents.ts). */
export interface TrustedAgentConfig {
  /** What receipts and reports record for it. */
  readonly name: string;
  /** Its `Signature-Agent` authority (host, or host:port), lower case: the edge verifies its signatures against that host's key directory. */
  readonly signatureAgent?: string;
  /** Its Bot Control bot name: with `web_bot_auth:verified`, our WAF rule forwards it as verified. */
  readonly botName?: string;
}

export interface AgentsConfig {
  readonly trusted: readonly TrustedAgentConfig[];
  /**
   * A `Signature-Agent` not in `trusted`: `ignore` (not verified, no directory fetched) or
   * `verify` (its directory is fetched, bounded and cached; a verified one is recorded by its host).
   */
  readonly unknownAgents: 'ignore' | 'verify';
  /** Only the local edge and tests: key directories on 127.0.0.1 over http. */
  readonly allowLoopbackDirectories?: boolean;
}

/** One pass on sale, validated at synth (lib/config/passes.ts). */
export interface PassOfferConfig {
  /** `[a-z0-9-]`, at most 32 characters: the last segment of its sale URL. */
  readonly name: string;
  /** `"$0.50"` or atomic units, like a route's price. */
  readonly price: string;
  readonly durationSeconds: number;
  /** Route patterns the pass opens (each covered by a priced route). */
  readonly scope: readonly string[];
  /** Requests one pass allows (counted per pass id: lambda/core/passes/quota.ts); none: unlimited. */
  readonly quota?: number;
  /** Whether the pass opens the metered (upto) routes of its scope; otherwise they are paid per use. */
  readonly metered?: boolean;
  readonly description?: string;
}

/** A P-256 public key as a JWK (RFC 7518 §6.2.1). */
export interface PassPublicJwk {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  /** base64url of the 32-byte x coordinate. */
  readonly x: string;
  /** base64url of the 32-byte y coordinate. */
  readonly y: string;
}

/** Where the origin-facing functions read the signing key from. */
export type PassSigningKey =
  /** A Secrets Manager secret whose string is the PKCS#8 PEM of the P-256 private key. */
  | { readonly kid: string; readonly kind: 'secrets-manager'; readonly secretId: string; readonly region: string }
  /** Only for the local edge and tests: the PEM itself. Synth never writes this form. */
  | { readonly kid: string; readonly kind: 'local'; readonly privateKeyPem: string };

export interface PassesConfig {
  /** The `iss` of this deployment's passes: a pass of another site (or publisher) is refused. */
  readonly siteId: string;
  readonly offers: readonly PassOfferConfig[];
  /** Every key a pass may be signed with: the active one and the retired ones whose passes may still be valid. */
  readonly verifyKeys: readonly { readonly kid: string; readonly jwk: PassPublicJwk }[];
  /** Only in the origin-facing functions' bundles (the viewer-request never signs). */
  readonly signingKey?: PassSigningKey;
  /**
   * How old a viewer-request container's copy of the revocation list may get before it reloads it:
   * the bound on how long a revoked pass still opens routes. Synth leaves the default; the local
   * edge's tests shorten it.
   * @default REVOCATION_REFRESH_SECONDS (lambda/core/passes/revocations.ts)
   */
  readonly revocationRefreshSeconds?: number;
}

/** Per-container bounds on failing clients and payers (lambda/core/abuse-guard.ts). */
export interface AbuseLimits {
  /** Failed payments (refused by the facilitator, replayed, retried too often) within the window that start a backoff. */
  readonly failuresBeforeBackoff: number;
  readonly failureWindowSeconds: number;
  /** The first backoff of a client or payer; each further one doubles, up to `maxBackoffSeconds`. */
  readonly firstBackoffSeconds: number;
  /** Also how long a key must stay quiet after a backoff before its next one starts small again. */
  readonly maxBackoffSeconds: number;
  /** Facilitator checks of signatures only the chain can verify, per client and per payer per minute (accepted ones are given back). */
  readonly smartWalletChecksPerMinute: number;
  /** Clients and payers remembered per table; the least recently seen are forgotten first. */
  readonly trackedKeys: number;
}

export const DEFAULT_MAX_REDELIVERIES = 1;

/** Header the WAF rules insert on payment-eligible requests (WAF adds the `x-amzn-waf-` prefix). */
export const DEFAULT_ELIGIBILITY_HEADER = 'x-amzn-waf-x402-eligible';
