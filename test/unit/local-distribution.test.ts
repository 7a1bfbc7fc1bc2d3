import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import { PAYMENT_ID_HEADER, PENDING_SETTLEMENT_HEADER } from '../../lambda/core/handoff';
import { DEFAULT_ORIGIN_REQUEST_HEADERS } from '../../lib/config/context-keys';
import { PaidCaching } from '../../lib/config/settings';
import {
  behaviorFor,
  distributionFromTemplate,
  MANAGED_CACHE_POLICIES,
  MANAGED_ORIGIN_REQUEST_POLICIES,
  type DistributionConfig,
} from '../../local/distribution';
import { synthesizePaywall } from '../../local/paywall-synth';

const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';
const synthesize = (settings: Record<string, unknown> = {}): DistributionConfig =>
  distributionFromTemplate(synthesizePaywall({
    settings: { payTo: PAY_TO, routes: [{ pattern: '/articles/*', price: '$0.001' }], ...settings },
    receiptTableName: 'x402-receipts',
    region: 'us-east-1',
    origin: { domainName: '127.0.0.1', httpPort: 8080 },
  }).template);

describe('the distribution an X402Paywall synthesizes, as the local edge reads it', () => {
  let deployed: DistributionConfig;
  beforeAll(() => {
    deployed = synthesize();
  });

  it('has one default behavior for GET, HEAD and OPTIONS (no route prices a write), in front of the HTTP origin', () => {
    expect(deployed.behaviors).toHaveLength(1);
    const [behavior] = deployed.behaviors;
    expect(behavior).toMatchObject({ pathPattern: '*', allowedMethods: ['GET', 'HEAD', 'OPTIONS'], cachedMethods: ['GET', 'HEAD'] });
    expect(deployed.origins[behavior!.targetOriginId]).toMatchObject({ domainName: '127.0.0.1', port: 8080, protocol: 'http', path: '', readTimeoutSeconds: 30, connectionAttempts: 3 });
  });

  it('keys the cache on the derived payment id, with TTLs the origin decides (the CachePolicy Ref resolved)', () => {
    expect(deployed.behaviors[0]!.cachePolicy).toEqual({
      minTtl: 0, defaultTtl: 0, maxTtl: 31_536_000,
      headers: { behavior: 'whitelist', names: [PAYMENT_ID_HEADER] },
      cookies: { behavior: 'none', names: [] },
      queryStrings: { behavior: 'all', names: [] },
      acceptEncodingGzip: true, acceptEncodingBrotli: true,
    });
  });

  it('forwards the hand-off and the configured viewer headers, all query strings and cookies (the OriginRequestPolicy Ref resolved)', () => {
    expect(deployed.behaviors[0]!.originRequestPolicy).toEqual({
      headers: { behavior: 'whitelist', names: [PENDING_SETTLEMENT_HEADER, ...DEFAULT_ORIGIN_REQUEST_HEADERS] },
      cookies: { behavior: 'all', names: [] },
      queryStrings: { behavior: 'all', names: [] },
    });
  });

  it('associates the verifier\'s functions by event type, followed from the version to the function with its timeout and memory', () => {
    const { functions } = deployed.behaviors[0]!;
    expect(Object.keys(functions).sort()).toEqual(['origin-response', 'viewer-request']);
    expect(deployed.functions[functions['viewer-request']!.functionId]).toMatchObject({ handler: 'index.handler', timeoutSeconds: 5, memoryMb: 128 });
    expect(deployed.functions[functions['origin-response']!.functionId]).toMatchObject({ handler: 'index.handler', timeoutSeconds: 30, memoryMb: 128 });
    expect(functions['viewer-request']!.includeBody).toBe(false);
  });

  it('caches no 5xx error (ErrorCachingMinTTL 0 from the custom error responses)', () => {
    expect(deployed.errorCachingMinTtl).toEqual({ 500: 0, 502: 0, 503: 0, 504: 0 });
  });

  it('allows every method when a route prices a write, and uses the managed CachingDisabled policy by its id when caching is disabled', () => {
    const config = synthesize({ routes: [{ pattern: 'POST /api/**', price: '$0.01' }], paidCaching: PaidCaching.DISABLED });
    expect(config.behaviors[0]!.allowedMethods).toEqual(expect.arrayContaining(['POST', 'PUT', 'PATCH', 'DELETE']));
    expect(config.behaviors[0]!.cachePolicy).toMatchObject({ minTtl: 0, defaultTtl: 0, maxTtl: 0, headers: { behavior: 'none', names: [] } });
  });
});

describe('reading a template', () => {
  const template = (distribution: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    Resources: {
      Dist: {
        Type: 'AWS::CloudFront::Distribution',
        Properties: {
          DistributionConfig: {
            Origins: [{ Id: 'o', DomainName: 'origin.example', CustomOriginConfig: { OriginProtocolPolicy: 'http-only', HTTPPort: 80, OriginReadTimeout: 10 }, ConnectionAttempts: 1 }],
            DefaultCacheBehavior: { TargetOriginId: 'o', CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6' },
            ...distribution,
          },
        },
      },
      ...extra,
    },
  });

  it('knows the managed policies by their well-known ids (the same as aws-cdk-lib\'s)', () => {
    expect(MANAGED_CACHE_POLICIES[cloudfront.CachePolicy.CACHING_DISABLED.cachePolicyId]?.name).toBe('CachingDisabled');
    expect(MANAGED_CACHE_POLICIES[cloudfront.CachePolicy.CACHING_OPTIMIZED.cachePolicyId]?.name).toBe('CachingOptimized');
    expect(MANAGED_ORIGIN_REQUEST_POLICIES[cloudfront.OriginRequestPolicy.ALL_VIEWER.originRequestPolicyId]?.name).toBe('AllViewer');
    expect(MANAGED_ORIGIN_REQUEST_POLICIES[cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.originRequestPolicyId]?.name).toBe('AllViewerExceptHostHeader');
    expect(MANAGED_ORIGIN_REQUEST_POLICIES[cloudfront.OriginRequestPolicy.USER_AGENT_REFERER_HEADERS.originRequestPolicyId]?.name).toBe('UserAgentRefererHeaders');
    const config = distributionFromTemplate(template({}));
    expect(config.behaviors[0]!.cachePolicy).toMatchObject({ minTtl: 1, defaultTtl: 86_400 });
    expect(config.origins.o).toMatchObject({ readTimeoutSeconds: 10, connectionAttempts: 1 });
  });

  it('orders additional behaviors before the default and matches them by path pattern (case sensitive, * and ?)', () => {
    const behavior = (PathPattern: string) => ({ PathPattern, TargetOriginId: 'o', CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad' });
    const config = distributionFromTemplate(template({ CacheBehaviors: [behavior('/api/*'), behavior('images/?.png')] }));
    expect(config.behaviors.map((b) => b.pathPattern)).toEqual(['/api/*', 'images/?.png', '*']);
    expect(behaviorFor(config, '/api/v1/x').pathPattern).toBe('/api/*');
    expect(behaviorFor(config, '/images/a.png').pathPattern).toBe('images/?.png');
    expect(behaviorFor(config, '/images/ab.png').pathPattern).toBe('*');
    expect(behaviorFor(config, '/API/v1').pathPattern).toBe('*');
  });

  it('says what it cannot emulate, naming the part and the fix', () => {
    expect(() => distributionFromTemplate(template({ DefaultCacheBehavior: { TargetOriginId: 'o', CachePolicyId: '08627262-05a9-4f76-9ded-b50ca2e3a84f' } })))
      .toThrow(/managed cache policy 08627262-05a9-4f76-9ded-b50ca2e3a84f is not known to the local edge; add its settings to MANAGED_CACHE_POLICIES/);
    expect(() => distributionFromTemplate(template({ DefaultCacheBehavior: { TargetOriginId: 'o', ForwardedValues: { QueryString: false } } })))
      .toThrow(/legacy cache settings \(ForwardedValues\) are not emulated; attach a cache policy/);
    expect(() => distributionFromTemplate(template({ CustomErrorResponses: [{ ErrorCode: 404, ResponsePagePath: '/404.html', ResponseCode: 404 }] })))
      .toThrow(/custom error pages are not emulated/);
    expect(() => distributionFromTemplate(template({ DefaultCacheBehavior: { TargetOriginId: 'o', CachePolicyId: { Ref: 'Missing' } } })))
      .toThrow(/Missing is not an AWS::CloudFront::CachePolicy of this template/);
    expect(() => distributionFromTemplate(template({}, { Other: { Type: 'AWS::CloudFront::Distribution', Properties: {} } })))
      .toThrow(/2 AWS::CloudFront::Distribution resources \(Dist, Other\); name the one to emulate/);
  });
});
