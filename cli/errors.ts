import { readFileSync } from 'node:fs';

/** Exit codes of `cdk-x402` (documented in `--help` and the README). */
export const ExitCode = {
  ok: 0,
  /** Unexpected failure (a bug, or an AWS error without a known fix). */
  failure: 1,
  /** Bad command line: unknown command or option, invalid value. */
  usage: 2,
  /** AWS setup: credentials, region, permissions, a resource that does not exist. */
  aws: 3,
  /**
   * Refused. `toggle`: the web ACL has rules named like cdk-x402's that it did not create as they are
   * now. `reconcile`: the RPC serves another chain than the receipts' network.
   */
  refused: 4,
  /** `toggle` gave up: the web ACL kept changing under it (stale lock token on every attempt). */
  conflict: 5,
  /** `reconcile`: the chain's JSON-RPC endpoint (--rpc-url) is unreachable or failing. */
  rpc: 6,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An error the CLI explains: what failed (naming the resource) and how to fix it. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    readonly fix?: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** A local file's text, or a usage error naming the file, why it could not be read and `fix`. */
export function readTextFile(file: string, fix: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as Error).message}`, ExitCode.usage, fix);
  }
}

/** Where an AWS call went, for the error message. */
export interface AwsCallContext {
  /** e.g. `GetWebACL`. */
  readonly operation: string;
  /** e.g. `web ACL arn:aws:wafv2:...` or `receipt table X`. */
  readonly resource: string;
  readonly region: string;
}

/** Turns an AWS SDK error into a {@link CliError} that names the resource and the fix. */
export function explainAwsError(error: unknown, ctx: AwsCallContext): CliError {
  const e = error as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? 'Error';
  const message = e?.message ?? String(error);
  const what = `${ctx.operation} on ${ctx.resource} (${ctx.region})`;
  const details = { operation: ctx.operation, resource: ctx.resource, region: ctx.region, awsError: name };
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return new CliError(`no AWS credentials for ${what}`, ExitCode.aws, 'configure credentials: `aws configure`, `aws sso login --profile <p>` with --profile <p> (or AWS_PROFILE), or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY', details);
  }
  if (['ExpiredToken', 'ExpiredTokenException', 'RequestExpired'].includes(name)) {
    return new CliError(`the AWS credentials have expired (${what})`, ExitCode.aws, 'refresh them (e.g. `aws sso login`) and run again', details);
  }
  if (['UnrecognizedClientException', 'InvalidClientTokenId', 'InvalidSignatureException', 'SignatureDoesNotMatch'].includes(name)) {
    return new CliError(`AWS rejected the credentials for ${what}: ${message}`, ExitCode.aws, 'check the access key / profile; a key of another partition or a mistyped secret fails this way', details);
  }
  if (['AccessDeniedException', 'AccessDenied', 'UnauthorizedOperation'].includes(name) || e?.$metadata?.httpStatusCode === 403) {
    return new CliError(`access denied: ${what}: ${message}`, ExitCode.aws, `allow ${iamActionOf(ctx.operation)} on ${ctx.resource} for these credentials`, details);
  }
  if (name === 'WAFNonexistentItemException') {
    return new CliError(`${ctx.resource} does not exist (${ctx.operation}, scope CLOUDFRONT, us-east-1)`, ExitCode.aws, 'check --web-acl-arn or the stack\'s WebAclArn output; CLOUDFRONT web ACLs exist only in us-east-1 and in the account of the credentials', details);
  }
  if (name === 'ResourceNotFoundException') {
    return new CliError(`${ctx.resource} does not exist in ${ctx.region} (${ctx.operation})`, ExitCode.aws, 'pass --region of the stack that holds it (the receipt table lives in the stack\'s region, which may not be us-east-1), or the right --table', details);
  }
  if (name === 'ResourceExistsException') {
    return new CliError(`${ctx.resource} exists already in ${ctx.region} (${ctx.operation})`, ExitCode.aws, 'choose another --kid (or --secret-name); a key that exists is not replaced', details);
  }
  if (name === 'ValidationError' && /does not exist/i.test(message)) {
    return new CliError(`${ctx.resource} does not exist in ${ctx.region}`, ExitCode.aws, 'pass --stack <name> and --region <region> of the deployed reference stack, or name the resources directly with --table and --web-acl-arn', details);
  }
  if (name === 'WAFInvalidParameterException' || name === 'WAFInvalidOperationException') {
    return new CliError(`AWS WAF refused ${what}: ${message}`, ExitCode.aws, 'check the web ACL ARN (it must be a CLOUDFRONT web ACL: arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>) and the time window', details);
  }
  if (['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED'].includes(e?.code ?? name) || /getaddrinfo|ENOTFOUND/.test(message)) {
    return new CliError(`cannot reach AWS for ${what}: ${message}`, ExitCode.aws, 'check --region (is it a real region?) and the network connection', details);
  }
  return new CliError(`${what} failed: ${name}: ${message}`, ExitCode.failure, undefined, details);
}

function iamActionOf(operation: string): string {
  const service: Record<string, string> = {
    DescribeStacks: 'cloudformation', GetWebACL: 'wafv2', UpdateWebACL: 'wafv2', ListSettlementRecords: 'wafv2',
    GetRevenueStatistics: 'wafv2', GetRevenueStatisticsSummary: 'wafv2', GetRevenueStatisticsTimeSeries: 'wafv2',
    Scan: 'dynamodb', Query: 'dynamodb', GetItem: 'dynamodb', UpdateItem: 'dynamodb', PutItem: 'dynamodb', CreateSecret: 'secretsmanager',
  };
  return `${service[operation] ?? '<service>'}:${operation}`;
}
