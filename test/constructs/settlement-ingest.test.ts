import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { IngestEnvironment, type IngestSettings } from '../../lambda/ingest/settings';
import { CurrencyMode, Engine } from '../../lib/config/settings';
import { X402Config } from '../../lib/config/x402-config';
import { ReceiptTable } from '../../lib/receipt-table';
import { SettlementIngest } from '../../lib/settlement-ingest';
import { expectNoSynthWarnings, only, paywallStack, propertiesOf, routes, SETTINGS } from './helpers';

const WAF_ROUTES = routes({ '/articles/*': '$0.001', 'GET /api/premium-report': '$0.01' });

describe('SettlementIngest, wired into X402Paywall for the waf engine', () => {
  const { app, stack, paywall } = paywallStack({ engine: Engine.WAF, routes: WAF_ROUTES });
  const template = Template.fromStack(stack);
  const id = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
  // The stack also holds the origin secret's rotation (test/constructs/origin-protection.test.ts).
  const fn = template.toJSON().Resources[id(paywall.settlementIngest!.function)].Properties;
  const tableArn = { 'Fn::GetAtt': [id(paywall.receiptTable.table), 'Arn'] };

  it('synthesizes without warnings', () => expectNoSynthWarnings(app));

  it('runs a regional nodejs24.x function, told the table, the web ACL and the settings through its environment', () => {
    expect(fn).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', Timeout: 300, MemorySize: 256 });
    const env = fn.Environment.Variables;
    expect(env[IngestEnvironment.tableName]).toBe('Site-x402-receipts');
    expect(env[IngestEnvironment.webAclArn]).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(paywall.bots.webAcl), 'Arn'] });
    const settings: IngestSettings = JSON.parse(env[IngestEnvironment.settings]);
    expect(settings).toMatchObject({
      network: 'eip155:84532',
      currencyMode: CurrencyMode.TEST,
      payTo: SETTINGS.payTo,
      routes: [{ pattern: '/articles/*', price: '1000' }, { pattern: 'GET /api/premium-report', price: '10000' }],
      overlapSeconds: 900,
      initialLookbackSeconds: 86400,
      maxLookbackSeconds: 7 * 86400,
    });
  });

  it('runs every 5 minutes, and Lambda does not retry a failed run (the next run re-reads the window)', () => {
    const rule = only(template, 'AWS::Events::Rule');
    expect(rule.ScheduleExpression).toBe('rate(5 minutes)');
    expect(rule.Targets).toEqual([{ Arn: { 'Fn::GetAtt': [id(paywall.settlementIngest!.function), 'Arn'] }, Id: 'Target0' }]);
    expect(only(template, 'AWS::Lambda::EventInvokeConfig').MaximumRetryAttempts).toBe(0);
  });

  it('is granted exactly: ListSettlementRecords (no resource-level permissions exist), GetItem/UpdateItem on the table, its own log group', () => {
    const role = propertiesOf(template, 'AWS::IAM::Role').find((r) => r.Description?.includes('settlement ingestion'))!;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }]);
    expect(role.ManagedPolicyArns).toBeUndefined();
    const statements = propertiesOf(template, 'AWS::IAM::Policy').filter((p) => p.Roles[0].Ref === id(paywall.settlementIngest!.role)).flatMap((p) => p.PolicyDocument.Statement);
    expect(statements).toEqual([
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [id(paywall.settlementIngest!.logGroup), 'Arn'] } },
      { Action: 'wafv2:ListSettlementRecords', Effect: 'Allow', Resource: '*' },
      { Action: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], Effect: 'Allow', Resource: tableArn },
    ]);
    expect(fn.LoggingConfig).toEqual({ LogGroup: { Ref: id(paywall.settlementIngest!.logGroup) } });
    expect(template.toJSON().Resources[id(paywall.settlementIngest!.logGroup)].Properties.RetentionInDays).toBe(365);
  });

  it('alarms when runs fail in 3 intervals in a row', () => {
    const alarm = only(template, 'AWS::CloudWatch::Alarm');
    expect(alarm).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Period: 300, EvaluationPeriods: 3, DatapointsToAlarm: 3, Threshold: 1, TreatMissingData: 'notBreaching' });
  });

  it('deploys the prebuilt ingestion bundle, the pinned WAF client inside (the runtime\'s may lack ListSettlementRecords), DynamoDB\'s from the runtime', () => {
    const assembly = app.synth();
    const key = (fn.Code.S3Key as string).replace(/\.zip$/, '');
    const code = readFileSync(path.join(assembly.directory, `asset.${key}`, 'index.js'), 'utf8');
    expect(code).toContain('ListSettlementRecords');
    expect(new Set([...code.matchAll(/require\(["'](@aws-sdk\/client-[^"']+)["']\)/g)].map((m) => m[1]))).toEqual(new Set(['@aws-sdk/client-dynamodb']));
  });
});

describe('SettlementIngest elsewhere', () => {
  it('is not created for the edge engine (the verifier writes receipts itself)', () => {
    const { stack, paywall } = paywallStack();
    expect(paywall.settlementIngest).toBeUndefined();
    expect(propertiesOf(Template.fromStack(stack), 'AWS::Events::Rule')).toEqual([]);
  });

  it('runs in the stack\'s region, next to the table, when the web ACL lives in a us-east-1 companion stack', () => {
    const { stack, paywall } = paywallStack({ engine: Engine.WAF, routes: WAF_ROUTES }, 'eu-west-1');
    expect(Stack.of(paywall.settlementIngest!.function).region).toBe('eu-west-1');
    const ingest = propertiesOf(Template.fromStack(stack), 'AWS::Lambda::Function').find((f) => f.Description?.includes('settlement records'))!;
    const env = ingest.Environment.Variables;
    // The ARN read across regions (SSM in us-east-1), not a token of the other stack.
    expect(JSON.stringify(env[IngestEnvironment.webAclArn])).toContain('WebAclArnReader');
  });

  it('takes its schedule, windows and alarm topic from the props', () => {
    const { stack } = paywallStack({
      engine: Engine.WAF,
      routes: WAF_ROUTES,
      settlementIngest: { interval: Duration.minutes(10), overlap: Duration.hours(1), maxLookback: Duration.days(30) },
      alarmTopic: undefined,
    });
    const template = Template.fromStack(stack);
    expect(only(template, 'AWS::Events::Rule').ScheduleExpression).toBe('rate(10 minutes)');
    const ingestFunction = propertiesOf(template, 'AWS::Lambda::Function').find((f) => f.Description?.includes('settlement records'))!;
    const settings = JSON.parse(ingestFunction.Environment.Variables[IngestEnvironment.settings]);
    expect(settings).toMatchObject({ overlapSeconds: 3600, maxLookbackSeconds: 30 * 86400 });

    const app = new App();
    const own = new Stack(app, 'Own', { env: { region: 'us-east-1' } });
    const topic = new sns.Topic(own, 'Alerts');
    new SettlementIngest(own, 'Ingest', {
      config: X402Config.resolve({ ...SETTINGS, engine: Engine.WAF, routes: WAF_ROUTES }),
      receiptTable: new ReceiptTable(own, 'Receipts'),
      webAclArn: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/site/abc',
      alarmTopic: topic,
    });
    const ownTemplate = Template.fromStack(own);
    expect(only(ownTemplate, 'AWS::CloudWatch::Alarm').AlarmActions).toEqual([{ Ref: own.getLogicalId(topic.node.defaultChild as never) }]);
    expect(JSON.parse(only(ownTemplate, 'AWS::Lambda::Function').Environment.Variables[IngestEnvironment.settings]).currencyMode).toBe(CurrencyMode.TEST);
  });

  it('refuses an edge configuration and windows ListSettlementRecords cannot serve, saying what to change', () => {
    const make = (props: Partial<ConstructorParameters<typeof SettlementIngest>[2]>) => {
      const stack = new Stack(new App(), 'S', { env: { region: 'us-east-1' } });
      return new SettlementIngest(stack, 'Ingest', {
        config: X402Config.resolve({ ...SETTINGS, engine: Engine.WAF, routes: WAF_ROUTES }),
        receiptTable: new ReceiptTable(stack, 'Receipts'),
        webAclArn: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/site/abc',
        ...props,
      });
    };
    expect(() => make({ config: X402Config.resolve(SETTINGS) })).toThrow(/only for the waf engine/);
    expect(() => make({ maxLookback: Duration.days(100) })).toThrow(/at most 90 days, the longest window ListSettlementRecords accepts/);
    expect(() => make({ interval: Duration.seconds(30) })).toThrow(/interval must be from 1 minute to 1 day/);
    expect(() => make({ overlap: Duration.days(8) })).toThrow(/must fit within maxLookback/);
  });
});
