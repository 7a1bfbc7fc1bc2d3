/**
 * The pass scheme: what a 402 offers (the passes that open the path), how a bearer pass is
 * admitted (offline: signature, site, time, scope), and how a sold pass is issued. The paywall
 * orchestrates (lambda/core/paywall.ts); the money part of a sale is the exact scheme's.
 */
import type { EdgeConfig, PassesConfig, PassOfferConfig, PricedRoute } from '../config';
import { isRejection, reject, Reasons, type Rejection } from '../rejection';
import { compilePattern, matchRoute, type CompiledPattern } from '../routes';
import { advertisedPass, passExtension, passSaleRoute, PASS_HEADER, type AdvertisedPass } from './offers';
import { assemblePassToken, claimsToBePass, passId, passSigningInput, PassVerifier, type PassClaims } from './token';
import type { PassQuotas, PassUsagePort } from './quota';
import type { PassRevocations, PassRevocationsPort } from './revocations';

/** Signs pass tokens with the active key; lives only in the origin-facing functions. */
export interface PassSignerPort {
  readonly kid: string;
  /** The JOSE ES256 signature (r ‖ s, 64 bytes) of the signing input's UTF-8 bytes. */
  sign(signingInput: string): Promise<Uint8Array>;
}

/** What a pass sale adds to its (settled) receipt row, so the same payment re-issues the same pass. */
export interface PassRecord {
  readonly passName: string;
  readonly passScope: readonly string[];
  readonly passSeconds: number;
  readonly passNotBefore: number;
  readonly passExpiresAt: number;
  readonly passId: string;
  /** The offer's quota when the pass was sold: a re-issued pass keeps it. */
  readonly passQuota?: number;
}

export interface PassRecordsPort extends PassRevocationsPort, PassUsagePort {
  /** Adds the pass to the settled receipt row of its payment. */
  recordPass(paymentId: string, record: PassRecord, at: string): Promise<void>;
  /** The pass recorded for a payment, if any. */
  findPass(paymentId: string): Promise<PassRecord | undefined>;
}

/** What a sale answers: the pass and its terms (docs/passes.md, "Buying a pass"). */
export interface IssuedPass {
  readonly token: string;
  readonly claims: PassClaims;
  readonly record: PassRecord;
}

/** Scopes of passes in use are few (one per offer and its past versions): compiled once each. */
const MAX_CACHED_SCOPES = 64;

export class PassScheme {
  /** Sale routes, to be put before the configured routes (so `/**` never prices a sale). */
  readonly saleRoutes: readonly PricedRoute[];
  private readonly verifier: PassVerifier;
  private readonly advertised: ReadonlyArray<{ readonly offer: AdvertisedPass; readonly scope: readonly CompiledPattern[]; readonly metered: boolean }>;
  private readonly scopes = new Map<string, readonly CompiledPattern[]>();
  /** The configured routes, after the sale routes in the paywall's route indexes. */
  private readonly routes: EdgeConfig['routes'];

  constructor(
    private readonly passes: PassesConfig,
    config: Pick<EdgeConfig, 'network' | 'asset' | 'routes'>,
    /** The viewer-request's copy of the revocation list; without it no pass is revoked. */
    private readonly revocations?: PassRevocations,
    /** The viewer-request's use counts of passes with a quota; without it no quota is counted. */
    private readonly quotas?: PassQuotas,
  ) {
    this.saleRoutes = passes.offers.map(passSaleRoute);
    this.routes = config.routes;
    this.verifier = new PassVerifier(passes.verifyKeys, passes.siteId);
    this.advertised = passes.offers.map((offer) => ({ offer: advertisedPass(offer, config), scope: this.compiledScope(offer.scope), metered: offer.metered === true }));
  }

  /** The offer sold at this route index (sale routes come first), if it is one. */
  offerAt(routeIndex: number): PassOfferConfig | undefined {
    return this.passes.offers[routeIndex];
  }

  /** The bearer credential of a request, if it claims to be a pass (others are not ours). */
  presented(header: (name: string) => string | undefined): string | undefined {
    const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header(PASS_HEADER) ?? '');
    return match && claimsToBePass(match[1]) ? match[1] : undefined;
  }

  /**
   * The `extensions` of a 402 on `path`: every pass that opens it, with where to buy it (`origin` +
   * its sale path). On a metered route only the passes whose offer opens metered routes.
   */
  challenge(path: string, origin: string, metered = false): Record<string, unknown> | undefined {
    const offers = this.advertised.filter(({ scope, metered: opensMetered }) => opens(scope, path) && (!metered || opensMetered)).map(({ offer }) => ({ ...offer, url: `${origin}${offer.url}` }));
    return offers.length > 0 ? passExtension(offers) : undefined;
  }

  /** A pass presented on a priced request: its claims when it opens this request (counted as a use of its quota), else why not. */
  admit(token: string, routeIndex: number, method: string, path: string, nowSeconds: number): PassClaims | Rejection {
    const claims = this.verifier.verify(token, nowSeconds);
    if (isRejection(claims)) return claims;
    return this.refusal(claims, routeIndex, method, path) ?? claims;
  }

  /** Why a pass this site issued (a verified token, or one recorded for a signed-in payer) does not open this request, if it does not. */
  refusal(pass: Pick<PassClaims, 'pass' | 'scope' | 'jti' | 'exp' | 'quota'>, routeIndex: number, method: string, path: string): Rejection | undefined {
    if (this.offerAt(routeIndex)) return reject(402, Reasons.passOutOfScope, 'a pass does not buy a pass: pay for it with an x402 payment');
    if (matchRoute(this.compiledScope(pass.scope), method, path).kind !== 'priced') {
      return reject(402, Reasons.passOutOfScope, `the "${pass.pass}" pass opens ${pass.scope.join(', ')}, not ${method} ${path}`);
    }
    // Decided by the offer as configured now (x402:passes[].metered), so a publisher's change applies to passes already sold.
    if (this.routes[routeIndex - this.passes.offers.length]?.scheme === 'upto' && this.passes.offers.find((offer) => offer.name === pass.pass)?.metered !== true) {
      return reject(402, Reasons.passOutOfScope, `the "${pass.pass}" pass does not open metered (upto) routes: pay for ${method} ${path} per use`);
    }
    if (this.revocations?.isRevoked(pass.jti)) return reject(402, Reasons.passRevoked, `the publisher revoked this pass (${pass.jti}): buy a new one`);
    // Last: only a request the pass opens is a use.
    if (pass.quota !== undefined && this.quotas && !this.quotas.admit(pass.jti, pass.quota, pass.exp)) {
      return reject(402, Reasons.passQuotaExhausted, `the "${pass.pass}" pass allows ${pass.quota} requests and they are used: buy a new one`);
    }
    return undefined;
  }

  /**
   * The pass for a settled sale. `recorded`, when the same payment was issued a pass before (the
   * redelivery path), keeps its id and validity; otherwise it runs from `nowSeconds`.
   */
  async issue(offer: PassOfferConfig, signer: PassSignerPort, payer: string, paymentId: string, nowSeconds: number, recorded?: PassRecord): Promise<IssuedPass> {
    const record: PassRecord = recorded ?? {
      passName: offer.name,
      passScope: offer.scope,
      passSeconds: offer.durationSeconds,
      passNotBefore: nowSeconds,
      passExpiresAt: nowSeconds + offer.durationSeconds,
      passId: passId(paymentId),
      ...(offer.quota === undefined ? {} : { passQuota: offer.quota }),
    };
    const claims: PassClaims = {
      iss: this.passes.siteId,
      sub: payer.toLowerCase(),
      pass: record.passName,
      scope: record.passScope,
      nbf: record.passNotBefore,
      exp: record.passExpiresAt,
      jti: record.passId,
      ...(record.passQuota === undefined ? {} : { quota: record.passQuota }),
    };
    const signingInput = passSigningInput(signer.kid, claims);
    return { token: assemblePassToken(signingInput, await signer.sign(signingInput)), claims, record };
  }

  private compiledScope(scope: readonly string[]): readonly CompiledPattern[] {
    const key = JSON.stringify(scope);
    let compiled = this.scopes.get(key);
    if (!compiled) {
      // Signed by this site, so valid patterns; one that is not opens nothing.
      compiled = scope.flatMap((pattern) => {
        try {
          return [compilePattern(pattern)];
        } catch {
          return [];
        }
      });
      if (this.scopes.size >= MAX_CACHED_SCOPES) this.scopes.clear();
      this.scopes.set(key, compiled);
    }
    return compiled;
  }
}

/** Whether a scope opens a path, for some method it names (every method when it names none). */
function opens(scope: readonly CompiledPattern[], path: string): boolean {
  return scope.some((pattern) => matchRoute([pattern], pattern.method ?? 'GET', path).kind === 'priced');
}
