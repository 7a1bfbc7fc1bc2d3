#!/usr/bin/env node
/**
 * A publisher that already runs its own CLOUDFRONT web ACL and distribution wires the building
 * blocks itself: the payment-eligibility rules as a rule group referenced from its web ACL (after
 * AWS Bot Control, whose labels they read), the edge verifier and the paywalled behavior on its
 * distribution, and the receipt table.
 */
import { App, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import { EdgeVerifier, PaymentEligibleBotsRuleGroup, PaywalledBehavior, ReceiptTable, X402Config } from 'cdk-x402';

class PublisherStack extends Stack {
  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, props);
    const config = X402Config.resolve({
      payTo: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C',
      routes: [{ pattern: '/premium/**', price: '$0.02' }],
    });
    const payments = new PaymentEligibleBotsRuleGroup(this, 'PaymentRules', { config });
    const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName });

    // The publisher's own web ACL: its rate rule first, then Bot Control, then cdk-x402's rules.
    const webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'CLOUDFRONT',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('publisher-web-acl'),
      rules: [
        {
          name: 'publisher-rate-limit',
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: 10000, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('publisher-rate-limit'),
        },
        PaymentEligibleBotsRuleGroup.botControlRule(config, 1),
        {
          name: 'cdk-x402-payment-eligibility',
          priority: 2,
          overrideAction: { none: {} },
          statement: { ruleGroupReferenceStatement: { arn: payments.ruleGroupArn } },
          visibilityConfig: visibility('cdk-x402-payment-eligibility'),
        },
      ],
    });

    const receipts = new ReceiptTable(this, 'Receipts');
    const verifier = new EdgeVerifier(this, 'Verifier', { config, receiptTable: receipts });
    const paywalled = new PaywalledBehavior(this, 'Paywalled', { config, verifier });
    const origin = new origins.HttpOrigin('www.example.com');
    new cloudfront.Distribution(this, 'Site', {
      defaultBehavior: paywalled.behaviorOptions(origin),
      webAclId: webAcl.attrArn,
    });
  }
}

const app = new App();
new PublisherStack(app, 'Publisher', { env: { region: 'us-east-1' } });
