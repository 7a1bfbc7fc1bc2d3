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
import { BatchClaimsEnvironment, MIN_WITHDRAW_DELAY_SECONDS, type BatchClaimsSettings } from '../lambda/batch-claims/settings';
import { priceToAtomicUnits } from '../lambda/core/price';
import { NODEJS_24_RUNTIME } from './cdk-compat';
import type { X402Config } from './config/x402-config';
import { secretArn } from './edge-verifier';
import { prebuiltCode } from './prebuilt-code';
import type { ReceiptTable } from './receipt-table';

/** Tuning of {@link BatchClaims}, also given through `X402Paywall`'s `batchClaims`. */
export interface BatchClaimsOptions {
  /**
   * JSON-RPC endpoint of the network: every run reads each channel's balance and pending
   * withdrawal from the batch-settlement contract, the only way to learn of a withdrawal.
   * @default the configuration's `rpcUrl` (`x402:rpcUrl`); synth fails if neither is set
   */
  readonly chainRpcUrl?: string;
  /**
   * How often the function runs. A payer's timed withdrawal can finalize 15 minutes after it
   * starts (the contract's shortest withdraw delay), and what is unclaimed by then is lost: every
   * 5 minutes, a withdrawal is seen and its channel claimed with two more runs to spare.
   * From 1 to 5 minutes.
   * @default Duration.minutes(5)
   */
  readonly interval?: Duration;
  /**
   * Claim a channel once its oldest unclaimed charge is this old (never more than a third of the
   * channel's withdraw delay): batches claims into fewer transactions on quiet channels.
   * From `interval` to 10 days.
   * @default Duration.hours(1)
   */
  readonly maxUnclaimedAge?: Duration;
  /**
   * Claim a channel as soon as this much is served and unclaimed: `"$<dollars>"` or an integer of
   * atomic units, as route prices.
   * @default "$1"
   */
  readonly claimThreshold?: string;
  /**
   * Refund a channel once nothing was charged on it for this long: the run marks it closing (the
   * edge refuses new requests on it with `batch_settlement_channel_closing`; a channel with a
   * request in flight waits for the next run), then the facilitator claims what was served and
   * returns the rest of the deposit to the payer in one transaction. A later deposit (top-up)
   * reopens the channel. `Duration.seconds(0)` turns idle refunds off; otherwise from 1 hour to
   * 365 days.
   * @default Duration.hours(24)
   */
  readonly refundIdleAfter?: Duration;
  /**
   * Bound on each facilitator call and chain read (a claim waits for its transaction). From 5
   * seconds to below the function's timeout (the interval less 10 seconds).
   * @default Duration.seconds(30)
   */
  readonly facilitatorTimeout?: Duration;
  /** Retention of the function's log group (runs and failures are logged there). @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
}

/** Props of {@link BatchClaims}. */
export interface BatchClaimsProps extends BatchClaimsOptions {
  /** The validated configuration (X402Config.resolve): network, payTo, asset and the facilitator (URL and CDP key) the edge uses. */
  readonly config: X402Config;
  /** Where the channel rows (`#batch-channel:<id>`), their claim history (`#batch-claim:`) and settle history (`#batch-settle:`) are. */
  readonly receiptTable: ReceiptTable;
  /**
   * Notified when runs keep failing.
   * @default no actions
   */
  readonly alarmTopic?: sns.ITopic;
}

/**
 * batch-settlement: a scheduled Lambda (in this stack's region, next to the receipt table) that
 * mirrors every channel's chain state onto its row (so the edge stops charging a channel whose
 * payer started a withdrawal), refunds channels idle for `refundIdleAfter`, claims the channels
 * that are due (unclaimed amount at the threshold, oldest unclaimed charge past
 * `maxUnclaimedAge`, or a withdrawal pending) through the facilitator's `claimWithSignature`,
 * settles the claimed total to payTo and records the transactions on the rows. A failed run records nothing unconfirmed, logs `x402.batch_claims_error`,
 * emits `BatchClaimErrors` and fails, which {@link errorsAlarm} watches; the next run retries.
 *
 * Permissions: `dynamodb:Scan`, `dynamodb:GetItem`, `dynamodb:UpdateItem` on the receipt table;
 * `secretsmanager:GetSecretValue` on the CDP API key's secret when one is configured; writing to
 * its own log group.
 */
export class BatchClaims extends Construct {
  /** The claims function. */
  readonly function: lambda.Function;
  /** Its role (the permissions listed above). */
  readonly role: iam.Role;
  /** Its log group. */
  readonly logGroup: logs.LogGroup;
  /** The rule that runs it every interval. */
  readonly schedule: events.Rule;
  /** Failed runs in each of 2 consecutive intervals: a withdrawal could be finalizing unclaimed. */
  readonly errorsAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: BatchClaimsProps) {
    super(scope, id);
    const config = props.config._resolved;
    const where = `BatchClaims ${this.node.path}`;
    if (config.engine !== 'edge') {
      throw new Error(`${where}: batch settlement runs with the edge engine (this configuration is for ${config.engine}); set x402:engine=edge`);
    }
    const interval = props.interval ?? Duration.minutes(5);
    const maxUnclaimedAge = props.maxUnclaimedAge ?? Duration.hours(1);
    const timeout = props.facilitatorTimeout ?? Duration.seconds(30);
    const chainRpcUrl = props.chainRpcUrl ?? config.chainRpc?.url;
    const refundIdleAfter = props.refundIdleAfter ?? Duration.hours(24);
    const threshold = priceToAtomicUnits(props.claimThreshold ?? '$1', config.asset.decimals);
    if (interval.toSeconds() < 60 || interval.toSeconds() > MIN_WITHDRAW_DELAY_SECONDS / 3) {
      throw new Error(`${where}: interval must be from 1 to 5 minutes (it is ${interval.toHumanString()}): a withdrawal can finalize 15 minutes after it starts, and must be seen and claimed well before`);
    }
    if (maxUnclaimedAge.toSeconds() < interval.toSeconds() || maxUnclaimedAge.toSeconds() > 10 * 86400) {
      throw new Error(`${where}: maxUnclaimedAge must be from the interval (${interval.toHumanString()}) to 10 days (it is ${maxUnclaimedAge.toHumanString()})`);
    }
    if (refundIdleAfter.toSeconds() !== 0 && (refundIdleAfter.toSeconds() < 3600 || refundIdleAfter.toSeconds() > 365 * 86400)) {
      throw new Error(`${where}: refundIdleAfter must be 0 (no idle refunds) or from 1 hour to 365 days (it is ${refundIdleAfter.toHumanString()})`);
    }
    if ('error' in threshold) {
      throw new Error(`${where}: claimThreshold: ${threshold.error}`);
    }
    // Under the interval, so runs do not overlap.
    const functionTimeout = interval.minus(Duration.seconds(10));
    if (timeout.toSeconds() < 5 || timeout.toSeconds() >= functionTimeout.toSeconds()) {
      throw new Error(`${where}: facilitatorTimeout must be from 5 seconds to less than the function's timeout, ${functionTimeout.toSeconds()} seconds (it is ${timeout.toHumanString()}); shorten it or lengthen the interval`);
    }
    if (!chainRpcUrl || !/^https?:\/\/\S+$/.test(chainRpcUrl)) {
      throw new Error(`${where}: chainRpcUrl ${chainRpcUrl === undefined ? 'is not set' : `"${chainRpcUrl}" is not an http(s) URL`}: set the chainRpcUrl prop or x402:rpcUrl (rpcUrl) to a JSON-RPC endpoint of ${config.network}, from which each run learns of withdrawals`);
    }

    const settings: BatchClaimsSettings = {
      network: config.network as BatchClaimsSettings['network'],
      payTo: config.payTo as BatchClaimsSettings['payTo'],
      asset: config.asset.address as BatchClaimsSettings['asset'],
      facilitator: { url: config.facilitator.url, timeoutMs: timeout.toMilliseconds(), ...(config.facilitator.auth ? { auth: config.facilitator.auth } : {}) },
      chainRpcUrl,
      thresholdAtomic: threshold.amount,
      maxAgeSeconds: maxUnclaimedAge.toSeconds(),
      refundIdleAfterSeconds: refundIdleAfter.toSeconds(),
    };

    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'cdk-x402 batch-settlement claims: reads and updates channel rows, claims through the facilitator',
    });
    this.logGroup.grantWrite(this.role);
    props.receiptTable.grantBatchClaims(this.role);
    const auth = config.facilitator.auth;
    if (auth) this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secretArn(auth.secretId, auth.region)] }));

    this.function = new lambda.Function(this, 'Function', {
      description: 'cdk-x402: batch-settlement claims and settlement to payTo',
      runtime: NODEJS_24_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: prebuiltCode('batch-claims'),
      memorySize: 256,
      timeout: functionTimeout,
      role: this.role,
      logGroup: this.logGroup,
      environment: {
        [BatchClaimsEnvironment.tableName]: props.receiptTable.tableName,
        [BatchClaimsEnvironment.settings]: JSON.stringify(settings),
      },
      // A failed run is not retried by Lambda: the next scheduled run starts again from the chain.
      retryAttempts: 0,
    });

    this.schedule = new events.Rule(this, 'Schedule', {
      description: 'cdk-x402: claim and settle batch-settlement channels',
      schedule: events.Schedule.rate(interval),
      targets: [new targets.LambdaFunction(this.function)],
    });

    this.errorsAlarm = new cloudwatch.Alarm(this, 'ErrorsAlarm', {
      alarmDescription:
        'cdk-x402: batch-settlement claims failed in 2 intervals in a row: served vouchers are not being claimed, and a payer withdrawing could take them back. See the function logs (x402.batch_claims_error).',
      metric: this.function.metricErrors({ period: interval, statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (props.alarmTopic) {
      this.errorsAlarm.addAlarmAction(new actions.SnsAction(props.alarmTopic));
      this.errorsAlarm.addOkAction(new actions.SnsAction(props.alarmTopic));
    }
  }
}
