#!/usr/bin/env node
/**
 * A site whose stack lives in eu-west-1. The web ACL and the Lambda@Edge functions must be in
 * us-east-1: X402Paywall puts them in a companion stack `<stack>-x402-us-east-1` that the app
 * deploys first (bootstrap both regions: `cdk bootstrap aws://ACCOUNT/eu-west-1 aws://ACCOUNT/us-east-1`).
 * The receipt table stays in eu-west-1, next to the rest of the site.
 */
import { App, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import type { Construct } from 'constructs';
import { Engine, X402Paywall } from 'cdk-x402';

class EuropeanSiteStack extends Stack {
  readonly paywall: X402Paywall;

  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, props);
    this.paywall = new X402Paywall(this, 'Paywall', {
      engine: Engine.EDGE,
      origin: new origins.HttpOrigin('www.example.com', {
        protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
      }),
      payTo: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C',
      routes: [
        { pattern: 'GET /api/report', price: '$0.01', mimeType: 'application/json' },
        { pattern: '/articles/**', price: '$0.002' },
      ],
    });
  }
}

const app = new App();
new EuropeanSiteStack(app, 'EuropeanSite', { env: { region: 'eu-west-1' } });
