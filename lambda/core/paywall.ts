import { encodePaymentRequiredHeader, encodePaymentResponseHeader } from '@x402/core/http';
import type { PaymentPayload, PaymentRequirements, SettleResponse } from '@x402/core/types';
import { AbuseGuard, DEFAULT_ABUSE_LIMITS } from './abuse-guard';
import type { EdgeConfig } from './config';
import { decodePendingSettlement, encodePendingSettlement, PENDING_SETTLEMENT_HEADER } from './handoff';
import { emfRecord, MetricDimensions, Metrics, type MetricName } from './metrics';
import { PaymentHeaders } from './header-names';
import { decodePaymentHeader, findPaymentHeader, type DecodedPayment } from './payment-header';
import type { Clock, FacilitatorPort, LogSink, ReceiptStorePort } from './ports';
import { precheckExactEvm } from './precheck';
import { MAX_RESERVATIONS, paymentIdOf } from './receipt';
import { isRejection, methodNotAllowed, oneLine, reasonCode, reject, Reasons, type Rejection } from './rejection';
import { challengeBody, paymentRequiredV2, requirementsV1, resourceUrl, routeTerms, type RouteTerms } from './requirements';
import { canonicalPath, compileRoutes, matchRoute, originPath, type CompiledRoute } from './routes';

/** What a viewer request needs from its transport. */
export interface PaywallRequest {
  readonly method: string;
  /** Raw path as received (not decoded). */
  readonly uri: string;
  readonly host: string;
  /** The viewer's IP address (CloudFront's `clientIp`), which failing clients are backed off by. */
  readonly clientIp?: string;
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
  /** Forward to the origin at `uri` (the canonical path that was priced, percent-encoded) with extra headers. */
  | { readonly kind: 'forward'; readonly uri: string; readonly setHeaders: Record<string, string> }
  | { readonly kind: 'respond'; readonly response: PaywallResponse };

export type OriginOutcome =
  | { readonly kind: 'pass' }
  /** Release the origin's response with these headers added (the settlement result). */
  | { readonly kind: 'release'; readonly setHeaders: Record<string, string> }
  /** Withhold the origin's content and answer this instead. */
  | { readonly kind: 'respond'; readonly response: PaywallResponse };

export interface PaywallPorts {
  readonly facilitator: FacilitatorPort;
  readonly receipts: ReceiptStorePort;
  readonly clock: Clock;
  readonly log: LogSink;
}

/** Seconds a client should wait before retrying after a dependency failed. */
const RETRY_AFTER_SECONDS = 5;
/**
 * Time the origin-response may spend on settlement calls (the trigger has 30 s in all; the rest
 * is for the receipt write). A settle call in doubt is retried only if another one fits.
 */
const SETTLE_BUDGET_MS = 28_000;

type SettleAttempt = { readonly kind: 'answer'; readonly settlement: SettleResponse } | { readonly kind: 'error'; readonly error: unknown };

/** No answer, or the facilitator's "transaction sent, receipt not seen yet". */
function inDoubt(attempt: SettleAttempt): boolean {
  return attempt.kind === 'error' || (!attempt.settlement.success && attempt.settlement.errorReason === Reasons.settlementPending);
}

/** A settled payment's receipt write is retried this often before falling back to the log. */
const RECEIPT_WRITE_ATTEMPTS = 3;

/**
 * The x402 request path, transport-neutral: decide → verify → reserve on the way in; settle or
 * release → record on the way out. It fails closed: every error path answers without content.
 */
export class Paywall {
  private readonly routes: CompiledRoute[];
  private readonly terms: RouteTerms[];
  private readonly guard: AbuseGuard;

  constructor(
    private readonly config: EdgeConfig,
    private readonly ports: PaywallPorts,
  ) {
    this.routes = compileRoutes(config);
    this.terms = this.routes.map((route) => routeTerms(route, config));
    this.guard = new AbuseGuard(config.abuseLimits ?? DEFAULT_ABUSE_LIMITS, ports.clock);
  }

  async onViewerRequest(request: PaywallRequest): Promise<ViewerOutcome> {
    const started = this.ports.clock();
    const paymentHeader = findPaymentHeader((name) => request.header(name));
    const eligible = request.header(this.config.eligibilityHeader) === 'true' || paymentHeader !== undefined;
    if (!eligible) return { kind: 'pass' };

    const path = canonicalPath(request.uri);
    if (path === undefined) {
      return this.refuse(reject(400, Reasons.invalidPath, 'the request path has invalid percent-encoding or control characters'));
    }
    const match = matchRoute(this.routes, request.method, path);
    if (match.kind === 'methodNotAllowed') return this.refuse(methodNotAllowed(request.method, match.allowed));
    if (match.kind === 'free') return { kind: 'forward', uri: originPath(path), setHeaders: {} };
    const routeIndex = match.index;
    const terms = this.terms[routeIndex];
    const resource = resourceUrl(request.host, path);

    if (paymentHeader === undefined) {
      this.metric({ [Metrics.paymentRequired]: 1 }, { [MetricDimensions.route]: terms.route.pattern });
      return this.refuse(reject(402, Reasons.paymentRequired, ''), terms, resource);
    }
    const outcome = await this.verifyAndReserve(paymentHeader, terms, routeIndex, resource, request.clientIp);
    if (isRejection(outcome)) return this.refuse(outcome, terms, resource);
    this.metric(
      { [Metrics.paymentsVerified]: 1, [Metrics.verifierLatency]: this.ports.clock() - started },
      { [MetricDimensions.route]: terms.route.pattern },
    );
    return { kind: 'forward', uri: originPath(path), setHeaders: { [PENDING_SETTLEMENT_HEADER]: outcome } };
  }

  async onOriginResponse(pendingHeader: string | undefined, originStatus: number): Promise<OriginOutcome> {
    if (pendingHeader === undefined) return { kind: 'pass' };
    const pending = decodePendingSettlement(pendingHeader);
    const terms = pending && this.terms[pending.routeIndex];
    if (!pending || !terms) {
      this.ports.log({ event: 'x402.internal_error', message: 'unreadable pending-settlement hand-off' });
      return this.refuse(reject(503, Reasons.unexpectedSettleError, 'the payment could not be matched to its terms; nothing was charged', RETRY_AFTER_SECONDS));
    }
    const now = () => new Date(this.ports.clock()).toISOString();
    const route = { [MetricDimensions.route]: terms.route.pattern };

    if (originStatus < 200 || originStatus > 299) {
      await this.ports.receipts.release(pending.paymentId, now()).catch((error: unknown) => {
        // The authorization is unspent either way; a stale reservation only blocks its reuse.
        this.storeError('release', pending.paymentId, error);
      });
      this.ports.log({ event: 'x402.released', paymentId: pending.paymentId, originStatus });
      this.metric({ [Metrics.paymentsReleased]: 1 }, route);
      return { kind: 'pass' };
    }

    const started = this.ports.clock();
    const { payload, requirements } = this.facilitatorArgs(pending.payment, terms, pending.resource);
    const first = await this.settleOnce(payload, requirements, pending.paymentId);
    let outcome = first;
    // In doubt (no answer, or x402's retryable `settlement_pending`), ask once more while the
    // trigger's time allows: a facilitator that never got the first call settles now, one whose
    // transaction is still pending resumes waiting for it. Settling the same authorization twice
    // is impossible on chain (EIP-3009 nonces are single-use), so the retry cannot double-charge.
    if (inDoubt(first) && this.ports.clock() - started + this.config.facilitator.settleTimeoutMs <= SETTLE_BUDGET_MS) {
      outcome = await this.settleOnce(payload, requirements, pending.paymentId);
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

    await this.recordSettlement(pending.paymentId, settlement, now());
    this.metric(
      {
        [Metrics.paymentsSettled]: 1,
        [Metrics.revenueAtomic]: Number(terms.requirements.amount),
        [Metrics.settlementLatency]: this.ports.clock() - started,
      },
      route,
    );
    const encoded = encodePaymentResponseHeader(settlement);
    return {
      kind: 'release',
      setHeaders:
        pending.payment.x402Version === 1
          ? { [PaymentHeaders.responseV1]: encoded, [PaymentHeaders.responseV2]: encoded }
          : { [PaymentHeaders.responseV2]: encoded },
    };
  }

  /** Returns the encoded pending-settlement hand-off, or why the payment is refused. */
  private async verifyAndReserve(
    paymentHeader: NonNullable<ReturnType<typeof findPaymentHeader>>,
    terms: RouteTerms,
    routeIndex: number,
    resource: string,
    clientIp: string | undefined,
  ): Promise<string | Rejection> {
    if (isRejection(paymentHeader)) return paymentHeader;
    const payment = decodePaymentHeader(paymentHeader.version, paymentHeader.value);
    if (isRejection(payment)) return payment;
    const checked = await precheckExactEvm(payment, terms, this.config, Math.floor(this.ports.clock() / 1000));
    if (isRejection(checked)) return checked;
    const admission = this.guard.admit({ clientIp, payer: checked.payer }, checked.signatureRecovered);
    if (isRejection(admission)) return admission;

    const { payload, requirements } = this.facilitatorArgs(payment, terms, resource);
    try {
      const verdict = await this.ports.facilitator.verify(payload, requirements);
      if (!verdict.isValid) {
        admission.failed();
        const reason = reasonCode(verdict.invalidReason, Reasons.unexpectedVerifyError);
        return reject(402, reason, oneLine(verdict.invalidMessage ?? `the facilitator refused the payment: ${verdict.invalidReason ?? reason}`));
      }
      admission.verified();
    } catch (error) {
      this.ports.log({ event: 'x402.facilitator_error', phase: 'verify', error: String(error) });
      this.metric({ [Metrics.facilitatorErrors]: 1 }, {});
      return reject(503, Reasons.facilitatorUnavailable, 'the payment facilitator is unreachable; nothing was charged', RETRY_AFTER_SECONDS);
    }

    const { authorization } = checked;
    const paymentId = paymentIdOf(this.config.network, this.config.asset.address, checked.payer, authorization.nonce);
    const at = new Date(this.ports.clock()).toISOString();
    try {
      const held = await this.ports.receipts.reserve({
        paymentId,
        status: 'reserved',
        engine: 'edge',
        network: this.config.network,
        payer: checked.payer,
        payTo: this.config.payTo,
        amount: terms.requirements.amount,
        asset: this.config.asset.address,
        nonce: authorization.nonce,
        resource,
        route: terms.route.pattern,
        x402Version: payment.x402Version,
        createdAt: at,
        updatedAt: at,
        expiresAt: Number(authorization.validBefore),
      });
      if (held !== 'reserved') admission.failed();
      if (held === 'duplicate') {
        return reject(402, Reasons.nonceAlreadyUsed, 'this payment authorization was already presented; sign a new one');
      }
      if (held === 'exhausted') {
        return reject(402, Reasons.authorizationRetriesExhausted, `this authorization was presented ${MAX_RESERVATIONS} times and the origin never served it: nothing was charged; sign a new one`);
      }
    } catch (error) {
      this.storeError('reserve', paymentId, error);
      return reject(503, Reasons.receiptStoreUnavailable, 'payments cannot be recorded right now; nothing was charged', RETRY_AFTER_SECONDS);
    }
    return encodePendingSettlement({ paymentId, routeIndex, resource, payer: checked.payer, payment });
  }

  /** The facilitator API takes v1 and v2 objects alike; only their types differ. */
  private facilitatorArgs(payment: DecodedPayment, terms: RouteTerms, resource: string) {
    const requirements = payment.x402Version === 2 ? terms.requirements : requirementsV1(terms, resource);
    return {
      payload: payment.payload as PaymentPayload,
      requirements: requirements as PaymentRequirements,
    };
  }

  private async settleOnce(payload: PaymentPayload, requirements: PaymentRequirements, paymentId: string): Promise<SettleAttempt> {
    try {
      return { kind: 'answer', settlement: await this.ports.facilitator.settle(payload, requirements) };
    } catch (error) {
      this.ports.log({ event: 'x402.facilitator_error', phase: 'settle', paymentId, error: String(error) });
      return { kind: 'error', error };
    }
  }

  private async recordFailure(paymentId: string, reason: string, at: string, txHash?: string): Promise<void> {
    await this.ports.receipts.markFailed(paymentId, reason, at, txHash).catch((error: unknown) => this.storeError('markFailed', paymentId, error));
  }

  /** Money moved: the receipt must exist. Retry, then leave a complete record in the log. */
  private async recordSettlement(paymentId: string, settlement: SettleResponse, at: string): Promise<void> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= RECEIPT_WRITE_ATTEMPTS; attempt++) {
      try {
        await this.ports.receipts.markSettled(paymentId, settlement.transaction, at);
        this.ports.log({ event: 'x402.settled', paymentId, txHash: settlement.transaction, payer: settlement.payer });
        return;
      } catch (error) {
        lastError = error;
      }
    }
    this.storeError('markSettled', paymentId, lastError);
    this.ports.log({ event: 'x402.receipt_fallback', status: 'settled', paymentId, txHash: settlement.transaction, payer: settlement.payer, at });
  }

  private storeError(operation: string, paymentId: string, error: unknown): void {
    this.ports.log({ event: 'x402.receipt_store_error', operation, paymentId, error: String(error) });
    this.metric({ [Metrics.receiptStoreErrors]: 1 }, {});
  }

  /** Turns a refusal into a JSON response; 402s repeat the terms so the client can pay (again). */
  private refuse(rejection: Rejection, terms?: RouteTerms, resource?: string): ViewerOutcome & OriginOutcome {
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
      if (rejection.status === 402) {
        headers[PaymentHeaders.required] = encodePaymentRequiredHeader(
          paymentRequiredV2(terms, resource, isChallenge ? undefined : rejection.reason),
        );
      }
      body = challengeBody(terms, this.config, resource, rejection.reason, isChallenge ? undefined : rejection.message);
    }
    return { kind: 'respond', response: { status: rejection.status, headers, body: JSON.stringify(body) } };
  }

  private metric(values: Partial<Record<MetricName, number>>, dimensions: Record<string, string>): void {
    this.ports.log(emfRecord(values, dimensions, this.ports.clock()));
  }
}
