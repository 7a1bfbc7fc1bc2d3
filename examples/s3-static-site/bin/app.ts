#!/usr/bin/env node
/**
 * A static site in S3 behind CloudFront (origin access control), as many publishers already have
 * it; X402Paywall adopts the distribution: every behavior gets the paywall, merged with its own
 * policies, and the web ACL is attached.
 */
import { App, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import { X402Paywall } from 'cdk-x402';

class StaticSiteStack extends Stack {
  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, props);
    const bucket = new s3.Bucket(this, 'Content', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const site = new cloudfront.Distribution(this, 'Site', {
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      },
      defaultRootObject: 'index.html',
    });

    new X402Paywall(this, 'Paywall', {
      distribution: site,
      // Your wallet (EIP-55 checksummed). Payments settle on Base Sepolia until you set `network`.
      payTo: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C',
      routes: [
        { pattern: '/articles/*', price: '$0.001', description: 'One article', mimeType: 'text/html' },
        { pattern: '/data/**', price: '$0.01', description: 'Data files', mimeType: 'application/json' },
      ],
    });
  }
}

const app = new App();
new StaticSiteStack(app, 'StaticSite', { env: { region: 'us-east-1' } });
