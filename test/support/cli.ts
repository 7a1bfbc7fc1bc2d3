/**
 * Test support for the `cdk-x402` CLI: the web ACL exactly as the constructs synthesize it (turned
 * into the SDK's WebACL shape), a fake WAF control plane with lock tokens behind aws-sdk-client-mock,
 * stack outputs, and an in-process runner that captures stdout, stderr and the exit code.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { Output, Stack as CfnStack } from '@aws-sdk/client-cloudformation';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  WAFOptimisticLockException,
  type GetWebACLCommandOutput,
  type UpdateWebACLCommandInput,
  type UpdateWebACLCommandOutput,
  type WebACL,
} from '@aws-sdk/client-wafv2';
import { defaultClients, type CliDeps } from '../../cli/context';
import { runCli } from '../../cli/program';
import { deploymentSummary, ReferenceOutputs } from '../../lib/deployment-outputs';
import { PaymentEligibleBots } from '../../lib/payment-eligible-bots';
import { resolveX402Config } from '../../lib/config/resolve';
import type { Engine, X402Settings } from '../../lib/config/settings';
import { X402Config } from '../../lib/config/x402-config';
import type { PricedRoute } from '../../lambda/core/config';

export const ACCOUNT = '123456789012';
export const WEB_ACL_NAME = 'site-x402';
export const WEB_ACL_ARN = `arn:aws:wafv2:us-east-1:${ACCOUNT}:global/webacl/${WEB_ACL_NAME}/3f1c5e0a-1111-2222-3333-444455556666`;
export const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';
export const ROUTES: PricedRoute[] = [
  { pattern: '/articles/*', price: '$0.001' },
  { pattern: 'GET /api/premium-report', price: '$0.01' },
];
export const settingsFor = (engine: Engine): X402Settings => ({ engine, payTo: PAY_TO, routes: ROUTES });

/** CloudFormation intrinsics in a synthesized template, resolved as a deployment in ACCOUNT would. */
function resolve(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolve);
  if (value && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    if ('Fn::Join' in object) {
      const [separator, parts] = object['Fn::Join'] as [string, unknown[]];
      return parts.map(resolve).join(separator);
    }
    if ('Ref' in object) {
      const refs: Record<string, string> = { 'AWS::AccountId': ACCOUNT, 'AWS::Partition': 'aws', 'AWS::Region': 'us-east-1' };
      if (refs[object.Ref as string]) return refs[object.Ref as string];
    }
    return Object.fromEntries(Object.entries(object).map(([k, v]) => [k, resolve(v)]));
  }
  return value;
}

/** The web ACL that `PaymentEligibleBots` deploys, as GetWebACL returns it. */
export function deployedWebAcl(engine: Engine, settings: X402Settings = settingsFor(engine)): WebACL {
  const stack = new Stack(new App(), 'Site', { env: { region: 'us-east-1', account: ACCOUNT } });
  new PaymentEligibleBots(stack, 'Bots', { config: X402Config.resolve(settings), webAclName: WEB_ACL_NAME });
  const [resource] = Object.values(Template.fromStack(stack).findResources('AWS::WAFv2::WebACL'));
  const { Scope: _scope, ...properties } = resolve(resource.Properties) as Record<string, unknown>;
  return {
    ...(properties as unknown as WebACL),
    Id: WEB_ACL_ARN.split('/').at(-1),
    ARN: WEB_ACL_ARN,
    Capacity: 1000,
    LabelNamespace: `awswaf:${ACCOUNT}:webacl:${WEB_ACL_NAME}:`,
    ManagedByFirewallManager: false,
  };
}

/** The reference stack's outputs, as DescribeStacks returns them. */
export function stackOutputs(engine: Engine, tableName: string): CfnStack {
  const outputs: Output[] = [
    { OutputKey: ReferenceOutputs.webAclArn, OutputValue: WEB_ACL_ARN },
    { OutputKey: ReferenceOutputs.receiptTableName, OutputValue: tableName },
    { OutputKey: ReferenceOutputs.deployment, OutputValue: JSON.stringify(deploymentSummary(resolveX402Config(settingsFor(engine)))) },
  ];
  return { StackName: 'CdkX402', CreationTime: new Date('2026-11-01T00:00:00Z'), StackStatus: 'CREATE_COMPLETE', Outputs: outputs };
}

/**
 * WAF's web ACL API with optimistic locking: every update needs the lock token of the latest read
 * and replaces the whole web ACL; `beforeUpdate` lets a test change it concurrently.
 */
export class FakeWebAcls {
  lockToken = 'token-1';
  readonly updates: UpdateWebACLCommandInput[] = [];
  reads = 0;
  beforeUpdate?: (fake: FakeWebAcls, attempt: number) => void;

  constructor(public acl: WebACL) {}

  get(): Partial<GetWebACLCommandOutput> {
    this.reads++;
    return { WebACL: structuredClone(this.acl), LockToken: this.lockToken };
  }

  /** Someone else's change: new content, new lock token. */
  edit(change: (acl: WebACL) => WebACL): void {
    this.acl = change(structuredClone(this.acl));
    this.lockToken = `token-${Number(this.lockToken.split('-')[1]) + 1}`;
  }

  update(input: UpdateWebACLCommandInput): Partial<UpdateWebACLCommandOutput> {
    this.updates.push(structuredClone(input));
    this.beforeUpdate?.(this, this.updates.length);
    if (input.LockToken !== this.lockToken) {
      throw new WAFOptimisticLockException({ $metadata: { httpStatusCode: 400 }, message: 'AWS WAF couldn\u2019t save your changes because someone changed the resource after you started to edit it. Reapply your changes.' });
    }
    const { LockToken: _token, Scope: _scope, ...fields } = input;
    this.acl = { ...this.acl, ...structuredClone(fields) } as WebACL;
    this.edit((acl) => acl);
    return { NextLockToken: this.lockToken };
  }
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  json<T = any>(): T;
}

/** Runs the CLI in-process; DynamoDB goes to `dynamo` (dynalite), WAF and CloudFormation to their mocks. */
export async function cli(args: string[], options: { dynamo?: Pick<DynamoDBClient, 'send'>; now?: number; env?: Record<string, string> } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const deps: CliDeps = {
    io: { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t) },
    env: { ...options.env },
    now: () => options.now ?? Date.parse('2026-11-21T00:00:00Z'),
    clients: { ...defaultClients, ...(options.dynamo ? { dynamo: () => options.dynamo! } : {}) },
    sleep: async () => undefined,
  };
  const code = await runCli(args, deps);
  return { code, stdout, stderr, json: () => JSON.parse(stdout) };
}
