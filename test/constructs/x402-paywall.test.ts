import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import { PAYMENT_ID_HEADER, PENDING_SETTLEMENT_HEADER } from '../../lambda/core/handoff';
import { EDGE_CONFIG_PLACEHOLDER } from '../../lambda/edge/baked-config';
import { Engine, PaidCaching, SettledReceipt } from '../../lib/config/settings';
import { X402Paywall } from '../../lib/x402-paywall';
import { expectNoSynthWarnings, MAINNET_SETTINGS, only, PAY_TO, paywallStack, propertiesOf, routes, secondAwsCdkLib, SETTINGS } from './helpers';

const MANAGED_CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';

/**
 * The functions of a template whose logs would be kept forever: a function must log to a log group
 * of the template that has a retention, either through its LoggingConfig or, for Lambda@Edge, as
 * the `/aws/lambda/us-east-1.<name>` group that Lambda@Edge writes to in us-east-1.
 */
function functionsKeepingLogsForever(template: Template): string[] {
  const retained = Object.entries(template.findResources('AWS::Logs::LogGroup')).filter(([, g]) => g.Properties.RetentionInDays > 0);
  const edgeGroupOf = (id: string) => JSON.stringify({ 'Fn::Join': ['', ['/aws/lambda/us-east-1.', { Ref: id }]] });
  return Object.entries(template.findResources('AWS::Lambda::Function'))
    .filter(([id, fn]) => {
      const target = fn.Properties.LoggingConfig?.LogGroup;
      return !retained.some(([groupId, group]) => JSON.stringify(target) === JSON.stringify({ Ref: groupId }) || JSON.stringify(group.Properties.LogGroupName) === edgeGroupOf(id));
    })
    .map(([id]) => id);
}

describe('X402Paywall, edge engine, built distribution', () => {
  const { app, stack, paywall } = paywallStack();
  const template = Template.fromStack(stack);
  const distribution = only(template, 'AWS::CloudFront::Distribution').DistributionConfig;
  const functions = template.findResources('AWS::Lambda::Function');
  const logicalIdOf = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);

  it('attaches viewer-request, origin-request (a route prices POST) and origin-response, on published versions, to the default behavior', () => {
    const associations = distribution.DefaultCacheBehavior.LambdaFunctionAssociations;
    expect(associations.map((a: any) => a.EventType)).toEqual(['viewer-request', 'origin-request', 'origin-response']);
    for (const a of associations) expect(Object.keys(a.LambdaFunctionARN)).toEqual(['Ref']);
    expect(associations.every((a: any) => a.IncludeBody === undefined)).toBe(true);
    template.resourceCountIs('AWS::Lambda::Version', 3);
  });

  it('keeps the logs of every function for a limited time: the edge functions\' us-east-1 groups, created before CloudFront can run them', () => {
    expect(functionsKeepingLogsForever(template)).toEqual([]);
    const groups = propertiesOf(template, 'AWS::Logs::LogGroup');
    for (const fn of [paywall.verifier!.viewerRequest, paywall.verifier!.originRequest!, paywall.verifier!.originResponse]) {
      expect(groups).toContainEqual({ LogGroupName: { 'Fn::Join': ['', ['/aws/lambda/us-east-1.', { Ref: logicalIdOf(fn.lambda) }]] }, RetentionInDays: 365 });
    }
    for (const version of Object.values(template.findResources('AWS::Lambda::Version'))) {
      expect(version.DependsOn).toEqual([expect.stringMatching(/EdgeLogs/)]);
    }
  });

  it('adds no origin-request function when no route prices a side-effecting method', () => {
    const { stack: readOnly, paywall: readOnlyPaywall } = paywallStack({ routes: routes({ '/articles/*': '$0.001', 'GET /api/premium-report': '$0.01' }) });
    const [cfn] = propertiesOf(Template.fromStack(readOnly), 'AWS::CloudFront::Distribution');
    expect(cfn.DistributionConfig.DefaultCacheBehavior.LambdaFunctionAssociations.map((a: any) => a.EventType)).toEqual(['viewer-request', 'origin-response']);
    expect(readOnlyPaywall.verifier!.originRequest).toBeUndefined();
  });

  it('runs every function on nodejs22.x within the Lambda@Edge limits of its trigger', () => {
    const viewer = functions[logicalIdOf(paywall.verifier!.viewerRequest.lambda)].Properties;
    expect(viewer).toMatchObject({ Runtime: 'nodejs22.x', Handler: 'index.handler', MemorySize: 128, Timeout: 5 });
    for (const fn of [paywall.verifier!.originRequest!, paywall.verifier!.originResponse]) {
      expect(functions[logicalIdOf(fn.lambda)].Properties).toMatchObject({ Runtime: 'nodejs22.x', Handler: 'index.handler', MemorySize: 128, Timeout: 30 });
    }
    expect(viewer.Environment).toBeUndefined();
  });

  // The origin secret's rotation is a regional function with a role of its own (test/constructs/origin-protection.test.ts).
  const rotationRole = logicalIdOf(paywall.originSecret!.rotationRole);

  it('lets Lambda@Edge assume the roles of the edge functions', () => {
    for (const [id, role] of Object.entries(template.findResources('AWS::IAM::Role'))) {
      if (id === rotationRole) continue;
      expect(role.Properties.AssumeRolePolicyDocument.Statement.map((s: any) => s.Principal.Service).sort()).toEqual(['edgelambda.amazonaws.com', 'lambda.amazonaws.com']);
    }
  });

  it('grants each edge function only the DynamoDB actions it performs, on the receipt table only (origin-facing ones read only the hand-off key row)', () => {
    const table = { 'Fn::GetAtt': [stack.getLogicalId(paywall.receiptTable.table.node.defaultChild as never), 'Arn'] };
    const statements = propertiesOf(template, 'AWS::IAM::Policy').filter((p) => p.Roles[0].Ref !== rotationRole).map((p) => p.PolicyDocument.Statement);
    expect(statements).toEqual(
      expect.arrayContaining([
        [{ Effect: 'Allow', Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: table }],
        [
          { Effect: 'Allow', Action: 'dynamodb:UpdateItem', Resource: table },
          { Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: table, Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['#handoff-key'] } } },
        ],
      ]),
    );
    // viewer-request, origin-request (POST is priced) and origin-response.
    expect(statements).toHaveLength(3);
  });

  it('injects the configuration (routes, payTo, table, eligibility header) into the bundles', () => {
    const assembly = app.synth();
    for (const fn of [paywall.verifier!.viewerRequest, paywall.verifier!.originResponse]) {
      const key = functions[logicalIdOf(fn.lambda)].Properties.Code.S3Key as string;
      const code = readFileSync(path.join(assembly.directory, `asset.${key.replace(/\.zip$/, '')}`, 'index.js'), 'utf8');
      expect(code).not.toContain(EDGE_CONFIG_PLACEHOLDER);
      for (const baked of [PAY_TO, '"tableName":"Site-x402-receipts"', '"region":"us-east-1"', '"pattern":"POST /api/**"', 'x-amzn-waf-x402-eligible', 'https://x402.org/facilitator']) {
        // As it stands inside the configuration's string literal.
        expect(code).toContain(JSON.stringify(baked).slice(1, -1));
      }
    }
  });

  it('keys the cache of paid behaviors on the derived payment id, never the signed payment, TTLs decided by the origin', () => {
    expect(distribution.DefaultCacheBehavior.CachePolicyId).toEqual({ Ref: stack.getLogicalId(paywall.paywalledBehavior.cachePolicy.node.defaultChild as never) });
    const policy = only(template, 'AWS::CloudFront::CachePolicy').CachePolicyConfig;
    expect(policy.ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig).toEqual({ HeaderBehavior: 'whitelist', Headers: [PAYMENT_ID_HEADER] });
    // MinTTL 0 keeps the no-store CloudFront sees on paid responses effective.
    expect(policy).toMatchObject({ MinTTL: 0, DefaultTTL: 0 });
  });

  it('forwards the pending-settlement hand-off header so it reaches the origin-response event', () => {
    expect(distribution.DefaultCacheBehavior.OriginRequestPolicyId).toEqual({ Ref: stack.getLogicalId(paywall.paywalledBehavior.originRequestPolicy.node.defaultChild as never) });
    const policy = only(template, 'AWS::CloudFront::OriginRequestPolicy').OriginRequestPolicyConfig;
    expect(policy.HeadersConfig.HeaderBehavior).toBe('whitelist');
    expect(policy.HeadersConfig.Headers[0]).toBe(PENDING_SETTLEMENT_HEADER);
    expect(policy.HeadersConfig.Headers).toContain('user-agent');
  });

  it('attaches the web ACL, redirects to HTTPS, allows the priced POST routes, never caches 5xx', () => {
    expect(distribution.WebACLId).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(paywall.bots.webAcl), 'Arn'] });
    expect(distribution.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(distribution.DefaultCacheBehavior.AllowedMethods).toEqual(['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE']);
    expect(distribution.CustomErrorResponses).toEqual([500, 502, 503, 504].map((code) => ({ ErrorCode: code, ErrorCachingMinTTL: 0 })));
    expect(distribution.Logging.Bucket).toBeDefined();
  });

  it('adds the dashboard and the alarms on settlement failures, facilitator and receipt errors, and lost hand-offs', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const alarms = propertiesOf(template, 'AWS::CloudWatch::Alarm').map((a) => a.Metrics[0].Expression);
    expect(alarms).toEqual([
      'SELECT SUM(SettlementsFailed) FROM "CdkX402"',
      'SELECT SUM(FacilitatorErrors) FROM "CdkX402"',
      'SELECT SUM(ReceiptStoreErrors) FROM "CdkX402"',
      'SELECT SUM(PaymentHandoffMissing) FROM "CdkX402"',
    ]);
  });

  it('synthesizes without warnings', () => expectNoSynthWarnings(app));
});

describe('X402Paywall, paid caching disabled', () => {
  const { stack } = paywallStack({ paidCaching: PaidCaching.DISABLED });
  const template = Template.fromStack(stack);

  it('synthesizes without warnings', () => expectNoSynthWarnings(stack));

  it('uses the managed CachingDisabled policy and creates no cache policy', () => {
    expect(only(template, 'AWS::CloudFront::Distribution').DistributionConfig.DefaultCacheBehavior.CachePolicyId).toBe(MANAGED_CACHING_DISABLED);
    template.resourceCountIs('AWS::CloudFront::CachePolicy', 0);
  });
});

describe('X402Paywall, waf engine', () => {
  const { stack } = paywallStack({ engine: Engine.WAF, routes: routes({ '/articles/*': '$0.001', 'GET /api/premium-report': '$0.01' }) });
  const template = Template.fromStack(stack);
  const distribution = only(template, 'AWS::CloudFront::Distribution').DistributionConfig;

  it('synthesizes without warnings', () => expectNoSynthWarnings(stack));

  it('has no Lambda@Edge and no edge alarms, but the MonetizationConfig and Monetize rules', () => {
    // Regional Lambdas only: the settlement ingestion (test/constructs/settlement-ingest.test.ts) and the origin secret's rotation.
    expect(propertiesOf(template, 'AWS::Lambda::Function').map((f) => f.Description)).toEqual([
      'cdk-x402: AWS WAF settlement records -> receipt table (waf engine)',
      'cdk-x402: rotates the origin secret header (Secrets Manager + CloudFront UpdateDistribution)',
    ]);
    template.resourceCountIs('AWS::Lambda::Version', 0);
    expect(propertiesOf(template, 'AWS::CloudWatch::Alarm').map((a) => a.MetricName)).toEqual(['Errors']);
    expect(functionsKeepingLogsForever(template)).toEqual([]);
    expect(distribution.DefaultCacheBehavior.LambdaFunctionAssociations).toBeUndefined();
    const acl = only(template, 'AWS::WAFv2::WebACL');
    expect(acl.MonetizationConfig.CurrencyMode).toBe('TEST');
    expect(acl.Rules.filter((r: any) => r.Action?.Monetize).map((r: any) => r.Action.Monetize.PriceMultiplier)).toEqual(['1', '10']);
  });

  it('still keys the cache on the payment headers, and forwards no hand-off header', () => {
    expect(only(template, 'AWS::CloudFront::CachePolicy').CachePolicyConfig.ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig.Headers).toEqual(['payment-signature', 'x-payment']);
    expect(only(template, 'AWS::CloudFront::OriginRequestPolicy').OriginRequestPolicyConfig.HeadersConfig.Headers).not.toContain(PENDING_SETTLEMENT_HEADER);
    expect(distribution.DefaultCacheBehavior.AllowedMethods).toEqual(['GET', 'HEAD', 'OPTIONS']);
  });
});

describe('X402Paywall adopting a Distribution of the same app', () => {
  const app = new App();
  const stack = new Stack(app, 'Site', { env: { region: 'us-east-1' } });
  const tenantCache = new cloudfront.CachePolicy(stack, 'TenantCache', {
    headerBehavior: cloudfront.CacheHeaderBehavior.allowList('X-Tenant'),
    cookieBehavior: cloudfront.CacheCookieBehavior.allowList('session'),
    queryStringBehavior: cloudfront.CacheQueryStringBehavior.allowList('page'),
    minTtl: Duration.seconds(60),
    defaultTtl: Duration.hours(1),
    maxTtl: Duration.days(1),
    enableAcceptEncodingGzip: true,
    enableAcceptEncodingBrotli: false,
  });
  const countryForwarding = new cloudfront.OriginRequestPolicy(stack, 'CountryForwarding', {
    headerBehavior: cloudfront.OriginRequestHeaderBehavior.allowList('cloudfront-viewer-country'),
    cookieBehavior: cloudfront.OriginRequestCookieBehavior.all(),
    queryStringBehavior: cloudfront.OriginRequestQueryStringBehavior.all(),
  });
  const site = new cloudfront.Distribution(stack, 'Existing', {
    defaultBehavior: { origin: new origins.HttpOrigin('www.example.com'), cachePolicy: tenantCache, originRequestPolicy: countryForwarding },
    errorResponses: [
      { httpStatus: 404, responseHttpStatus: 404, responsePagePath: '/404.html', ttl: Duration.minutes(5) },
      { httpStatus: 503, responseHttpStatus: 503, responsePagePath: '/busy.html', ttl: Duration.minutes(1) },
    ],
  });
  site.addBehavior('/static/*', new origins.HttpOrigin('static.example.com'), { compress: false });
  site.addBehavior('/api/*', new origins.HttpOrigin('api.example.com'), {
    cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
    originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
  });
  const paywall = new X402Paywall(stack, 'Paywall', { ...SETTINGS, distribution: site });
  // Added after the paywall: adopted too.
  site.addBehavior('/blog/*', new origins.HttpOrigin('blog.example.com'));
  const template = Template.fromStack(stack);
  const config = only(template, 'AWS::CloudFront::Distribution').DistributionConfig;
  const behavior = (pattern: string) => config.CacheBehaviors.find((b: any) => b.PathPattern === pattern);
  const resources = template.toJSON().Resources;
  const policyConfig = (ref: { Ref: string }) => {
    const properties = resources[ref.Ref].Properties;
    return properties.CachePolicyConfig ?? properties.OriginRequestPolicyConfig;
  };
  /** What the paywall's own payment-keyed cache policy puts in the key. */
  const paymentKey: string[] = policyConfig({ Ref: stack.getLogicalId(paywall.paywalledBehavior.cachePolicy.node.defaultChild as never) })
    .ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig.Headers;

  it('synthesizes without warnings', () => expectNoSynthWarnings(stack));

  it('puts the edge functions on every behavior, including one added after the paywall', () => {
    expect(config.CacheBehaviors.map((b: any) => b.PathPattern)).toEqual(['/static/*', '/api/*', '/blog/*']);
    for (const b of [config.DefaultCacheBehavior, ...config.CacheBehaviors]) {
      expect(b.LambdaFunctionAssociations.map((a: any) => a.EventType)).toEqual(['viewer-request', 'origin-request', 'origin-response']);
    }
  });

  it('keeps the publisher\'s cache key (headers, cookies, query strings), compression and maximum TTL, adds the payment headers, TTLs decided by the origin', () => {
    expect(policyConfig(config.DefaultCacheBehavior.CachePolicyId)).toMatchObject({
      MinTTL: 0,
      DefaultTTL: 0,
      MaxTTL: 86400,
      ParametersInCacheKeyAndForwardedToOrigin: {
        HeadersConfig: { HeaderBehavior: 'whitelist', Headers: ['x-tenant', ...paymentKey] },
        CookiesConfig: { CookieBehavior: 'whitelist', Cookies: ['session'] },
        QueryStringsConfig: { QueryStringBehavior: 'whitelist', QueryStrings: ['page'] },
        EnableAcceptEncodingGzip: true,
        EnableAcceptEncodingBrotli: false,
      },
    });
  });

  it('keeps what the publisher forwards to the origin and adds the hand-off header', () => {
    expect(policyConfig(config.DefaultCacheBehavior.OriginRequestPolicyId)).toMatchObject({
      HeadersConfig: { HeaderBehavior: 'whitelist', Headers: ['cloudfront-viewer-country', PENDING_SETTLEMENT_HEADER] },
      CookiesConfig: { CookieBehavior: 'all' },
      QueryStringsConfig: { QueryStringBehavior: 'all' },
    });
  });

  it('merges the managed CachingOptimized once for the behaviors that share it, keeping their own compress setting', () => {
    const cache = behavior('/static/*').CachePolicyId;
    expect(behavior('/blog/*').CachePolicyId).toEqual(cache);
    expect(policyConfig(cache)).toMatchObject({
      MinTTL: 0,
      DefaultTTL: 0,
      MaxTTL: 31536000,
      ParametersInCacheKeyAndForwardedToOrigin: {
        HeadersConfig: { HeaderBehavior: 'whitelist', Headers: paymentKey },
        CookiesConfig: { CookieBehavior: 'none' },
        QueryStringsConfig: { QueryStringBehavior: 'none' },
        EnableAcceptEncodingGzip: true,
        EnableAcceptEncodingBrotli: true,
      },
    });
    expect(policyConfig(behavior('/static/*').OriginRequestPolicyId).HeadersConfig).toEqual({ HeaderBehavior: 'whitelist', Headers: [PENDING_SETTLEMENT_HEADER] });
    expect(behavior('/static/*').Compress).toBe(false);
    expect(behavior('/blog/*').Compress).toBe(true);
  });

  it('keeps policies that need no change: CachingDisabled, and a managed policy that forwards every header but Host', () => {
    expect(behavior('/api/*').CachePolicyId).toBe(cloudfront.CachePolicy.CACHING_DISABLED.cachePolicyId);
    expect(behavior('/api/*').OriginRequestPolicyId).toBe(cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.originRequestPolicyId);
  });

  it('never caches 500/502/503/504, keeping the publisher\'s error pages', () => {
    expect(config.CustomErrorResponses).toEqual([
      { ErrorCode: 404, ResponseCode: 404, ResponsePagePath: '/404.html', ErrorCachingMinTTL: 300 },
      { ErrorCode: 503, ResponseCode: 503, ResponsePagePath: '/busy.html', ErrorCachingMinTTL: 0 },
      { ErrorCode: 500, ErrorCachingMinTTL: 0 },
      { ErrorCode: 502, ErrorCachingMinTTL: 0 },
      { ErrorCode: 504, ErrorCachingMinTTL: 0 },
    ]);
  });

  it('attaches the web ACL and builds no second distribution', () => {
    template.resourceCountIs('AWS::CloudFront::Distribution', 1);
    expect(config.WebACLId).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(paywall.bots.webAcl), 'Arn'] });
    expect(paywall.distribution).toBe(site);
  });
});

describe('X402Paywall adopting a Distribution built by another copy of aws-cdk-lib', () => {
  const second = secondAwsCdkLib();
  afterAll(() => second.remove());
  const app = new App();
  const stack = new Stack(app, 'Site', { env: { region: 'us-east-1' } });
  const { Distribution } = second.require('aws-cdk-lib/aws-cloudfront') as typeof cloudfront;
  const { HttpOrigin } = second.require('aws-cdk-lib/aws-cloudfront-origins') as typeof origins;
  const site = new Distribution(stack, 'Existing', { defaultBehavior: { origin: new HttpOrigin('www.example.com') } });
  site.addBehavior('/static/*', new HttpOrigin('static.example.com'));
  const paywall = new X402Paywall(stack, 'Paywall', { ...SETTINGS, distribution: site });
  const config = only(Template.fromStack(stack), 'AWS::CloudFront::Distribution').DistributionConfig;

  it('is a Distribution class this copy of aws-cdk-lib does not know', () => {
    expect(Distribution).not.toBe(cloudfront.Distribution);
    expect(site).not.toBeInstanceOf(cloudfront.Distribution);
    expect(site.node.defaultChild).not.toBeInstanceOf(cloudfront.CfnDistribution);
  });

  it('is protected all the same: edge functions and payment-keyed policies on every behavior, the web ACL attached', () => {
    for (const b of [config.DefaultCacheBehavior, ...config.CacheBehaviors]) {
      expect(b.LambdaFunctionAssociations.map((a: any) => a.EventType)).toEqual(['viewer-request', 'origin-request', 'origin-response']);
      expect(Object.keys(b.CachePolicyId)).toEqual(['Ref']);
      expect(Object.keys(b.OriginRequestPolicyId)).toEqual(['Ref']);
    }
    expect(config.WebACLId).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(paywall.bots.webAcl), 'Arn'] });
    expect(config.CustomErrorResponses.map((r: any) => r.ErrorCode)).toEqual([500, 502, 503, 504]);
  });
});

describe('X402Paywall with an imported distribution', () => {
  const app = new App();
  const stack = new Stack(app, 'Site', { env: { region: 'us-east-1' } });
  const imported = cloudfront.Distribution.fromDistributionAttributes(stack, 'Imported', { distributionId: 'E123EXAMPLE', domainName: 'd111.cloudfront.net' });
  new X402Paywall(stack, 'Paywall', { ...SETTINGS, distribution: imported });
  const template = Template.fromStack(stack);

  it('outputs what to attach, besides the CLI\'s outputs, and warns that it could not attach it', () => {
    template.resourceCountIs('AWS::CloudFront::Distribution', 0);
    expect(Object.keys(template.findOutputs('*')).sort()).toEqual([
      'DashboardName',
      'DistributionDomainName',
      ...['PaywallAttachCachePolicyId', 'PaywallAttachOriginRequestPolicyId', 'PaywallAttachOriginResponseVersionArn', 'PaywallAttachViewerRequestVersionArn', 'PaywallAttachWebAclArn'].map((k) => expect.stringMatching(new RegExp(`^${k}`))),
      'ReceiptTableName',
      'WebAclArn',
      'X402Deployment',
    ]);
    Annotations.fromStack(stack).hasWarning('/Site/Paywall', Match.stringLikeRegexp('the distribution is imported'));
  });
});

describe('the outputs the cdk-x402 CLI reads', () => {
  const settings = { ...SETTINGS, origin: new origins.HttpOrigin('origin.example.com') };

  it('are emitted by the paywall at stack level, so that `cdk-x402 status --stack <stack>` finds a library user\'s deployment', () => {
    const { stack } = paywallStack();
    const outputs = Template.fromStack(stack).findOutputs('*');
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['DistributionDomainName', 'WebAclArn', 'ReceiptTableName', 'DashboardName', 'OriginSecretArn', 'X402Deployment']));
    expect(JSON.parse(outputs.X402Deployment.Value)).toMatchObject({ engine: 'edge', payTo: SETTINGS.payTo });
  });

  it('are refused a second time in one stack, naming the fix, and left out with cliOutputs: false', () => {
    const { stack } = paywallStack();
    expect(() => new X402Paywall(stack, 'Second', settings)).toThrow(/already has the cdk-x402 CLI's outputs .* give this paywall cliOutputs: false/);
    const second = new X402Paywall(stack, 'Third', { ...settings, cliOutputs: false });
    expect(second.receiptTable).toBeDefined();
  });
});

describe('the memory of the edge functions', () => {
  const memoryOf = (stack: Stack) => propertiesOf(Template.fromStack(stack), 'AWS::Lambda::Function').map((f) => f.MemorySize).sort((a, b) => a - b);

  it('is 128 MB for the viewer-request (CloudFront\'s most for a viewer trigger) and for the origin functions unless told otherwise', () => {
    const count = (sizes: number[], mb: number) => sizes.filter((size) => size === mb).length;
    // The routes price POST, so there are an origin-request and an origin-response function.
    const defaults = memoryOf(paywallStack().stack);
    const tuned = memoryOf(paywallStack({ originFunctionMemoryMb: 512 }).stack);
    expect(count(defaults, 128) - count(tuned, 128)).toBe(2);
    expect(count(tuned, 512) - count(defaults, 512)).toBe(2);
    expect(count(tuned, 128)).toBeGreaterThanOrEqual(1);
  });

  it('refuses an origin function memory Lambda@Edge does not take, naming the prop', () => {
    expect(() => paywallStack({ originFunctionMemoryMb: 64 })).toThrow(/originFunctionMemoryMb = 64: .* from 128 to 10240/);
  });
});

describe('X402Paywall in a stack outside us-east-1', () => {
  const { app, stack, paywall } = paywallStack({}, 'eu-west-1');
  const assembly = app.synth();
  const globalStack = paywall.globalStack!;

  it('synthesizes without warnings', () => expectNoSynthWarnings(app));

  it('synthesizes two stacks: the site in its region, web ACL and edge functions in us-east-1', () => {
    expect(assembly.stacks.map((s) => [s.stackName, s.environment.region]).sort()).toEqual([
      ['Site', 'eu-west-1'],
      ['Site-x402-us-east-1', 'us-east-1'],
    ]);
    const global = Template.fromStack(globalStack);
    global.resourceCountIs('AWS::WAFv2::WebACL', 1);
    global.resourceCountIs('AWS::Lambda::Function', 3);
    const site = Template.fromStack(stack);
    site.resourceCountIs('AWS::WAFv2::WebACL', 0);
    site.resourceCountIs('AWS::DynamoDB::Table', 1);
  });

  it('bakes the receipt table of the site region into the edge functions and grants it there', () => {
    const statements = propertiesOf(Template.fromStack(globalStack), 'AWS::IAM::Policy').map((p) => JSON.stringify(p.PolicyDocument.Statement));
    expect(statements).toHaveLength(3);
    for (const s of statements) expect(s).toContain(':dynamodb:eu-west-1:');
    expect(paywall.verifier!._edgeConfig.receiptTable).toEqual({ tableName: 'Site-x402-receipts', region: 'eu-west-1' });
  });

  it('keeps the logs of every function in both stacks for a limited time, deploy-time helpers included', () => {
    for (const s of [stack, globalStack]) expect([s.stackName, functionsKeepingLogsForever(Template.fromStack(s))]).toEqual([s.stackName, []]);
    const edgeFunctions = [paywall.verifier!.viewerRequest, paywall.verifier!.originRequest!, paywall.verifier!.originResponse];
    expect(propertiesOf(Template.fromStack(globalStack), 'AWS::Logs::LogGroup').map((g) => JSON.stringify(g.LogGroupName))).toEqual(
      edgeFunctions.map(() => expect.stringContaining('/aws/lambda/us-east-1.')),
    );
  });

  it('reads the web ACL ARN across regions for the distribution', () => {
    const site = Template.fromStack(stack);
    site.hasResourceProperties('Custom::AWS', { Create: Match.stringLikeRegexp('"region":"us-east-1"') });
    expect(JSON.stringify(only(site, 'AWS::CloudFront::Distribution').DistributionConfig.WebACLId)).toContain('Parameter.Value');
  });
});

describe('X402Paywall misuse', () => {
  it('needs exactly one of origin and distribution', () => {
    const stack = new Stack(new App(), 'Site', { env: { region: 'us-east-1' } });
    expect(() => new X402Paywall(stack, 'Paywall', SETTINGS)).toThrow(/exactly one of origin .* or distribution/);
  });

  it('needs a stack with an explicit region', () => {
    const stack = new Stack(new App(), 'Site');
    expect(() => new X402Paywall(stack, 'Paywall', { ...SETTINGS, origin: new origins.HttpOrigin('example.com') })).toThrow(/needs an explicit region[\s\S]*env: \{ region: 'us-east-1' \}/);
  });

  it('fails with the configuration problems, not later', () => {
    const stack = new Stack(new App(), 'Site', { env: { region: 'us-east-1' } });
    expect(() => new X402Paywall(stack, 'Paywall', { ...SETTINGS, payTo: 'me', origin: new origins.HttpOrigin('example.com') })).toThrow(/x402:payTo = "me": is not an EVM address/);
  });
});

describe('X402Paywall, edge engine with the Coinbase CDP facilitator', () => {
  it('lets every edge function read the CDP key secret, and only that secret', () => {
    const { stack } = paywallStack({ ...MAINNET_SETTINGS, cdpApiKeySecret: 'x402/cdp-api-key' });
    const readKey = propertiesOf(Template.fromStack(stack), 'AWS::IAM::Policy')
      .flatMap((p) => p.PolicyDocument.Statement)
      .filter((statement: any) => statement.Action === 'secretsmanager:GetSecretValue');
    expect(readKey).toHaveLength(3);
    for (const statement of readKey) {
      expect(statement.Effect).toBe('Allow');
      expect(JSON.stringify(statement.Resource)).toMatch(/:secretsmanager:us-east-1:.*:secret:x402\/cdp-api-key-\?\?\?\?\?\?"/);
    }
  });
});

describe('X402Paywall, waf engine, pricing a side-effecting method', () => {
  it('warns that the waf engine settles after the origin, naming the engine that settles first', () => {
    const { stack } = paywallStack({ engine: Engine.WAF, routes: routes({ 'POST /api/orders': '$0.01' }) });
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('settles after the origin'));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0].entry.data)).toContain('x402:engine=edge');
  });
});

describe('x402:settledReceipt', () => {
  it('bakes after-release into the edge functions, and nothing by default', () => {
    expect(paywallStack({ settledReceipt: SettledReceipt.AFTER_RELEASE }).paywall.verifier!._edgeConfig.settledReceipt).toBe('after-release');
    expect(paywallStack({}).paywall.verifier!._edgeConfig).not.toHaveProperty('settledReceipt');
  });
});
