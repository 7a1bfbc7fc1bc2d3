/**
 * cdk-x402 installed from its packed tarball into fresh apps, as a user installs it, and
 * synthesized there: the examples (TypeScript by ts-node, plain JavaScript), an app whose cdk-x402
 * sees a second copy of aws-cdk-lib, and the lowest aws-cdk-lib of the peer range.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { exampleFiles, expectPaywalled, installApp, installAppInBackground, packedTarball, REPO, run, runInBackground, secondCdkLibCopy, templates, treeBytes } from './packed-package';

const TS_NODE = ['typescript', 'ts-node', '@types/node'];
/** The app command of an example's cdk.json, as the cdk CLI runs it (CDK_OUTDIR). */
function exampleSynth(dir: string): [string, string[], string, Record<string, string>] {
  const app = JSON.parse(readFileSync(path.join(dir, 'cdk.json'), 'utf8')).app as string;
  const [command, ...args] = app.replace(/^npx /, '').split(' ');
  const bin = command === 'node' ? process.execPath : path.join(dir, 'node_modules', '.bin', command);
  return [bin, args, dir, { CDK_OUTDIR: path.join(dir, 'cdk.out') }];
}
function synthExample(dir: string): void {
  run(...exampleSynth(dir));
}

/** A JavaScript app adopting its own distribution (TypeScript refuses the two copies' types at compile time). */
const ADOPTING_APP = `
const { App, Stack } = require('aws-cdk-lib');
const cloudfront = require('aws-cdk-lib/aws-cloudfront');
const origins = require('aws-cdk-lib/aws-cloudfront-origins');
const { X402Paywall } = require('cdk-x402');
const { realpathSync } = require('node:fs');
const path = require('node:path');
const seenByPaywall = require.resolve('aws-cdk-lib', { paths: [path.dirname(require.resolve('cdk-x402'))] });
if (realpathSync(seenByPaywall) === realpathSync(require.resolve('aws-cdk-lib'))) throw new Error('cdk-x402 and the app share one aws-cdk-lib');
const app = new App();
const stack = new Stack(app, 'Adopting', { env: { region: 'us-east-1' } });
const site = new cloudfront.Distribution(stack, 'Site', { defaultBehavior: { origin: new origins.HttpOrigin('www.example.com') } });
new X402Paywall(stack, 'Paywall', { distribution: site, payTo: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C', routes: [{ pattern: '/articles/*', price: '$0.001' }] });
app.synth();
`;

const apps: string[] = [];
afterAll(async () => {
  // The background apps (below) finish first, even when their tests were filtered out.
  await Promise.allSettled([outsideUsEast1, existingWebAcl]);
  for (const dir of apps) rmSync(dir, { recursive: true, force: true });
}, 300_000);
function app(spec: Parameters<typeof installApp>[0]): string {
  const dir = installApp(spec);
  apps.push(dir);
  return dir;
}
/**
 * The TypeScript examples, the slowest apps (ts-node type-checks them), installed and synthesized
 * in the background from the start: they run on the other core while the other tests run.
 */
function tsExampleInBackground(name: string, then?: (dir: string) => Promise<unknown>): Promise<string> {
  const ready = (async () => {
    const dir = await installAppInBackground({ files: exampleFiles(name), devPackages: TS_NODE });
    apps.push(dir);
    await runInBackground(...exampleSynth(dir));
    await then?.(dir);
    return dir;
  })();
  ready.catch(() => undefined); // awaited by its test; a failure meanwhile is not unhandled
  return ready;
}
const outsideUsEast1 = tsExampleInBackground('outside-us-east-1', (dir) =>
  runInBackground(path.join(dir, 'node_modules', '.bin', 'tsc'), ['--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '-p', '.'], dir));
const existingWebAcl = tsExampleInBackground('existing-web-acl');

let plainJavaScript: string | undefined;
/** The plain JavaScript example installed once for the tests that only read the install or synth into its cdk.out. */
function plainJavaScriptApp(): string {
  plainJavaScript ??= app({ files: exampleFiles('plain-javascript') });
  return plainJavaScript;
}

describe('the packed tarball', () => {
  it('ships the compiled library, the prebuilt bundles and the CLI, and no sources, tests or local tools', () => {
    const files = execFileSync('tar', ['-tzf', packedTarball()], { encoding: 'utf8' }).trim().split('\n').map((f) => f.replace(/^package\//, ''));
    expect(files).toEqual(expect.arrayContaining([
      'package.json', 'LICENSE', 'README.md', 'CHANGELOG.md', 'API.md', '.jsii', 'bin/cdk-x402.js',
      'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/bundles/viewer-request/index.js', 'dist/bundles/cli/index.js', 'dist/bundles/client/index.js',
    ]));
    expect(files.filter((f) => /^(test|local|bench|scripts|examples)\/|\.ts$/.test(f) && !f.endsWith('.d.ts'))).toEqual([]);
  });
});

describe('installed into fresh apps (offline)', () => {
  it('adds at most 5 MB to an app beyond aws-cdk-lib and constructs, and no other package', () => {
    const dir = plainJavaScriptApp();
    const installed = readFileSync(path.join(dir, 'node_modules', '.package-lock.json'), 'utf8');
    expect(Object.keys(JSON.parse(installed).packages).filter((p) => p.startsWith('node_modules/')).sort()).toEqual([
      'node_modules/aws-cdk-lib', 'node_modules/cdk-x402', 'node_modules/constructs',
    ]);
    expect(treeBytes(path.join(dir, 'node_modules', 'cdk-x402'))).toBeLessThanOrEqual(5 * 1024 * 1024);
  });

  it('exports the agent\'s paying fetch as cdk-x402/client, self-contained', () => {
    const dir = plainJavaScriptApp();
    const exported = run(process.execPath, ['-e', "const c = require('cdk-x402/client'); process.stdout.write([c.payingFetch, c.SpendingLedger, c.SpendingRefused].map((f) => typeof f).join(' '))"], dir);
    expect(exported).toBe('function function function');
  });

  it('synthesizes the plain JavaScript example with node, and with `cdk synth` (offline, no credentials)', () => {
    const dir = plainJavaScriptApp();
    synthExample(dir);
    expectPaywalled(templates(dir));

    rmSync(path.join(dir, 'cdk.out'), { recursive: true, force: true });
    run(path.join(REPO, 'node_modules', '.bin', 'cdk'), ['synth', '-q', '--no-notices', '-c', 'price=$0.005'], dir, { CDK_DISABLE_CLI_TELEMETRY: 'true' });
    const stacks = templates(dir);
    expectPaywalled(stacks);
    // The price came from the context given on the command line: $0.005 is 5000 atomic units of USDC.
    expect(JSON.parse(stacks.JsSite.findOutputs('X402Deployment').X402Deployment.Value).routes).toEqual([{ pattern: '/articles/*', amount: '5000' }]);
  });

  it('synthesizes a TypeScript example the way `cdk init` apps ran, by ts-node (type-checked), and type-checks under NodeNext', async () => {
    const dir = await outsideUsEast1; // synthesized, then type-checked under NodeNext
    const stacks = templates(dir);
    expect(Object.keys(stacks).sort()).toEqual(['EuropeanSite', 'EuropeanSite-x402-us-east-1']);
    expectPaywalled(stacks);
    stacks.EuropeanSite.resourceCountIs('AWS::DynamoDB::Table', 1);
  }, 300_000);

  it('attaches the paywall to the app\'s own distribution when cdk-x402 sees a second copy of aws-cdk-lib (a package installed from a path)', () => {
    const dir = app({ files: { 'app.js': ADOPTING_APP } });
    const nested = path.join(dir, 'node_modules', 'cdk-x402', 'node_modules');
    mkdirSync(nested, { recursive: true });
    symlinkSync(secondCdkLibCopy(), path.join(nested, 'aws-cdk-lib'));
    run(process.execPath, ['app.js'], dir, { CDK_OUTDIR: path.join(dir, 'cdk.out') });
    expectPaywalled(templates(dir));
  });

  it('synthesizes both engines with the lowest aws-cdk-lib of the peer range, monetization included', () => {
    const dir = app({ files: exampleFiles('plain-javascript'), cdkLib: 'lowest' });
    const version = JSON.parse(readFileSync(path.join(dir, 'node_modules', 'aws-cdk-lib', 'package.json'), 'utf8')).version;
    expect(version).toBe(JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).peerDependencies['aws-cdk-lib'].replace(/^\^/, ''));
    synthExample(dir);
    expectPaywalled(templates(dir));

    run(process.execPath, ['app.js'], dir, { CDK_OUTDIR: path.join(dir, 'cdk.out.waf'), CDK_CONTEXT_JSON: JSON.stringify({ engine: 'waf' }) });
    const waf = templates(dir, 'cdk.out.waf').JsSite;
    waf.hasResourceProperties('AWS::WAFv2::WebACL', {
      MonetizationConfig: { CurrencyMode: 'TEST', CryptoConfig: { PaymentNetworks: [Match.objectLike({ Chain: 'BASE_SEPOLIA' })] } },
      Rules: Match.arrayWith([Match.objectLike({ Action: { Monetize: { PriceMultiplier: '1' } } })]),
    });
  });
});

describe('the examples', () => {
  it('existing-web-acl: the rule group referenced from the publisher\'s own web ACL, after Bot Control', async () => {
    const dir = await existingWebAcl;
    const stacks = templates(dir);
    expectPaywalled(stacks);
    const acl = stacks.Publisher.findResources('AWS::WAFv2::WebACL');
    const rules = Object.values(acl)[0].Properties.Rules as Array<{ Name: string; Statement: Record<string, unknown> }>;
    expect(rules.map((r) => Object.keys(r.Statement)[0])).toEqual(['RateBasedStatement', 'ManagedRuleGroupStatement', 'RuleGroupReferenceStatement']);
    stacks.Publisher.resourceCountIs('AWS::WAFv2::RuleGroup', 1);
  }, 300_000);
});
