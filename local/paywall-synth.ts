/**
 * The deployed stack the local edge is built from: an X402Paywall in front of an HTTP origin,
 * synthesized in an in-memory CDK app with the local settings. Its CloudFormation template gives the
 * distribution (local/distribution.ts reads it) and its verifier the edge configuration the
 * functions bake in.
 *
 * Run as a child process by local/synth.ts (`synthesizePaywallApart`), so a test process does not
 * load aws-cdk-lib; call {@link synthesizePaywall} directly when that does not matter.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import type { EdgeConfig } from '../lambda/core/config';
import type { X402Settings } from '../lib/config/settings';
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
  /** What the edge functions bake in (EdgeVerifier._edgeConfig). */
  readonly edgeConfig: EdgeConfig;
}

export function synthesizePaywall(input: PaywallSynthInput): SynthesizedPaywall {
  const outdir = mkdtempSync(path.join(tmpdir(), 'cdk-x402-local-synth-'));
  try {
    const app = new App({
      outdir,
      // The template is what is read here: the functions run the prebuilt bundles with the local
      // configuration injected instead, and CloudFormation's own template validation takes seconds.
      context: { 'aws:cdk:bundling-stacks': [] },
      builtinCloudFormationValidation: false,
    });
    const stack = new Stack(app, 'LocalEdge', { env: { region: input.region } });
    const paywall = new X402Paywall(stack, 'Paywall', {
      ...input.settings,
      receiptTableName: input.receiptTableName,
      accessLogs: false,
      // The local edge emulates CloudFront only; tests run the claims themselves (lambda/batch-claims/run.ts).
      batchClaims: false,
      origin: new origins.HttpOrigin(input.origin.domainName, {
        httpPort: input.origin.httpPort,
        protocolPolicy: cloudfront.OriginProtocolPolicy.HTTP_ONLY,
      }),
    });
    if (!paywall.verifier) throw new Error('the local edge emulates the edge engine (x402:engine=edge)');
    const template = app.synth().getStackByName(stack.stackName).template as unknown;
    return { template, edgeConfig: paywall.verifier._edgeConfig };
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
