/**
 * What every command needs: the AWS clients, output streams, the clock, and where the deployment
 * is. Resources are found from flags first (`--table`, `--web-acl-arn`) and otherwise from the
 * outputs of the reference stack (`--stack`, default CdkX402) via CloudFormation DescribeStacks.
 */
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { DEFAULT_REFERENCE_REGION, DEFAULT_REFERENCE_STACK_NAME } from '../lib/config/context-keys';
import { parseDeploymentSummary, ReferenceOutputs, type DeploymentSummary } from '../lib/deployment-outputs';
import { CliError, ExitCode, explainAwsError, type AwsCallContext } from './errors';

/** CLOUDFRONT-scope WAF (web ACLs, monetization) is served from us-east-1 only. */
export const WAF_REGION = 'us-east-1';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export interface ClientFactory {
  cloudFormation(region: string): Pick<CloudFormationClient, 'send'>;
  waf(): Pick<WAFV2Client, 'send'>;
  dynamo(region: string): Pick<DynamoDBClient, 'send'>;
  secrets(region: string): Pick<SecretsManagerClient, 'send'>;
}

export interface CliDeps {
  readonly io: CliIo;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Milliseconds since the epoch. */
  readonly now: () => number;
  readonly clients: ClientFactory;
  readonly sleep: (ms: number) => Promise<void>;
}

export const defaultClients: ClientFactory = {
  cloudFormation: (region) => new CloudFormationClient({ region }),
  waf: () => new WAFV2Client({ region: WAF_REGION }),
  dynamo: (region) => new DynamoDBClient({ region }),
  secrets: (region) => new SecretsManagerClient({ region }),
};

/** Options shared by every command. */
export interface TargetOptions {
  readonly stack: string;
  readonly region?: string;
  readonly table?: string;
  readonly webAclArn?: string;
  readonly profile?: string;
  readonly json?: boolean;
  readonly quiet?: boolean;
}

/** What was found, and how. */
export interface Target {
  readonly region: string;
  readonly stackName?: string;
  readonly tableName?: string;
  readonly webAclArn?: string;
  readonly summary?: DeploymentSummary;
  /** `flags` or `stack <name>`. */
  readonly foundBy: string;
}

export class Session {
  readonly region: string;
  constructor(
    readonly deps: CliDeps,
    readonly options: TargetOptions,
  ) {
    this.region = options.region ?? deps.env.AWS_REGION ?? deps.env.AWS_DEFAULT_REGION ?? DEFAULT_REFERENCE_REGION;
  }

  /** Progress and notes go to stderr, so stdout stays clean for `--json`. */
  progress(text: string): void {
    if (!this.options.quiet) this.deps.io.stderr(`${text}\n`);
  }

  out(text: string): void {
    this.deps.io.stdout(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** An AWS call whose failure is explained (resource, region, fix). */
  async aws<T>(ctx: Omit<AwsCallContext, 'region'> & { region?: string }, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw explainAwsError(error, { ...ctx, region: ctx.region ?? this.region });
    }
  }

  /**
   * Finds the receipt table and/or the web ACL. Flags win; what they leave open comes from the
   * stack's outputs. `need` lists what the command cannot do without.
   */
  async target(need: { table?: boolean; webAcl?: boolean; summary?: boolean }): Promise<Target> {
    const { table, webAclArn } = this.options;
    const required = Boolean((need.table && !table) || (need.webAcl && !webAclArn));
    if (!required && !need.summary) return { region: this.region, tableName: table, webAclArn, foundBy: 'flags' };
    const stackName = this.options.stack;
    this.progress(`Reading the outputs of stack ${stackName} (${this.region})…`);
    let outputs: Record<string, string> | undefined;
    try {
      outputs = await this.stackOutputs(stackName, !required);
    } catch (error) {
      // Only nice to have (the deployment summary) when the flags name the resources.
      if (required || !(error instanceof CliError)) throw error;
      this.progress(`Note: the outputs of stack ${stackName} were not read (${error.message}); continuing with the flags.`);
    }
    const found: Target = {
      region: this.region,
      stackName: outputs ? stackName : undefined,
      tableName: table ?? outputs?.[ReferenceOutputs.receiptTableName],
      webAclArn: webAclArn ?? outputs?.[ReferenceOutputs.webAclArn],
      summary: parseDeploymentSummary(outputs?.[ReferenceOutputs.deployment]),
      foundBy: outputs ? `stack ${stackName}` : 'flags',
    };
    if (need.table && !found.tableName) {
      throw new CliError(`stack ${stackName} (${this.region}) has no ${ReferenceOutputs.receiptTableName} output`, ExitCode.aws, 'pass --table <receipt table name> (X402Paywall in your own stack: paywall.receiptTable.tableName)');
    }
    if (need.webAcl && !found.webAclArn) {
      throw new CliError(`stack ${stackName} (${this.region}) has no ${ReferenceOutputs.webAclArn} output`, ExitCode.aws, 'pass --web-acl-arn <arn> (X402Paywall in your own stack: paywall.webAclArn)');
    }
    return found;
  }

  /** Outputs of a stack; undefined when it does not exist and `optional`. */
  private async stackOutputs(stackName: string, optional: boolean): Promise<Record<string, string> | undefined> {
    try {
      const { Stacks } = await this.aws({ operation: 'DescribeStacks', resource: `CloudFormation stack ${stackName}` }, () =>
        this.deps.clients.cloudFormation(this.region).send(new DescribeStacksCommand({ StackName: stackName })),
      );
      const stack = Stacks?.[0];
      if (!stack) throw new CliError(`CloudFormation stack ${stackName} does not exist in ${this.region}`, ExitCode.aws, stackFix(stackName));
      return Object.fromEntries((stack.Outputs ?? []).filter((o) => o.OutputKey && o.OutputValue !== undefined).map((o) => [o.OutputKey!, o.OutputValue!]));
    } catch (error) {
      if (optional && error instanceof CliError && error.details?.awsError === 'ValidationError') return undefined;
      if (error instanceof CliError && error.details?.awsError === 'ValidationError') {
        throw new CliError(`CloudFormation stack ${stackName} does not exist in ${this.region}`, ExitCode.aws, stackFix(stackName), error.details);
      }
      throw error;
    }
  }
}

function stackFix(stackName: string): string {
  return `pass --stack <name> and --region <region> of the deployed reference stack${stackName === DEFAULT_REFERENCE_STACK_NAME ? ' (default CdkX402 in us-east-1, or $AWS_REGION)' : ''}, or name the resources with --table and --web-acl-arn`;
}
