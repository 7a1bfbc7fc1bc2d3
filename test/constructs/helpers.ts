import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import type { IConstruct } from 'constructs';
import { applyNagChecks } from '../../bin/nag';
import { toChecksumAddress } from '../../lib/config/address';
import { resolveReferenceStackSettings } from '../../lib/config/reference';
import type { PricedRoute } from '../../lambda/core/config';
import type { X402Settings } from '../../lib/config/settings';
import { ReferenceStack } from '../../lib/reference-stack';
import { X402Paywall, type X402PaywallProps } from '../../lib/x402-paywall';

export const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';
export const ROUTES: PricedRoute[] = [
  { pattern: '/articles/*', price: '$0.001', description: 'One article', mimeType: 'text/html' },
  { pattern: 'GET /api/premium-report', price: '$0.01', description: 'Premium report', mimeType: 'application/json' },
  { pattern: 'POST /api/**', price: '$0.005' },
];

/** Routes written as the object form of the x402:routes context key (pattern → price). */
export function routes(prices: Record<string, string>): PricedRoute[] {
  return Object.entries(prices).map(([pattern, price]) => ({ pattern, price }));
}

export const SETTINGS: X402Settings = { payTo: PAY_TO, routes: ROUTES };

/**
 * Base mainnet, paying a wallet address made up for this test run: synth refuses the addresses
 * printed in the README and the tests (such as PAY_TO) wherever payments are real.
 */
export const MAINNET_SETTINGS: X402Settings = { ...SETTINGS, network: 'eip155:8453', payTo: toChecksumAddress(`0x${randomBytes(20).toString('hex')}`) };

/** The repository's cdk.json context, what `npx cdk synth` reads. */
export function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context;
}

/** The reference app exactly as bin/cdk-x402-app.ts builds it (nag checks included), paying PAY_TO unless overridden. */
export function referenceApp(overrides: Record<string, unknown> = {}): { app: App; stack: ReferenceStack } {
  const app = new App({ context: { ...cdkJsonContext(), 'x402:payTo': PAY_TO, ...overrides } });
  const settings = ReferenceStack.settingsFromContext(app.node.getAllContext());
  const { stackName, region } = resolveReferenceStackSettings(settings);
  const stack = new ReferenceStack(app, stackName, { settings, env: { region } });
  applyNagChecks(app);
  return { app, stack };
}

/** A user stack with a paywall in front of an HTTP origin. */
export function paywallStack(props: Partial<X402PaywallProps> = {}, region = 'us-east-1'): { app: App; stack: Stack; paywall: X402Paywall } {
  const app = new App();
  const stack = new Stack(app, 'Site', { env: { region } });
  const paywall = new X402Paywall(stack, 'Paywall', { ...SETTINGS, origin: new origins.HttpOrigin('origin.example.com'), ...props });
  return { app, stack, paywall };
}

/** Each Lambda function's S3 key (`<asset hash>.zip`), by logical id. */
export function codeKeys(stack: Stack): Record<string, string> {
  const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function');
  return Object.fromEntries(Object.entries(functions).map(([id, resource]) => [id, resource.Properties.Code.S3Key]));
}

/** Resources of one type in a template, as an array of their Properties. */
export function propertiesOf(template: Template, type: string): Array<Record<string, any>> {
  return Object.values(template.findResources(type)).map((r) => r.Properties);
}

/** The single resource of a type. */
export function only(template: Template, type: string): Record<string, any> {
  const all = propertiesOf(template, type);
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0];
}

/** A template as JSON with content hashes replaced, so snapshots survive handler edits. */
export function scrubbed(template: Template): unknown {
  const text = JSON.stringify(template.toJSON())
    .replace(/[0-9a-f]{64}/g, '[ASSET_HASH]')
    .replace(/CurrentVersion[0-9A-F]{8}[0-9a-f]{32}/g, 'CurrentVersion[HASH]');
  return JSON.parse(text);
}

interface ValidationReport {
  readonly pluginReports: ReadonlyArray<{
    readonly pluginName: string;
    readonly violations: ReadonlyArray<{ readonly ruleName: string; readonly description: string; readonly violatingConstructs: ReadonlyArray<{ readonly constructPath: string }> }>;
  }>;
}

/**
 * Fails on any warning the synth of an app produces: construct annotations (addWarningV2, deprecated
 * APIs) in every stack, and every finding of the synth-time validation plugins, among them CDK's
 * built-in CloudFormation schema check, which only prints its findings (e.g. "Additional properties
 * are not allowed" for a key CDK passed through in camelCase) and keeps them in validation-report.json.
 */
export function expectNoSynthWarnings(anyConstructOfTheApp: IConstruct): void {
  const app = anyConstructOfTheApp.node.root as App;
  const assembly = app.synth();
  const report = JSON.parse(readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8')) as ValidationReport;
  const findings = report.pluginReports.flatMap((plugin) =>
    plugin.violations.map((v) => `${plugin.pluginName} ${v.ruleName} at ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}: ${v.description}`),
  );
  expect(findings).toEqual([]);
  for (const stack of app.node.findAll().filter(Stack.isStack)) {
    const warnings = Annotations.fromStack(stack).findWarning('*', Match.anyValue()).map((w) => `${w.id}: ${String(w.entry.data)}`);
    expect(warnings).toEqual([]);
  }
}

/**
 * A second copy of aws-cdk-lib, as a consumer's dependency tree can hold (two versions, or one not
 * deduplicated): the installed package hard-linked under a temporary node_modules (instant, and
 * Node loads it as different modules, since a hard link is not resolved to the original path),
 * with its non-bundled dependencies and `constructs` shared through symlinks. Its classes are not
 * those of the aws-cdk-lib the tests import.
 */
export function secondAwsCdkLib(): { require(id: string): unknown; remove(): void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdk-x402-second-aws-cdk-lib-'));
  const nodeModules = path.join(dir, 'node_modules');
  const installed = path.dirname(require.resolve('aws-cdk-lib/package.json'));
  const pkg = JSON.parse(readFileSync(path.join(installed, 'package.json'), 'utf8'));
  const link = (from: string, to: string): void => {
    mkdirSync(to, { recursive: true });
    for (const entry of readdirSync(from, { withFileTypes: true })) {
      const [source, target] = [path.join(from, entry.name), path.join(to, entry.name)];
      if (entry.isDirectory()) link(source, target);
      else if (entry.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
      else linkSync(source, target);
    }
  };
  link(installed, path.join(nodeModules, 'aws-cdk-lib'));
  const bundled = new Set<string>(pkg.bundleDependencies ?? []);
  for (const dependency of [...Object.keys(pkg.dependencies).filter((d) => !bundled.has(d)), ...Object.keys(pkg.peerDependencies)]) {
    mkdirSync(path.dirname(path.join(nodeModules, dependency)), { recursive: true });
    symlinkSync(path.dirname(require.resolve(`${dependency}/package.json`)), path.join(nodeModules, dependency));
  }
  return {
    require: (id: string) => require(path.join(nodeModules, id)),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
