import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { IngestMetrics, METRICS_NAMESPACE, Metrics } from '../../lambda/core/metrics';
import { Engine } from '../../lib/config/settings';
import { X402Config } from '../../lib/config/x402-config';
import { LAMBDA_EDGE_REGIONS, PaymentsDashboard } from '../../lib/payments-dashboard';
import { RuleNames } from '../../lib/waf-names';
import { expectNoSynthWarnings, propertiesOf, routes, SETTINGS } from './helpers';

function dashboard(engine: Engine, props: { alarmTopic?: boolean; edgeRegions?: string[]; metered?: boolean } = {}) {
  const stack = new Stack(new App(), 'Site', { env: { region: 'us-east-1' } });
  const metered = props.metered ? [{ pattern: '/api/**', scheme: 'upto' as const, maxPrice: '$0.05' }] : [];
  new PaymentsDashboard(stack, 'Payments', {
    config: X402Config.resolve({ ...SETTINGS, engine, routes: [...routes({ '/articles/*': '$0.001' }), ...metered], rateLimit: 100 }),
    webAclName: 'site-x402',
    distributionId: 'E123EXAMPLE',
    edgeRegions: props.edgeRegions,
    alarmTopic: props.alarmTopic ? new sns.Topic(stack, 'Alerts') : undefined,
  });
  const template = Template.fromStack(stack);
  const body = JSON.stringify(propertiesOf(template, 'AWS::CloudWatch::Dashboard')[0].DashboardBody);
  return { stack, template, body };
}

const METERED_METRICS: string[] = [Metrics.meteredRevenueAtomic, Metrics.meteredMaximumAtomic, Metrics.usageCapped, Metrics.usageMissing];

describe('PaymentsDashboard, metered (upto) routes', () => {
  it('graphs charged against authorized, capped and missing usage only when a route is metered', () => {
    const { body } = dashboard(Engine.EDGE, { metered: true });
    for (const name of METERED_METRICS) expect(body).toContain(name);
    expect(body).toContain('Metered (upto): charged vs authorized');
    expect(dashboard(Engine.EDGE).body).not.toContain('Metered (upto)');
  });
});

describe('PaymentsDashboard, edge engine', () => {
  const { stack, template, body } = dashboard(Engine.EDGE, { alarmTopic: true });

  it('synthesizes without warnings', () => expectNoSynthWarnings(stack));

  it('graphs every metric the handlers emit, by the names in lambda/core/metrics.ts', () => {
    // The pass metrics are graphed when passes are on sale (test/constructs/passes.test.ts), the metered ones with upto routes (below).
    const passMetrics: string[] = [Metrics.passesSold, Metrics.passRequests, ...METERED_METRICS];
    for (const name of Object.values(Metrics).filter((n) => !passMetrics.includes(n))) expect(body).toContain(`MetricName=\\\\\\"${name}\\\\\\"`);
    expect(body).toContain(`Namespace=\\\\\\"${METRICS_NAMESPACE}\\\\\\"`);
  });

  it('draws a line per Lambda@Edge region (metrics land where the function ran)', () => {
    for (const region of LAMBDA_EDGE_REGIONS) expect(body).toContain(`\\"region\\":\\"${region}\\"`);
  });

  it('graphs rejections by reason and the WAF eligible / blocked counts', () => {
    expect(body).toContain(`{${METRICS_NAMESPACE},Reason} MetricName`);
    for (const rule of [RuleNames.eligible, RuleNames.antiSpoofing, RuleNames.rateLimit]) expect(body).toContain(`\\"Rule\\",\\"${rule}\\"`);
    expect(body).toContain('\\"WebACL\\",\\"site-x402\\"');
  });

  it('alarms on settlement failures, facilitator errors, receipt-store errors and lost hand-offs, notifying the topic', () => {
    const alarms = propertiesOf(template, 'AWS::CloudWatch::Alarm');
    expect(alarms.map((a) => [a.Metrics[0].Expression, a.Threshold, a.ComparisonOperator, a.TreatMissingData])).toEqual([
      [`SELECT SUM(${Metrics.settlementsFailed}) FROM "${METRICS_NAMESPACE}"`, 1, 'GreaterThanOrEqualToThreshold', 'notBreaching'],
      [`SELECT SUM(${Metrics.facilitatorErrors}) FROM "${METRICS_NAMESPACE}"`, 5, 'GreaterThanOrEqualToThreshold', 'notBreaching'],
      [`SELECT SUM(${Metrics.receiptStoreErrors}) FROM "${METRICS_NAMESPACE}"`, 1, 'GreaterThanOrEqualToThreshold', 'notBreaching'],
      [`SELECT SUM(${Metrics.handoffMissing}) FROM "${METRICS_NAMESPACE}"`, 1, 'GreaterThanOrEqualToThreshold', 'notBreaching'],
    ]);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toHaveLength(1);
      expect(alarm.OKActions).toHaveLength(1);
    }
  });
});

describe('PaymentsDashboard, waf engine', () => {
  const { template, body } = dashboard(Engine.WAF, { edgeRegions: ['us-east-1'] });

  it('graphs WAF and CloudFront metrics only, and has no edge alarms', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    expect(body).not.toContain(Metrics.paymentsSettled);
    expect(body).toContain('monetize');
    expect(body).toContain('\\"AWS/CloudFront\\",\\"Requests\\"');
  });
  it('graphs the settlement ingestion (its records, failed runs and function errors) when given the function', () => {
    const stack = new Stack(new App(), 'Site', { env: { region: 'us-east-1' } });
    const fn = new lambda.Function(stack, 'Ingest', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => {}') });
    new PaymentsDashboard(stack, 'Payments', {
      config: X402Config.resolve({ ...SETTINGS, engine: Engine.WAF, routes: routes({ '/articles/*': '$0.001' }) }),
      webAclName: 'site-x402',
      edgeRegions: ['us-east-1'],
      settlementIngestFunction: fn,
    });
    const text = JSON.stringify(propertiesOf(Template.fromStack(stack), 'AWS::CloudWatch::Dashboard')[0].DashboardBody);
    expect(text).toContain('Settlement ingestion');
    for (const name of Object.values(IngestMetrics)) expect(text).toContain(`\\"${METRICS_NAMESPACE}\\",\\"${name}\\"`);
    expect(text).toContain('\\"AWS/Lambda\\",\\"Errors\\"');
  });
});
