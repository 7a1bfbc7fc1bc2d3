import { Aws, CfnResource, Duration, Names, Stack, Token } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { EdgeConfig } from '../lambda/core/config';
import { pricesSideEffects } from './paywalled-behavior';
import type { EdgeBundleName } from './prebuilt-bundle';
import { prebuiltCode } from './prebuilt-code';
import { toEdgeConfig } from './config/resolve';
import type { X402Config } from './config/x402-config';
import type { ReceiptTable } from './receipt-table';
import { acknowledgeFindings } from './cdk-compat';

/** Lambda@Edge limits (AWS docs, "Quotas on Lambda@Edge"). */
const VIEWER_TRIGGER = { memoryMb: 128, timeout: Duration.seconds(5), maxZippedBytes: 1024 * 1024 } as const;
const ORIGIN_TRIGGER = { memoryMb: 128, timeout: Duration.seconds(30), maxZippedBytes: 50 * 1024 * 1024 } as const;

/** Props of {@link EdgeVerifier}. */
export interface EdgeVerifierProps {
  /** The validated configuration (X402Config.resolve), for the edge engine. */
  readonly config: X402Config;
  /** Where receipts go; each function is granted exactly the one write it performs. */
  readonly receiptTable: ReceiptTable;
  /**
   * Id of the us-east-1 stack that holds the functions when this stack is in another region
   * (Lambda@Edge functions live in us-east-1).
   * @default EdgeFunction's own support stack
   */
  readonly edgeStackId?: string;
  /**
   * How long the functions' log groups in us-east-1 keep their logs (also the log group of CDK's
   * deploy-time reader of the function versions, when this stack is in another region).
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Memory of the origin-request and origin-response functions, in MB (128..10240; Lambda gives CPU
   * in proportion: 1,769 MB is one vCPU). The viewer-request function has 128 MB, the most
   * CloudFront allows a viewer trigger. `npm run bench` measures latency and cost per million
   * requests at 128, 256, 512 and 1,024 MB: with Base's 2 s settlement the origin-response's
   * duration is mostly waiting, so 128 MB costs half of 256 MB for a few tens of ms more.
   * @default 128
   */
  readonly originFunctionMemoryMb?: number;
}

/**
 * The two Lambda@Edge functions of the edge engine, each the package's prebuilt bundle with the
 * configuration injected (lib/prebuilt-code.ts):
 * - viewer-request: 402 / verify / reserve the nonce, or redeliver a settled payment (conditional
 *   writes and reads on the receipt table only, see ReceiptTable.grantReserve);
 * - origin-request (only when a route prices POST, PUT, PATCH or DELETE): settle those before the
 *   origin runs (`dynamodb:UpdateItem`);
 * - origin-response: settle on 2xx or release (`dynamodb:UpdateItem` on the receipt table only).
 * Both origin-facing functions also read the hand-off sealing key's row (`dynamodb:GetItem` on
 * that one partition key, ReceiptTable.grantHandoffKeyRead).
 * Attach {@link edgeLambdas} to every behavior that can serve priced content (the
 * {@link PaywalledBehavior} construct does this with the right cache and origin request policies).
 */
export class EdgeVerifier extends Construct {
  /** viewer-request: the 402, verification and the payment's reservation. */
  readonly viewerRequest: cloudfront.experimental.EdgeFunction;
  /** origin-response: settles on 2xx, else releases the reservation. */
  readonly originResponse: cloudfront.experimental.EdgeFunction;
  /**
   * Only when a route prices a side-effecting method (POST, PUT, PATCH, DELETE): settles those
   * requests before the origin runs, so no side effect happens unpaid.
   */
  readonly originRequest?: cloudfront.experimental.EdgeFunction;
  /** VIEWER_REQUEST, ORIGIN_RESPONSE (and ORIGIN_REQUEST) associations, for a cache behavior's `edgeLambdas`. */
  readonly edgeLambdas: cloudfront.EdgeLambda[];
  /**
   * `/aws/lambda/us-east-1.<function name>` in us-east-1, one per function, with a retention: where
   * Lambda@Edge logs when CloudFront runs the function in us-east-1. In every other region that
   * serves requests, Lambda@Edge creates a log group of the same name on first use, without a
   * retention, which a stack (one region) cannot declare; see "Logs" in the README.
   */
  readonly logGroups: logs.LogGroup[];
  /** What the functions bake in. */
  private readonly edgeConfig: EdgeConfig;

  /** What the functions bake in (for the local edge and tests). @internal */
  get _edgeConfig(): EdgeConfig {
    return this.edgeConfig;
  }

  constructor(scope: Construct, id: string, props: EdgeVerifierProps) {
    super(scope, id);
    const originMemoryMb = props.originFunctionMemoryMb ?? ORIGIN_TRIGGER.memoryMb;
    if (!Number.isInteger(originMemoryMb) || originMemoryMb < 128 || originMemoryMb > 10240) {
      throw new Error(`EdgeVerifier ${this.node.path}: originFunctionMemoryMb = ${originMemoryMb}: Lambda@Edge origin triggers take a whole number of MB from 128 to 10240 (e.g. originFunctionMemoryMb: 256)`);
    }
    const stack = Stack.of(this);
    if (Token.isUnresolved(stack.region)) {
      throw new Error(
        `EdgeVerifier ${this.node.path}: the stack needs an explicit region (Lambda@Edge functions are created in us-east-1 and the receipt table region is baked into them): ` +
          "new Stack(app, 'Site', { env: { region: 'us-east-1' } })",
      );
    }
    const config = props.config._resolved;
    if (config.engine !== 'edge') throw new Error(`EdgeVerifier ${this.node.path}: the configuration is for the ${config.engine} engine`);
    this.edgeConfig = toEdgeConfig(config, { tableName: props.receiptTable.tableName, region: props.receiptTable.region }, { stackName: stack.stackName, constructPath: this.node.path });

    // Outside us-east-1 the functions are created under these ids in the shared us-east-1 stack.
    const prefix = stack.region === 'us-east-1' ? '' : Names.uniqueId(this);
    this.viewerRequest = new cloudfront.experimental.EdgeFunction(this, `${prefix}ViewerRequest`, {
      description: 'cdk-x402 viewer-request: 402, verify, reserve the payment (config baked in)',
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: edgeCode('viewer-request', this.edgeConfig, VIEWER_TRIGGER.maxZippedBytes),
      memorySize: VIEWER_TRIGGER.memoryMb,
      timeout: VIEWER_TRIGGER.timeout,
      stackId: props.edgeStackId,
    });
    this.originResponse = new cloudfront.experimental.EdgeFunction(this, `${prefix}OriginResponse`, {
      description: 'cdk-x402 origin-response: settle on 2xx, else release (config baked in)',
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: edgeCode('origin-response', this.edgeConfig, ORIGIN_TRIGGER.maxZippedBytes),
      memorySize: originMemoryMb,
      timeout: ORIGIN_TRIGGER.timeout,
      stackId: props.edgeStackId,
    });
    // Passes are sold there too: settled, then answered with the signed pass instead of the origin's response.
    if (pricesSideEffects(config) || config.passes) {
      this.originRequest = new cloudfront.experimental.EdgeFunction(this, `${prefix}OriginRequest`, {
        description: `cdk-x402 origin-request: settle ${config.passes ? 'pass sales and ' : ''}side-effecting paid requests before the origin runs (config baked in)`,
        runtime: lambda.Runtime.NODEJS_22_X,
        handler: 'index.handler',
        code: edgeCode('origin-request', this.edgeConfig, ORIGIN_TRIGGER.maxZippedBytes),
        memorySize: originMemoryMb,
        timeout: ORIGIN_TRIGGER.timeout,
        stackId: props.edgeStackId,
      });
    }
    const originFacing = [this.originResponse, ...(this.originRequest ? [this.originRequest] : [])];
    props.receiptTable.grantReserve(this.viewerRequest);
    // Pass holders who kept no token sign in with x: their passes are looked up by payer.
    if (config.passes) props.receiptTable.grantHeldPassLookup(this.viewerRequest);
    for (const fn of originFacing) {
      props.receiptTable.grantTransition(fn);
      props.receiptTable.grantHandoffKeyRead(fn);
    }
    const signingKey = this.edgeConfig.passes?.signingKey;
    if (signingKey?.kind === 'secrets-manager' && this.originRequest) {
      // Only the function that sells passes reads the private key, and the rows it re-issues from.
      this.originRequest.addToRolePolicy(new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secretArn(signingKey.secretId, signingKey.region)] }));
      props.receiptTable.grantPassRecords(this.originRequest);
    }
    const all = [this.viewerRequest, ...originFacing];
    const { auth } = this.edgeConfig.facilitator;
    if (auth) {
      const readKey = new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [secretArn(auth.secretId, auth.region)] });
      for (const fn of all) fn.addToRolePolicy(readKey);
    }
    for (const fn of all) acknowledgeEdgeFunctionFindings(fn);
    const retention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    this.logGroups = all.map((fn) => edgeLogGroup(fn, retention));
    if (prefix !== '') retainCrossRegionReaderLogs(stack, retention);

    this.edgeLambdas = [
      { eventType: cloudfront.LambdaEdgeEventType.VIEWER_REQUEST, functionVersion: this.viewerRequest.currentVersion },
      ...(this.originRequest ? [{ eventType: cloudfront.LambdaEdgeEventType.ORIGIN_REQUEST, functionVersion: this.originRequest.currentVersion }] : []),
      { eventType: cloudfront.LambdaEdgeEventType.ORIGIN_RESPONSE, functionVersion: this.originResponse.currentVersion },
    ];
  }
}

/**
 * cdk-nag findings that are inherent to Lambda@Edge, acknowledged on the real function (which
 * lives in a us-east-1 stack when this stack is elsewhere), with their reasons.
 */
function acknowledgeEdgeFunctionFindings(fn: cloudfront.experimental.EdgeFunction): void {
  acknowledgeFindings(
    fn.lambda,
    {
      id: 'AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason:
        'Logging only (CreateLogGroup/CreateLogStream/PutLogEvents). Lambda@Edge writes to /aws/lambda/us-east-1.<name> in whichever region serves the request, so the log ARNs cannot be enumerated per region; the receipt-table access is a separate least-privilege statement.',
    },
    {
      id: 'AwsSolutions::AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x on purpose: scripts/build-bundles.ts builds the edge bundles for node22, and the runtime must be one Lambda@Edge supports; move both together.',
    },
  );
}

/**
 * The us-east-1 log group of a Lambda@Edge function, declared with a retention. The published
 * version waits for it, so CloudFront cannot run the function (and Lambda create the group without
 * a retention) before it exists.
 */
function edgeLogGroup(fn: cloudfront.experimental.EdgeFunction, retention: logs.RetentionDays): logs.LogGroup {
  const scope = fn.lambda.node.scope as Construct;
  const logGroup = new logs.LogGroup(scope, `${fn.lambda.node.id}EdgeLogs`, {
    logGroupName: `/aws/lambda/us-east-1.${fn.lambda.functionName}`,
    retention,
  });
  (fn.lambda as lambda.Function).currentVersion.node.addDependency(logGroup);
  return logGroup;
}

/**
 * Outside us-east-1, EdgeFunction reads each version ARN at deploy time with a custom resource
 * whose provider function (one per stack, created by CDK) has no log retention: send its logs to a
 * log group with one. Found by CDK's construct id; if CDK renames it, its logs keep CDK's default.
 */
function retainCrossRegionReaderLogs(stack: Stack, retention: logs.RetentionDays): void {
  const handler = stack.node.tryFindChild('Custom::CrossRegionStringParameterReaderCustomResourceProvider')?.node.tryFindChild('Handler');
  if (!CfnResource.isCfnResource(handler) || handler.cfnResourceType !== 'AWS::Lambda::Function' || stack.node.tryFindChild('X402EdgeArnReaderLogs')) return;
  const logGroup = new logs.LogGroup(stack, 'X402EdgeArnReaderLogs', { retention });
  handler.addPropertyOverride('LoggingConfig', { LogGroup: logGroup.logGroupName });
}

/** A Lambda@Edge bundle with the configuration injected, checked against the trigger's size quota. */
function edgeCode(name: EdgeBundleName, config: EdgeConfig, maxZippedBytes: number): lambda.Code {
  return prebuiltCode(name, { config, maxZippedBytes, limitName: 'Lambda@Edge (this trigger)' });
}

/**
 * The secret's ARN for IAM. A name gets Secrets Manager's six-character suffix wildcard; account
 * and partition are pseudo parameters, so this resolves in whichever stack holds the functions.
 */
export function secretArn(secretId: string, region: string): string {
  return secretId.startsWith('arn:') ? secretId : `arn:${Aws.PARTITION}:secretsmanager:${region}:${Aws.ACCOUNT_ID}:secret:${secretId}-??????`;
}
