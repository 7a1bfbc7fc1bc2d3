import { Stack, type StackProps } from 'aws-cdk-lib';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import type { Construct } from 'constructs';
import { settingsFromContext } from './config/context';
import { DEFAULT_REFERENCE_REGION } from './config/context-keys';
import { resolveReferenceStackSettings } from './config/reference';
import type { ReferenceStackSettings } from './config/settings';
import { X402Paywall } from './x402-paywall';

/** Props of {@link ReferenceStack}. */
export interface ReferenceStackProps extends StackProps {
  /** Usually `ReferenceStack.settingsFromContext(app.node.getAllContext())`. */
  readonly settings: ReferenceStackSettings;
}

/**
 * The deployable reference: a CloudFront distribution in front of `x402:origin` (HTTPS only,
 * TLS 1.2) with the paywall on every request, in us-east-1 unless `env.region` says otherwise.
 * The origin is protected by default (`x402:originProtection=secret-header`): CloudFront sends it
 * a rotated secret header, whose secret is the `OriginSecretArn` output, for the origin to check
 * (lambda/origin: createOriginSecretCheck); `x402:originProtection=none` opts out, with a warning.
 */
export class ReferenceStack extends Stack {
  /**
   * The settings the `x402:*` keys of a CDK context give, e.g. `app.node.getAllContext()`:
   * command-line strings (`-c x402:engine=waf`) are parsed (numbers, JSON objects and arrays,
   * comma-separated lists), cdk.json values taken as they are, and `x402:routes` in its object
   * form (pattern → price or `{price, description, mimeType, maxTimeoutSeconds}`) becomes the list
   * of routes. An unknown `x402:*` key is an error naming the nearest key; the values are
   * validated with the stack's props, every problem in one error.
   */
  static settingsFromContext(context: { [key: string]: any }): ReferenceStackSettings {
    return settingsFromContext(context);
  }

  /** The paywall in front of the origin. */
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
  }
}
