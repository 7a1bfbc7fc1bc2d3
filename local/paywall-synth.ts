/**
 * The deployed stack the local edge is built from: an X402Paywall in front of an HTTP origin,
 * synthesized in an in-memory CDK app with the local settings. Its CloudFormation template gives the
 * distribution (local/distribution.ts reads it), its verifier the edge configuration the
 * functions bake in, its assets the code they deploy.
 *
 * Run as a child process by local/synth.ts (`synthesizePaywallApart`), so a test process does not
 * load aws-cdk-lib; call {@link synthesizePaywall} directly when that does not matter.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack, type CfnResource } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import type { EdgeConfig } from '../lambda/core/config';
import type { EdgeBundleName } from '../lib/prebuilt-bundle';
import type { X402Settings } from '../lib/pricing';
import { X402Paywall } from '../lib/x402-paywall';

export interface PaywallSynthInput {
  /** The paywall's settings, as a publisher would write them (JSON). */
  readonly settings: X402Settings;
  readonly receiptTableName: string;
  /** The stack's region; us-east-1 puts the Lambda@Edge functions in the distribution's template. */
  readonly region: string;
  /** The HTTP origin the distribution fronts. */
  readonly origin: { readonly domainName: string; readonly httpPort: number };
}

export interface SynthesizedPaywall {
  /** The CloudFormation template of the stack holding the distribution and the edge functions. */
  readonly template: unknown;
  /** What the edge functions bake in (EdgeVerifier.edgeConfig). */
  readonly edgeConfig: EdgeConfig;
  /** The sha256 of each edge function's deployed code (its asset's index.js), by bundle. */
  readonly edgeCodeSha256: Readonly<Partial<Record<EdgeBundleName, string>>>;
}

export function synthesizePaywall(input: PaywallSynthInput): SynthesizedPaywall {
  const outdir = mkdtempSync(path.join(tmpdir(), 'cdk-x402-local-synth-'));
  try {
    // CloudFormation's own template validation takes seconds, and the template is checked elsewhere.
    const app = new App({ outdir, builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'LocalEdge', { env: { region: input.region } });
    const paywall = new X402Paywall(stack, 'Paywall', {
      ...input.settings,
      receiptTableName: input.receiptTableName,
      accessLogs: false,
      origin: new origins.HttpOrigin(input.origin.domainName, {
        httpPort: input.origin.httpPort,
        protocolPolicy: cloudfront.OriginProtocolPolicy.HTTP_ONLY,
      }),
    });
    const { verifier } = paywall;
    if (!verifier) throw new Error('the local edge emulates the edge engine (x402:engine=edge)');
    const template = app.synth().getStackByName(stack.stackName).template as { Resources: Record<string, { Properties: { Code: { S3Key: string } } }> };
    // A function's code is its asset in the assembly, asset.<hash>/, its S3Key <hash>.zip.
    const codeSha256 = (fn: cloudfront.experimental.EdgeFunction): string => {
      const { S3Key } = template.Resources[stack.getLogicalId(fn.lambda.node.defaultChild as CfnResource)].Properties.Code;
      return createHash('sha256').update(readFileSync(path.join(outdir, `asset.${S3Key.replace(/\.zip$/, '')}`, 'index.js'))).digest('hex');
    };
    const edgeCodeSha256 = {
      'viewer-request': codeSha256(verifier.viewerRequest),
      ...(verifier.originRequest ? { 'origin-request': codeSha256(verifier.originRequest) } : {}),
      'origin-response': codeSha256(verifier.originResponse),
    };
    return { template, edgeConfig: verifier.edgeConfig, edgeCodeSha256 };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

// As a child process: one input in, one answer out.
if (require.main === module) {
  process.once('message', (input: PaywallSynthInput) => {
    let answer: { ok: true; result: SynthesizedPaywall } | { ok: false; error: string };
    try {
      answer = { ok: true, result: synthesizePaywall(input) };
    } catch (error) {
      answer = { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    process.send!(answer, () => process.disconnect());
  });
}
