import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { applyNagChecks } from '../../bin/nag';
import { BatchClaimsEnvironment, type BatchClaimsSettings } from '../../lambda/batch-claims/settings';
import { Engine } from '../../lib/config/settings';
import { X402Paywall } from '../../lib/x402-paywall';
import { paywallStack, SETTINGS } from './helpers';

const RPC = 'https://rpc.example.com/base-sepolia';

const environmentOf = (stack: Stack, paywall: X402Paywall) =>
  Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(paywall.batchClaims!.function.node.defaultChild as never)].Properties.Environment.Variables as Record<string, string>;

describe('X402Paywall batchClaims', () => {
  it('is not created by default (no route offers batch-settlement yet), nor with false', () => {
    for (const batchClaims of [undefined, false]) {
      const { stack, paywall } = paywallStack({ rpcUrl: RPC, batchClaims });
      expect(paywall.batchClaims).toBeUndefined();
      Template.fromStack(stack).resourceCountIs('AWS::Events::Rule', 0);
    }
  });

  it('creates the scheduled claims in the paywall\'s stack, with its receipt table, facilitator, RPC URL, alarm topic and log retention', () => {
    const app = new App();
    const stack = new Stack(app, 'Site', { env: { region: 'eu-west-1' } });
    const alarmTopic = new sns.Topic(stack, 'Alarms');
    const paywall = new X402Paywall(stack, 'Paywall', { ...SETTINGS, rpcUrl: RPC, origin: new origins.HttpOrigin('origin.example.com'), alarmTopic, logRetention: logs.RetentionDays.THREE_MONTHS, batchClaims: true });
    expect(paywall.batchClaims).toBeDefined();
    expect(Stack.of(paywall.batchClaims!)).toBe(stack);
    const env = environmentOf(stack, paywall);
    expect(stack.resolve(env[BatchClaimsEnvironment.tableName])).toEqual(stack.resolve(paywall.receiptTable.tableName));
    const settings = JSON.parse(env[BatchClaimsEnvironment.settings]!) as BatchClaimsSettings;
    expect(settings).toMatchObject({ network: 'eip155:84532', payTo: SETTINGS.payTo, chainRpcUrl: RPC, facilitator: { url: paywall.config._resolved.facilitator.url } });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: stack.getLogicalId(alarmTopic.node.defaultChild as never) }], Dimensions: [{ Name: 'FunctionName', Value: { Ref: stack.getLogicalId(paywall.batchClaims!.function.node.defaultChild as never) } }] });
    expect(template.toJSON().Resources[stack.getLogicalId(paywall.batchClaims!.logGroup.node.defaultChild as never)].Properties.RetentionInDays).toBe(90);
  });

  it('takes the BatchClaims options, their RPC URL over x402:rpcUrl', () => {
    const { stack, paywall } = paywallStack({ batchClaims: { chainRpcUrl: 'https://other.example.com/rpc', interval: Duration.minutes(2), claimThreshold: '$5' } });
    const settings = JSON.parse(environmentOf(stack, paywall)[BatchClaimsEnvironment.settings]!) as BatchClaimsSettings;
    expect(settings).toMatchObject({ chainRpcUrl: 'https://other.example.com/rpc', thresholdAtomic: '5000000' });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(2 minutes)' });
  });

  it('fails synth naming the fix when it is asked for without an RPC URL, or with the waf engine', () => {
    expect(() => paywallStack({ batchClaims: true })).toThrow(/batchClaims needs a JSON-RPC endpoint of eip155:84532 .*set x402:rpcUrl \(rpcUrl\) or batchClaims\.chainRpcUrl, or give batchClaims: false/);
    expect(() => paywallStack({ engine: Engine.WAF, rpcUrl: RPC, batchClaims: true })).toThrow(/batchClaims needs the edge engine \(this configuration is for waf\): set x402:engine=edge, or drop batchClaims/);
  });

  it('passes the cdk-nag AwsSolutions checks with it, no new finding to acknowledge', () => {
    const nagged = (batchClaims: boolean) => {
      const app = new App();
      applyNagChecks(app);
      const stack = new Stack(app, 'Nagged', { env: { region: 'us-east-1' } });
      new X402Paywall(stack, 'Paywall', { ...SETTINGS, rpcUrl: RPC, origin: new origins.HttpOrigin('origin.example.com'), batchClaims });
      const report = JSON.parse(readFileSync(path.join(app.synth().directory, 'validation-report.json'), 'utf8'));
      const nag = report.pluginReports.find((r: { pluginName: string }) => r.pluginName === 'AwsSolutions');
      return { violations: nag?.violations ?? [], suppressed: (nag?.suppressedViolations ?? []).length };
    };
    const withClaims = nagged(true);
    expect(withClaims.violations).toEqual([]);
    expect(withClaims.suppressed).toBe(nagged(false).suppressed);
  });
});
