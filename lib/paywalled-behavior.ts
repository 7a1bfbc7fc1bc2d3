import { Annotations, AspectPriority, Aspects, CfnElement, CfnResource, Duration, Names, Stack, Token, Tokenization, type IResolveContext } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { Construct, type IConstruct } from 'constructs';
import { INTERNAL_HEADER_PREFIX, PAYMENT_ID_HEADER, PENDING_SETTLEMENT_HEADER } from '../lambda/core/handoff';
import { PaymentHeaders } from '../lambda/core/header-names';
import { hasSideEffects } from '../lambda/core/methods';
import type { EdgeVerifier } from './edge-verifier';
import type { ResolvedConfig } from './config/resolved';
import type { PaidCaching } from './config/settings';
import type { X402Config } from './config/x402-config';

/**
 * Error statuses CloudFront must not cache on paywalled behaviors: a 5xx keyed on a payment header
 * must not be replayed from the cache when the same (released, unspent) payment is presented
 * again, since that hit would skip the origin-response.
 */
export const UNCACHED_ERROR_CODES = [500, 502, 503, 504] as const;

/** Props of {@link PaywalledBehavior}. */
export interface PaywalledBehaviorProps {
  /** The validated configuration (X402Config.resolve). */
  readonly config: X402Config;
  /**
   * The edge engine's functions.
   * @default - none: the waf engine charges in the web ACL
   */
  readonly verifier?: EdgeVerifier;
}

/**
 * What every CloudFront cache behavior that can serve priced content needs:
 *
 * - **Cache policy.** Origin-facing triggers (where settlement happens) run only on cache misses,
 *   so a paid response must never come from the cache. `payment-keyed` (default) puts the payment
 *   in the cache key: with the edge engine the `x-x402-payment-id` header that viewer-request
 *   derives (it removes the signed payment headers, which neither the cache key nor the origin
 *   should see); with the waf engine the `payment-signature` and `x-payment` headers themselves.
 *   Every payment is a distinct key, hence a miss that reaches the origin and settles, and a
 *   replayed payment is refused by the viewer-request (nonce already reserved) before the cache is
 *   consulted. Requests without a
 *   payment (humans, free routes) keep the CDN cache. Minimum and default TTL are 0, so the origin's
 *   Cache-Control decides and the `private, no-store` the origin-response puts on paid responses is
 *   honoured. `disabled` uses the managed CachingDisabled policy instead. The verifier must sit on
 *   every behavior (routes match the canonical, case-insensitive path, which CloudFront path
 *   patterns cannot express), so disabling caching would switch the CDN off for the whole site.
 * - **Origin request policy.** The viewer-request hands the verified payment to the origin-response
 *   in the `x-x402-pending-settlement` request header. The origin-response event's request is the
 *   request CloudFront forwarded to the origin, and CloudFront forwards a header that a viewer
 *   function added only when the origin request policy includes it (AWS docs: Lambda@Edge event
 *   structure, "request – Origin response"; CloudFront Functions, "add a True-Client-IP header":
 *   "you must add it to the allowed headers list in an origin request policy"). So the policy
 *   allow-lists it by name, with the configured viewer headers, all query strings and cookies.
 *   Clients cannot inject it: the viewer-request deletes every `x-x402-*` header it receives.
 * - **Edge functions** (edge engine): viewer-request and origin-response. At synth, every behavior of
 *   the app that carries one of them is checked for what breaks the hand-off between the two (see
 *   {@link handOffProblems}).
 * - **Adopting a distribution** ({@link PaywalledBehavior.protect}): each behavior keeps its own
 *   policies' settings, merged with what the paywall needs.
 */
export class PaywalledBehavior extends Construct {
  /** The payment-keyed cache policy, or CachingDisabled (paidCaching). */
  readonly cachePolicy: cloudfront.ICachePolicy;
  /** Forwards the payment hand-off and the configured viewer headers to the origin. */
  readonly originRequestPolicy: cloudfront.IOriginRequestPolicy;
  /** The edge engine's function associations (none for the waf engine). */
  readonly edgeLambdas: cloudfront.EdgeLambda[];
  /** GET/HEAD/OPTIONS, or all methods when a route prices POST, PUT, PATCH or DELETE. */
  readonly allowedMethods: cloudfront.AllowedMethods;
  private readonly paidCaching: PaidCaching;
  /** Policies made for adopted behaviors, by their settings: behaviors that need the same share one. */
  private readonly adoptedPolicies = new Map<string, string>();

  constructor(scope: Construct, id: string, props: PaywalledBehaviorProps) {
    super(scope, id);
    const { verifier } = props;
    const config = props.config._resolved;
    this.cachePolicy =
      config.paidCaching === 'disabled'
        ? cloudfront.CachePolicy.CACHING_DISABLED
        : new cloudfront.CachePolicy(this, 'PaymentKeyedCache', {
            comment: 'cdk-x402: payment headers in the cache key, so every payment is a miss that settles',
            headerBehavior: verifier
              ? cloudfront.CacheHeaderBehavior.allowList(PAYMENT_ID_HEADER)
              : cloudfront.CacheHeaderBehavior.allowList(PaymentHeaders.signatureV2, PaymentHeaders.signatureV1),
            queryStringBehavior: cloudfront.CacheQueryStringBehavior.all(),
            cookieBehavior: cloudfront.CacheCookieBehavior.none(),
            minTtl: Duration.seconds(0),
            defaultTtl: Duration.seconds(0),
            maxTtl: Duration.days(365),
            enableAcceptEncodingGzip: true,
            enableAcceptEncodingBrotli: true,
          });
    const headers = [...(verifier ? [PENDING_SETTLEMENT_HEADER] : []), ...config.originRequestHeaders];
    this.originRequestPolicy = new cloudfront.OriginRequestPolicy(this, 'OriginRequest', {
      comment: 'cdk-x402: forwards the payment hand-off to the origin-response trigger',
      headerBehavior: headers.length > 0 ? cloudfront.OriginRequestHeaderBehavior.allowList(...headers) : cloudfront.OriginRequestHeaderBehavior.none(),
      queryStringBehavior: cloudfront.OriginRequestQueryStringBehavior.all(),
      cookieBehavior: cloudfront.OriginRequestCookieBehavior.all(),
    });
    this.edgeLambdas = verifier ? [...verifier.edgeLambdas] : [];
    const writes = pricesSideEffects(config);
    this.allowedMethods = writes ? cloudfront.AllowedMethods.ALLOW_ALL : cloudfront.AllowedMethods.ALLOW_GET_HEAD_OPTIONS;
    this.paidCaching = config.paidCaching;
    if (verifier) this.node.addValidation({ validate: () => handOffProblems(this.node.root, this.edgeLambdas) });
  }

  /**
   * Behavior options for a paywalled behavior in front of `origin`. `overrides` may set anything
   * but the paywall's own parts (cache policy, origin request policy, edge functions).
   */
  behaviorOptions(origin: cloudfront.IOrigin, overrides: cloudfront.AddBehaviorOptions = {}): cloudfront.BehaviorOptions {
    const replaced = (['cachePolicy', 'originRequestPolicy', 'edgeLambdas'] as const).filter((part) => overrides[part] !== undefined);
    if (replaced.length > 0) {
      throw new Error(
        `PaywalledBehavior ${this.node.path}: behaviorOptions overrides set ${replaced.join(', ')}, which a paywalled behavior must take from the paywall (the payment in the cache key, the hand-off header forwarded, the edge functions). ` +
          'Fix: leave them out of the overrides; to keep settings of your own policies, adopt the distribution instead (X402Paywall with distribution, or PaywalledBehavior.protect), which merges them with the paywall\'s',
      );
    }
    return {
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: this.allowedMethods,
      compress: true,
      ...overrides,
      origin,
      cachePolicy: this.cachePolicy,
      originRequestPolicy: this.originRequestPolicy,
      edgeLambdas: this.edgeLambdas.length > 0 ? this.edgeLambdas : undefined,
    };
  }

  /**
   * Puts every behavior of an existing distribution of this app (default and additional, including
   * ones added later: the work happens at synth) behind the paywall. Each behavior gets the edge
   * functions and a cache policy and an origin request policy that keep its own settings (cookies,
   * query strings, forwarded headers such as Host, compression, maximum TTL) and add what the
   * paywall needs: the payment in the cache key (the headers the paywall's own cache policy keys
   * on) with minimum and default TTL 0, and the hand-off header forwarded. The publisher's error
   * responses stay; 500/502/503/504 are never cached. Any `cloudfront.Distribution` works, from whichever copy of aws-cdk-lib: it is found
   * by its CloudFormation resource, not by its class. Synth fails, naming the behavior and the fix,
   * for legacy cache settings, policies whose settings cannot be read, merged lists beyond
   * CloudFront's quotas, and functions that conflict with the paywall's ({@link handOffProblems}).
   */
  protect(distribution: cloudfront.IDistribution): void {
    const cfn = cfnDistributionOf(distribution);
    if (!cfn) {
      throw new Error(
        `${distribution.node.path}: cdk-x402 can only change a distribution defined in this app (its node.defaultChild an AWS::CloudFront::Distribution); for an imported one, attach the parts yourself (X402Paywall outputs them)`,
      );
    }
    let adopted = false;
    Aspects.of(cfn).add(
      {
        visit: (node) => {
          if (node !== cfn || adopted) return;
          adopted = true;
          this.adoptDistribution(distribution.node.path, cfn);
        },
      },
      { priority: AspectPriority.MUTATING },
    );
    Annotations.of(distribution).addInfo('cdk-x402 gives every behavior cache and origin request policies that merge its own with the paywall\'s (see PaywalledBehavior.protect)');
  }

  private adoptDistribution(path: string, cfn: cloudfront.CfnDistribution): void {
    const config = cfn.distributionConfig;
    if (Tokenization.isResolvable(config)) throw new Error(`${path}: cannot read its configuration to add the paywall`);
    const adopt = (behavior: unknown) => this.adoptBehavior(path, shallow(behavior) as cloudfront.CfnDistribution.CacheBehaviorProperty);
    cfn.distributionConfig = {
      ...config,
      defaultCacheBehavior: adopt(config.defaultCacheBehavior) as cloudfront.CfnDistribution.DefaultCacheBehaviorProperty,
      cacheBehaviors: listOf(config.cacheBehaviors)?.map(adopt),
      customErrorResponses: withUncachedErrors(listOf(config.customErrorResponses) as cloudfront.CfnDistribution.CustomErrorResponseProperty[] | undefined),
    };
  }

  private adoptBehavior(path: string, behavior: cloudfront.CfnDistribution.CacheBehaviorProperty): cloudfront.CfnDistribution.CacheBehaviorProperty {
    const where = behaviorName(path, behavior.pathPattern);
    if (behavior.forwardedValues !== undefined || behavior.cachePolicyId === undefined) {
      throw new Error(
        `${where}: uses legacy cache settings (forwardedValues and TTLs on the behavior) instead of a cache policy, which cdk-x402 needs to put the payment in the cache key. ` +
          'Fix: give the behavior a cachePolicy (and an originRequestPolicy for what it forwards to the origin), as cloudfront.Distribution does; CloudFrontWebDistribution only builds legacy behaviors',
      );
    }
    const lambdas = (listOf(behavior.lambdaFunctionAssociations) ?? []) as cloudfront.CfnDistribution.LambdaFunctionAssociationProperty[];
    const missing = this.edgeLambdas.filter((l) => !lambdas.some((existing) => existing.lambdaFunctionArn === l.functionVersion.edgeArn));
    const associations = [...lambdas, ...missing.map((l) => ({ eventType: l.eventType, lambdaFunctionArn: l.functionVersion.edgeArn }))];
    return {
      ...behavior,
      ...this.policiesFor(where, behavior.cachePolicyId, behavior.originRequestPolicyId),
      lambdaFunctionAssociations: associations.length > 0 ? associations : undefined,
    };
  }

  /** The behavior's policies merged with the paywall's needs; a policy that needs no change is kept. */
  private policiesFor(where: string, cachePolicyId: string, originRequestPolicyId: string | undefined): { cachePolicyId: string; originRequestPolicyId?: string } {
    const cache = readCachePolicy(this, cachePolicyId);
    if (!cache) {
      throw new Error(
        `${where}: uses the cache policy ${cachePolicyId}, whose settings cdk-x402 cannot read (imported by id, or a managed policy it does not know), so it cannot add the payment to the cache key without changing the rest. ` +
          `Fix: define the policy in this app as a cloudfront.CachePolicy with the same settings, or use one of the managed policies ${[...MANAGED_CACHE_POLICIES.values()].map((m) => m.name).join(', ')}`,
      );
    }
    const forwarded = originRequestPolicyId === undefined ? NO_FORWARDING : readOriginRequestPolicy(this, originRequestPolicyId);
    if (!forwarded) {
      throw new Error(
        `${where}: uses the origin request policy ${originRequestPolicyId}, whose settings cdk-x402 cannot read (imported by id, or a managed policy it does not know), so it cannot add the hand-off header ${PENDING_SETTLEMENT_HEADER} without changing the rest. ` +
          `Fix: define the policy in this app as a cloudfront.OriginRequestPolicy with the same settings, or use one of the managed policies ${[...MANAGED_ORIGIN_REQUEST_POLICIES.values()].map((m) => m.name).join(', ')}`,
      );
    }
    let cachePolicyOut = cachePolicyId;
    let forwarding = union(forwarded.settings, { headers: this.handOffHeaders(), cookies: NONE, queryStrings: NONE });
    // A policy with maximum TTL 0 caches nothing: every request reaches the origin and settles. Kept.
    if (cache.settings.maxTtl > 0) {
      if (this.paidCaching === 'disabled') {
        cachePolicyOut = cloudfront.CachePolicy.CACHING_DISABLED.cachePolicyId;
        // CachingDisabled forwards nothing itself: what the cache key forwarded moves to the origin request policy.
        forwarding = union(forwarding, cache.settings);
      } else {
        const ours = this.paymentKeyedSettings();
        const keyed = { ...cache.settings, minTtl: ours.minTtl, defaultTtl: ours.defaultTtl, headers: union1(cache.settings.headers, ours.headers) };
        if (!sameSettings(keyed, cache.settings)) cachePolicyOut = this.cachePolicyWith(where, keyed, cache.name);
      }
    }
    const originRequestPolicyOut = sameSettings(forwarding, forwarded.settings) ? originRequestPolicyId : this.originRequestPolicyWith(where, forwarding, forwarded.name);
    return { cachePolicyId: cachePolicyOut, originRequestPolicyId: originRequestPolicyOut };
  }

  /** The hand-off headers the paywall's own origin request policy forwards (none for the waf engine). */
  private handOffHeaders(): Selection {
    const own = ownPolicyResource<cloudfront.CfnOriginRequestPolicy>(this.originRequestPolicy).originRequestPolicyConfig as cloudfront.CfnOriginRequestPolicy.OriginRequestPolicyConfigProperty;
    const headers = ((own.headersConfig as cloudfront.CfnOriginRequestPolicy.HeadersConfigProperty).headers ?? []).filter((h) => h.startsWith(INTERNAL_HEADER_PREFIX));
    return headers.length > 0 ? { behavior: 'whitelist', names: headers } : NONE;
  }

  /** What the paywall's payment-keyed cache policy puts in the key, and its TTLs. */
  private paymentKeyedSettings(): CacheSettings {
    return cacheSettingsOf(ownPolicyResource<cloudfront.CfnCachePolicy>(this.cachePolicy).cachePolicyConfig)!;
  }

  private cachePolicyWith(where: string, settings: CacheSettings, sourceName: string): string {
    checkQuotas(where, 'cache policy', settings);
    return this.adoptedPolicy('AdoptedCache', settings, (id) => {
      const policy = new cloudfront.CfnCachePolicy(this, id, {
        cachePolicyConfig: {
          name: policyName(this, id),
          comment: `cdk-x402: ${sourceName} with the payment in the cache key and min/default TTL 0`.slice(0, 128),
          minTtl: settings.minTtl,
          defaultTtl: settings.defaultTtl,
          maxTtl: settings.maxTtl,
          parametersInCacheKeyAndForwardedToOrigin: {
            headersConfig: { headerBehavior: settings.headers.behavior, headers: namesOf(settings.headers) },
            cookiesConfig: { cookieBehavior: settings.cookies.behavior, cookies: namesOf(settings.cookies) },
            queryStringsConfig: { queryStringBehavior: settings.queryStrings.behavior, queryStrings: namesOf(settings.queryStrings) },
            enableAcceptEncodingGzip: settings.gzip,
            enableAcceptEncodingBrotli: settings.brotli,
          },
        },
      });
      return policy.ref;
    });
  }

  private originRequestPolicyWith(where: string, settings: ForwardingSettings, sourceName: string): string {
    checkQuotas(where, 'origin request policy', settings);
    return this.adoptedPolicy('AdoptedOriginRequest', settings, (id) => {
      const policy = new cloudfront.CfnOriginRequestPolicy(this, id, {
        originRequestPolicyConfig: {
          name: policyName(this, id),
          comment: `cdk-x402: ${sourceName} plus the payment hand-off to the origin-response`.slice(0, 128),
          headersConfig: { headerBehavior: settings.headers.behavior, headers: namesOf(settings.headers) },
          cookiesConfig: { cookieBehavior: settings.cookies.behavior, cookies: namesOf(settings.cookies) },
          queryStringsConfig: { queryStringBehavior: settings.queryStrings.behavior, queryStrings: namesOf(settings.queryStrings) },
        },
      });
      return policy.ref;
    });
  }

  /** One policy per kind and settings; `create` makes it under a construct id and returns its id. */
  private adoptedPolicy(kind: string, settings: object, create: (constructId: string) => string): string {
    const key = `${kind} ${JSON.stringify(settings)}`;
    let policyId = this.adoptedPolicies.get(key);
    if (policyId === undefined) {
      policyId = create(`${kind}${[...this.adoptedPolicies.keys()].filter((k) => k.startsWith(`${kind} `)).length + 1}`);
      this.adoptedPolicies.set(key, policyId);
    }
    return policyId;
  }
}

// ---------------------------------------------------------------------------------------------
// Distributions, found by their CloudFormation resource (safe across copies of aws-cdk-lib)

const DISTRIBUTION_TYPE = 'AWS::CloudFront::Distribution';

/**
 * The CloudFormation resource of a distribution defined in this app, or undefined (an imported
 * one). Structural, not `instanceof`: a Distribution built by another copy of aws-cdk-lib in the
 * consumer's dependency tree is a different class, but its default child is still a CfnResource
 * of this type.
 */
export function cfnDistributionOf(distribution: IConstruct): cloudfront.CfnDistribution | undefined {
  const child = distribution.node.defaultChild;
  return CfnResource.isCfnResource(child) && child.cfnResourceType === DISTRIBUTION_TYPE ? (child as cloudfront.CfnDistribution) : undefined;
}

/** Whether any construct under `scope` is a distribution resource (then `scope` is no imported one). */
export function definesDistribution(scope: IConstruct): boolean {
  return scope.node.findAll().some((c) => CfnResource.isCfnResource(c) && c.cfnResourceType === DISTRIBUTION_TYPE);
}

/** Lists in a distribution's configuration may be lazy (Distribution resolves its behaviors at synth). */
const NO_CONTEXT: IResolveContext = {
  scope: undefined as never,
  preparing: false,
  documentPath: [],
  registerPostProcessor: () => undefined,
  resolve: (value: unknown) => value,
};

function shallow(value: unknown): unknown {
  return Tokenization.isResolvable(value) ? value.resolve(NO_CONTEXT) : value;
}

function listOf(value: unknown): unknown[] | undefined {
  const list = shallow(value) as unknown[] | undefined;
  return list?.map(shallow);
}

function behaviorName(distributionPath: string, pathPattern: string | undefined): string {
  return pathPattern === undefined || pathPattern === '*' ? `${distributionPath}, default behavior (*)` : `${distributionPath}, behavior ${pathPattern}`;
}

function distributionPath(cfn: CfnResource): string {
  return cfn.node.id === 'Resource' && cfn.node.scope ? cfn.node.scope.node.path : cfn.node.path;
}

function withUncachedErrors(responses: cloudfront.CfnDistribution.CustomErrorResponseProperty[] | undefined): cloudfront.CfnDistribution.CustomErrorResponseProperty[] {
  const uncached = UNCACHED_ERROR_CODES as readonly number[];
  const kept = (responses ?? []).map((r) => (uncached.includes(r.errorCode) ? { ...r, errorCachingMinTtl: 0 } : r));
  const added = uncached.filter((code) => !kept.some((r) => r.errorCode === code)).map((errorCode) => ({ errorCode, errorCachingMinTtl: 0 }));
  return [...kept, ...added];
}

// ---------------------------------------------------------------------------------------------
// The hand-off check

/**
 * What breaks the hand-off on any behavior of the app that carries one of our functions (ours are
 * the versions the EdgeVerifier created, `ours`, on any trigger, so a trigger cdk-x402 adds later
 * stays allowed):
 *
 * - some of our functions without the others (e.g. origin-response without viewer-request): the
 *   payment is never handed over, or never settled;
 * - a Lambda@Edge of someone else on viewer-request or origin-response (CloudFront takes one
 *   function per event, and we need those) or on origin-request, which runs between the two and
 *   may rebuild the request headers, dropping the hand-off;
 * - a CloudFront Function on viewer-request or viewer-response: CloudFront does not combine
 *   CloudFront Functions and Lambda@Edge on the viewer events of a behavior.
 */
export function handOffProblems(root: IConstruct, ours: readonly cloudfront.EdgeLambda[]): string[] {
  const ourArns = new Set(ours.map((l) => l.functionVersion.edgeArn));
  const has = (lambdas: readonly cloudfront.CfnDistribution.LambdaFunctionAssociationProperty[], mine: cloudfront.EdgeLambda) =>
    lambdas.some((l) => l.eventType === mine.eventType && l.lambdaFunctionArn === mine.functionVersion.edgeArn);
  const problems: string[] = [];
  const fix = 'fold its logic into the origin, or leave the paywall off the paths it serves if none of them is priced (a behavior without cdk-x402\'s functions, or another distribution: X402Paywall protects every behavior of the one it adopts)';
  for (const cfn of root.node.findAll().filter((c): c is cloudfront.CfnDistribution => CfnResource.isCfnResource(c) && c.cfnResourceType === DISTRIBUTION_TYPE)) {
    const config = shallow(cfn.distributionConfig) as cloudfront.CfnDistribution.DistributionConfigProperty;
    const behaviors = [shallow(config.defaultCacheBehavior), ...(listOf(config.cacheBehaviors) ?? [])] as Array<cloudfront.CfnDistribution.CacheBehaviorProperty | undefined>;
    for (const behavior of behaviors) {
      if (!behavior) continue;
      const lambdas = (listOf(behavior.lambdaFunctionAssociations) ?? []) as cloudfront.CfnDistribution.LambdaFunctionAssociationProperty[];
      if (!lambdas.some((l) => ourArns.has(l.lambdaFunctionArn ?? ''))) continue;
      const where = behaviorName(distributionPath(cfn), behavior.pathPattern);
      const present = ours.filter((mine) => has(lambdas, mine)).map((mine) => mine.eventType);
      const missing = ours.filter((mine) => !has(lambdas, mine)).map((mine) => mine.eventType);
      if (missing.length > 0) {
        problems.push(
          `${where}: has cdk-x402's ${present.join(', ') || 'functions on other triggers'} but not its ${missing.join(', ')}. The viewer-request verifies and reserves a payment and hands it on in the ${PENDING_SETTLEMENT_HEADER} header to the origin-facing functions, which settle it; without all of them, paid content is served unsettled. ` +
            'Fix: attach all of paywalledBehavior.edgeLambdas, each on its own trigger (behaviorOptions() does this)',
        );
      }
      for (const l of lambdas.filter((l) => !ourArns.has(l.lambdaFunctionArn ?? ''))) {
        const name = functionName(cfn, l.lambdaFunctionArn);
        if (l.eventType === cloudfront.LambdaEdgeEventType.ORIGIN_REQUEST) {
          problems.push(
            `${where}: has a Lambda@Edge function of its own on origin-request (${name}). It runs between cdk-x402's viewer-request and origin-response and may rebuild the request headers, dropping the ${PENDING_SETTLEMENT_HEADER} hand-off: the paid request would be served without being settled. Fix: ${fix}`,
          );
        } else if (l.eventType === cloudfront.LambdaEdgeEventType.VIEWER_REQUEST || l.eventType === cloudfront.LambdaEdgeEventType.ORIGIN_RESPONSE) {
          problems.push(`${where}: has a Lambda@Edge function of its own on ${l.eventType} (${name}); CloudFront allows one function per event, and cdk-x402 needs this one. Fix: ${fix}`);
        }
      }
      for (const f of (listOf(behavior.functionAssociations) ?? []) as cloudfront.CfnDistribution.FunctionAssociationProperty[]) {
        problems.push(
          `${where}: has the CloudFront Function ${functionName(cfn, f.functionArn)} on ${f.eventType}. CloudFront does not allow CloudFront Functions and Lambda@Edge on the viewer events of one behavior, and cdk-x402's viewer-request is a Lambda@Edge (so moving the function to the other viewer event is not allowed either). Fix: ${fix}`,
        );
      }
    }
  }
  return problems;
}

/** The construct path of the function (or version) an ARN token refers to, else the ARN as written. */
function functionName(scope: IConstruct, arn: unknown): string {
  const stack = Stack.of(scope);
  let resolved: unknown;
  try {
    resolved = stack.resolve(arn);
  } catch {
    return String(arn);
  }
  const reference = resolved as { Ref?: unknown; 'Fn::GetAtt'?: unknown[] } | undefined;
  const logicalId = reference?.Ref ?? reference?.['Fn::GetAtt']?.[0];
  const element = typeof logicalId === 'string' ? stack.node.findAll().find((c) => CfnElement.isCfnElement(c) && stack.resolve(c.logicalId) === logicalId) : undefined;
  if (element) return element.node.id === 'Resource' && element.node.scope ? element.node.scope.node.path : element.node.path;
  return typeof resolved === 'string' ? resolved : JSON.stringify(resolved);
}

// ---------------------------------------------------------------------------------------------
// Policy settings, and how the paywall's needs merge into them

/** A field's choice of headers, cookies or query strings, as CloudFormation writes it. */
interface Selection {
  /** none | whitelist | allExcept | all (cookies, query strings) | allViewer | allViewerAndWhitelistCloudFront (origin headers). */
  readonly behavior: string;
  readonly names: readonly string[];
}

interface ForwardingSettings {
  readonly headers: Selection;
  readonly cookies: Selection;
  readonly queryStrings: Selection;
}

interface CacheSettings extends ForwardingSettings {
  readonly minTtl: number;
  readonly defaultTtl: number;
  readonly maxTtl: number;
  readonly gzip: boolean;
  readonly brotli: boolean;
}

const NONE: Selection = { behavior: 'none', names: [] };
const ALL: Selection = { behavior: 'all', names: [] };
const NO_FORWARDING = { name: 'no origin request policy', settings: { headers: NONE, cookies: NONE, queryStrings: NONE } };
const whitelist = (...names: string[]): Selection => ({ behavior: 'whitelist', names });

/** CloudFront's managed cache policies whose settings are documented (AWS docs, "Use managed cache policies"). */
const MANAGED_CACHE_POLICIES = new Map<string, { readonly name: string; readonly settings: CacheSettings }>([
  [cloudfront.CachePolicy.CACHING_OPTIMIZED.cachePolicyId, { name: 'CachingOptimized', settings: { minTtl: 1, defaultTtl: 86400, maxTtl: 31536000, headers: NONE, cookies: NONE, queryStrings: NONE, gzip: true, brotli: true } }],
  [
    cloudfront.CachePolicy.CACHING_OPTIMIZED_FOR_UNCOMPRESSED_OBJECTS.cachePolicyId,
    { name: 'CachingOptimizedForUncompressedObjects', settings: { minTtl: 1, defaultTtl: 86400, maxTtl: 31536000, headers: NONE, cookies: NONE, queryStrings: NONE, gzip: false, brotli: false } },
  ],
  [cloudfront.CachePolicy.CACHING_DISABLED.cachePolicyId, { name: 'CachingDisabled', settings: { minTtl: 0, defaultTtl: 0, maxTtl: 0, headers: NONE, cookies: NONE, queryStrings: NONE, gzip: false, brotli: false } }],
]);

/** CloudFront's managed origin request policies whose settings are documented (AWS docs, "Use managed origin request policies"). */
const MANAGED_ORIGIN_REQUEST_POLICIES = new Map<string, { readonly name: string; readonly settings: ForwardingSettings }>([
  [cloudfront.OriginRequestPolicy.ALL_VIEWER.originRequestPolicyId, { name: 'AllViewer', settings: { headers: { behavior: 'allViewer', names: [] }, cookies: ALL, queryStrings: ALL } }],
  [
    cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.originRequestPolicyId,
    { name: 'AllViewerExceptHostHeader', settings: { headers: { behavior: 'allExcept', names: ['host'] }, cookies: ALL, queryStrings: ALL } },
  ],
  // Its CloudFront headers are not listed here: every viewer header is forwarded already, so a merge never changes it.
  [
    cloudfront.OriginRequestPolicy.ALL_VIEWER_AND_CLOUDFRONT_2022.originRequestPolicyId,
    { name: 'AllViewerAndCloudFrontHeaders-2022-06', settings: { headers: { behavior: 'allViewerAndWhitelistCloudFront', names: [] }, cookies: ALL, queryStrings: ALL } },
  ],
  [
    cloudfront.OriginRequestPolicy.CORS_S3_ORIGIN.originRequestPolicyId,
    { name: 'CORS-S3Origin', settings: { headers: whitelist('origin', 'access-control-request-headers', 'access-control-request-method'), cookies: NONE, queryStrings: NONE } },
  ],
  [cloudfront.OriginRequestPolicy.CORS_CUSTOM_ORIGIN.originRequestPolicyId, { name: 'CORS-CustomOrigin', settings: { headers: whitelist('origin'), cookies: NONE, queryStrings: NONE } }],
  [
    cloudfront.OriginRequestPolicy.USER_AGENT_REFERER_HEADERS.originRequestPolicyId,
    { name: 'UserAgentRefererHeaders', settings: { headers: whitelist('user-agent', 'referer'), cookies: NONE, queryStrings: NONE } },
  ],
]);

/** CloudFront's default quota of headers, cookies or query strings named in one policy. */
const MAX_NAMES_PER_POLICY = 10;

function readCachePolicy(scope: IConstruct, id: string): { name: string; settings: CacheSettings } | undefined {
  const managed = MANAGED_CACHE_POLICIES.get(id);
  if (managed) return managed;
  const resource = policyResource(scope, 'AWS::CloudFront::CachePolicy', id) as cloudfront.CfnCachePolicy | undefined;
  const settings = resource && cacheSettingsOf(resource.cachePolicyConfig);
  return settings && { name: `the cache policy ${distributionPath(resource)}`, settings };
}

function readOriginRequestPolicy(scope: IConstruct, id: string): { name: string; settings: ForwardingSettings } | undefined {
  const managed = MANAGED_ORIGIN_REQUEST_POLICIES.get(id);
  if (managed) return managed;
  const resource = policyResource(scope, 'AWS::CloudFront::OriginRequestPolicy', id) as cloudfront.CfnOriginRequestPolicy | undefined;
  const config = resource && (resource.originRequestPolicyConfig as cloudfront.CfnOriginRequestPolicy.OriginRequestPolicyConfigProperty);
  if (!config || Tokenization.isResolvable(config)) return undefined;
  const settings = readable({
    headers: selection(config.headersConfig, 'headerBehavior', 'headers', true),
    cookies: selection(config.cookiesConfig, 'cookieBehavior', 'cookies'),
    queryStrings: selection(config.queryStringsConfig, 'queryStringBehavior', 'queryStrings'),
  });
  return settings && { name: `the origin request policy ${distributionPath(resource)}`, settings };
}

/** The policy resource of this app that an id refers to (its Ref or Id attribute). */
function policyResource(scope: IConstruct, type: string, id: string): CfnResource | undefined {
  return scope.node.root.node
    .findAll()
    .find((c): c is CfnResource => CfnResource.isCfnResource(c) && c.cfnResourceType === type && (c.ref === id || (c as unknown as { attrId: string }).attrId === id));
}

function cacheSettingsOf(config: cloudfront.CfnCachePolicy.CachePolicyConfigProperty | unknown): CacheSettings | undefined {
  if (Tokenization.isResolvable(config)) return undefined;
  const c = config as cloudfront.CfnCachePolicy.CachePolicyConfigProperty;
  const p = c.parametersInCacheKeyAndForwardedToOrigin as cloudfront.CfnCachePolicy.ParametersInCacheKeyAndForwardedToOriginProperty;
  if (Tokenization.isResolvable(p)) return undefined;
  return readable({
    minTtl: c.minTtl,
    defaultTtl: c.defaultTtl,
    maxTtl: c.maxTtl,
    headers: selection(p.headersConfig, 'headerBehavior', 'headers', true),
    cookies: selection(p.cookiesConfig, 'cookieBehavior', 'cookies'),
    queryStrings: selection(p.queryStringsConfig, 'queryStringBehavior', 'queryStrings'),
    gzip: p.enableAcceptEncodingGzip,
    brotli: p.enableAcceptEncodingBrotli ?? false,
  } as CacheSettings);
}

function selection(config: unknown, behaviorKey: string, namesKey: string, caseInsensitive = false): Selection {
  const c = config as Record<string, unknown>;
  const names = (c[namesKey] as string[] | undefined) ?? [];
  return { behavior: c[behaviorKey] as string, names: caseInsensitive ? names.map((n) => n.toLowerCase()) : names };
}

/** The settings, or undefined when any part is a token (known only at deploy time). */
function readable<T>(settings: T): T | undefined {
  let unresolved = false;
  JSON.stringify(settings, (_key, value: unknown) => {
    if (Token.isUnresolved(value)) unresolved = true;
    return value;
  });
  return unresolved ? undefined : settings;
}

/** What either setting forwards (the cache key settings of `b`, if any, are ignored beyond forwarding). */
function union(a: ForwardingSettings, b: ForwardingSettings): ForwardingSettings {
  return {
    headers: union1(a.headers, b.headers, 'allViewer'),
    cookies: union1(a.cookies, b.cookies, 'all'),
    queryStrings: union1(a.queryStrings, b.queryStrings, 'all'),
  };
}

/** The names either selection chooses; `everything` is how the field says "all of them". */
function union1(a: Selection, b: Selection, everything = 'all'): Selection {
  const all = (s: Selection) => ['all', 'allViewer', 'allViewerAndWhitelistCloudFront'].includes(s.behavior);
  if (all(a)) return a;
  if (all(b)) return b;
  if (a.behavior === 'none') return b;
  if (b.behavior === 'none') return a;
  if (a.behavior === 'whitelist' && b.behavior === 'whitelist') return whitelist(...new Set([...a.names, ...b.names]));
  const [except, other] = a.behavior === 'allExcept' ? [a, b] : [b, a];
  const names = except.names.filter((n) => (other.behavior === 'allExcept' ? other.names.includes(n) : !other.names.includes(n)));
  return names.length > 0 ? { behavior: 'allExcept', names } : { behavior: everything, names: [] };
}

function sameSettings(a: object, b: object): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function namesOf(s: Selection): string[] | undefined {
  return s.names.length > 0 ? [...s.names] : undefined;
}

function checkQuotas(where: string, kind: string, settings: ForwardingSettings): void {
  for (const [field, s] of Object.entries(settings) as Array<[string, Selection]>) {
    if (typeof s === 'object' && s.names.length > MAX_NAMES_PER_POLICY) {
      throw new Error(
        `${where}: its ${kind} merged with cdk-x402's would name ${s.names.length} ${field} (${s.names.join(', ')}), more than the ${MAX_NAMES_PER_POLICY} CloudFront allows by default. ` +
          `Fix: name fewer ${field} in the behavior's policy, or raise the CloudFront quota for ${field} per ${kind} in Service Quotas first`,
      );
    }
  }
}

/** Names are unique per account (policies are global): the construct path plus the stack's region. */
function policyName(scope: Construct, id: string): string {
  const unique = Names.uniqueResourceName(scope, { maxLength: 100, separator: '-' });
  return `${unique}-${id}-${Stack.of(scope).region}`.slice(0, 128);
}

/**
 * Whether a route prices a side-effecting method (POST, PUT, PATCH, DELETE): the behavior then
 * allows every method, and the edge engine settles those requests before the origin runs.
 */
export function pricesSideEffects(config: Pick<ResolvedConfig, 'routes'>): boolean {
  return config.routes.some((route) => route.method !== undefined && hasSideEffects(route.method));
}

/**
 * The L1 resource of a policy this construct created: a construct (the ICachePolicy and
 * IOriginRequestPolicy types of older aws-cdk-lib, 2.180 among them, do not say so).
 */
function ownPolicyResource<T>(policy: object): T {
  if (!Construct.isConstruct(policy)) throw new Error('cdk-x402: PaywalledBehavior expected a policy it created itself');
  return policy.node.defaultChild as T;
}
