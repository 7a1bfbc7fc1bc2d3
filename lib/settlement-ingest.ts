import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { IngestEnvironment, MAX_SETTLEMENT_WINDOW_SECONDS, type IngestSettings } from '../lambda/ingest/settings';
import { prebuiltCode } from './prebuilt-code';
import type { X402Config } from './config/x402-config';
import type { ReceiptTable } from './receipt-table';
import { acknowledgeFindings, NODEJS_24_RUNTIME } from './cdk-compat';

/** Tuning of the settlement ingestion (all optional). */
export interface SettlementIngestOptions {
  /** How often WAF's settlement records are read. @default Duration.minutes(5) */
  readonly interval?: Duration;
  /** How far behind the last checkpoint each run re-reads, for records that appear late. @default Duration.minutes(15) */
  readonly overlap?: Duration;
  /** What the first run reads (there is no checkpoint yet). @default Duration.days(1) */
  readonly initialLookback?: Duration;
  /**
   * Never read further back than this, even for a record still PENDING or after a long outage
   * (ListSettlementRecords allows 90 days). @default Duration.days(7)
   */
  readonly maxLookback?: Duration;
  /** Retention of the function's log group (errors and retries are logged there). @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
}

/** Props of {@link SettlementIngest}. */
export interface SettlementIngestProps extends SettlementIngestOptions {
  /** The validated configuration (X402Config.resolve), for the waf engine. */
  readonly config: X402Config;
  /** Where the settlement rows and the checkpoint go. */
  readonly receiptTable: ReceiptTable;
  /** The CLOUDFRONT web ACL whose settlements are read (the ListSettlementRecords `WebACLArn` filter). */
  readonly webAclArn: string;
  /**
   * Notified when ingestion keeps failing.
   * @default no actions
   */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * waf engine: a scheduled Lambda (in this stack's region) that reads AWS WAF's settlement records
 * (ListSettlementRecords, us-east-1, scope CLOUDFRONT, this web ACL, the configured currency mode)
 * since its checkpoint and writes each into the receipt table idempotently, so both engines report
 * revenue from the same table. Retries throttling with backoff; a run that fails records the error
 * in the checkpoint row and in the logs, emits `IngestionErrors`, and fails the invocation, which
 * {@link errorsAlarm} watches. The next run starts again from the checkpoint.
 *
 * Permissions: `wafv2:ListSettlementRecords`, which has no resource-level permissions (AWS service
 * authorization reference: no resource types), so its resource is `*`; `dynamodb:GetItem` and
 * `dynamodb:UpdateItem` on the receipt table; writing to its own log group.
 */
export class SettlementIngest extends Construct {
  /** The ingestion function. */
  readonly function: lambda.Function;
  /** Its role (the permissions listed above). */
  readonly role: iam.Role;
  /** Its log group. */
  readonly logGroup: logs.LogGroup;
  /** The rule that runs it every interval. */
  readonly schedule: events.Rule;
  /** Failed runs in each of 3 consecutive intervals. */
  readonly errorsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: SettlementIngestProps) {
    super(scope, id);
    const config = props.config._resolved;
    if (config.engine !== 'waf' || !config.waf) {
      throw new Error(`SettlementIngest ${this.node.path}: settlement records exist only for the waf engine (this configuration is for ${config.engine})`);
    }
    const interval = props.interval ?? Duration.minutes(5);
    const overlap = props.overlap ?? Duration.minutes(15);
    const initialLookback = props.initialLookback ?? Duration.days(1);
    const maxLookback = props.maxLookback ?? Duration.days(7);
    validate(this, interval, overlap, initialLookback, maxLookback);

    // What the function is told, in its environment.
    const settings: IngestSettings = {
      network: config.network,
      payTo: config.payTo,
      asset: config.asset,
      currencyMode: config.waf.currencyMode,
      routes: config.routes.map((r) => ({ pattern: r.pattern, price: r.amount })),
      overlapSeconds: overlap.toSeconds(),
      initialLookbackSeconds: initialLookback.toSeconds(),
      maxLookbackSeconds: maxLookback.toSeconds(),
      chunkSeconds: 6 * 3600,
    };

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'cdk-x402 settlement ingestion: reads AWS WAF settlement records, writes receipt rows',
    });
    this.logGroup.grantWrite(this.role);
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['wafv2:ListSettlementRecords'], resources: ['*'] }),
    );
    props.receiptTable.grantSettlementIngest(this.role);
    acknowledgeFindings(this.role, {
      id: 'AwsSolutions::AwsSolutions-IAM5[Resource::*]',
      reason:
        'wafv2:ListSettlementRecords supports no resource-level permissions (the service authorization reference lists no resource type for it), so its Resource must be "*"; it is the only action on "*", read-only, and the function filters by this web ACL (WebACLArn).',
    });

    this.function = new lambda.Function(this, 'Function', {
      description: 'cdk-x402: AWS WAF settlement records -> receipt table (waf engine)',
      runtime: NODEJS_24_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: prebuiltCode('settlement-ingest'),
      memorySize: 256,
      timeout: Duration.minutes(5),
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        [IngestEnvironment.tableName]: props.receiptTable.tableName,
        [IngestEnvironment.webAclArn]: props.webAclArn,
        [IngestEnvironment.settings]: JSON.stringify(settings),
      },
      // A failed run is not retried by Lambda: the next scheduled run reads the same window again.
      retryAttempts: 0,
    });

    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'cdk-x402: ingest AWS WAF settlement records',
      schedule: events.Schedule.rate(interval),
      targets: [new targets.LambdaFunction(this.function)],
    });

    this.errorsAlarm = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmDescription:
        'cdk-x402: settlement ingestion failed in 3 intervals in a row: WAF revenue is not reaching the receipt table. See the function logs (x402.ingest_error) or `cdk-x402 status`.',
      metric: this.function.metricErrors({ period: interval, statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) {
      this.errorsAlarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
      this.errorsAlarm.addOkAction(new actions.SnsAction(props.alarmTopic));
    }
  }
}

function validate(scope: Construct, interval: Duration, overlap: Duration, initialLookback: Duration, maxLookback: Duration): void {
  const where = `SettlementIngest ${scope.node.path}`;
  if (interval.toSeconds() < 60 || interval.toSeconds() > 86400) {
    throw new Error(`${where}: interval must be from 1 minute to 1 day (it is ${interval.toHumanString()})`);
  }
  if (maxLookback.toSeconds() > MAX_SETTLEMENT_WINDOW_SECONDS) {
    throw new Error(`${where}: maxLookback must be at most 90 days, the longest window ListSettlementRecords accepts (it is ${maxLookback.toHumanString()})`);
  }
  if (overlap.toSeconds() >= maxLookback.toSeconds() || initialLookback.toSeconds() > maxLookback.toSeconds()) {
    throw new Error(`${where}: overlap and initialLookback must fit within maxLookback (${maxLookback.toHumanString()})`);
  }
}
