import type { PaymentPayload, PaymentRequirements, SettleResponse } from '@x402/core/types';
import { AbuseGuard, DEFAULT_ABUSE_LIMITS } from './abuse-guard';
import { AccountKinds, CHAIN_RPC_BACKOFF_MS } from './account-kinds';
import { CATALOG_PATH } from './discovery';
import { CATALOG_MAX_AGE_SECONDS, catalogHasChannelRoutes, catalogHasMeteredRoutes, CatalogDocuments, matchesEntityTag } from './catalog';
import { DEFAULT_MAX_REDELIVERIES, type EdgeConfig } from './config';
import { claimedPayer, PayerDenyList } from './deny-list';
import { decodeHandoff, encodeHandoff, PAYMENT_ID_HEADER, PENDING_SETTLEMENT_HEADER, type Handoff, type PaidHandoff } from './handoff';
import { HandoffSeal } from './handoff-seal';
import { AgentIdentities, type AgentIdentity } from './identity/agents';
import type { DirectoryFetch } from './identity/key-directories';
import { forwardedBotFeatures, verifiedBot, type ForwardedBotFeatures, type VerifiedBot } from './identity/verified-bots';
import { hasSideEffects } from './methods';
import { emfRecord, MetricDimensions, Metrics, type MetricName } from './metrics';
import { PaymentHeaders } from './header-names';
import { base64Json, decodePaymentHeader, findPaymentHeader, parseStoredPayment, serializePayment, type DecodedPayment } from './payment-header';
import type { ChainPort, Clock, FacilitatorPort, LogSink, ReceiptStorePort } from './ports';
import type { PaymentPrecheck, PrecheckedPayment } from './precheck';
import { IN_DOUBT_REASONS, MAX_RESERVATIONS, paymentIdOf, type Receipt } from './receipt';
import { passSalePath } from './passes/offers';
import { PassQuotas } from './passes/quota';
import { PassRevocations } from './passes/revocations';
import { PassScheme, type PassRecordsPort, type PassSignerPort } from './passes/scheme';
import { HeldPasses, PassSignIn, type HeldPassesPort, type SignInVerifier } from './passes/sign-in';
import { SIGN_IN_HEADER } from './passes/sign-in-challenge';
import { isRejection, methodNotAllowed, oneLine, reasonCode, reject, Reasons, type Rejection } from './rejection';
import { priceTable, termsAt, termsFor, type RoutePriceTable } from './request-price';
import { challengeBody, paymentRequiredV2, requirementsV1, resourceOrigin, resourcePath, resourceUrl, routeTerms, type RouteTerms } from './requirements';
import { canonicalPath, compileRoutes, matchRoute, originPath, type CompiledRoute } from './routes';
import { transferWithAuthorizationCalldata } from './transfer-digest';
import { getAddress, type Address } from 'viem';
import { FacilitatorAddress, PERMIT2_ADDRESS, readUsage } from './upto';
import type { ChannelStorePort } from './batch/channel-books';
import { BatchSettlementScheme, type BatchHandoff, type BatchRefusal } from './batch/scheme';
import { BATCH_SETTLEMENT_SCHEME } from './batch/route-terms';
import { correctiveRequirements } from './batch/terms';

/** What a viewer request needs from its transport. */
export interface PaywallRequest {
  readonly method: string;
  /** Raw path as received (not decoded). */
  readonly uri: string;
  readonly host: string;
  /** The viewer's IP address (CloudFront's `clientIp`), which failing clients are backed off by. */
  readonly clientIp?: string;
  /** The raw query string without `?` (what `priceBy` query conditions read). @default '' */
  readonly querystring?: string;
  /** Value of a header by lower-case name. */
  header(name: string): string | undefined;
}

export interface PaywallResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export type ViewerOutcome =
  /** Not ours to charge: forward exactly as received. */
  | { readonly kind: 'pass' }
  /**
   * Forward to the origin at `uri` (the canonical path that was priced, percent-encoded) with extra
   * headers. The adapter removes the payment headers first: neither the cache key nor the origin
   * ever sees the payer's signed authorization.
   */
  | { readonly kind: 'forward'; readonly uri: string; readonly setHeaders: Record<string, string> }
  | { readonly kind: 'respond'; readonly response: PaywallResponse };

/** A refusal answered instead of the content. */
type Responded = { readonly kind: 'respond'; readonly response: PaywallResponse };

/** What the origin-facing triggers need of the request CloudFront sends to the origin. */
export interface OriginFacingRequest {
  readonly method: string;
  /** The path as forwarded (viewer-request may have rewritten it to the canonical form). */
  readonly uri: string;
  /** The viewer-request hand-off header, if it reached this trigger. */
  readonly handoff: string | undefined;
}

export type OriginRequestOutcome =
  | { readonly kind: 'pass' }
  /** Forward to the origin with these headers set (the updated hand-off). */
  | { readonly kind: 'forward'; readonly setHeaders: Record<string, string> }
  | Responded;

export type OriginOutcome =
  | { readonly kind: 'pass' }
  /** Release the origin's response with these headers added (the settlement result, if any), never cacheable by shared caches. */
  | { readonly kind: 'release'; readonly setHeaders: Record<string, string> }
  /** Withhold the origin's content and answer this instead. */
  | { readonly kind: 'respond'; readonly response: PaywallResponse };

export interface PaywallPorts {
  readonly facilitator: FacilitatorPort;
  readonly receipts: ReceiptStorePort;
  readonly clock: Clock;
  readonly log: LogSink;
  /** Wired exactly when `config.chainRpc` is set. */
  readonly chain?: ChainPort;
  /** Passes (config.passes): the receipt rows they are recorded on; wired with them. */
  readonly passRecords?: PassRecordsPort;
  /** Wired exactly when `config.passes.signingKey` is set: the origin-facing functions only. */
  readonly passSigner?: PassSignerPort;
  /** Passes: where a signed-in payer's passes are looked up (the viewer-request, with a sign-in verifier); without it, no sign-in is offered. */
  readonly heldPasses?: HeldPassesPort;
  /** Web Bot Auth (config.agents): fetches an agent's key directory (lambda/edge/key-directory-fetch.ts); without it, only WAF's verdict identifies agents. */
  readonly keyDirectories?: DirectoryFetch;
  /** batch-settlement routes: the channels' books (lambda/edge/dynamo-channel-store.ts); wired exactly when a route offers the scheme. */
  readonly channels?: ChannelStorePort;
  /**
   * `config.settledReceipt` after-release (wired exactly then): resolves once every receipt-table
   * request started so far is written to its socket or answered (lambda/edge/sent-requests.ts).
   */
  readonly receiptWritesSent?: () => Promise<void>;
}

/** A verified agent as receipts record it. */
type VerifiedAgent = Extract<AgentIdentity, { kind: 'verified' }>;

/** Seconds a client should wait before retrying after a dependency failed. */
const RETRY_AFTER_SECONDS = 5;
/** Without a Lambda context (tests, tools): the triggers' own limits, 5 s viewer and 30 s origin. */
const VIEWER_TRIGGER_MS = 5_000;
const ORIGIN_TRIGGER_MS = 30_000;
/** Kept free after a settle call for recording its outcome and answering, within the trigger's time. */
const RECORD_RESERVE_MS = 2_000;
/** A settle call given less than this would only time out: do not start it. */
const MIN_SETTLE_MS = 1_000;
/** Kept free after the verify call in the viewer trigger (5 s in all). */
const VIEWER_RESERVE_MS = 1_000;

/** Milliseconds the running trigger has left (Lambda's `context.getRemainingTimeInMillis`). */
export type RemainingTime = () => number;

/** When a settled payment's receipt is written: before its content is released (the default), or once sent, confirmed later. */
type SettledReceipt = 'before-release' | 'after-release';

type SettleAttempt = { readonly kind: 'answer'; readonly settlement: SettleResponse } | { readonly kind: 'error'; readonly error: unknown };

/** No answer, or the facilitator's "transaction sent, receipt not seen yet". */
function inDoubt(attempt: SettleAttempt): boolean {
  return attempt.kind === 'error' || (!attempt.settlement.success && attempt.settlement.errorReason === Reasons.settlementPending);
}

/**
 * The origin's error for a paid request, passed on but never cached: CloudFront caches some error
 * codes (404 for 10 s by default) under the payment-id cache key, so the same payment presented
 * again would get that copy, the origin-response would not run and its reservation would stay held.
 */
const UNCACHED_ERROR: OriginOutcome = { kind: 'release', setHeaders: {} };

/** Encoded PAYMENT-REQUIRED values kept per terms (one per resource and reason; ~1 KB each), the oldest dropped first. */
const MAX_REQUIRED_HEADERS_PER_TERMS = 64;

/** PAYMENT-RESPONSE (and X-PAYMENT-RESPONSE for v1 clients) for a settlement. */
function paymentResponseHeaders(settlement: SettleResponse, x402Version: number): Record<string, string> {
  const encoded = base64Json(settlement); // what encodePaymentResponseHeader writes
  return x402Version === 1 ? { [PaymentHeaders.responseV1]: encoded, [PaymentHeaders.responseV2]: encoded } : { [PaymentHeaders.responseV2]: encoded };
}

/** A signature that does not recover to `from`, an account without code: only its own key could have signed. */
function forgedEoaSignature(payer: string): Rejection {
  return reject(402, Reasons.signature, `the signature does not recover to "from" (${payer}), an account without contract code: sign the authorization with the key of "from"`);
}

/** The x402 reason for a simulated transfer's revert message (the facilitator's own mapping, in short). */
function simulationReason(message: string): string {
  if (/authorization.*(used|canceled)|AuthorizationAlreadyUsed/i.test(message)) return Reasons.nonceAlreadyUsed;
  if (/exceeds balance|insufficient.*balance|InsufficientBalance/i.test(message)) return Reasons.insufficientBalance;
  if (/authorization.*(expired|valid before)/i.test(message)) return Reasons.validBefore;
  if (/authorization.*not.*(yet )?valid|valid after/i.test(message)) return Reasons.validAfter;
  if (/invalid signature|SignerMismatch/i.test(message)) return Reasons.signature;
  return Reasons.simulationFailed;
}

/** The origin-facing functions' pre-check: asked to admit a payment, it fails closed (the adapter answers 503). */
const NO_PRECHECK: PaymentPrecheck = {
  check: () => Promise.reject(new Error('this paywall has no payment pre-check: only the viewer-request function admits payments')),
};

/** A settled payment's receipt write is retried this often before falling back to the log. */
const RECEIPT_WRITE_ATTEMPTS = 3;
/** after-release: kept free to answer after waiting on receipt writes (theirs to be sent, or earlier ones to be confirmed). */
const ANSWER_RESERVE_MS = 500;
/**
 * after-release: the longest an invocation waits for earlier invocations' receipt writes (what the
 * default mode keeps free for its own). One still unanswered is left to the next invocation, or
 * to `cdk-x402 reconcile`: a hung table must not hold every request of the function.
 */
const EARLIER_RECEIPTS_WAIT_MS = RECORD_RESERVE_MS;

/** Waits for `work` at most `ms` (it goes on; the caller stops waiting). */
async function atMost(work: Promise<unknown>, ms: number): Promise<void> {
  if (ms <= 0) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const done = work.then(
    () => undefined,
    () => undefined,
  );
  await Promise.race([done, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}

/**
 * The x402 request path, transport-neutral: decide → verify → reserve on the way in; settle or
 * release → record on the way out. It fails closed: every error path answers without content.
 *
 * Serial round trips of a paid request (asserted by test/unit/paywall-round-trips.test.ts):
 * - viewer-request: 1. The local check needs none; the verification (the facilitator's /verify,
 *   or with `chainRpc.verifyTransfers` one `eth_call` simulating an EOA's transfer) and the
 *   reservation run side by side. (A signature that does not recover adds one `eth_getCode` of
 *   the payer, once per container and payer, with `chainRpc`.)
 * - GET, HEAD: origin-request 0; origin-response 2: settle, then record the receipt (before
 *   answering: a frozen container writes nothing). 3 in all. The signed payment travels sealed in
 *   the hand-off (handoff-seal.ts: the origin sees only ciphertext); a container that has not read
 *   the sealing key yet claims it from the reservation first (which also marks it as being
 *   settled): 4 for its first paid request. A function cut off between settling and recording
 *   leaves the reservation, which `cdk-x402 reconcile` closes from the chain once it expired.
 * - POST, PUT, PATCH, DELETE: origin-request 2 (the same settle and record, before the origin
 *   runs); origin-response 0. 3 in all.
 * - With `config.settledReceipt` after-release, exact and upto: the record is sent, not awaited
 *   (the handler returns once its request is on its socket): GET origin-response 1, POST
 *   origin-request 1; 2 in all. The container's next invocation waits for the answer alongside
 *   its own work (retrying, else the `x402.receipt_fallback` log line); a container reclaimed
 *   first leaves the reservation, which `cdk-x402 reconcile` closes from the chain.
 *   (Pass sales and batch-settlement keep their record before the release.)
 * - batch-settlement (lambda/core/batch/scheme.ts), a voucher: viewer-request 1 (the reservation;
 *   the voucher is checked locally), origin-response 2 (the commit, then the receipt). A deposit
 *   adds the facilitator's /verify and /settle and the channel row's open in viewer-request (and its
 *   /supported, cached 10 minutes per container, to check the receiver authorizer it names).
 * Each is one DynamoDB request, one facilitator call or one RPC call. Fewer would break a
 * guarantee: settling before the origin answered charges for failed GETs; answering before the
 * record leaves a settlement without its receipt row until it lands (after-release trades that for
 * one round trip: the reservation written before the settle names the one transfer the chain can
 * hold for it); without the reservation, a nonce could be admitted twice before either settled.
 */
export class Paywall {
  private readonly routes: CompiledRoute[];
  /** Per route: its terms and those of its `priceBy` rules. */
  private readonly prices: RoutePriceTable[];
  private readonly guard: AbuseGuard;
  /** Tells EOAs from contracts when a signature does not recover (only with `config.chainRpc`). */
  private readonly accountKinds: AccountKinds | undefined;
  /** Seals payments into the hand-off (viewer-request writes the key when there is none yet). */
  private readonly viewerSeal: HandoffSeal;
  /** Opens them in the origin-facing triggers (which only read the key). */
  private readonly originSeal: HandoffSeal;
  private simulationDownUntil = 0;
  /** Passes on sale (`config.passes`): their sale routes come first in {@link routes}. */
  private readonly passes: PassScheme | undefined;
  /** Sign in with x for pass holders: wired with `ports.heldPasses`. */
  private readonly signIn: PassSignIn | undefined;
  /** `upto` routes' facilitator address (its /supported), read by the viewer-request for the 402. */
  private readonly facilitatorAddress: FacilitatorAddress;
  /** `batch-settlement` routes' receiver authorizer (the facilitator's /supported), read by the viewer-request for the 402. */
  private readonly receiverAuthorizer: FacilitatorAddress;
  /** `config.facilitator.receiverAuthorizer`: with it the batch 402 never waits for /supported. */
  private readonly pinnedReceiverAuthorizer: Address | undefined;
  /** The upto and batch routes' terms for the address they were built with (kept identical for deep equality). */
  private readonly advertisedTerms = new Map<number, RouteTerms>();
  /** PAYMENT-REQUIRED values already encoded, per terms, by reason and resource (see {@link paymentRequiredHeader}). */
  private readonly requiredHeaders = new WeakMap<RouteTerms, Map<string, string>>();
  /** batch-settlement routes: deposits, vouchers and their commits (wired with `ports.channels`). */
  private readonly batch: BatchSettlementScheme | undefined;
  private readonly deniedPayers: PayerDenyList;
  /** Who the agent is (config.agents); undefined: agents are not identified. */
  private readonly agents: AgentIdentities | undefined;
  /** The verified-bot features our WAF rules forward: those the routes' price conditions name. */
  private readonly forwardedBots: ForwardedBotFeatures;
  /** The catalogue at CATALOG_PATH, served for free to anyone. */
  private readonly catalogs: CatalogDocuments;
  /**
   * after-release (`config.settledReceipt`): the settled receipts this container has written and
   * not yet seen confirmed (each promise the write with its retries, never rejecting). The next
   * invocation waits for them alongside its own work.
   */
  private readonly unconfirmedReceipts = new Set<Promise<void>>();

  /** `precheck`: only for the viewer-request side (lambda/core/precheck.ts); without one, a payment is never admitted. */
  constructor(
    private readonly config: EdgeConfig,
    private readonly ports: PaywallPorts,
    private readonly precheck: PaymentPrecheck = NO_PRECHECK,
    /** The viewer side's check of a sign-in-with-x proof (passes/sign-in-proof.ts); without it no sign-in is offered. */
    signInVerifier?: SignInVerifier,
  ) {
    this.passes =
      config.passes &&
      ports.passRecords &&
      new PassScheme(config.passes, config, new PassRevocations(ports.passRecords, ports.clock, ports.log, config.passes.revocationRefreshSeconds), new PassQuotas(ports.passRecords, ports.clock, ports.log));
    this.signIn =
      this.passes && ports.heldPasses && signInVerifier && new PassSignIn(this.passes, new HeldPasses(ports.heldPasses, ports.clock, ports.log), config.network, ports.clock, signInVerifier);
    const declared = [...(this.passes?.saleRoutes ?? []), ...config.routes];
    this.routes = compileRoutes({ ...config, routes: declared });
    this.prices = this.routes.map((route, index) => priceTable(route, declared[index].priceBy, config));
    this.forwardedBots = forwardedBotFeatures(config.routes.flatMap((route) => route.priceBy ?? []).flatMap((rule) => rule.when));
    const supported = ports.facilitator.supported?.bind(ports.facilitator) ?? (() => Promise.reject(new Error('this facilitator port has no /supported')));
    this.facilitatorAddress = new FacilitatorAddress(supported, config.network, ports.clock, ports.log);
    this.receiverAuthorizer = new FacilitatorAddress(supported, config.network, ports.clock, ports.log, { scheme: BATCH_SETTLEMENT_SCHEME, field: 'receiverAuthorizer' });
    this.pinnedReceiverAuthorizer = config.facilitator.receiverAuthorizer === undefined ? undefined : getAddress(config.facilitator.receiverAuthorizer);
    const offersBatch = config.routes.some((route) => route.scheme === BATCH_SETTLEMENT_SCHEME);
    if (offersBatch !== (ports.channels !== undefined)) throw new Error('batch-settlement routes and ports.channels go together: wire the channel store exactly when a route offers the scheme');
    this.batch =
      ports.channels &&
      new BatchSettlementScheme(config, {
        facilitator: ports.facilitator,
        channels: ports.channels,
        clock: ports.clock,
        log: ports.log,
        storeError: (operation, id, error) => this.storeError(operation, id, error),
        checkVoucher: precheck.checkVoucher,
        facilitatorReceiverAuthorizer: (timeoutMs) => this.receiverAuthorizer.get(timeoutMs),
      });
    this.deniedPayers = new PayerDenyList(config.deniedPayers ?? []);
    const noDirectories: DirectoryFetch = () => Promise.reject(new Error('no key directory fetch is wired: only WAF verdicts identify agents'));
    this.agents = config.agents && new AgentIdentities(config.agents, ports.keyDirectories ?? noDirectories, ports.clock);
    this.catalogs = new CatalogDocuments(config);
    const limits = config.abuseLimits ?? DEFAULT_ABUSE_LIMITS;
    this.guard = new AbuseGuard(limits, ports.clock);
    if ((config.chainRpc === undefined) !== (ports.chain === undefined)) {
      throw new Error('config.chainRpc and ports.chain go together: wire a chain port exactly when an RPC URL is configured');
    }
    if (config.passes && !ports.passRecords) throw new Error('config.passes needs ports.passRecords: a sold pass is recorded on its receipt row');
    if ((config.passes?.signingKey === undefined) !== (ports.passSigner === undefined)) {
      throw new Error('config.passes.signingKey and ports.passSigner go together: wire a signer exactly where the signing key is configured');
    }
    const rpc = config.chainRpc;
    this.accountKinds = rpc && ports.chain && new AccountKinds(ports.chain, rpc.timeoutMs, ports.clock, ports.log, limits.trackedKeys);
    if ((config.settledReceipt === 'after-release') !== (ports.receiptWritesSent !== undefined)) {
      throw new Error('config.settledReceipt after-release and ports.receiptWritesSent go together: the release waits for the receipt write to be sent, not answered');
    }
    this.viewerSeal = new HandoffSeal(() => ports.receipts.handoffKey({ create: true }), ports.clock, ports.log);
    this.originSeal = new HandoffSeal(() => ports.receipts.handoffKey({ create: false }), ports.clock, ports.log);
  }

  async onViewerRequest(request: PaywallRequest, remainingMs?: RemainingTime): Promise<ViewerOutcome> {
    return this.alongsideEarlierReceipts(() => this.viewerRequest(request, remainingMs), remainingMs, VIEWER_TRIGGER_MS);
  }

  /**
   * The origin-request trigger, on behaviors whose routes price side-effecting methods: a POST,
   * PUT, PATCH or DELETE is settled before the origin runs, so no side effect happens unpaid. Other
   * requests pass (settled after the origin answered), except priced ones that lost their hand-off.
   */
  async onOriginRequest(request: OriginFacingRequest, remainingMs?: RemainingTime): Promise<OriginRequestOutcome> {
    return this.alongsideEarlierReceipts(() => this.originRequest(request, remainingMs), remainingMs, ORIGIN_TRIGGER_MS);
  }

  /** `settlementOverrides`: the origin's Settlement-Overrides header (the adapter removes it from the response). */
  async onOriginResponse(request: OriginFacingRequest, originStatus: number, remainingMs?: RemainingTime, settlementOverrides?: string): Promise<OriginOutcome> {
    return this.alongsideEarlierReceipts(() => this.originResponse(request, originStatus, remainingMs, settlementOverrides), remainingMs, ORIGIN_TRIGGER_MS);
  }

  /**
   * An invocation's work, and meanwhile the settled receipts of earlier ones still unconfirmed
   * (after-release): it answers when both are done, or after at most EARLIER_RECEIPTS_WAIT_MS
   * more (those go on, confirmed by a later invocation or closed by `cdk-x402 reconcile`).
   */
  private async alongsideEarlierReceipts<T>(work: () => Promise<T>, remainingMs: RemainingTime | undefined, triggerMs: number): Promise<T> {
    if (this.unconfirmedReceipts.size === 0) return work();
    const started = this.ports.clock();
    const remaining = remainingMs ?? (() => triggerMs - (this.ports.clock() - started));
    const earlier = Promise.all([...this.unconfirmedReceipts]);
    const answer = await work();
    await atMost(earlier, Math.min(EARLIER_RECEIPTS_WAIT_MS, remaining() - ANSWER_RESERVE_MS));
    // A retry started meanwhile is on its socket before the container may be frozen again.
    await atMost(this.ports.receiptWritesSent!(), remaining() - ANSWER_RESERVE_MS);
    return answer;
  }

  private async viewerRequest(request: PaywallRequest, remainingMs?: RemainingTime): Promise<ViewerOutcome> {
    const started = this.ports.clock();
    const paymentHeader = findPaymentHeader((name) => request.header(name));
    // A payment wins over a pass: the client is paying (again), maybe because its pass ran out.
    const pass = paymentHeader === undefined ? this.passes?.presented((name) => request.header(name)) : undefined;
    const signIn = paymentHeader === undefined && pass === undefined && this.signIn ? request.header(SIGN_IN_HEADER) : undefined;
    // A Web Bot Auth signer is an agent, as our WAF eligibility rule says too (lib/payment-eligible-bots.ts).
    const signedAgent = this.agents !== undefined && request.header('signature-agent') !== undefined;
    const eligible = request.header(this.config.eligibilityHeader) === 'true' || paymentHeader !== undefined || pass !== undefined || signIn !== undefined || signedAgent;

    const path = canonicalPath(request.uri);
    if (path === undefined) {
      if (!eligible) return { kind: 'pass' };
      return this.refuse(reject(400, Reasons.invalidPath, 'the request path has invalid percent-encoding or control characters'));
    }
    if (path.toLowerCase() === CATALOG_PATH) return this.serveCatalog(request, remainingMs ?? (() => VIEWER_TRIGGER_MS - (this.ports.clock() - started)));
    const match = matchRoute(this.routes, request.method, path);
    if (match.kind !== 'priced') {
      if (!eligible) return { kind: 'pass' };
      return match.kind === 'methodNotAllowed' ? this.refuse(methodNotAllowed(request.method, match.allowed)) : { kind: 'forward', uri: originPath(path), setHeaders: {} };
    }
    const routeIndex = match.index;
    const sale = this.passes?.offerAt(routeIndex) !== undefined;
    // A HEAD would pay for a pass whose body CloudFront then drops.
    if (sale && request.method.toUpperCase() !== 'GET') return this.refuse(methodNotAllowed(request.method, ['GET']));
    // Whoever asks for a pass is buying one: the terms, whatever WAF made of the client.
    if (!eligible && !sale) {
      // Free by decision: say so, so that the origin-response can tell it from a lost hand-off.
      return { kind: 'forward', uri: request.uri, setHeaders: { [PENDING_SETTLEMENT_HEADER]: encodeHandoff({ kind: 'free', routeIndex }) } };
    }
    const agent = await this.identify(request, path);
    const bot = verifiedBot((name) => request.header(name), this.forwardedBots);
    const offered = termsFor(this.prices[routeIndex], { method: request.method, path, querystring: request.querystring ?? '', header: (name) => request.header(name), agent: agent?.agent, bot });
    const deadline = remainingMs ?? (() => VIEWER_TRIGGER_MS - (this.ports.clock() - started));
    const terms = isRejection(offered) ? offered : await this.viewerTerms(routeIndex, offered, deadline);
    if (isRejection(terms)) return this.refuse(terms);
    if (terms.free) return this.freeByRule(routeIndex, terms, agent, bot, path);
    const resource = resourceUrl(request.host, path);

    if (pass !== undefined) return this.admitPass(pass, request.method, path, routeIndex, terms, resource);
    if (signIn !== undefined) return this.admitSignIn(signIn, request.method, path, routeIndex, terms, resource);
    if (paymentHeader === undefined) {
      this.metric({ [Metrics.paymentRequired]: 1 }, { [MetricDimensions.route]: terms.route.pattern });
      return this.refuse(reject(402, Reasons.paymentRequired, ''), terms, resource);
    }
    if (terms.route.scheme === BATCH_SETTLEMENT_SCHEME) return this.admitBatch(paymentHeader, terms, routeIndex, resource, deadline, started, request.clientIp, agent, bot);
    const handoff = await this.admit(paymentHeader, terms, routeIndex, resource, deadline, request.clientIp, agent, bot);
    if (isRejection(handoff)) return this.refuse(handoff, terms, resource);
    const priced: PaidHandoff = { ...handoff, ...(terms.priceRule === undefined ? {} : { priceRule: terms.priceRule }), ...(agent ? { agent: agent.agent } : {}), ...bot };
    this.metric(
      { [handoff.kind === 'redeliver' ? Metrics.paymentsRedelivered : Metrics.paymentsVerified]: 1, [Metrics.verifierLatency]: this.ports.clock() - started },
      { [MetricDimensions.route]: terms.route.pattern },
    );
    return {
      kind: 'forward',
      uri: originPath(path),
      setHeaders: { [PENDING_SETTLEMENT_HEADER]: encodeHandoff(priced), [PAYMENT_ID_HEADER]: handoff.paymentId },
    };
  }

  private async originRequest(request: OriginFacingRequest, remainingMs?: RemainingTime): Promise<OriginRequestOutcome> {
    const handoff = request.handoff === undefined ? undefined : decodeHandoff(request.handoff);
    const terms = handoff && termsAt(this.prices[handoff.routeIndex], handoff.priceRule);
    if (!handoff || !terms) return request.handoff === undefined && !this.isPriced(request) ? { kind: 'pass' } : this.handoffLost(request);
    if (this.passes?.offerAt(handoff.routeIndex)) return this.sellPass(handoff, terms, remainingMs);
    // upto: the charge is known only from the origin's answer, so it is settled after it, writes too (docs/metering.md).
    if (handoff.kind !== 'settle' || !hasSideEffects(request.method) || terms.route.scheme === 'upto') return { kind: 'pass' };
    const settled = await this.settleReservation(handoff, terms, remainingMs, { receipt: this.settledReceipt });
    if (settled.kind === 'respond') return settled;
    const { settlement, payer, x402Version } = settled;
    const after: Handoff = { ...handoff, kind: 'settled', payer, txHash: settlement.transaction, x402Version };
    return { kind: 'forward', setHeaders: { [PENDING_SETTLEMENT_HEADER]: encodeHandoff(after) } };
  }

  private async originResponse(request: OriginFacingRequest, originStatus: number, remainingMs?: RemainingTime, settlementOverrides?: string): Promise<OriginOutcome> {
    const handoff = request.handoff === undefined ? undefined : decodeHandoff(request.handoff);
    const terms = handoff && termsAt(this.prices[handoff.routeIndex], handoff.priceRule);
    if (!handoff || !terms) return request.handoff === undefined && !this.isPriced(request) ? { kind: 'pass' } : this.handoffLost(request);
    const now = () => new Date(this.ports.clock()).toISOString();
    const route = { [MetricDimensions.route]: terms.route.pattern };
    const originFailed = originStatus < 200 || originStatus > 299;

    switch (handoff.kind) {
      case 'free':
        return { kind: 'pass' };
      case 'pass':
        // Paid for by the pass: nothing to settle; like any paid response, not for shared caches.
        return { kind: 'release', setHeaders: {} };
      case 'redeliver':
      case 'settled': {
        if (originFailed && handoff.kind === 'redeliver') {
          await this.ports.receipts.returnRedelivery(handoff.paymentId, now()).catch((error: unknown) => this.storeError('returnRedelivery', handoff.paymentId, error));
          return UNCACHED_ERROR;
        }
        // Settled before the origin ran (side-effecting method): whatever the origin answered is
        // the paid-for response; a failed one may be retried with the same payment (redelivery).
        if (handoff.kind === 'redeliver') this.ports.log({ event: 'x402.redelivered', paymentId: handoff.paymentId, txHash: handoff.txHash });
        const network = (handoff.x402Version === 1 ? terms.v1Network : terms.network) as SettleResponse['network'];
        return { kind: 'release', setHeaders: paymentResponseHeaders({ success: true, transaction: handoff.txHash, network, payer: handoff.payer }, handoff.x402Version) };
      }
      case 'batch':
        return this.settleBatch(handoff, terms, originStatus);
      case 'settle':
        break;
    }
    const pending = handoff;

    if (originFailed) {
      await this.ports.receipts.release(pending.paymentId, now()).catch((error: unknown) => {
        // The authorization is unspent either way; a stale reservation only blocks its reuse.
        this.storeError('release', pending.paymentId, error);
      });
      this.ports.log({ event: 'x402.released', paymentId: pending.paymentId, originStatus });
      this.metric({ [Metrics.paymentsReleased]: 1 }, route);
      return UNCACHED_ERROR;
    }

    const charge = terms.route.scheme === 'upto' ? this.meteredCharge(pending.paymentId, terms, settlementOverrides) : undefined;
    if (charge === 0n) return this.releaseUnused(pending, terms);
    const settled = await this.settleReservation(pending, terms, remainingMs, { charge, receipt: this.settledReceipt });
    if (settled.kind === 'respond') return settled;
    return { kind: 'release', setHeaders: paymentResponseHeaders(settled.settlement, settled.x402Version) };
  }

  /**
   * An upto payment's charge: what the origin reported, at most the signed maximum (a higher report
   * is capped and counted: the payer never authorized more); without a readable report, the route's
   * `usageMissing` (logged, counted).
   */
  private meteredCharge(paymentId: string, terms: RouteTerms, header: string | undefined): bigint {
    const maximum = BigInt(terms.requirements.amount);
    const usage = readUsage(header, maximum, this.config.asset.decimals);
    const route = { [MetricDimensions.route]: terms.route.pattern };
    switch (usage.kind) {
      case 'reported':
        return usage.amount;
      case 'capped':
        this.ports.log({ event: 'x402.usage_capped', paymentId, reported: usage.reported, maximum: maximum.toString() });
        this.metric({ [Metrics.usageCapped]: 1 }, route);
        return usage.amount;
      case 'missing':
      case 'malformed': {
        const charge = terms.route.usageMissing === 'zero' ? 0n : maximum;
        this.ports.log({ event: 'x402.usage_missing', paymentId, header: usage.kind === 'malformed' ? usage.value : undefined, charged: charge.toString(), usageMissing: terms.route.usageMissing });
        this.metric({ [Metrics.usageMissing]: 1 }, route);
        return charge;
      }
    }
  }

  /** An upto request that cost nothing: no settlement, the authorization released unspent, the receipt's amount 0. */
  private async releaseUnused(pending: Extract<Handoff, { kind: 'settle' }>, terms: RouteTerms): Promise<OriginOutcome> {
    const at = new Date(this.ports.clock()).toISOString();
    await this.ports.receipts.release(pending.paymentId, at, '0').catch((error: unknown) => this.storeError('release', pending.paymentId, error));
    this.ports.log({ event: 'x402.released', paymentId: pending.paymentId, charged: '0' });
    this.metric({ [Metrics.paymentsReleased]: 1, [Metrics.meteredMaximumAtomic]: Number(terms.requirements.amount), [Metrics.meteredRevenueAtomic]: 0 }, { [MetricDimensions.route]: terms.route.pattern });
    const settlement: SettleResponse = { success: true, transaction: '', network: terms.network as SettleResponse['network'], amount: '0' };
    return { kind: 'release', setHeaders: paymentResponseHeaders(settlement, 2) };
  }

  /**
   * The terms the viewer-request offers and checks: an upto route's name the facilitator's address,
   * a batch-settlement route's its receiver authorizer; until known a 503.
   */
  private async viewerTerms(routeIndex: number, base: RouteTerms, remaining: RemainingTime): Promise<RouteTerms | Rejection> {
    const scheme = base.route.scheme;
    if (scheme === 'exact') return base;
    const address = scheme === 'upto' ? await this.uptoFacilitator(remaining) : await this.batchReceiverAuthorizer(remaining);
    if (isRejection(address)) return address;
    const cached = this.advertisedTerms.get(routeIndex);
    if (cached && (cached.requirements.extra.facilitatorAddress ?? cached.requirements.extra.receiverAuthorizer) === address) return cached;
    const terms = routeTerms(base.route, this.config, undefined, address);
    this.advertisedTerms.set(routeIndex, terms);
    return terms;
  }

  /**
   * The receiver authorizer batch-settlement terms name: pinned in the configuration, else the
   * facilitator's /supported (cached per container), or a 503 while it is not known.
   */
  private async batchReceiverAuthorizer(remaining: RemainingTime): Promise<Address | Rejection> {
    if (this.pinnedReceiverAuthorizer) return this.pinnedReceiverAuthorizer;
    const address = await this.receiverAuthorizer.get(Math.max(1, Math.min(this.config.facilitator.verifyTimeoutMs, remaining() - VIEWER_RESERVE_MS) / 2));
    if (address !== undefined) return address;
    return reject(503, Reasons.batchReceiverAuthorizerUnknown, "this route is paid through payment channels (batch-settlement), and the facilitator's receiver authorizer for them is not known yet; nothing was charged", RETRY_AFTER_SECONDS);
  }

  /** The address upto terms name (the facilitator's /supported, cached per container), or a 503 while it is not known. */
  private async uptoFacilitator(remaining: RemainingTime): Promise<Address | Rejection> {
    const address = await this.facilitatorAddress.get(Math.max(1, Math.min(this.config.facilitator.verifyTimeoutMs, remaining() - VIEWER_RESERVE_MS) / 2));
    if (address !== undefined) return address;
    return reject(503, Reasons.uptoFacilitatorUnknown, "this route is metered (upto), and the facilitator's address for it is not known yet; nothing was charged", RETRY_AFTER_SECONDS);
  }

  /**
   * The catalogue (lambda/core/catalog.ts): free, whoever asks, built once per host; GET and HEAD,
   * with a revalidation by ETag. With upto routes it names the facilitator address their 402s do,
   * with batch-settlement routes the receiver authorizer when known (pinned, or read).
   */
  private async serveCatalog(request: PaywallRequest, remaining: RemainingTime): Promise<Responded> {
    const method = request.method.toUpperCase();
    if (method !== 'GET' && method !== 'HEAD') {
      return this.refuse({ ...reject(405, Reasons.methodNotAllowed, `${method} is not allowed here: read the catalogue with GET or HEAD`), headers: { allow: 'GET, HEAD' } });
    }
    const [address, receiverAuthorizer] = await Promise.all([
      catalogHasMeteredRoutes(this.config) ? this.uptoFacilitator(remaining) : undefined,
      // Not a 503 when unknown: the catalogue then lists the deposit terms without it, and the 402 names it.
      catalogHasChannelRoutes(this.config) ? this.batchReceiverAuthorizer(remaining).then((known) => (isRejection(known) ? undefined : known)) : undefined,
    ]);
    if (isRejection(address)) return this.refuse(address);
    const { body, etag } = this.catalogs.get(resourceUrl(request.host, ''), address, receiverAuthorizer);
    const headers = { 'cache-control': `public, max-age=${CATALOG_MAX_AGE_SECONDS}`, etag, 'access-control-allow-origin': '*' };
    if (matchesEntityTag(request.header('if-none-match'), etag)) return { kind: 'respond', response: { status: 304, headers, body: '' } };
    return { kind: 'respond', response: { status: 200, headers: { 'content-type': 'application/json', ...headers }, body: method === 'HEAD' ? '' : body } };
  }

  /**
   * Settles a verified reservation: claims the stored payment, calls the facilitator within the
   * trigger's remaining time (once more when the first answer is in doubt) and records the outcome.
   */
  /**
   * `charge`: an upto payment's actual amount (above 0, at most its maximum). `receipt`: whether the
   * settled receipt is written before this returns, or only sent (after-release).
   */
  private async settleReservation(
    pending: Extract<Handoff, { kind: 'settle' }>,
    terms: RouteTerms,
    remainingMs: RemainingTime | undefined,
    { charge, receipt }: { readonly charge?: bigint; readonly receipt: SettledReceipt },
  ): Promise<{ readonly kind: 'settled'; readonly settlement: SettleResponse; readonly payer: string; readonly x402Version: 1 | 2 } | Responded> {
    const now = () => new Date(this.ports.clock()).toISOString();
    const route = { [MetricDimensions.route]: terms.route.pattern };
    const started = this.ports.clock();
    const remaining = remainingMs ?? (() => ORIGIN_TRIGGER_MS - (this.ports.clock() - started));
    const opened = pending.sealed === undefined ? undefined : this.originSeal.open(pending.paymentId, pending.sealed);
    let stored: string | undefined = opened;
    if (opened === undefined) {
      try {
        // Read the sealing key meanwhile, so that this container's next paid request need not claim first.
        [stored] = await Promise.all([this.ports.receipts.claimForSettlement(pending.paymentId, now()), this.originSeal.ready(remaining() - RECORD_RESERVE_MS)]);
      } catch (error) {
        this.storeError('claimForSettlement', pending.paymentId, error);
        return this.refuse(reject(503, Reasons.receiptStoreUnavailable, 'payments cannot be recorded right now, so the content is withheld; nothing was charged', RETRY_AFTER_SECONDS), terms, pending.resource);
      }
    }
    const payment = stored === undefined ? undefined : parseStoredPayment(stored);
    if (!payment) {
      this.ports.log({ event: 'x402.internal_error', message: 'no settleable reservation for the hand-off', paymentId: pending.paymentId });
      return this.refuse(reject(503, Reasons.unexpectedSettleError, 'the payment could not be matched to its reservation; nothing was charged', RETRY_AFTER_SECONDS));
    }

    const { payload, requirements: offered } = this.facilitatorArgs(payment, terms, pending.resource);
    // upto: the requirements the payer accepted (checked equal to the offered ones by the viewer-request), for the actual amount.
    const requirements = charge === undefined ? offered : { ...(payment.payload as PaymentPayload).accepted, amount: charge.toString() };
    const settleBudget = () => Math.min(this.config.facilitator.settleTimeoutMs, remaining() - RECORD_RESERVE_MS);
    if (settleBudget() < MIN_SETTLE_MS) {
      await this.ports.receipts.release(pending.paymentId, now()).catch((error: unknown) => this.storeError('release', pending.paymentId, error));
      return this.refuse(reject(503, Reasons.edgeDeadline, 'the edge ran out of time before settling, so the content is withheld; nothing was charged', RETRY_AFTER_SECONDS), terms, pending.resource);
    }
    const first = await this.settleOnce(payload, requirements, pending.paymentId, settleBudget());
    let outcome = first;
    // In doubt (no answer, or x402's retryable `settlement_pending`), ask once more while the
    // trigger's time allows: a facilitator that never got the first call settles now, one whose
    // transaction is still pending resumes waiting for it. Settling the same authorization twice
    // is impossible on chain (EIP-3009 nonces are single-use), so the retry cannot double-charge.
    // Each call is bounded by the time left, so the trigger is never killed between settling and
    // recording.
    if (inDoubt(first) && settleBudget() >= MIN_SETTLE_MS) {
      outcome = await this.settleOnce(payload, requirements, pending.paymentId, settleBudget());
    }
    if (outcome.kind === 'error') {
      this.metric({ [Metrics.facilitatorErrors]: 1, [Metrics.settlementsFailed]: 1 }, route);
      await this.recordFailure(pending.paymentId, Reasons.unexpectedSettleError, now());
      return this.refuse(
        reject(503, Reasons.facilitatorUnavailable, 'the settlement could not be confirmed, so the content is withheld; check your wallet before paying again', RETRY_AFTER_SECONDS),
        terms,
        pending.resource,
      );
    }
    const settlement = outcome.settlement;
    if (!settlement.success) {
      let reason = reasonCode(settlement.errorReason, Reasons.settlementFailed);
      // The first call may have settled without us hearing it: then the retry finds the nonce used.
      if (inDoubt(first) && reason === Reasons.nonceAlreadyUsed) reason = Reasons.settlementUnconfirmed;
      this.metric({ [Metrics.settlementsFailed]: 1 }, { ...route, [MetricDimensions.reason]: reason });
      await this.recordFailure(pending.paymentId, reason, now(), settlement.transaction || undefined);
      if (reason === Reasons.settlementPending || reason === Reasons.settlementUnconfirmed) {
        const tx = settlement.transaction ? ` (transaction ${settlement.transaction})` : '';
        return this.refuse(
          reject(503, reason, `the settlement was submitted but not confirmed${tx}, so the content is withheld; check your wallet before paying again`, RETRY_AFTER_SECONDS),
          terms,
          pending.resource,
        );
      }
      const detail = oneLine(settlement.errorMessage ?? settlement.errorReason ?? reason);
      return this.refuse(reject(402, reason, `settlement failed, the content is withheld and nothing was charged: ${detail}`), terms, pending.resource);
    }

    if (receipt === 'after-release') await this.recordAfterRelease(pending.paymentId, settlement, now(), charge?.toString(), pending, remaining);
    else await this.recordSettlement(pending.paymentId, settlement, now(), charge?.toString(), pending);
    const metered = charge === undefined ? {} : { [Metrics.meteredRevenueAtomic]: Number(charge), [Metrics.meteredMaximumAtomic]: Number(terms.requirements.amount) };
    this.metric(
      {
        [Metrics.paymentsSettled]: 1,
        [Metrics.revenueAtomic]: Number(charge ?? terms.requirements.amount),
        [Metrics.settlementLatency]: this.ports.clock() - started,
        ...metered,
      },
      route,
    );
    const payer = settlement.payer ?? String((payment.payload.payload as { authorization?: { from?: unknown } }).authorization?.from ?? '');
    return { kind: 'settled', settlement, payer, x402Version: payment.x402Version };
  }


  /** A `free` price rule matched (only verified identities can match one: lib/config/price-by.ts): forwarded unpaid, counted. */
  private freeByRule(routeIndex: number, terms: RouteTerms, agent: VerifiedAgent | undefined, bot: VerifiedBot | undefined, path: string): ViewerOutcome {
    this.ports.log({ event: 'x402.free_by_rule', agent: agent?.agent, verifiedBy: agent?.verifiedBy, ...bot, route: terms.route.pattern, priceRule: terms.priceRule });
    this.metric({ [Metrics.agentFreeRequests]: 1 }, { [MetricDimensions.route]: terms.route.pattern });
    const handoff: Handoff = { kind: 'free', routeIndex, priceRule: terms.priceRule, ...(agent ? { agent: agent.agent } : {}), ...bot };
    return { kind: 'forward', uri: originPath(path), setHeaders: { [PENDING_SETTLEMENT_HEADER]: encodeHandoff(handoff) } };
  }

  /**
   * The verified agent of a priced request, or undefined: unsigned, or refused (counted by reason
   * in AgentSignaturesRefused), in which case it is priced and charged as anyone. Never throws:
   * identity is a name for the payer, its failure never a reason to fail the request.
   */
  private async identify(request: PaywallRequest, path: string): Promise<VerifiedAgent | undefined> {
    if (!this.agents) return undefined;
    const query = request.querystring ? `?${request.querystring}` : '';
    let identity: AgentIdentity;
    try {
      identity = await this.agents.identify({ method: request.method, url: `https://${request.host}${request.uri}${query}`, header: (name) => request.header(name) });
    } catch (error) {
      this.ports.log({ event: 'x402.agent_identity_error', path, error: String(error) });
      identity = { kind: 'refused', reason: 'malformed' };
    }
    if (identity.kind === 'verified') return identity;
    if (identity.kind === 'refused') {
      this.ports.log({ event: 'x402.agent_refused', reason: identity.reason, signatureAgent: request.header('signature-agent')?.slice(0, 200) });
      this.metric({ [Metrics.agentSignaturesRefused]: 1 }, { [MetricDimensions.reason]: identity.reason });
    }
    return undefined;
  }

  /**
   * Checks the payment and holds its nonce: the reservation and the facilitator's verify run side
   * by side (neither depends on the other). Returns the hand-off for the origin-facing triggers,
   * or why the payment is refused.
   */
  private async admit(
    paymentHeader: NonNullable<ReturnType<typeof findPaymentHeader>>,
    terms: RouteTerms,
    routeIndex: number,
    resource: string,
    remaining: RemainingTime,
    clientIp: string | undefined,
    agent: VerifiedAgent | undefined,
    bot: VerifiedBot | undefined,
  ): Promise<PaidHandoff | Rejection> {
    if (isRejection(paymentHeader)) return paymentHeader;
    const payment = decodePaymentHeader(paymentHeader.version, paymentHeader.value);
    if (isRejection(payment)) return payment;
    const denied = this.denied(claimedPayer(payment));
    if (denied) return denied;
    const checked = await this.precheck.check(payment, terms, Math.floor(this.ports.clock() / 1000));
    if (isRejection(checked)) return checked;
    // A signature that does not recover, naming an account known to have no code, is a forgery:
    // refused for free. Not known yet: one bounded lookup, budgeted like a facilitator check.
    const accountKinds = checked.signature === 'unrecovered' ? this.accountKinds : undefined;
    if (accountKinds?.known(checked.payer) === 'eoa') return forgedEoaSignature(checked.payer);
    const admission = this.guard.admit({ clientIp, payer: checked.payer }, checked.signature === 'recovered');
    if (isRejection(admission)) return admission;
    if (accountKinds && (await accountKinds.lookup(checked.payer, remaining() - VIEWER_RESERVE_MS)) === 'eoa') {
      admission.failed();
      return forgedEoaSignature(checked.payer);
    }

    const { authorization } = checked;
    // Permit2 nonces are the payer's across tokens: their ids live apart from EIP-3009 ones.
    const paymentId = paymentIdOf(this.config.network, checked.scheme === 'upto' ? PERMIT2_ADDRESS : this.config.asset.address, checked.payer, authorization.nonce);
    const at = new Date(this.ports.clock()).toISOString();
    const receipt: Receipt = {
      paymentId,
      status: 'reserved',
      engine: 'edge',
      network: this.config.network,
      payer: checked.payer,
      payTo: this.config.payTo,
      amount: terms.requirements.amount,
      ...(checked.scheme === 'upto' ? { scheme: 'upto', maxAmount: terms.requirements.amount } : {}),
      asset: this.config.asset.address,
      nonce: authorization.nonce,
      resource,
      route: terms.route.pattern,
      ...(terms.tier === undefined ? {} : { tier: terms.tier }),
      ...(agent ? { agent: agent.agent, agentVerifiedBy: agent.verifiedBy } : {}),
      ...bot,
      x402Version: payment.x402Version,
      createdAt: at,
      updatedAt: at,
      expiresAt: Number(authorization.validBefore),
      payment: serializePayment(payment),
    };
    const { payload, requirements } = this.facilitatorArgs(payment, terms, resource);
    const verifyBudget = () => Math.max(1, Math.min(this.config.facilitator.verifyTimeoutMs, remaining() - VIEWER_RESERVE_MS));
    const verification = this.simulatesTransfer(checked)
      ? this.simulateTransfer(checked, verifyBudget()).then((verdict) => verdict ?? this.verify(payload, requirements, verifyBudget()))
      : this.verify(payload, requirements, verifyBudget());
    const [held, verdict, canSeal] = await Promise.all([this.reserve(receipt), verification, this.viewerSeal.ready(verifyBudget())]);

    // A nonce already held first: the facilitator refuses a settled one, which may be redelivered.
    if (typeof held === 'object' && 'held' in held) {
      const again = await this.presentedAgain(paymentId, held.held, routeIndex, resource, payment.x402Version);
      if (isRejection(again)) admission.failed();
      return again;
    }
    if (held === 'exhausted') {
      admission.failed();
      return reject(402, Reasons.authorizationRetriesExhausted, `this authorization was presented ${MAX_RESERVATIONS} times and the origin never served it: nothing was charged; sign a new one`);
    }
    if (isRejection(verdict)) {
      if (verdict.status === 402) admission.failed();
      if (held === 'reserved') await this.ports.receipts.forget(paymentId).catch((error: unknown) => this.storeError('forget', paymentId, error));
      return verdict;
    }
    admission.verified();
    if (isRejection(held)) return held;
    const sealed = canSeal ? this.viewerSeal.seal(paymentId, receipt.payment!) : undefined;
    return sealed === undefined ? { kind: 'settle', paymentId, routeIndex, resource } : { kind: 'settle', paymentId, routeIndex, resource, sealed };
  }

  /** A batch-settlement payment (lambda/core/batch/scheme.ts): a deposit or a voucher, reserved on the channel's books. */
  private async admitBatch(
    paymentHeader: NonNullable<ReturnType<typeof findPaymentHeader>>,
    terms: RouteTerms,
    routeIndex: number,
    resource: string,
    remaining: RemainingTime,
    started: number,
    clientIp: string | undefined,
    agent: VerifiedAgent | undefined,
    bot: VerifiedBot | undefined,
  ): Promise<ViewerOutcome> {
    const payment = isRejection(paymentHeader) ? paymentHeader : decodePaymentHeader(paymentHeader.version, paymentHeader.value);
    if (isRejection(payment)) return this.refuse(payment, terms, resource);
    const channelConfig = (payment.payload.payload as { channelConfig?: { payer?: unknown; payerAuthorizer?: unknown } }).channelConfig;
    const denied = this.denied(typeof channelConfig?.payer === 'string' ? channelConfig.payer : undefined);
    if (denied) return this.refuse(denied);
    // The party a voucher's signature proves is its payer authorizer (the official client's: the payer).
    const admission = this.guard.admitChannelPayment({ clientIp, payer: String(channelConfig?.payerAuthorizer ?? '') });
    if (isRejection(admission)) return this.refuse(admission);
    const admitted = await this.batch!.admit(payment, terms, routeIndex, resource, remaining);
    if (isRejection(admitted)) {
      if (admitted.failedPayment) admission.failed(admitted.failedPayment === 'payer');
      return this.refuse(admitted, terms, resource);
    }
    const handoff: BatchHandoff = { ...admitted, ...(agent ? { agent: agent.agent } : {}), ...bot };
    this.metric({ [Metrics.paymentsVerified]: 1, [Metrics.verifierLatency]: this.ports.clock() - started }, { [MetricDimensions.route]: terms.route.pattern });
    return {
      kind: 'forward',
      uri: originPath(resourcePath(resource)),
      // Every request is its own cache key, so each reaches the origin-response that commits it.
      setHeaders: { [PENDING_SETTLEMENT_HEADER]: encodeHandoff(handoff), [PAYMENT_ID_HEADER]: `batch:${handoff.channelId}:${handoff.reservationId}` },
    };
  }

  /** origin-response of a batch-settlement request: commit on 2xx (with its receipt), else release; never content without the commit. */
  private async settleBatch(handoff: BatchHandoff, terms: RouteTerms, originStatus: number): Promise<OriginOutcome> {
    const route = { [MetricDimensions.route]: terms.route.pattern };
    const settled = await this.batch!.settle(handoff, terms, originStatus);
    switch (settled.kind) {
      case 'released':
        this.metric({ [Metrics.paymentsReleased]: 1 }, route);
        return UNCACHED_ERROR;
      case 'refused':
        this.metric({ [Metrics.settlementsFailed]: 1 }, { ...route, [MetricDimensions.reason]: settled.rejection.reason });
        return this.refuse(settled.rejection);
      case 'served':
        this.metric({ [Metrics.paymentsSettled]: 1, [Metrics.revenueAtomic]: Number(terms.requirements.amount) }, route);
        return { kind: 'release', setHeaders: paymentResponseHeaders(settled.settlement, 2) };
    }
  }

  /** Whether this payment's verification is a simulated transfer rather than the facilitator's /verify. */
  private simulatesTransfer(checked: PrecheckedPayment): boolean {
    return checked.signature === 'recovered' && checked.scheme !== 'upto' && this.config.chainRpc?.verifyTransfers === true && this.ports.clock() >= this.simulationDownUntil;
  }

  /**
   * An EOA payment whose signature recovered locally, checked on chain by one `eth_call` of its
   * `transferWithAuthorization`: what the facilitator's /verify itself simulates (balance, nonce
   * unused, validity, the token's own signature check), without the facilitator. Undefined when
   * the RPC gave no verdict: then the facilitator verifies, as without an RPC.
   */
  private async simulateTransfer(checked: PrecheckedPayment, timeoutMs: number): Promise<'valid' | Rejection | undefined> {
    const calldata = transferWithAuthorizationCalldata(checked.authorization, checked.signatureHex);
    try {
      const call = await this.ports.chain!.call(this.config.asset.address, calldata, Math.min(timeoutMs, this.config.chainRpc!.timeoutMs));
      if (call.kind === 'returned') return 'valid';
      return reject(402, simulationReason(call.message), `the transfer would fail on chain, so nothing was charged: ${oneLine(call.message)}`);
    } catch (error) {
      // As for eth_getCode: none is tried for a while, the facilitator verifies meanwhile.
      this.simulationDownUntil = this.ports.clock() + CHAIN_RPC_BACKOFF_MS;
      this.ports.log({ event: 'x402.chain_rpc_error', operation: 'eth_call', payer: checked.payer, error: String(error) });
      return undefined;
    }
  }

  private async reserve(receipt: Receipt): Promise<Awaited<ReturnType<ReceiptStorePort['reserve']>> | Rejection> {
    try {
      return await this.ports.receipts.reserve(receipt);
    } catch (error) {
      this.storeError('reserve', receipt.paymentId, error);
      return reject(503, Reasons.receiptStoreUnavailable, 'payments cannot be recorded right now; nothing was charged', RETRY_AFTER_SECONDS);
    }
  }

  private async verify(payload: PaymentPayload, requirements: PaymentRequirements, timeoutMs: number): Promise<'valid' | Rejection> {
    try {
      const verdict = await this.ports.facilitator.verify(payload, requirements, timeoutMs);
      if (verdict.isValid) return 'valid';
      const reason = reasonCode(verdict.invalidReason, Reasons.unexpectedVerifyError);
      return reject(402, reason, oneLine(verdict.invalidMessage ?? `the facilitator refused the payment: ${verdict.invalidReason ?? reason}`));
    } catch (error) {
      this.ports.log({ event: 'x402.facilitator_error', phase: 'verify', error: String(error) });
      this.metric({ [Metrics.facilitatorErrors]: 1 }, {});
      return reject(503, Reasons.facilitatorUnavailable, 'the payment facilitator is unreachable; nothing was charged', RETRY_AFTER_SECONDS);
    }
  }

  /**
   * A payment whose nonce is already held. Settled before, for this very resource, still within its
   * authorization's validity and under the redelivery allowance: the content is delivered again
   * without a charge (its first delivery was withheld or lost). Anything else is a replay.
   */
  private async presentedAgain(paymentId: string, row: Receipt | undefined, routeIndex: number, resource: string, x402Version: 1 | 2): Promise<PaidHandoff | Rejection> {
    const max = this.config.maxRedeliveries ?? DEFAULT_MAX_REDELIVERIES;
    const at = new Date(this.ports.clock()).toISOString();
    try {
      const redeliverable =
        row?.status === 'settled' && row.txHash && row.resource === resource && this.ports.clock() / 1000 < row.expiresAt && (row.redeliveries ?? 0) < max;
      if (row && redeliverable && (await this.ports.receipts.claimRedelivery(paymentId, max, at))) {
        return { kind: 'redeliver', paymentId, routeIndex, resource, payer: row.payer, txHash: row.txHash!, x402Version };
      }
      if (row?.status === 'failed' && IN_DOUBT_REASONS.includes(row.errorReason ?? '')) {
        return reject(503, Reasons.settlementUnconfirmed, 'the settlement of this payment is not confirmed yet; it is delivered once it is (cdk-x402 reconcile), or sign a new one if your wallet was not charged', RETRY_AFTER_SECONDS);
      }
    } catch (error) {
      this.storeError('presentedAgain', paymentId, error);
      return reject(503, Reasons.receiptStoreUnavailable, 'payments cannot be checked right now; nothing was charged', RETRY_AFTER_SECONDS);
    }
    return reject(402, Reasons.nonceAlreadyUsed, 'this payment authorization was already presented; sign a new one');
  }

  /** A bearer pass on a priced route, checked offline: no facilitator, no table, no key service. */
  private admitPass(token: string, method: string, path: string, routeIndex: number, terms: RouteTerms, resource: string): ViewerOutcome {
    const claims = this.passes!.admit(token, routeIndex, method, path, Math.floor(this.ports.clock() / 1000));
    if (isRejection(claims)) return this.refuse(claims, terms, resource);
    return this.forwardWithPass(claims.jti, claims.sub, path, routeIndex, terms);
  }

  /** A sign-in-with-x proof on a priced route: admitted as the signed-in payer's pass (one table query per payer per minute and container). */
  private async admitSignIn(header: string, method: string, path: string, routeIndex: number, terms: RouteTerms, resource: string): Promise<ViewerOutcome> {
    const admitted = await this.signIn!.admit(header, routeIndex, method, path, resource);
    if (isRejection(admitted)) return this.refuse(admitted, terms, resource);
    return this.forwardWithPass(admitted.passId, admitted.payer, path, routeIndex, terms);
  }

  private forwardWithPass(passId: string, payer: string, path: string, routeIndex: number, terms: RouteTerms): ViewerOutcome {
    // A pass bought before its holder was denied opens nothing after the next deploy.
    const denied = this.denied(payer);
    if (denied) return this.refuse(denied);
    this.metric({ [Metrics.passRequests]: 1 }, { [MetricDimensions.route]: terms.route.pattern });
    return {
      kind: 'forward',
      uri: originPath(path),
      setHeaders: { [PENDING_SETTLEMENT_HEADER]: encodeHandoff({ kind: 'pass', routeIndex, passId, payer }) },
    };
  }

  /**
   * A pass sale, in the origin-request: the payment is settled as any exact payment, then the edge
   * answers the signed pass itself (the origin is never asked). The same payment presented again
   * (the redelivery path) re-issues the pass recorded for it, so a signing failure after the
   * settlement loses no money: the receipt is written before the pass is signed.
   */
  private async sellPass(handoff: Handoff, terms: RouteTerms, remainingMs: RemainingTime | undefined): Promise<OriginRequestOutcome> {
    const offer = this.passes!.offerAt(handoff.routeIndex)!;
    if (handoff.kind === 'free' || handoff.kind === 'pass' || handoff.kind === 'settled' || handoff.kind === 'batch') {
      // Not paid for (a person, say): a refusal, never the origin's copy of the sale path.
      return this.refuse(reject(402, Reasons.paymentRequired, `pay for the pass with an x402 payment (GET ${passSalePath(offer.name)} without one returns the terms)`));
    }
    const at = () => new Date(this.ports.clock()).toISOString();
    let payer: string;
    let paid: Record<string, string>;
    let recorded;
    if (handoff.kind === 'settle') {
      // Before the release whatever config.settledReceipt says: the pass is recorded on the settled row.
      const settled = await this.settleReservation(handoff, terms, remainingMs, { receipt: 'before-release' });
      if (settled.kind === 'respond') return settled;
      payer = settled.payer;
      paid = paymentResponseHeaders(settled.settlement, settled.x402Version);
    } else {
      payer = handoff.payer;
      const network = (handoff.x402Version === 1 ? terms.v1Network : terms.network) as SettleResponse['network'];
      paid = paymentResponseHeaders({ success: true, transaction: handoff.txHash, network, payer }, handoff.x402Version);
      try {
        recorded = await this.ports.passRecords!.findPass(handoff.paymentId);
      } catch (error) {
        this.storeError('findPass', handoff.paymentId, error);
        return this.passNotIssued(handoff, paid, Reasons.receiptStoreUnavailable, at);
      }
    }
    let issued;
    try {
      issued = await this.passes!.issue(offer, this.ports.passSigner!, payer, handoff.paymentId, Math.floor(this.ports.clock() / 1000), recorded);
    } catch (error) {
      this.ports.log({ event: 'x402.pass_signing_error', paymentId: handoff.paymentId, error: String(error) });
      return this.passNotIssued(handoff, paid, Reasons.passSigningUnavailable, at);
    }
    if (!recorded) {
      await this.ports.passRecords!.recordPass(handoff.paymentId, issued.record, at()).catch((error: unknown) => {
        // The money is on the settled receipt already; the log keeps what the row lacks.
        this.storeError('recordPass', handoff.paymentId, error);
        this.ports.log({ event: 'x402.pass_record_fallback', paymentId: handoff.paymentId, ...issued.record });
      });
      this.metric({ [Metrics.passesSold]: 1 }, { [MetricDimensions.route]: terms.route.pattern });
    }
    const { claims } = issued;
    const body = {
      pass: issued.token,
      name: claims.pass,
      scope: claims.scope,
      notBefore: new Date(claims.nbf * 1000).toISOString(),
      expiresAt: new Date(claims.exp * 1000).toISOString(),
      passId: claims.jti,
      payer: claims.sub,
      usage: 'send "Authorization: Bearer <pass>" with each request in scope',
    };
    return { kind: 'respond', response: { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'private, no-store', ...paid }, body: JSON.stringify(body) } };
  }

  /** Paid, but the pass could not be made: 503, and the same payment may ask again (its redelivery is given back). */
  private async passNotIssued(handoff: PaidHandoff, paid: Record<string, string>, reason: string, at: () => string): Promise<Responded> {
    if (handoff.kind === 'redeliver') {
      await this.ports.receipts.returnRedelivery(handoff.paymentId, at()).catch((error: unknown) => this.storeError('returnRedelivery', handoff.paymentId, error));
    }
    const refused = this.refuse(
      reject(503, reason, 'your payment is settled and recorded, but the pass could not be issued right now: send the same request with the same payment header again to receive it', RETRY_AFTER_SECONDS),
    );
    return { ...refused, response: { ...refused.response, headers: { ...refused.response.headers, ...paid } } };
  }

  /**
   * Priced, but the viewer-request's decision did not arrive (a policy or another function dropped
   * it, or viewer-request is not associated): never release content unsettled.
   */
  private handoffLost(request: OriginFacingRequest): Responded {
    this.ports.log({ event: 'x402.handoff_missing', method: request.method, uri: request.uri, present: request.handoff !== undefined });
    this.metric({ [Metrics.handoffMissing]: 1 }, {});
    return this.refuse(
      reject(503, Reasons.handoffMissing, 'the payment state of this request was lost between the edge triggers, so the content is withheld; nothing was charged', RETRY_AFTER_SECONDS),
    );
  }

  /** Whether the request, as forwarded to the origin, is on a priced route. */
  private isPriced(request: OriginFacingRequest): boolean {
    const path = canonicalPath(request.uri);
    return path !== undefined && matchRoute(this.routes, request.method, path).kind === 'priced';
  }

  /** The facilitator API takes v1 and v2 objects alike; only their types differ. */
  private facilitatorArgs(payment: DecodedPayment, terms: RouteTerms, resource: string) {
    const requirements = payment.x402Version === 2 ? terms.requirements : requirementsV1(terms, resource);
    return {
      payload: payment.payload as PaymentPayload,
      requirements: requirements as PaymentRequirements,
    };
  }

  private async settleOnce(payload: PaymentPayload, requirements: PaymentRequirements, paymentId: string, timeoutMs: number): Promise<SettleAttempt> {
    try {
      return { kind: 'answer', settlement: await this.ports.facilitator.settle(payload, requirements, timeoutMs) };
    } catch (error) {
      this.ports.log({ event: 'x402.facilitator_error', phase: 'settle', paymentId, error: String(error) });
      return { kind: 'error', error };
    }
  }

  private async recordFailure(paymentId: string, reason: string, at: string, txHash?: string): Promise<void> {
    await this.ports.receipts.markFailed(paymentId, reason, at, txHash).catch((error: unknown) => this.storeError('markFailed', paymentId, error));
  }

  /** Money moved: the receipt must exist. Retry, then leave a complete record in the log. `amount`: an upto payment's actual charge; `who`: the verified agent and bot that paid. */
  private async recordSettlement(paymentId: string, settlement: SettleResponse, at: string, amount: string | undefined, who: Pick<Handoff, 'agent' | 'botCategory' | 'botOrganization'>): Promise<void> {
    const { agent, botCategory, botOrganization } = who;
    let lastError: unknown;
    for (let attempt = 1; attempt <= RECEIPT_WRITE_ATTEMPTS; attempt++) {
      try {
        await this.ports.receipts.markSettled(paymentId, settlement.transaction, at, amount);
        this.ports.log({ event: 'x402.settled', paymentId, txHash: settlement.transaction, payer: settlement.payer, amount, agent, botCategory, botOrganization });
        return;
      } catch (error) {
        lastError = error;
      }
    }
    this.storeError('markSettled', paymentId, lastError);
    this.ports.log({ event: 'x402.receipt_fallback', status: 'settled', paymentId, txHash: settlement.transaction, payer: settlement.payer, amount, agent, botCategory, botOrganization, at });
  }

  /**
   * after-release: the receipt's write (with its retries and fallback) is started and kept, and
   * this returns once its request is on its socket, so that a container frozen after the answer
   * has still sent it. The money is already recorded durably: the reservation, whose (asset, payer,
   * nonce) names exactly one possible transfer, which `cdk-x402 reconcile` reads from the chain.
   */
  private async recordAfterRelease(paymentId: string, settlement: SettleResponse, at: string, amount: string | undefined, who: Pick<Handoff, 'agent' | 'botCategory' | 'botOrganization'>, remaining: RemainingTime): Promise<void> {
    const write = this.recordSettlement(paymentId, settlement, at, amount, who);
    this.unconfirmedReceipts.add(write);
    void write.then(() => this.unconfirmedReceipts.delete(write));
    await atMost(this.ports.receiptWritesSent!(), remaining() - ANSWER_RESERVE_MS);
  }

  private get settledReceipt(): SettledReceipt {
    return this.config.settledReceipt ?? 'before-release';
  }

  private storeError(operation: string, paymentId: string, error: unknown): void {
    this.ports.log({ event: 'x402.receipt_store_error', operation, paymentId, error: String(error) });
    this.metric({ [Metrics.receiptStoreErrors]: 1 }, {});
  }

  /** The refusal of a payer on the deny-list (counted in PaymentsDenied), or undefined. */
  private denied(payer: string | undefined): Rejection | undefined {
    const refusal = this.deniedPayers.refusal(payer);
    if (refusal) this.metric({ [Metrics.paymentsDenied]: 1 }, {});
    return refusal;
  }

  /**
   * Turns a refusal into a JSON response; 402s repeat the terms so the client can pay (again), a
   * batch-settlement refusal that names the channel's books with them (the corrective 402).
   */
  private refuse(rejection: Rejection | BatchRefusal, offered?: RouteTerms, resource?: string): Responded {
    const channel = 'channel' in rejection ? rejection.channel : undefined;
    const terms = offered && channel ? { ...offered, requirements: correctiveRequirements(offered.requirements, channel) } : offered;
    if (rejection.status !== 402 || rejection.reason !== Reasons.paymentRequired) {
      this.ports.log({ event: 'x402.rejected', status: rejection.status, reason: rejection.reason, message: rejection.message });
      this.metric({ [Metrics.paymentsRejected]: 1 }, { [MetricDimensions.reason]: rejection.reason });
    }
    const headers: Record<string, string> = { 'content-type': 'application/json', 'cache-control': 'no-store' };
    if (rejection.retryAfterSeconds !== undefined) headers['retry-after'] = String(rejection.retryAfterSeconds);
    Object.assign(headers, rejection.headers);
    let body: object = { x402Version: 2, error: rejection.reason, message: rejection.message };
    if (terms && resource) {
      const isChallenge = rejection.reason === Reasons.paymentRequired;
      if (rejection.status === 402) headers[PaymentHeaders.required] = this.paymentRequiredHeader(terms, resource, isChallenge ? undefined : rejection.reason, channel === undefined);
      body = challengeBody(terms, this.config, resource, rejection.reason, isChallenge ? undefined : rejection.message);
    }
    return { kind: 'respond', response: { status: rejection.status, headers, body: JSON.stringify(body) } };
  }

  /**
   * The PAYMENT-REQUIRED header of a 402 (what @x402/core's encodePaymentRequiredHeader writes).
   * The same terms, resource and reason give the same value, except with sign-in (its challenge
   * has a fresh nonce and time) or a channel's corrective terms: other values are encoded once and
   * kept, at most {@link MAX_REQUIRED_HEADERS_PER_TERMS} resources per terms (the resource comes
   * from the request's Host and path).
   */
  private paymentRequiredHeader(terms: RouteTerms, resource: string, error: string | undefined, reusable: boolean): string {
    const encode = () => base64Json(paymentRequiredV2(terms, resource, error, this.challengeExtensions(terms, resource)));
    if (!reusable || this.signIn !== undefined) return encode();
    let encoded = this.requiredHeaders.get(terms);
    if (!encoded) this.requiredHeaders.set(terms, (encoded = new Map()));
    const key = `${error ?? ''} ${resource}`;
    let value = encoded.get(key);
    if (value === undefined) {
      value = encode();
      if (encoded.size >= MAX_REQUIRED_HEADERS_PER_TERMS) encoded.delete(encoded.keys().next().value!);
      encoded.set(key, value);
    }
    return value;
  }

  /** The 402's extensions: the route's discovery metadata, and the passes that open the resource with, for their holders, sign-in. */
  private challengeExtensions(terms: RouteTerms, resource: string): Record<string, unknown> | undefined {
    const offers = this.passes?.challenge(resourcePath(resource), resourceOrigin(resource), terms.route.scheme === 'upto');
    const passExtensions = offers && this.signIn ? { ...offers, ...this.signIn.challenge(resource) } : offers;
    const discovery = terms.route.discoveryExtension;
    return discovery || passExtensions ? { ...discovery, ...passExtensions } : undefined;
  }

  private metric(values: Partial<Record<MetricName, number>>, dimensions: Record<string, string>): void {
    this.ports.log(emfRecord(values, dimensions, this.ports.clock()));
  }
}
