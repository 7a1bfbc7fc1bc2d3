#!/usr/bin/env node
/**
 * The reference app (cdk.json "app"): one stack configured entirely from `x402:*` context keys,
 * e.g. `npx cdk synth -c x402:engine=waf -c x402:payTo=0x...`. Synth works offline, without
 * AWS credentials. cdk-nag AwsSolutions checks run on every synth.
 */
import { App } from 'aws-cdk-lib';
import { X402ConfigError } from '../lib/config/problems';
import { resolveReferenceStackSettings } from '../lib/config/reference';
import { ReferenceStack } from '../lib/reference-stack';
import { ensureBundles } from '../scripts/build-bundles';
import { applyNagChecks } from './nag';

// In this repository the functions' prebuilt bundles come from the tree: rebuilt when a source
// changed, so a synth never packages older code (a construct library user's synth only reads them).
ensureBundles();
const app = new App();
try {
  const settings = ReferenceStack.settingsFromContext(app.node.getAllContext());
  const { stackName, region } = resolveReferenceStackSettings(settings);
  new ReferenceStack(app, stackName, { settings, env: { account: process.env.CDK_DEFAULT_ACCOUNT, region } });
  applyNagChecks(app);
} catch (error) {
  if (error instanceof X402ConfigError) {
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}
