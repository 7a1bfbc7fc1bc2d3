import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

/**
 * Registers cdk-nag's AwsSolutions checks on an app (cdk-nag v3: a CDK policy validation plugin;
 * violations fail synth and are listed in cdk.out/policy-validation-report.json). The findings
 * cdk-x402 accepts are acknowledged where they arise, on the exact constructs, each with its
 * reason (see {@link acknowledgeX402Findings}). Not exported from lib/index.ts: cdk-nag is a
 * dev dependency of the reference app, not a dependency of the construct library.
 */
export function applyNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
}
