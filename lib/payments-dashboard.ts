import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { IngestMetrics, METRICS_NAMESPACE, MetricDimensions, Metrics, type MetricName } from '../lambda/core/metrics';
import type { X402Config } from './config/x402-config';
import { RuleNames } from './waf-names';

/**
 * Regions with CloudFront regional edge caches, where Lambda@Edge functions run and write their
 * logs (and so their EMF metrics). A function runs in the one closest to the viewer.
 */
export const LAMBDA_EDGE_REGIONS = [
  'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2', 'ap-south-1', 'ap-northeast-1', 'ap-northeast-2',
  'ap-southeast-1', 'ap-southeast-2', 'eu-central-1', 'eu-west-1', 'eu-west-2', 'sa-east-1',
] as const;

/** Props of {@link PaymentsDashboard}. */
export interface PaymentsDashboardProps {
  /** The validated configuration (X402Config.resolve). */
  readonly config: X402Config;
  /** Name of the web ACL (its CloudWatch `WebACL` dimension). */
  readonly webAclName: string;
  /**
   * Adds CloudFront request graphs.
   * @default - no CloudFront graphs
   */
  readonly distributionId?: string;
  /**
   * Regions graphed for the edge functions' metrics.
   * @default every region with a CloudFront regional edge cache (where Lambda@Edge runs)
   */
  readonly edgeRegions?: string[];
  /**
   * Receives alarm and OK notifications.
   * @default no actions
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Settlement failures per 5 minutes that raise the alarm.
   * @default 1
   */
  readonly settlementFailureThreshold?: number;
  /**
   * Facilitator errors per 5 minutes that raise the alarm.
   * @default 5
   */
  readonly facilitatorErrorThreshold?: number;
  /**
   * Name of the dashboard.
   * @default - generated
   */
  readonly dashboardName?: string;
  /**
   * waf engine: the settlement ingestion function, graphed with its records and errors.
   * @default none
   */
  readonly settlementIngestFunction?: lambda.IFunction;
}

const PERIOD = Duration.minutes(5);

/**
 * CloudWatch dashboard and alarms for payments. The edge handlers emit EMF metrics (names in
 * lambda/core/metrics.ts) in the region where each request ran, so graphs draw one line per edge
 * region with SEARCH expressions (any dimensions: Route, Reason); WAF and CloudFront metrics live
 * in us-east-1. Alarms use Metrics Insights queries (alarms cannot use SEARCH) and can only watch
 * the stack's own region: deploy in the region that serves most of your traffic, or add alarms per
 * region.
 */
export class PaymentsDashboard extends Construct {
  /** The CloudWatch dashboard. */
  readonly dashboard: cloudwatch.Dashboard;
  /** Edge engine only: settlements refused or errored. */
  readonly settlementFailuresAlarm?: cloudwatch.Alarm;
  /** Edge engine only: facilitator unreachable or erroring (verify or settle). */
  readonly facilitatorErrorsAlarm?: cloudwatch.Alarm;
  /** Edge engine only: the receipt table refused writes (a settled payment may lack its receipt row). */
  readonly receiptStoreErrorsAlarm?: cloudwatch.Alarm;
  /** Edge engine: a priced request lost its hand-off between the triggers (a misconfiguration; the content was withheld). */
  readonly handoffMissingAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: PaymentsDashboardProps) {
    super(scope, id);
    const config = props.config._resolved;
    const regions = props.edgeRegions ?? LAMBDA_EDGE_REGIONS;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName,
      defaultInterval: Duration.days(1),
    });

    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown: [
          `# cdk-x402 payments (${config.engine} engine)`,
          `${config.networkName} · pay to \`${config.payTo}\` · ${config.routes.length} priced route(s).`,
          config.engine === 'edge'
            ? `Edge metrics: namespace \`${METRICS_NAMESPACE}\`, one line per edge region. Revenue is in atomic units of ${config.asset.symbol} (${config.asset.decimals} decimals).`
            : 'AWS WAF issues the 402s and settles; its settlement records are ingested into the receipt table (`cdk-x402 report`), and are in the WAF console (monetization).',
        ].join('\n\n'),
        width: 24,
        height: 3,
      }),
    );

    if (config.engine === 'edge') {
      const total = (metric: MetricName, label: string) => regions.map((region) => search(`Namespace="${METRICS_NAMESPACE}" MetricName="${metric}"`, `${label} ${region}`, region, true));
      this.dashboard.addWidgets(
        graph('402 Payment Required (challenges)', total(Metrics.paymentRequired, '402')),
        graph('Payments verified', total(Metrics.paymentsVerified, 'verified')),
        graph('Payments settled', total(Metrics.paymentsSettled, 'settled')),
      );
      this.dashboard.addWidgets(
        graph('Rejected by reason', regions.map((region) => search(`{${METRICS_NAMESPACE},${MetricDimensions.reason}} MetricName="${Metrics.paymentsRejected}"`, `[${region}] `, region, false))),
        graph('Payments denied (payer on the deny-list)', total(Metrics.paymentsDenied, 'denied')),
        graph('Settlements failed / released / redelivered', [
          ...total(Metrics.settlementsFailed, 'failed'),
          ...total(Metrics.paymentsReleased, 'released'),
          ...total(Metrics.paymentsRedelivered, 'redelivered'),
        ]),
        graph(`Revenue (${config.asset.symbol} atomic units)`, total(Metrics.revenueAtomic, 'revenue')),
      );
      this.dashboard.addWidgets(
        graph('Verifier latency (ms, max)', regions.map((region) => search(`Namespace="${METRICS_NAMESPACE}" MetricName="${Metrics.verifierLatency}"`, `verify ${region}`, region, false, 'Maximum'))),
        graph('Settlement latency (ms, max)', regions.map((region) => search(`Namespace="${METRICS_NAMESPACE}" MetricName="${Metrics.settlementLatency}"`, `settle ${region}`, region, false, 'Maximum'))),
        graph('Errors (facilitator, receipt store, lost hand-off)', [
          ...total(Metrics.facilitatorErrors, 'facilitator'),
          ...total(Metrics.receiptStoreErrors, 'receipts'),
          ...total(Metrics.handoffMissing, 'hand-off lost'),
        ]),
      );
      // An untrusted signature still pays, so it shows nowhere else; free partner reads write no receipt.
      this.dashboard.addWidgets(
        graph('Agent signatures not trusted, by reason', regions.map((region) => search(`{${METRICS_NAMESPACE},${MetricDimensions.reason}} MetricName="${Metrics.agentSignaturesRefused}"`, `[${region}] `, region, false))),
        graph('Free requests of verified partners', total(Metrics.agentFreeRequests, 'free')),
      );
      if (config.routes.some((route) => route.scheme === 'upto')) {
        // Charged against authorized: their ratio is the fill ratio (docs/metering.md).
        this.dashboard.addWidgets(
          graph(`Metered (upto): charged vs authorized (${config.asset.symbol} atomic units)`, [...total(Metrics.meteredRevenueAtomic, 'charged'), ...total(Metrics.meteredMaximumAtomic, 'authorized')]),
          graph('Metered (upto): usage capped, usage missing, settlements refused', [
            ...total(Metrics.usageCapped, 'capped'),
            ...total(Metrics.usageMissing, 'missing'),
            ...total(Metrics.settlementsFailed, 'refused'),
          ]),
        );
      }
      if (config.passes) {
        // Pass use writes nothing to the receipt table: these metrics are where it is counted.
        this.dashboard.addWidgets(
          graph('Passes: sold, and requests opened by a pass', [...total(Metrics.passesSold, 'sold'), ...total(Metrics.passRequests, 'requests')]),
          graph('Pass requests by route', regions.map((region) => search(`{${METRICS_NAMESPACE},${MetricDimensions.route}} MetricName="${Metrics.passRequests}"`, `[${region}] `, region, false))),
        );
      }

      this.settlementFailuresAlarm = this.alarm('SettlementFailures', Metrics.settlementsFailed, props.settlementFailureThreshold ?? 1,
        'cdk-x402: settlements failed (refused or facilitator error): the content was withheld and nothing was charged');
      this.facilitatorErrorsAlarm = this.alarm('FacilitatorErrors', Metrics.facilitatorErrors, props.facilitatorErrorThreshold ?? 5,
        'cdk-x402: the x402 facilitator is unreachable or erroring; agents get 503 and nothing is charged');
      this.receiptStoreErrorsAlarm = this.alarm('ReceiptStoreErrors', Metrics.receiptStoreErrors, 1,
        'cdk-x402: the receipt table refused writes; check the x402.receipt_fallback log lines for settled payments without a row');
      this.handoffMissingAlarm = this.alarm('PaymentHandoffMissing', Metrics.handoffMissing, 1,
        'cdk-x402: priced responses reached origin-response without the viewer-request hand-off and were withheld: a behavior, policy or function drops the x-x402-pending-settlement header');
      if (props.alarmTopic) {
        for (const alarm of [this.settlementFailuresAlarm, this.facilitatorErrorsAlarm, this.receiptStoreErrorsAlarm, this.handoffMissingAlarm]) {
          alarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
          alarm.addOkAction(new actions.SnsAction(props.alarmTopic));
        }
      }
    }

    // WAF metrics of CLOUDFRONT web ACLs are published in us-east-1.
    const wafRule = (rule: string, metricName: string, label: string) =>
      new cloudwatch.Metric({ namespace: 'AWS/WAFV2', metricName, dimensionsMap: { WebACL: props.webAclName, Rule: rule }, region: 'us-east-1', statistic: 'Sum', period: PERIOD, label });
    const wafWidgets: cloudwatch.IWidget[] = [
      graph('WAF: payment-eligible requests', [wafRule(RuleNames.eligible, 'CountedRequests', 'eligible')]),
      graph('WAF: blocked', [
        wafRule(RuleNames.antiSpoofing, 'BlockedRequests', 'spoofed x-amzn-waf-* header'),
        ...(config.rateLimit !== undefined ? [wafRule(RuleNames.rateLimit, 'BlockedRequests', 'rate limited')] : []),
      ]),
    ];
    if (config.engine === 'waf') {
      wafWidgets.push(
        graph('WAF: monetized routes (all actions)', [
          search(`{AWS/WAFV2,Rule,WebACL} WebACL="${props.webAclName}" monetize`, '', 'us-east-1', false),
        ]),
      );
    }
    if (props.settlementIngestFunction) {
      // EMF metrics of the ingestion function, in this stack's region.
      const ingest = (metric: MetricName, label: string) =>
        new cloudwatch.Metric({ namespace: METRICS_NAMESPACE, metricName: metric, statistic: 'Sum', period: PERIOD, label });
      wafWidgets.push(
        graph('Settlement ingestion', [
          ingest(IngestMetrics.settlementRecordsIngested, 'records written'),
          ingest(IngestMetrics.ingestionErrors, 'failed runs'),
          props.settlementIngestFunction.metricErrors({ period: PERIOD, label: 'function errors' }),
        ]),
      );
    }
    if (props.distributionId) {
      wafWidgets.push(
        graph('CloudFront requests', [
          new cloudwatch.Metric({ namespace: 'AWS/CloudFront', metricName: 'Requests', dimensionsMap: { DistributionId: props.distributionId, Region: 'Global' }, region: 'us-east-1', statistic: 'Sum', period: PERIOD }),
        ]),
      );
    }
    this.dashboard.addWidgets(...wafWidgets);
  }

  private alarm(id: string, metric: MetricName, threshold: number, description: string): cloudwatch.Alarm {
    return new cloudwatch.Alarm(this, id, {
      alarmDescription: description,
      // Metrics Insights: every dimension set the handlers emit, summed.
      metric: new cloudwatch.MathExpression({ expression: `SELECT SUM(${metric}) FROM "${METRICS_NAMESPACE}"`, usingMetrics: {}, period: PERIOD, label: metric }),
      threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}

function graph(title: string, metrics: cloudwatch.IMetric[]): cloudwatch.GraphWidget {
  return new cloudwatch.GraphWidget({ title, left: metrics, width: 8, height: 6, legendPosition: cloudwatch.LegendPosition.BOTTOM });
}

/** A SEARCH over any dimension set, summed into one line when `sum`. */
function search(query: string, label: string, region: string, sum: boolean, statistic = 'Sum'): cloudwatch.MathExpression {
  const expression = `SEARCH('${query}', '${statistic}', ${PERIOD.toSeconds()})`;
  return new cloudwatch.MathExpression({ expression: sum ? `SUM(${expression})` : expression, usingMetrics: {}, label, period: PERIOD, searchRegion: region });
}
