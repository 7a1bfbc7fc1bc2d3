import { Annotations, Duration, Tokenization, type IResolvable, type IResolveContext } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { Construct } from 'constructs';
import { PAYMENT_ID_HEADER, PENDING_SETTLEMENT_HEADER } from '../lambda/core/handoff';
import { PaymentHeaders } from '../lambda/core/header-names';
import { hasSideEffects } from '../lambda/core/methods';
import type { EdgeVerifier } from './edge-verifier';
import type { X402Config } from './pricing';

export interface PaywalledBehaviorProps {
  readonly config: X402Config;
  /** The edge engine's functions; absent for the waf engine. */
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
 * - **Edge functions** (edge engine): viewer-request and origin-response.
 */
export class PaywalledBehavior extends Construct {
  readonly cachePolicy: cloudfront.ICachePolicy;
  readonly originRequestPolicy: cloudfront.IOriginRequestPolicy;
  readonly edgeLambdas: cloudfront.EdgeLambda[];
  /** GET/HEAD/OPTIONS, or all methods when a route prices POST, PUT, PATCH or DELETE. */
  readonly allowedMethods: cloudfront.AllowedMethods;

  constructor(scope: Construct, id: string, props: PaywalledBehaviorProps) {
    super(scope, id);
    const { config, verifier } = props;
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
  }

  /** Behavior options for a paywalled behavior in front of `origin`; `overrides` cannot replace the paywall's parts. */
  behaviorOptions(origin: cloudfront.IOrigin, overrides: Omit<cloudfront.AddBehaviorOptions, 'cachePolicy' | 'originRequestPolicy' | 'edgeLambdas'> = {}): cloudfront.BehaviorOptions {
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
   * Puts every behavior of an existing `Distribution` (default and additional, including ones
   * added later) behind the paywall: adds the edge functions and replaces the cache and origin
   * request policies. Fails synth when a behavior already has a viewer-request or origin-response
   * trigger, since CloudFront allows one per event type.
   */
  protect(distribution: cloudfront.Distribution): void {
    const cfn = distribution.node.defaultChild as cloudfront.CfnDistribution;
    const original = cfn.distributionConfig as cloudfront.CfnDistribution.DistributionConfigProperty;
    if (Tokenization.isResolvable(original)) throw new Error(`${distribution.node.path}: cannot read its configuration to add the paywall`);
    const patch = (behavior: unknown): unknown => this.patchBehavior(distribution, behavior as cloudfront.CfnDistribution.CacheBehaviorProperty);
    const additional = original.cacheBehaviors;
    cfn.distributionConfig = {
      ...original,
      defaultCacheBehavior: patch(original.defaultCacheBehavior) as cloudfront.CfnDistribution.DefaultCacheBehaviorProperty,
      // Behaviors added with addBehavior() after this call are patched too: resolved at synth.
      cacheBehaviors: {
        creationStack: [],
        resolve: (context: IResolveContext) => {
          const list = Tokenization.isResolvable(additional) ? (additional.resolve(context) as unknown[] | undefined) : (additional as unknown[] | undefined);
          return list?.map(patch);
        },
        toString: () => 'x402-paywalled-cache-behaviors',
      } satisfies IResolvable,
    };
    Annotations.of(distribution).addInfo('cdk-x402 replaced the cache and origin request policies of every behavior with the paywall\'s (see PaywalledBehavior)');
  }

  private patchBehavior(distribution: cloudfront.Distribution, behavior: cloudfront.CfnDistribution.CacheBehaviorProperty): cloudfront.CfnDistribution.CacheBehaviorProperty {
    const where = `${distribution.node.path}, behavior ${behavior.pathPattern ?? '(default)'}`;
    const lambdas = (behavior.lambdaFunctionAssociations ?? []) as cloudfront.CfnDistribution.LambdaFunctionAssociationProperty[];
    const functions = (behavior.functionAssociations ?? []) as cloudfront.CfnDistribution.FunctionAssociationProperty[];
    for (const ours of this.edgeLambdas) {
      const taken = lambdas.find((l) => l.eventType === ours.eventType) ?? functions.find((f) => f.eventType === ours.eventType);
      if (taken) {
        throw new Error(`${where}: already has a ${ours.eventType} function; cdk-x402 needs that trigger. Move its logic elsewhere or put the paywall on a different behavior`);
      }
    }
    const associations = [
      ...lambdas,
      ...this.edgeLambdas.map((l) => ({ eventType: l.eventType, lambdaFunctionArn: l.functionVersion.edgeArn })),
    ];
    return {
      ...behavior,
      cachePolicyId: this.cachePolicy.cachePolicyId,
      originRequestPolicyId: this.originRequestPolicy.originRequestPolicyId,
      lambdaFunctionAssociations: associations.length > 0 ? associations : undefined,
    };
  }
}

/**
 * Whether a route prices a side-effecting method (POST, PUT, PATCH, DELETE): the behavior then
 * allows every method, and the edge engine settles those requests before the origin runs.
 */
export function pricesSideEffects(config: Pick<X402Config, 'routes'>): boolean {
  return config.routes.some((route) => route.method !== undefined && hasSideEffects(route.method));
}
