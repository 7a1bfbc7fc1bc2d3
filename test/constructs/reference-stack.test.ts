import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { applyNagChecks } from '../../bin/nag';
import { cdkJsonContext, expectNoSynthWarnings, only, referenceApp, scrubbed } from './helpers';

/** Synthesizes with the cdk-nag plugin; returns the validation report (synth throws on violations). */
function synthWithNag(app: App): { pluginReports: Array<{ pluginName: string; conclusion: string; violations: unknown[]; suppressedViolations?: Array<{ ruleName: string }> }> } {
  const assembly = app.synth();
  return JSON.parse(readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'));
}

describe.each(['edge', 'waf'] as const)('reference stack, %s engine, from cdk.json context', (engine) => {
  const { app, stack } = referenceApp({ 'x402:engine': engine });
  const template = Template.fromStack(stack);

  it('synthesizes without warnings', () => expectNoSynthWarnings(app));

  it('defaults to us-east-1 and the stack name CdkX402', () => {
    expect(stack.region).toBe('us-east-1');
    expect(stack.stackName).toBe('CdkX402');
  });

  it('contains the distribution, the CLOUDFRONT web ACL, the receipt table with PITR and the dashboard', () => {
    const config = only(template, 'AWS::CloudFront::Distribution').DistributionConfig;
    expect(config.Origins[0]).toMatchObject({ DomainName: 'example.com', CustomOriginConfig: { OriginProtocolPolicy: 'https-only', OriginSSLProtocols: ['TLSv1.2'] } });
    expect(only(template, 'AWS::WAFv2::WebACL').Scope).toBe('CLOUDFRONT');
    expect(only(template, 'AWS::DynamoDB::Table').PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    if (engine === 'edge') {
      expect(config.DefaultCacheBehavior.LambdaFunctionAssociations.map((a: any) => a.EventType)).toEqual(['viewer-request', 'origin-response']);
    } else {
      expect(only(template, 'AWS::WAFv2::WebACL').MonetizationConfig).toBeDefined();
      expect(config.DefaultCacheBehavior.LambdaFunctionAssociations).toBeUndefined();
    }
  });

  it('passes the cdk-nag AwsSolutions checks, every accepted finding acknowledged with a reason', () => {
    const report = synthWithNag(app);
    const nag = report.pluginReports.find((r) => r.pluginName === 'AwsSolutions')!;
    expect(nag.violations).toEqual([]);
    expect(nag.conclusion).toBe('success');
    const suppressed = (nag.suppressedViolations ?? []).map((v) => v.ruleName).sort();
    expect(suppressed).toEqual(
      engine === 'edge'
        ? [
            'AwsSolutions-CFR1',
            'AwsSolutions-CFR4',
            'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
            'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
            'AwsSolutions-IAM5[Action::lambda:EnableReplication*]',
            'AwsSolutions-L1',
            'AwsSolutions-L1',
            'AwsSolutions-S1',
          ]
        : ['AwsSolutions-CFR1', 'AwsSolutions-CFR4', 'AwsSolutions-IAM5[Resource::*]', 'AwsSolutions-S1'],
    );
  });

  it('matches the snapshot (asset hashes scrubbed)', () => {
    expect(scrubbed(template)).toMatchSnapshot();
  });
});

describe('reference app overrides', () => {
  it('takes any setting from -c, e.g. another region, which still synthesizes (with a us-east-1 companion)', () => {
    const { app, stack } = referenceApp({ 'x402:region': 'eu-central-1', 'x402:stackName': 'Shop' });
    expect(stack.region).toBe('eu-central-1');
    expectNoSynthWarnings(app);
    expect(app.synth().stacks.map((s) => `${s.stackName}@${s.environment.region}`).sort()).toEqual(['Shop-x402-us-east-1@us-east-1', 'Shop@eu-central-1']);
  });

  it('needs a payTo of its own: the repository\'s cdk.json has none, and synth says how to pass one', () => {
    expect(cdkJsonContext()).not.toHaveProperty(['x402:payTo']);
    expect(() => referenceApp({ 'x402:payTo': undefined })).toThrow(
      /x402:payTo = \(not set\): is required\.\n\s+Fix: set the wallet address that receives payments: -c x402:payTo=0xYourChecksummedAddress on the command line, or "x402:payTo": "0x\.\.\." in the context of cdk\.json/,
    );
  });

  it('fails synth on a bad context value with an actionable message', () => {
    expect(() => referenceApp({ 'x402:routes': '{"/a/*":"$0.0000001"}' })).toThrow(/x402:routes\["\/a\/\*"\]\.price = "\$0.0000001": price "\$0.0000001" has 7 decimals[\s\S]*Fix: write dollars with at most 6 decimals/);
  });
});

describe('cdk-nag wiring', () => {
  it('does fail synth on an unacknowledged finding (the checks are live)', () => {
    const app = new App();
    const stack = new Stack(app, 'Loose', { env: { region: 'us-east-1' } });
    new s3.Bucket(stack, 'NoLogs');
    applyNagChecks(app);
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });
});

describe('reference stack, waf engine, with priceBy rules on verified bots', () => {
  const routes = JSON.stringify({
    '/articles/*': { price: '$0.001', priceBy: [
      { price: 'refuse', when: [{ botOrganization: true, equalTo: 'bytedance' }] },
      { price: 'free', when: [{ botCategory: true, equalTo: 'search_engine' }] },
      { price: '$0.003', when: [{ botCategory: true, equalTo: 'ai' }] },
    ] },
  });
  const { app, stack } = referenceApp({ 'x402:engine': 'waf', 'x402:routes': routes });

  it('synthesizes the rules, cdk-nag clean', () => {
    const report = synthWithNag(app);
    expect(report.pluginReports.find((r) => r.pluginName === 'AwsSolutions')!.violations).toEqual([]);
    const acl = only(Template.fromStack(stack), 'AWS::WAFv2::WebACL');
    expect(acl.Rules.filter((r: any) => r.Name.includes('-route-')).map((r: any) => [r.Name, Object.keys(r.Action)[0]])).toEqual([
      ['x402-refuse-route-1-rule-1', 'Block'],
      ['x402-free-route-1-rule-2', 'Allow'],
      ['x402-monetize-route-1-rule-3', 'Monetize'],
      ['x402-monetize-route-1', 'Monetize'],
    ]);
  });
});
