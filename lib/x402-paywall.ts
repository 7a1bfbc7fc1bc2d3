import { Annotations, CfnOutput, Duration, Names, RemovalPolicy, Stack, Stage, Token } from 'aws-cdk-lib';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { deploymentSummary, ReferenceOutputs } from './deployment-outputs';
import { EdgeVerifier } from './edge-verifier';
import { guardOrigin, OriginSecret } from './origin-protection';
import { PaymentEligibleBots } from './payment-eligible-bots';
import { PaymentsDashboard } from './payments-dashboard';
import { cfnDistributionOf, definesDistribution, PaywalledBehavior, pricesSideEffects, UNCACHED_ERROR_CODES } from './paywalled-behavior';
import type { X402Settings } from './config/settings';
import { X402Config } from './config/x402-config';
import { ReceiptTable } from './receipt-table';
import { SettlementIngest, type SettlementIngestOptions } from './settlement-ingest';
import { acknowledgeFindings } from './cdk-compat';
import { BatchClaims, type BatchClaimsOptions } from './batch-claims';

/** Where Lambda@Edge functions and CLOUDFRONT web ACLs must be created. */
export const GLOBAL_REGION = 'us-east-1';

/** Props of {@link X402Paywall}. */
export interface X402PaywallProps extends X402Settings {
  /**
   * Build a new distribution in front of this origin. Give exactly one of `origin` and `distribution`.
   * @default - none: adopt `distribution`
   */
  readonly origin?: cloudfront.IOrigin;
  /**
   * Adopt a distribution instead. A `cloudfront.Distribution` of this app (from any copy of
   * aws-cdk-lib) gets the paywall on every behavior, merged with each behavior's own policies (see
   * PaywalledBehavior.protect), and the web ACL attached; an imported one
   * (`Distribution.fromDistributionAttributes`) cannot be changed by this stack, so the parts to
   * attach are emitted as stack outputs.
   * @default - none: build a distribution in front of `origin`
   */
  readonly distribution?: cloudfront.IDistribution;
  /**
   * Alternate domain names of a built distribution (needs `certificate`).
   * @default - the distribution's *.cloudfront.net name only
   */
  readonly domainNames?: string[];
  /**
   * Certificate (in us-east-1) for `domainNames`; the built distribution then enforces TLSv1.2_2021.
   * @default - the default *.cloudfront.net certificate
   */
  readonly certificate?: acm.ICertificate;
  /**
   * Standard access logs of a built distribution, to a new bucket (kept 90 days).
   * @default true
   */
  readonly accessLogs?: boolean;
  /**
   * Physical name of the receipt table.
   * @default `<stack name>-x402-receipts`
   */
  readonly receiptTableName?: string;
  /**
   * Notified by the payment alarms.
   * @default none
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Regions graphed for edge metrics.
   * @default every region with a CloudFront regional edge cache (where Lambda@Edge runs)
   */
  readonly metricRegions?: string[];
  /**
   * waf engine: tuning of the scheduled settlement ingestion into the receipt table.
   * @default every 5 minutes, see SettlementIngestOptions
   */
  readonly settlementIngest?: SettlementIngestOptions;
  /**
   * Edge engine: the scheduled claims and settlement of batch-settlement channels
   * ({@link BatchClaims}), in this stack's region with the paywall's receipt table, facilitator,
   * RPC URL (`x402:rpcUrl`, or `chainRpcUrl` here; synth fails without one), alarm topic and log
   * retention. `true` or options: create it; `false`: do not (claim the channels yourself: vouchers
   * left unclaimed past a payer's withdrawal are lost).
   * @default false: not created, since no route offers the batch-settlement scheme yet; once the
   * route configuration offers it, the default becomes "created when a route's scheme is batch-settlement"
   */
  readonly batchClaims?: BatchClaimsOptions | boolean;
  /**
   * Retention of the log groups of the edge functions (in us-east-1) and of the deploy-time helpers.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Emit the stack outputs the `cdk-x402` CLI reads (`ReceiptTableName`, `WebAclArn`,
   * `X402Deployment`, ...), so that `cdk-x402 status --stack <this stack>` finds the deployment.
   * A stack holds one set: give a second paywall in the same stack `false` (the CLI then takes
   * `--table` and `--web-acl-arn` for it).
   * @default true
   */
  readonly cliOutputs?: boolean;
  /**
   * Memory of the edge engine's origin-request and origin-response functions, in MB (128..10240).
   * @default 128
   */
  readonly originFunctionMemoryMb?: number;
}

/**
 * x402 for a CloudFront site in one construct: configuration validated at synth, the CLOUDFRONT
 * web ACL with Bot Control labels and payment eligibility, the receipt table, the dashboard and
 * alarms, and either the Lambda@Edge verifier (engine `edge`) or WAF Monetize rules (engine `waf`,
 * with a scheduled ingestion of WAF's settlement records into the receipt table) on every behavior
 * of the distribution it builds or adopts.
 *
 * Works in a stack of any region: the web ACL and the edge functions go to a us-east-1 stack
 * created next to it when the stack is elsewhere.
 */
export class X402Paywall extends Construct {
  /** The validated configuration the parts were built from. */
  readonly config: X402Config;
  /** One row per payment. */
  readonly receiptTable: ReceiptTable;
  /** The CLOUDFRONT web ACL (in us-east-1). */
  readonly bots: PaymentEligibleBots;
  /** ARN of the web ACL, readable from this stack (across regions when needed). */
  readonly webAclArn: string;
  /** Edge engine only. */
  readonly verifier?: EdgeVerifier;
  /** waf engine only: WAF settlement records → the receipt table, on a schedule. */
  readonly settlementIngest?: SettlementIngest;
  /** Edge engine, when batchClaims asks for it: the scheduled claims and settlement of batch-settlement channels. */
  readonly batchClaims?: BatchClaims;
  /** The policies and edge functions of every paywalled behavior. */
  readonly paywalledBehavior: PaywalledBehavior;
  /** The distribution built or adopted. */
  readonly distribution: cloudfront.IDistribution;
  /** The access log bucket of a built distribution (accessLogs). */
  readonly accessLogBucket?: s3.Bucket;
  /**
   * The secret header CloudFront sends to the built distribution's HTTP origin (originProtection
   * `secret-header`); the origin must check it (`grantRead` + lambda/origin). Not created for S3,
   * VPC and other origins that need none.
   */
  readonly originSecret?: OriginSecret;
  /** The payments dashboard and alarms. */
  readonly dashboard: PaymentsDashboard;
  /** The us-east-1 stack holding the web ACL and edge functions, when this stack is elsewhere. */
  readonly globalStack?: Stack;

  constructor(scope: Construct, id: string, props: X402PaywallProps) {
    super(scope, id);
    if ((props.origin === undefined) === (props.distribution === undefined)) {
      throw new Error(`X402Paywall ${this.node.path}: give exactly one of origin (build a distribution) or distribution (adopt one)`);
    }
    const stack = Stack.of(this);
    if (Token.isUnresolved(stack.region)) {
      throw new Error(
        `X402Paywall ${this.node.path}: the stack needs an explicit region (the receipt table's region is baked into the edge functions and the web ACL must be placed in ${GLOBAL_REGION}): ` +
          "new Stack(app, 'Site', { env: { region: 'us-east-1' } })",
      );
    }
    this.config = X402Config.resolve(props);
    const config = this.config._resolved;
    for (const warning of config.warnings) Annotations.of(this).addWarningV2('cdk-x402:config', warning);
    if (config.engine === 'waf' && pricesSideEffects(config)) {
      Annotations.of(this).addWarningV2(
        'cdk-x402:waf-side-effects',
        'x402:routes prices POST, PUT, PATCH or DELETE, but the waf engine settles after the origin has answered (its settlement records say SKIPPED_ORIGIN_ERROR when the origin failed), so such a request changes state at the origin even when its payment then fails to settle: use x402:engine=edge, which settles these requests before the origin runs',
      );
    }

    this.globalStack = stack.region === GLOBAL_REGION ? undefined : globalStackFor(stack);
    const uid = Names.nodeUniqueId(this.node);

    this.receiptTable = new ReceiptTable(this, 'Receipts', { tableName: props.receiptTableName });
    this.bots = this.globalStack
      ? new PaymentEligibleBots(this.globalStack, `${uid}Bots`, { config: this.config })
      : new PaymentEligibleBots(this, 'Bots', { config: this.config });
    this.webAclArn = this.globalStack ? this.readWebAclArnAcrossRegions(this.globalStack, uid, props.logRetention ?? logs.RetentionDays.ONE_YEAR) : this.bots.webAclArn;

    if (config.engine === 'edge') {
      this.verifier = new EdgeVerifier(this, 'Verifier', {
        config: this.config,
        receiptTable: this.receiptTable,
        edgeStackId: this.globalStack?.node.id,
        logRetention: props.logRetention,
        originFunctionMemoryMb: props.originFunctionMemoryMb,
      });
    }
    if (config.engine === 'waf') {
      this.settlementIngest = new SettlementIngest(this, 'SettlementIngest', {
        ...props.settlementIngest,
        config: this.config,
        receiptTable: this.receiptTable,
        webAclArn: this.webAclArn,
        alarmTopic: props.alarmTopic,
      });
    }
    this.batchClaims = this.createBatchClaims(props);
    this.paywalledBehavior = new PaywalledBehavior(this, 'Behavior', { config: this.config, verifier: this.verifier });

    if (props.origin) {
      if (props.accessLogs ?? true) {
        this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
          encryption: s3.BucketEncryption.S3_MANAGED,
          blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
          enforceSSL: true,
          // CloudFront standard logs are delivered with ACLs.
          objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
          lifecycleRules: [{ expiration: Duration.days(90) }],
          removalPolicy: RemovalPolicy.RETAIN,
        });
        acknowledgeFindings(this.accessLogBucket, {
          id: 'AwsSolutions::AwsSolutions-S1',
          reason: 'This bucket receives the CloudFront access logs; logging its own accesses would need yet another bucket, endlessly. It blocks public access, enforces TLS and expires objects after 90 days.',
        });
      }
      let originSecret: OriginSecret | undefined;
      const origin = guardOrigin(
        props.origin,
        config.originProtection === 'secret-header'
          ? () => (originSecret ??= new OriginSecret(this, 'OriginSecret', { edgeFunctionVersions: this.verifier?.edgeLambdas.map((edge) => edge.functionVersion) }))
          : undefined,
      );
      this.distribution = new cloudfront.Distribution(this, 'Distribution', {
        comment: `cdk-x402 ${config.engine} engine`,
        defaultBehavior: this.paywalledBehavior.behaviorOptions(origin),
        webAclId: this.webAclArn,
        domainNames: props.domainNames,
        certificate: props.certificate,
        minimumProtocolVersion: props.certificate ? cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 : undefined,
        httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
        enableLogging: this.accessLogBucket !== undefined,
        logBucket: this.accessLogBucket,
        logFilePrefix: this.accessLogBucket ? 'cloudfront/' : undefined,
        // A 5xx keyed on a payment header must not be replayed from cache when the same (released,
        // unspent) payment is presented again: that hit would skip the origin-response.
        errorResponses: UNCACHED_ERROR_CODES.map((httpStatus) => ({ httpStatus, ttl: Duration.seconds(0) })),
      });
      this.originSecret = originSecret;
      if (!props.certificate) {
        acknowledgeFindings(this.distribution, {
          id: 'AwsSolutions::AwsSolutions-CFR4',
          reason: 'No custom domain was given, so the distribution uses the default *.cloudfront.net certificate, whose security policy CloudFront fixes at TLSv1. Pass domainNames and a certificate: the paywall then enforces TLSv1.2_2021.',
        });
      }
      acknowledgeFindings(this.distribution, {
        id: 'AwsSolutions::AwsSolutions-CFR1',
        reason: 'Payments are open to agents in every country by default; geographic restrictions are a business decision, made on the distribution (escape hatch: paywall.distribution).',
      });
    } else if (cfnDistributionOf(props.distribution!)) {
      // Found by its resource, not by class: a Distribution of another copy of aws-cdk-lib is adopted too.
      this.distribution = props.distribution!;
      this.paywalledBehavior.protect(this.distribution);
      this.attachWebAcl(this.distribution);
    } else if (definesDistribution(props.distribution!)) {
      throw new Error(
        `X402Paywall ${this.node.path}: ${props.distribution!.node.path} contains a CloudFront distribution but is not one (its node.defaultChild is not the AWS::CloudFront::Distribution): pass the cloudfront.Distribution itself, so that the paywall can protect every behavior`,
      );
    } else {
      this.distribution = props.distribution!;
      this.outputPartsToAttach();
    }

    this.dashboard = new PaymentsDashboard(this, 'Dashboard', {
      config: this.config,
      webAclName: this.bots.webAclName,
      distributionId: this.distribution.distributionId,
      edgeRegions: props.metricRegions,
      alarmTopic: props.alarmTopic,
      settlementIngestFunction: this.settlementIngest?.function,
    });
    if (props.cliOutputs ?? true) this.emitCliOutputs();
  }

  /** The batch-settlement claims function, when `batchClaims` asks for it. */
  private createBatchClaims(props: X402PaywallProps): BatchClaims | undefined {
    const wanted = props.batchClaims ?? false;
    if (wanted === false) return undefined;
    const options = wanted === true ? {} : wanted;
    const config = this.config._resolved;
    if (config.engine !== 'edge') {
      throw new Error(`X402Paywall ${this.node.path}: batchClaims needs the edge engine (this configuration is for ${config.engine}): set x402:engine=edge, or drop batchClaims`);
    }
    if (!options.chainRpcUrl && !config.chainRpc?.url) {
      throw new Error(
        `X402Paywall ${this.node.path}: batchClaims needs a JSON-RPC endpoint of ${config.network} (each run reads every channel's pending withdrawal from the chain): set x402:rpcUrl (rpcUrl) or batchClaims.chainRpcUrl, or give batchClaims: false and claim the channels yourself`,
      );
    }
    return new BatchClaims(this, 'BatchClaims', {
      logRetention: props.logRetention,
      ...options,
      config: this.config,
      receiptTable: this.receiptTable,
      alarmTopic: props.alarmTopic,
    });
  }

  /** The outputs the `cdk-x402` CLI finds a deployment by (lib/deployment-outputs.ts), at stack level under fixed ids. */
  private emitCliOutputs(): void {
    const stack = Stack.of(this);
    if (stack.node.tryFindChild(ReferenceOutputs.deployment)) {
      throw new Error(
        `X402Paywall ${this.node.path}: stack ${stack.stackName} already has the cdk-x402 CLI's outputs (of another X402Paywall or of your own); give this paywall cliOutputs: false and point the CLI at it with --table and --web-acl-arn`,
      );
    }
    new CfnOutput(stack, ReferenceOutputs.distributionDomainName, { value: this.distribution.distributionDomainName });
    new CfnOutput(stack, ReferenceOutputs.webAclArn, { value: this.webAclArn });
    new CfnOutput(stack, ReferenceOutputs.receiptTableName, { value: this.receiptTable.tableName });
    new CfnOutput(stack, ReferenceOutputs.dashboardName, { value: this.dashboard.dashboard.dashboardName });
    if (this.originSecret) {
      new CfnOutput(stack, ReferenceOutputs.originSecretArn, {
        description: `CloudFront sends this secret's value in the ${this.originSecret.headerName} header; the origin must serve only requests carrying it (createOriginSecretCheck in the repository's lambda/origin, or the same check in any language)`,
        value: this.originSecret.secret.secretArn,
      });
    }
    new CfnOutput(stack, ReferenceOutputs.deployment, {
      description: 'cdk-x402 configuration in brief (engine, network, wallet, prices), read by `cdk-x402 status`',
      value: JSON.stringify(deploymentSummary(this.config._resolved)),
    });
  }

  private attachWebAcl(distribution: cloudfront.IDistribution): void {
    const attach = (distribution as Partial<Pick<cloudfront.Distribution, 'attachWebAclId'>>).attachWebAclId;
    if (typeof attach !== 'function') {
      throw new Error(
        `X402Paywall ${this.node.path}: cannot attach the web ACL to ${distribution.node.path}, which is not a cloudfront.Distribution (it has no attachWebAclId): adopt a cloudfront.Distribution (CloudFrontWebDistribution builds legacy behaviors that cannot key the cache on payments)`,
      );
    }
    attach.call(distribution, this.webAclArn);
  }

  /** The web ACL lives in us-east-1; read its ARN from an SSM parameter there. */
  private readWebAclArnAcrossRegions(globalStack: Stack, uid: string, logRetention: logs.RetentionDays): string {
    const stack = Stack.of(this);
    const parameterName = `/cdk-x402/${stack.stackName}/${uid}/web-acl-arn`;
    new ssm.StringParameter(globalStack, `${uid}WebAclArn`, { parameterName, stringValue: this.bots.webAclArn });
    const reader = new cr.AwsCustomResource(this, 'WebAclArnReader', {
      onUpdate: {
        service: 'SSM',
        action: 'getParameter',
        parameters: { Name: parameterName },
        region: GLOBAL_REGION,
        // The ARN changes only with the web ACL's name, which is part of this id.
        physicalResourceId: cr.PhysicalResourceId.of(`${parameterName}:${this.bots.webAclName}`),
      },
      policy: cr.AwsCustomResourcePolicy.fromSdkCalls({
        resources: [stack.formatArn({ service: 'ssm', region: GLOBAL_REGION, resource: 'parameter', resourceName: parameterName.slice(1) })],
      }),
      installLatestAwsSdk: false,
      logGroup: new logs.LogGroup(this, 'WebAclArnReaderLogs', { retention: logRetention }),
    });
    const provider = stack.node.tryFindChild(`AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}`);
    if (provider) {
      acknowledgeFindings(provider, {
        id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: 'CDK\'s AwsCustomResource provider (reads the web ACL ARN from SSM in us-east-1 at deploy time): logging only; its SSM access is a separate statement scoped to the one parameter.',
      });
    }
    return reader.getResponseField('Parameter.Value');
  }

  private outputPartsToAttach(): void {
    Annotations.of(this).addWarningV2(
      'cdk-x402:imported-distribution',
      'the distribution is imported, so this stack cannot change it: attach the web ACL, cache policy, origin request policy and edge functions from the stack outputs to every behavior that can serve priced content',
    );
    new CfnOutput(this, 'AttachWebAclArn', { value: this.webAclArn });
    new CfnOutput(this, 'AttachCachePolicyId', { value: this.paywalledBehavior.cachePolicy.cachePolicyId });
    new CfnOutput(this, 'AttachOriginRequestPolicyId', { value: this.paywalledBehavior.originRequestPolicy.originRequestPolicyId });
    if (this.verifier) {
      new CfnOutput(this, 'AttachViewerRequestVersionArn', { value: this.verifier.viewerRequest.edgeArn });
      new CfnOutput(this, 'AttachOriginResponseVersionArn', { value: this.verifier.originResponse.edgeArn });
    }
  }
}

/** The us-east-1 companion of `stack` (one per stack, shared by its paywalls and edge functions). */
function globalStackFor(stack: Stack): Stack {
  const stage = Stage.of(stack);
  if (!stage) throw new Error(`${stack.node.path}: X402Paywall needs its stack to be part of a CDK app`);
  const id = `${stack.stackName}-x402-${GLOBAL_REGION}`;
  const existing = stage.node.tryFindChild(id) as Stack | undefined;
  const global = existing ?? new Stack(stage, id, {
    env: { region: GLOBAL_REGION, account: stack.account },
    description: `cdk-x402: web ACL and Lambda@Edge functions for ${stack.stackName} (must live in ${GLOBAL_REGION})`,
  });
  // node.addDependency between stacks is a stack dependency on every aws-cdk-lib (addStackDependency came later).
  stack.node.addDependency(global);
  return global;
}
