import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { applyNagChecks } from '../../bin/nag';
import { BatchClaimsEnvironment, type BatchClaimsSettings } from '../../lambda/batch-claims/settings';
import { BatchClaims, type BatchClaimsProps } from '../../lib/batch-claims';
import { Engine } from '../../lib/config/settings';
import { X402Config } from '../../lib/config/x402-config';
import { ReceiptTable } from '../../lib/receipt-table';
import { only, propertiesOf, routes, SETTINGS } from './helpers';

const RPC = 'https://rpc.example.com/base-sepolia';

function claimsStack(props: Partial<BatchClaimsProps> = {}, settings: Partial<Parameters<typeof X402Config.resolve>[0]> = {}) {
  const app = new App();
  const stack = new Stack(app, 'Site', { env: { region: 'eu-west-1' } });
  const receiptTable = new ReceiptTable(stack, 'Receipts');
  const claims = new BatchClaims(stack, 'Claims', { config: X402Config.resolve({ ...SETTINGS, rpcUrl: RPC, ...settings }), receiptTable, ...props });
  const template = Template.fromStack(stack);
  const id = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
  return { app, stack, receiptTable, claims, template, id };
}

describe('BatchClaims with its defaults', () => {
  const { app, stack, receiptTable, claims, template, id } = claimsStack();
  const fn = template.toJSON().Resources[id(claims.function)].Properties;

  it('runs a regional nodejs24.x function, told the table and its settings through its environment', () => {
    expect(fn).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', Timeout: 290, MemorySize: 256 });
    expect(fn.Environment.Variables[BatchClaimsEnvironment.tableName]).toBe(receiptTable.tableName);
    const settings: BatchClaimsSettings = JSON.parse(fn.Environment.Variables[BatchClaimsEnvironment.settings]);
    expect(settings).toEqual({
      network: 'eip155:84532',
      payTo: SETTINGS.payTo,
      asset: X402Config.resolve(SETTINGS)._resolved.asset.address,
      facilitator: { url: 'https://x402.org/facilitator', timeoutMs: 30_000 },
      chainRpcUrl: RPC,
      thresholdAtomic: '1000000',
      maxAgeSeconds: 3600,
      refundIdleAfterSeconds: 86_400,
    });
  });

  it('runs every 5 minutes (a third of the shortest withdraw delay), and Lambda does not retry a failed run', () => {
    expect(only(template, 'AWS::Events::Rule').ScheduleExpression).toBe('rate(5 minutes)');
    expect(only(template, 'AWS::Lambda::EventInvokeConfig').MaximumRetryAttempts).toBe(0);
  });

  it('is granted exactly Scan, GetItem and UpdateItem on the table and writing its own log group', () => {
    const role = template.toJSON().Resources[id(claims.role)].Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }]);
    expect(role.ManagedPolicyArns).toBeUndefined();
    const statements = propertiesOf(template, 'AWS::IAM::Policy').flatMap((p) => p.PolicyDocument.Statement);
    expect(statements).toEqual([
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [id(claims.logGroup), 'Arn'] } },
      { Action: ['dynamodb:Scan', 'dynamodb:GetItem', 'dynamodb:UpdateItem'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [id(receiptTable.table), 'Arn'] } },
    ]);
    expect(template.toJSON().Resources[id(claims.logGroup)].Properties.RetentionInDays).toBe(365);
  });

  it('alarms when runs fail in 2 intervals in a row', () => {
    expect(only(template, 'AWS::CloudWatch::Alarm')).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Period: 300, EvaluationPeriods: 2, DatapointsToAlarm: 2, Threshold: 1, TreatMissingData: 'notBreaching' });
  });

  it('deploys the prebuilt claims bundle, which uses the DynamoDB client of the nodejs24.x runtime', () => {
    const assembly = app.synth();
    const code = readFileSync(path.join(assembly.directory, `asset.${(fn.Code.S3Key as string).replace(/\.zip$/, '')}`, 'index.js'), 'utf8');
    expect(code).toContain(BatchClaimsEnvironment.settings);
    expect(code).toContain('"claim"');
    expect(code).toMatch(/require\(["']@aws-sdk\/client-dynamodb["']\)/);
    expect(stack.region).toBe('eu-west-1');
  });
});

it('takes its schedule, threshold, age, idle refunds (off), timeout, RPC and alarm topic from the props; reads the CDP key it signs facilitator calls with', () => {
  const app = new App();
  const stack = new Stack(app, 'Own', { env: { region: 'us-east-1' } });
  const topic = new sns.Topic(stack, 'Alerts');
  new BatchClaims(stack, 'Claims', {
    config: X402Config.resolve({ ...SETTINGS, cdpApiKeySecret: 'cdp-key' }),
    receiptTable: new ReceiptTable(stack, 'Receipts'),
    chainRpcUrl: 'https://rpc.example.com/other',
    interval: Duration.minutes(2),
    maxUnclaimedAge: Duration.minutes(30),
    claimThreshold: '$0.25',
    facilitatorTimeout: Duration.seconds(20),
    refundIdleAfter: Duration.seconds(0),
    alarmTopic: topic,
  });
  const template = Template.fromStack(stack);
  expect(only(template, 'AWS::Events::Rule').ScheduleExpression).toBe('rate(2 minutes)');
  const fn = propertiesOf(template, 'AWS::Lambda::Function').find((f) => f.Description?.includes('batch-settlement'))!;
  expect(fn.Timeout).toBe(110);
  const settings: BatchClaimsSettings = JSON.parse(fn.Environment.Variables[BatchClaimsEnvironment.settings]);
  expect(settings).toMatchObject({ chainRpcUrl: 'https://rpc.example.com/other', thresholdAtomic: '250000', maxAgeSeconds: 1800, refundIdleAfterSeconds: 0, facilitator: { timeoutMs: 20_000, auth: { kind: 'cdp', secretId: 'cdp-key', region: 'us-east-1' } } });
  const statements = propertiesOf(template, 'AWS::IAM::Policy').flatMap((p) => p.PolicyDocument.Statement);
  expect(statements).toContainEqual({ Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: expect.objectContaining({ 'Fn::Join': expect.anything() }) });
  expect(JSON.stringify(statements)).toContain(':secret:cdp-key-??????');
  expect(only(template, 'AWS::CloudWatch::Alarm').AlarmActions).toEqual([{ Ref: stack.getLogicalId(topic.node.defaultChild as never) }]);
});

it('refuses the waf engine, a missing RPC, a schedule too slow for the withdraw delay and bad thresholds, saying what to change', () => {
  const make = (props: Partial<BatchClaimsProps>, settings: Partial<Parameters<typeof X402Config.resolve>[0]> = {}) => () => claimsStack(props, settings);
  expect(make({}, { engine: Engine.WAF, routes: routes({ '/articles/*': '$0.001' }) })).toThrow(/runs with the edge engine .* set x402:engine=edge/);
  expect(make({}, { rpcUrl: undefined })).toThrow(/chainRpcUrl is not set: set the chainRpcUrl prop or x402:rpcUrl/);
  expect(make({ chainRpcUrl: 'rpc.example.com' })).toThrow(/chainRpcUrl "rpc.example.com" is not an http\(s\) URL/);
  expect(make({ interval: Duration.minutes(10) })).toThrow(/interval must be from 1 to 5 minutes \(it is 10 minutes\): a withdrawal can finalize 15 minutes after it starts/);
  expect(make({ interval: Duration.seconds(30) })).toThrow(/interval must be from 1 to 5 minutes/);
  expect(make({ interval: Duration.minutes(5), maxUnclaimedAge: Duration.minutes(2) })).toThrow(/maxUnclaimedAge must be from the interval \(5 minutes\) to 10 days/);
  expect(make({ claimThreshold: '$0' })).toThrow(/claimThreshold: price "\$0" is zero/);
  expect(make({ claimThreshold: 'one dollar' })).toThrow(/claimThreshold: price "one dollar" is not/);
  expect(make({ refundIdleAfter: Duration.minutes(30) })).toThrow(/refundIdleAfter must be 0 \(no idle refunds\) or from 1 hour to 365 days \(it is 30 minutes\)/);
  expect(make({ interval: Duration.minutes(1), facilitatorTimeout: Duration.seconds(50) })).toThrow(/facilitatorTimeout must be from 5 seconds to less than the function's timeout, 50 seconds/);
});

it('passes the cdk-nag AwsSolutions checks with no finding to acknowledge', () => {
  const app = new App();
  applyNagChecks(app);
  const stack = new Stack(app, 'Nagged', { env: { region: 'eu-west-1' } });
  new BatchClaims(stack, 'Claims', { config: X402Config.resolve({ ...SETTINGS, rpcUrl: RPC }), receiptTable: new ReceiptTable(stack, 'Receipts') });
  // Synth throws on an unacknowledged finding; a clean plugin leaves no report at all.
  const report = JSON.parse(readFileSync(path.join(app.synth().directory, 'validation-report.json'), 'utf8'));
  const nag = report.pluginReports.find((r: { pluginName: string }) => r.pluginName === 'AwsSolutions');
  expect(nag?.violations ?? []).toEqual([]);
  expect(nag?.suppressedViolations ?? []).toEqual([]);
});
