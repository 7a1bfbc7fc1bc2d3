/**
 * The library way: a publisher's own stack, with its own distribution, takes the building blocks
 * from the package entry point (lib/index.ts) and wires them itself.
 */
import { App, Stack, type StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import type { Construct } from 'constructs';
import {
  EdgeVerifier,
  PaymentEligibleBots,
  PaymentsDashboard,
  PaywalledBehavior,
  ReceiptTable,
  X402Config,
  X402Paywall,
} from '../../lib';
import { expectNoSynthWarnings, only, PAY_TO, routes } from './helpers';

class PublisherStack extends Stack {
  readonly site: cloudfront.Distribution;

  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, props);
    const config = X402Config.resolve({ payTo: PAY_TO, routes: routes({ '/premium/**': '$0.02' }) });
    const receipts = new ReceiptTable(this, 'Receipts');
    const bots = new PaymentEligibleBots(this, 'Bots', { config });
    const verifier = new EdgeVerifier(this, 'Verifier', { config, receiptTable: receipts });
    const paywalled = new PaywalledBehavior(this, 'Paywalled', { config, verifier });
    const originServer = new origins.HttpOrigin('www.publisher.example');

    // The publisher's existing distribution, now with the paywall's parts.
    this.site = new cloudfront.Distribution(this, 'Site', {
      defaultBehavior: paywalled.behaviorOptions(originServer),
      additionalBehaviors: { '/images/*': paywalled.behaviorOptions(originServer, { compress: false }) },
      webAclId: bots.webAclArn,
    });
    new PaymentsDashboard(this, 'Payments', { config, webAclName: bots.webAclName, distributionId: this.site.distributionId });
  }
}

describe('constructs imported into a plain user stack', () => {
  const stack = new PublisherStack(new App(), 'Publisher', { env: { region: 'us-east-1' } });
  const template = Template.fromStack(stack);
  const config = only(template, 'AWS::CloudFront::Distribution').DistributionConfig;

  it('synthesizes without warnings', () => expectNoSynthWarnings(stack));

  it('puts the verifier and the paid cache/origin policies on each behavior the user wires', () => {
    for (const behavior of [config.DefaultCacheBehavior, ...config.CacheBehaviors]) {
      expect(behavior.LambdaFunctionAssociations.map((a: any) => a.EventType)).toEqual(['viewer-request', 'origin-response']);
      expect(Object.keys(behavior.CachePolicyId)).toEqual(['Ref']);
      expect(Object.keys(behavior.OriginRequestPolicyId)).toEqual(['Ref']);
    }
    expect(config.CacheBehaviors[0]).toMatchObject({ PathPattern: '/images/*', Compress: false });
  });

  it('has exactly the resources the user asked for', () => {
    for (const [type, count] of Object.entries({
      'AWS::CloudFront::Distribution': 1,
      'AWS::WAFv2::WebACL': 1,
      'AWS::DynamoDB::Table': 1,
      'AWS::Lambda::Function': 2,
      'AWS::CloudWatch::Dashboard': 1,
      'AWS::S3::Bucket': 0,
    })) template.resourceCountIs(type, count);
    expect(config.WebACLId).toBeDefined();
  });

  it('exports the L3 from the same entry point', () => {
    expect(typeof X402Paywall).toBe('function');
  });
});
