/**
 * What synth refuses around the paywalled behaviors: configurations that break the payment hand-off
 * between the viewer-request and origin-response functions, and adopted behaviors whose settings
 * cdk-x402 cannot merge with its own. Each message names the behavior and the fix.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { PENDING_SETTLEMENT_HEADER } from '../../lambda/core/handoff';
import { EdgeVerifier, PaidCaching, PaywalledBehavior, ReceiptTable, X402Config, X402Paywall } from '../../lib';
import { only, SETTINGS } from './helpers';

function siteStack(): { app: App; stack: Stack } {
  const app = new App();
  return { app, stack: new Stack(app, 'Site', { env: { region: 'us-east-1' } }) };
}

/** A Lambda@Edge function that is not cdk-x402's. */
function foreignEdgeFunction(stack: Stack, id = 'Rewriter'): cloudfront.experimental.EdgeFunction {
  return new cloudfront.experimental.EdgeFunction(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async (event) => event.Records[0].cf.request;'),
  });
}

/** The building blocks wired by hand, as a publisher who writes its own behaviors does. */
function wiredByHand(): { app: App; stack: Stack; paywalled: PaywalledBehavior; verifier: EdgeVerifier; origin: origins.HttpOrigin } {
  const { app, stack } = siteStack();
  const config = X402Config.resolve(SETTINGS);
  const verifier = new EdgeVerifier(stack, 'Verifier', { config, receiptTable: new ReceiptTable(stack, 'Receipts') });
  const paywalled = new PaywalledBehavior(stack, 'Paywalled', { config, verifier });
  return { app, stack, paywalled, verifier, origin: new origins.HttpOrigin('www.example.com') };
}

describe('the payment hand-off, on behaviors wired by hand', () => {
  it('refuses an origin-request Lambda@Edge of its own on a paywalled behavior, which may rebuild the headers', () => {
    const { app, stack, paywalled, origin } = wiredByHand();
    const rewriter = foreignEdgeFunction(stack);
    new cloudfront.Distribution(stack, 'Site', {
      defaultBehavior: { ...paywalled.behaviorOptions(origin), edgeLambdas: [...paywalled.edgeLambdas, { eventType: cloudfront.LambdaEdgeEventType.ORIGIN_REQUEST, functionVersion: rewriter.currentVersion }] },
    });
    expect(() => app.synth()).toThrow(
      new RegExp(
        `Site/Site, default behavior \\(\\*\\): has a Lambda@Edge function of its own on origin-request \\(Site/Rewriter/Fn/CurrentVersion\\)\\. .*dropping the ${PENDING_SETTLEMENT_HEADER} hand-off.* Fix: fold its logic into the origin, or leave the paywall off the paths it serves if none of them is priced`,
      ),
    );
  });

  it('refuses cdk-x402\'s origin-response without its viewer-request', () => {
    const { app, stack, paywalled, origin } = wiredByHand();
    const originFacing = paywalled.edgeLambdas.filter((l) => l.eventType !== cloudfront.LambdaEdgeEventType.VIEWER_REQUEST);
    new cloudfront.Distribution(stack, 'Site', { defaultBehavior: { ...paywalled.behaviorOptions(origin), edgeLambdas: originFacing } });
    expect(() => app.synth()).toThrow(/Site\/Site, default behavior \(\*\): has cdk-x402's origin-request, origin-response but not its viewer-request\. .* Fix: attach all of paywalledBehavior\.edgeLambdas/);
  });

  it('refuses a viewer-request or origin-response Lambda@Edge of someone else next to cdk-x402\'s other function', () => {
    const { app, stack, paywalled, origin } = wiredByHand();
    const other = foreignEdgeFunction(stack);
    const ours = paywalled.edgeLambdas.filter((l) => l.eventType !== cloudfront.LambdaEdgeEventType.ORIGIN_RESPONSE);
    new cloudfront.Distribution(stack, 'Site', {
      defaultBehavior: { ...paywalled.behaviorOptions(origin), edgeLambdas: [...ours, { eventType: cloudfront.LambdaEdgeEventType.ORIGIN_RESPONSE, functionVersion: other.currentVersion }] },
    });
    expect(() => app.synth()).toThrow(/has a Lambda@Edge function of its own on origin-response \(Site\/Rewriter\/Fn\/CurrentVersion\); CloudFront allows one function per event, and cdk-x402 needs this one/);
  });

  it('accepts cdk-x402\'s own origin-request function (known by the version EdgeVerifier created), and someone else\'s viewer-response', () => {
    const { stack, paywalled, verifier, origin } = wiredByHand();
    const headers = foreignEdgeFunction(stack, 'SecurityHeaders');
    new cloudfront.Distribution(stack, 'Site', {
      defaultBehavior: { ...paywalled.behaviorOptions(origin), edgeLambdas: [...paywalled.edgeLambdas, { eventType: cloudfront.LambdaEdgeEventType.VIEWER_RESPONSE, functionVersion: headers.currentVersion }] },
    });
    const associations = only(Template.fromStack(stack), 'AWS::CloudFront::Distribution').DistributionConfig.DefaultCacheBehavior.LambdaFunctionAssociations;
    expect(associations.map((a: any) => a.EventType)).toEqual(['viewer-request', 'origin-request', 'origin-response', 'viewer-response']);
    expect(paywalled.edgeLambdas.find((l) => l.eventType === cloudfront.LambdaEdgeEventType.ORIGIN_REQUEST)?.functionVersion).toBe(verifier.originRequest);
  });
});

describe('behaviorOptions overrides', () => {
  it('keeps the caller\'s settings but refuses to replace the paywall\'s policies or functions, naming them', () => {
    const { paywalled, origin } = wiredByHand();
    expect(paywalled.behaviorOptions(origin, { compress: false })).toMatchObject({ compress: false, cachePolicy: paywalled.cachePolicy });
    expect(() => paywalled.behaviorOptions(origin, { cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED, edgeLambdas: [] })).toThrow(
      /Site\/Paywalled: behaviorOptions overrides set cachePolicy, edgeLambdas, which a paywalled behavior must take from the paywall .* Fix: leave them out of the overrides/,
    );
  });
});

describe('adopting a distribution: what synth refuses', () => {
  function adopt(build: (stack: Stack) => cloudfront.Distribution): App {
    const { app, stack } = siteStack();
    new X402Paywall(stack, 'Paywall', { ...SETTINGS, distribution: build(stack) });
    return app;
  }
  const rewrite = (stack: Stack) => new cloudfront.Function(stack, 'Rewrite', { code: cloudfront.FunctionCode.fromInline('function handler(e) { return e.request; }') });

  it.each([cloudfront.FunctionEventType.VIEWER_REQUEST, cloudfront.FunctionEventType.VIEWER_RESPONSE])('a CloudFront Function on %s, naming it', (eventType) => {
    const app = adopt((stack) => new cloudfront.Distribution(stack, 'Existing', {
      defaultBehavior: { origin: new origins.HttpOrigin('www.example.com'), functionAssociations: [{ function: rewrite(stack), eventType }] },
    }));
    expect(() => app.synth()).toThrow(
      new RegExp(
        `Site/Existing, default behavior \\(\\*\\): has the CloudFront Function Site/Rewrite on ${eventType}\\. CloudFront does not allow CloudFront Functions and Lambda@Edge on the viewer events of one behavior.*moving the function to the other viewer event is not allowed either.*Fix: fold its logic into the origin`,
      ),
    );
  });

  it('a Lambda@Edge of its own on origin-request, also on a behavior added later', () => {
    const { app, stack } = siteStack();
    const site = new cloudfront.Distribution(stack, 'Existing', { defaultBehavior: { origin: new origins.HttpOrigin('www.example.com') } });
    new X402Paywall(stack, 'Paywall', { ...SETTINGS, distribution: site });
    site.addBehavior('/legacy/*', new origins.HttpOrigin('legacy.example.com'), {
      edgeLambdas: [{ eventType: cloudfront.LambdaEdgeEventType.ORIGIN_REQUEST, functionVersion: foreignEdgeFunction(stack).currentVersion }],
    });
    expect(() => app.synth()).toThrow(/Site\/Existing, behavior \/legacy\/\*: has a Lambda@Edge function of its own on origin-request \(Site\/Rewriter\/Fn\/CurrentVersion\)/);
  });

  it('a cache policy whose settings it cannot read, saying which policies it can merge', () => {
    const app = adopt((stack) => new cloudfront.Distribution(stack, 'Existing', {
      defaultBehavior: { origin: new origins.HttpOrigin('www.example.com'), cachePolicy: cloudfront.CachePolicy.fromCachePolicyId(stack, 'Shared', 'a1b2c3d4-0000-4000-8000-000000000000') },
    }));
    expect(() => app.synth()).toThrow(
      /Site\/Existing, default behavior \(\*\): uses the cache policy a1b2c3d4-0000-4000-8000-000000000000, whose settings cdk-x402 cannot read.*Fix: define the policy in this app as a cloudfront.CachePolicy with the same settings, or use one of the managed policies CachingOptimized, CachingOptimizedForUncompressedObjects, CachingDisabled/,
    );
  });

  it('a merged cache key beyond CloudFront\'s 10 headers per policy', () => {
    const app = adopt((stack) => new cloudfront.Distribution(stack, 'Existing', {
      defaultBehavior: {
        origin: new origins.HttpOrigin('www.example.com'),
        cachePolicy: new cloudfront.CachePolicy(stack, 'Wide', { headerBehavior: cloudfront.CacheHeaderBehavior.allowList(...Array.from({ length: 10 }, (_, i) => `x-h${i}`)) }),
      },
    }));
    expect(() => app.synth()).toThrow(/Site\/Existing, default behavior \(\*\): its cache policy merged with cdk-x402's would name 11 headers \(x-h0, .*x-h9, x-x402-payment-id\), more than the 10 CloudFront allows by default\. Fix: name fewer headers/);
  });

  it('legacy cache settings (forwardedValues), with the fix', () => {
    const { app, stack } = siteStack();
    const config = X402Config.resolve(SETTINGS);
    const paywalled = new PaywalledBehavior(stack, 'Paywalled', { config, verifier: new EdgeVerifier(stack, 'Verifier', { config, receiptTable: new ReceiptTable(stack, 'Receipts') }) });
    // A distribution written as the CloudFormation resource, with legacy settings (as CloudFrontWebDistribution builds them).
    const legacy = new Construct(stack, 'Legacy');
    new cloudfront.CfnDistribution(legacy, 'Resource', {
      distributionConfig: {
        enabled: true,
        origins: [{ id: 'www', domainName: 'www.example.com', customOriginConfig: { originProtocolPolicy: 'https-only' } }],
        defaultCacheBehavior: { targetOriginId: 'www', viewerProtocolPolicy: 'redirect-to-https', forwardedValues: { queryString: true }, defaultTtl: 86400 },
      },
    });
    paywalled.protect(legacy as unknown as cloudfront.IDistribution);
    expect(() => app.synth()).toThrow(/Site\/Legacy, default behavior \(\*\): uses legacy cache settings \(forwardedValues and TTLs on the behavior\).*Fix: give the behavior a cachePolicy/);
  });

  it('a construct that holds a distribution but is not one, before treating it as imported (unprotected)', () => {
    const { stack } = siteStack();
    const wrapper = new Construct(stack, 'Wrapper');
    new cloudfront.Distribution(wrapper, 'Inner', { defaultBehavior: { origin: new origins.HttpOrigin('www.example.com') } });
    expect(() => new X402Paywall(stack, 'Paywall', { ...SETTINGS, distribution: wrapper as unknown as cloudfront.IDistribution })).toThrow(
      /Site\/Wrapper contains a CloudFront distribution but is not one .* pass the cloudfront.Distribution itself/,
    );
  });
});

describe('adopting a distribution with paid caching disabled', () => {
  const { stack } = siteStack();
  const site = new cloudfront.Distribution(stack, 'Existing', {
    defaultBehavior: {
      origin: new origins.HttpOrigin('www.example.com'),
      cachePolicy: new cloudfront.CachePolicy(stack, 'HostKeyed', {
        headerBehavior: cloudfront.CacheHeaderBehavior.allowList('host'),
        cookieBehavior: cloudfront.CacheCookieBehavior.allowList('session'),
        queryStringBehavior: cloudfront.CacheQueryStringBehavior.all(),
      }),
    },
  });
  new X402Paywall(stack, 'Paywall', { ...SETTINGS, paidCaching: PaidCaching.DISABLED, distribution: site });
  const template = Template.fromStack(stack);
  const behavior = only(template, 'AWS::CloudFront::Distribution').DistributionConfig.DefaultCacheBehavior;

  it('uses CachingDisabled and still forwards to the origin what the publisher\'s cache key did, plus the hand-off', () => {
    expect(behavior.CachePolicyId).toBe(cloudfront.CachePolicy.CACHING_DISABLED.cachePolicyId);
    expect(template.toJSON().Resources[behavior.OriginRequestPolicyId.Ref].Properties.OriginRequestPolicyConfig).toMatchObject({
      HeadersConfig: { HeaderBehavior: 'whitelist', Headers: [PENDING_SETTLEMENT_HEADER, 'host'] },
      CookiesConfig: { CookieBehavior: 'whitelist', Cookies: ['session'] },
      QueryStringsConfig: { QueryStringBehavior: 'all' },
    });
  });
});
