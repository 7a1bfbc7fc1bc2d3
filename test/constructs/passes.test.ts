/** Passes in the deployed stack: who sells them, who may read the signing key, what each bundle carries. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import { X402Paywall } from '../../lib/x402-paywall';
import type { IConstruct } from 'constructs';
import { codeKeys, paywallStack, propertiesOf, ROUTES } from './helpers';
import { newPassKeyPair } from '../../local/pass-key';

const KEY = newPassKeyPair();
const PASS_PROPS = {
  // Reads only: the origin-request function exists for the passes alone.
  routes: ROUTES.filter((r) => !r.pattern.startsWith('POST')),
  passes: [{ name: 'day', price: '$0.50', duration: '24h', routes: ['/articles/*'] }],
  passKeys: [{ kid: 'k1', publicKey: KEY.jwk, secret: 'x402/pass-key-k1' }],
};

function deployedCode(app: App, s3Key: string): string {
  return readFileSync(path.join(app.synth().directory, `asset.${s3Key.replace(/\.zip$/, '')}`, 'index.js'), 'utf8');
}
const idOf = (stack: Stack, fn: IConstruct) => stack.getLogicalId(fn.node.defaultChild as never);

describe('a paywall that sells passes', () => {
  const { app, stack, paywall } = paywallStack(PASS_PROPS);
  const verifier = paywall.verifier!;
  const template = Template.fromStack(stack);

  it('adds the origin-request function that sells them, even when no route prices a write', () => {
    expect(verifier.originRequest).toBeDefined();
    const [distribution] = propertiesOf(template, 'AWS::CloudFront::Distribution');
    const events = distribution.DistributionConfig.DefaultCacheBehavior.LambdaFunctionAssociations.map((a: { EventType: string }) => a.EventType);
    expect(events).toEqual(['viewer-request', 'origin-request', 'origin-response']);
  });

  it('lets only the origin-request function read the signing key', () => {
    const readsPassKey = (s: { Action: string | string[]; Resource: unknown }) =>
      [s.Action].flat().includes('secretsmanager:GetSecretValue') && JSON.stringify(s.Resource).includes(':secret:x402/pass-key-k1-??????');
    const readers = propertiesOf(template, 'AWS::IAM::Policy').filter((policy) => policy.PolicyDocument.Statement.some(readsPassKey));
    expect(readers).toHaveLength(1);
    const role = stack.resolve((verifier.originRequest!.lambda.role!.node.defaultChild as never as { ref: string }).ref);
    expect(readers[0].Roles).toEqual([role]);
  });

  it('lets only the viewer-request query the receipts by payer (sign-in with x), on the byPayer index alone', () => {
    const queries = (s: { Action: string | string[] }) => [s.Action].flat().includes('dynamodb:Query');
    const policies = propertiesOf(template, 'AWS::IAM::Policy').filter((policy) => policy.PolicyDocument.Statement.some(queries));
    expect(policies).toHaveLength(1);
    expect(policies[0].Roles).toEqual([stack.resolve((verifier.viewerRequest.lambda.role!.node.defaultChild as never as { ref: string }).ref)]);
    const table = { 'Fn::GetAtt': [stack.getLogicalId(paywall.receiptTable.table.node.defaultChild as never), 'Arn'] };
    expect(policies[0].PolicyDocument.Statement.filter(queries)).toEqual([
      { Effect: 'Allow', Action: 'dynamodb:Query', Resource: { 'Fn::Join': ['', [table, '/index/byPayer']] } },
    ]);
  });

  it('bakes public keys only into the viewer-request, and where the key is into the origin-request', () => {
    const keys = codeKeys(stack);
    const viewer = deployedCode(app, keys[idOf(stack, verifier.viewerRequest.lambda)]);
    const origin = deployedCode(app, keys[idOf(stack, verifier.originRequest!.lambda)]);
    expect(viewer).toContain(KEY.jwk.x);
    expect(viewer).not.toContain('x402/pass-key-k1');
    expect(origin).toContain('x402/pass-key-k1');
    expect(verifier._edgeConfig.passes).toMatchObject({ siteId: expect.stringMatching(/^0x209693bc6afc0c5328ba36faf03c514ef312287c\/[0-9a-f]{16}$/), offers: [{ name: 'day', durationSeconds: 86_400 }] });
  });

  it('graphs pass sales and pass use on the dashboard (nowhere else are they counted)', () => {
    const [dashboard] = propertiesOf(template, 'AWS::CloudWatch::Dashboard');
    const body = JSON.stringify(stack.resolve(dashboard.DashboardBody));
    expect(body).toContain('Passes: sold, and requests opened by a pass');
    expect(body).toMatch(/MetricName=\W+PassRequests/);
    expect(body).toMatch(/MetricName=\W+PassesSold/);
  });

  it('keeps its site id from synth to synth, and gives another stack another one (whose passes are refused here)', () => {
    expect(paywallStack(PASS_PROPS).paywall.verifier!._edgeConfig.passes!.siteId).toBe(verifier._edgeConfig.passes!.siteId);
    const staging = new Stack(new App(), 'Staging', { env: { region: 'us-east-1' } });
    const other = new X402Paywall(staging, 'Paywall', { payTo: paywall.config.payTo, ...PASS_PROPS, origin: new origins.HttpOrigin('origin.example.com') });
    expect(other.verifier!._edgeConfig.passes!.siteId).not.toBe(verifier._edgeConfig.passes!.siteId);
  });
});

describe('a pass with a quota', () => {
  const { stack, paywall } = paywallStack({ ...PASS_PROPS, passes: [{ ...PASS_PROPS.passes[0], quota: 1000 }] });
  const verifier = paywall.verifier!;
  const template = Template.fromStack(stack);

  it('bakes the quota into the offer the edge functions sell and count', () => {
    expect(verifier._edgeConfig.passes!.offers).toEqual([expect.objectContaining({ name: 'day', quota: 1000 })]);
  });

  it("counts uses with the viewer-request's existing grant: the same four conditional actions on the table, and only the sign-in's Query of the byPayer index", () => {
    const role = stack.resolve((verifier.viewerRequest.lambda.role!.node.defaultChild as never as { ref: string }).ref);
    const table = { 'Fn::GetAtt': [stack.getLogicalId(paywall.receiptTable.table.node.defaultChild as never), 'Arn'] };
    const policies = propertiesOf(template, 'AWS::IAM::Policy').filter((policy) => JSON.stringify(policy.Roles) === JSON.stringify([role]));
    expect(policies.map((policy) => policy.PolicyDocument.Statement)).toEqual([
      [
        { Effect: 'Allow', Action: ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem'], Resource: table },
        { Effect: 'Allow', Action: 'dynamodb:Query', Resource: { 'Fn::Join': ['', [table, '/index/byPayer']] } },
      ],
    ]);
  });
});
