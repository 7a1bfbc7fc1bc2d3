import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import type { Construct } from 'constructs';
import { DEFAULT_REFERENCE_REGION, resolveReferenceStackSettings, type ReferenceStackSettings } from './pricing';
import { X402Paywall } from './x402-paywall';

export interface ReferenceStackProps extends StackProps {
  /** Usually `settingsFromContext(app.node.getAllContext())`. */
  readonly settings: ReferenceStackSettings;
}

/**
 * The deployable reference: a CloudFront distribution in front of `x402:origin` (HTTPS only,
 * TLS 1.2) with the paywall on every request, in us-east-1 unless `env.region` says otherwise.
 */
export class ReferenceStack extends Stack {
  readonly paywall: X402Paywall;

  constructor(scope: Construct, id: string, props: ReferenceStackProps) {
    super(scope, id, {
      description: 'cdk-x402 reference stack: x402 payments for AI agents in front of a CloudFront origin',
      ...props,
      env: { ...props.env, region: props.env?.region ?? DEFAULT_REFERENCE_REGION },
    });
    const { origin } = resolveReferenceStackSettings(props.settings);
    this.paywall = new X402Paywall(this, 'Paywall', {
      ...props.settings,
      origin: new origins.HttpOrigin(origin, {
        protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
        originSslProtocols: [cloudfront.OriginSslPolicy.TLS_V1_2],
      }),
    });

    new CfnOutput(this, 'DistributionDomainName', { value: this.paywall.distribution.distributionDomainName });
    new CfnOutput(this, 'WebAclArn', { value: this.paywall.webAclArn });
    new CfnOutput(this, 'ReceiptTableName', { value: this.paywall.receiptTable.tableName });
    new CfnOutput(this, 'DashboardName', { value: this.paywall.dashboard.dashboard.dashboardName });
  }
}
