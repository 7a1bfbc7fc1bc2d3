import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ORIGIN_SECRET_HEADER, RotationEnvironment } from '../../lambda/origin/secret-header';
import { ReferenceOutputs } from '../../lib/deployment-outputs';
import { applyNagChecks } from '../../bin/nag';
import { CloudFrontOriginIngress, CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST, OriginSecret, UNPROTECTED_ORIGIN_WARNING } from '../../lib/origin-protection';
import { OriginProtection } from '../../lib/config/settings';
import { X402Paywall } from '../../lib/x402-paywall';
import { only, paywallStack, propertiesOf, referenceApp, SETTINGS } from './helpers';

const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
const unprotectedWarnings = (stack: Stack) => Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp(UNPROTECTED_ORIGIN_WARNING)).map((w) => String(w.entry.data));
const dynamicReference = (secretLogicalId: string) => ({ 'Fn::Join': ['', ['{{resolve:secretsmanager:', { Ref: secretLogicalId }, ':SecretString:::}}']] });

describe('X402Paywall in front of an HTTP origin: the secret origin header by default', () => {
  const { app, stack, paywall } = paywallStack();
  const template = Template.fromStack(stack);
  const secret = paywall.originSecret!;
  const secretId = logicalId(stack, secret.secret);
  const rotation = template.toJSON().Resources[logicalId(stack, secret.rotationFunction)].Properties;

  it('has Secrets Manager generate the value at deploy time, so it is in neither the template nor the cloud assembly', () => {
    expect(only(template, 'AWS::SecretsManager::Secret')).toEqual({
      Description: expect.stringContaining('x-origin-verify'),
      GenerateSecretString: { ExcludePunctuation: true, IncludeSpace: false, PasswordLength: 64 },
    });
    const assembly = app.synth();
    const templateText = readFileSync(path.join(assembly.directory, assembly.getStackByName(stack.stackName).templateFile), 'utf8');
    expect(templateText).not.toMatch(/"SecretString"\s*:/);
  });

  it('adds the header to the origin as a CloudFormation dynamic reference to the secret', () => {
    const [origin] = only(template, 'AWS::CloudFront::Distribution').DistributionConfig.Origins;
    expect(origin.DomainName).toBe('origin.example.com');
    expect(origin.OriginCustomHeaders).toEqual([{ HeaderName: ORIGIN_SECRET_HEADER, HeaderValue: dynamicReference(secretId) }]);
  });

  it('rotates it every 30 days with a regional function, never during the deployment itself', () => {
    expect(only(template, 'AWS::SecretsManager::RotationSchedule')).toEqual({
      SecretId: { Ref: secretId },
      RotationLambdaARN: { 'Fn::GetAtt': [logicalId(stack, secret.rotationFunction), 'Arn'] },
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      RotateImmediatelyOnUpdate: false,
    });
    expect(rotation).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', Timeout: 60 });
    expect(rotation.Environment.Variables).toEqual({
      [RotationEnvironment.distributionIds]: { Ref: logicalId(stack, paywall.distribution as cloudfront.Distribution) },
      [RotationEnvironment.headerName]: ORIGIN_SECRET_HEADER,
    });
  });

  it('lets only Secrets Manager invoke the rotation, for this secret, before the schedule exists', () => {
    const permissions = template.findResources('AWS::Lambda::Permission');
    const [permissionId, permission] = Object.entries(permissions).find(([, p]) => p.Properties.Principal === 'secretsmanager.amazonaws.com')!;
    expect(permission.Properties).toMatchObject({ Action: 'lambda:InvokeFunction', SourceArn: { Ref: secretId } });
    const schedule = Object.values(template.findResources('AWS::SecretsManager::RotationSchedule'))[0];
    expect(schedule.DependsOn).toContain(permissionId);
  });

  it('grants the rotation exactly: the rotation actions on this secret, the distribution, the edge function versions, its log group', () => {
    const role = template.toJSON().Resources[logicalId(stack, secret.rotationRole)].Properties;
    expect(role.AssumeRolePolicyDocument.Statement).toEqual([{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }]);
    expect(role.ManagedPolicyArns).toBeUndefined();
    const statements = propertiesOf(template, 'AWS::IAM::Policy')
      .filter((p) => p.Roles[0].Ref === logicalId(stack, secret.rotationRole))
      .flatMap((p) => p.PolicyDocument.Statement);
    const distributionArn = {
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudfront::', { Ref: 'AWS::AccountId' }, ':distribution/', { Ref: logicalId(stack, paywall.distribution as cloudfront.Distribution) }]],
    };
    expect(statements).toEqual([
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [logicalId(stack, secret.logGroup), 'Arn'] } },
      {
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue', 'secretsmanager:UpdateSecretVersionStage'],
        Effect: 'Allow',
        Resource: { Ref: secretId },
      },
      {
        Action: ['lambda:GetFunction', 'lambda:EnableReplication*'],
        Effect: 'Allow',
        // Every edge function version of the distribution, in any order.
        Resource: expect.arrayContaining(Object.keys(template.findResources('AWS::Lambda::Version')).map((id) => ({ Ref: id }))),
      },
      { Action: ['cloudfront:GetDistributionConfig', 'cloudfront:UpdateDistribution'], Effect: 'Allow', Resource: distributionArn },
    ]);
    expect(JSON.stringify(statements)).not.toContain('"*"');
    expect(statements[2].Resource).toHaveLength(Object.keys(template.findResources('AWS::Lambda::Version')).length);
  });

  it('deploys the prebuilt rotation bundle, which uses the CloudFront and Secrets Manager clients of the nodejs24.x runtime', () => {
    const assembly = app.synth();
    const code = readFileSync(path.join(assembly.directory, `asset.${(rotation.Code.S3Key as string).replace(/\.zip$/, '')}`, 'index.js'), 'utf8');
    expect(code).toContain('UpdateDistribution');
    expect(code).toContain('UpdateSecretVersionStage');
    expect(code).toMatch(/require\(["']@aws-sdk\/client-cloudfront["']\)/);
    expect(code).toMatch(/require\(["']@aws-sdk\/client-secrets-manager["']\)/);
  });

  it('synthesizes without an unprotected-origin warning', () => {
    expect(unprotectedWarnings(stack)).toEqual([]);
  });

  it('keeps the secret and its rotation in the stack\'s region when the edge functions live in a us-east-1 companion', () => {
    const elsewhere = paywallStack({}, 'eu-west-1');
    expect(Stack.of(elsewhere.paywall.originSecret!.rotationFunction).region).toBe('eu-west-1');
    const edgeGrant = propertiesOf(Template.fromStack(elsewhere.stack), 'AWS::IAM::Policy')
      .flatMap((p) => p.PolicyDocument.Statement)
      .find((s: any) => JSON.stringify(s.Action).includes('lambda:GetFunction'));
    // The versions' ARNs, read across regions like the distribution's associations.
    expect(edgeGrant.Resource).toHaveLength(elsewhere.paywall.verifier!.edgeLambdas.length);
  });
});

describe('opting out of origin protection', () => {
  it('creates no secret and warns, naming the fix, when originProtection is none', () => {
    const { stack, paywall } = paywallStack({ originProtection: OriginProtection.NONE });
    expect(paywall.originSecret).toBeUndefined();
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(only(template, 'AWS::CloudFront::Distribution').DistributionConfig.Origins[0].OriginCustomHeaders).toBeUndefined();
    const [warning] = unprotectedWarnings(stack);
    expect(warning).toMatch(/origin\.example\.com is an HTTP origin that CloudFront reaches without a secret header/);
    expect(warning).toMatch(/Fix: keep originProtection 'secret-header'.*x402:originProtection.*createOriginSecretCheck/);
  });

  it('is a context key of the reference stack, validated like the others', () => {
    const { stack } = referenceApp({ 'x402:originProtection': 'none' });
    expect(unprotectedWarnings(stack)).toHaveLength(1);
    expect(Template.fromStack(stack).findOutputs(ReferenceOutputs.originSecretArn)).toEqual({});
    expect(() => referenceApp({ 'x402:originProtection': 'off' })).toThrow(/x402:originProtection = "off": must be one of secret-header, none[\s\S]*Fix: e\.g\. -c x402:originProtection=secret-header/);
  });
});

describe('the reference stack', () => {
  it('protects its HTTP origin with the secret header by default, with no warning, and outputs the secret for the origin', () => {
    const { stack } = referenceApp();
    const template = Template.fromStack(stack);
    const secretId = logicalId(stack, stack.paywall.originSecret!.secret);
    expect(only(template, 'AWS::CloudFront::Distribution').DistributionConfig.Origins[0].OriginCustomHeaders).toEqual([
      { HeaderName: ORIGIN_SECRET_HEADER, HeaderValue: dynamicReference(secretId) },
    ]);
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 1);
    expect(unprotectedWarnings(stack)).toEqual([]);
    template.hasOutput(ReferenceOutputs.originSecretArn, { Value: { Ref: secretId } });
  });
});

describe('S3 origins', () => {
  const withBucket = (makeOrigin: (bucket: s3.Bucket) => cloudfront.IOrigin) => {
    const app = new App();
    const stack = new Stack(app, 'Site', { env: { region: 'us-east-1' } });
    const bucket = new s3.Bucket(stack, 'Content', { blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL });
    return paywallStackIn(stack, makeOrigin(bucket));
  };

  it('accepts a bucket behind origin access control: no secret, no warning', () => {
    const { stack, paywall } = withBucket((bucket) => origins.S3BucketOrigin.withOriginAccessControl(bucket));
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    expect(only(template, 'AWS::CloudFront::Distribution').DistributionConfig.Origins[0].OriginAccessControlId).toBeDefined();
    expect(paywall.originSecret).toBeUndefined();
    template.resourceCountIs('AWS::SecretsManager::Secret', 0);
    expect(unprotectedWarnings(stack)).toEqual([]);
  });

  it('warns about a bucket origin without origin access control, naming S3BucketOrigin.withOriginAccessControl', () => {
    const { stack } = withBucket((bucket) => origins.S3BucketOrigin.withBucketDefaults(bucket));
    expect(unprotectedWarnings(stack)).toEqual([expect.stringMatching(/S3 bucket origin without origin access control[\s\S]*Fix: origins\.S3BucketOrigin\.withOriginAccessControl\(bucket\)/)]);
  });

  it('warns about an S3 website endpoint, which cannot check a header, and adds none to it', () => {
    const { stack, paywall } = withBucket((bucket) => new origins.S3StaticWebsiteOrigin(bucket));
    expect(unprotectedWarnings(stack)).toEqual([expect.stringMatching(/S3 website endpoint, which is public[\s\S]*Fix: serve the bucket through origins\.S3BucketOrigin\.withOriginAccessControl/)]);
    expect(paywall.originSecret).toBeUndefined();
  });
});

describe('VPC origins', () => {
  it('are accepted as protected: private by construction, no secret, no warning', () => {
    const app = new App();
    const stack = new Stack(app, 'Site', { env: { region: 'us-east-1' } });
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'private', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }] });
    const alb = new elbv2.ApplicationLoadBalancer(stack, 'Alb', { vpc, internetFacing: false });
    const { paywall } = paywallStackIn(stack, origins.VpcOrigin.withApplicationLoadBalancer(alb));
    expect(only(Template.fromStack(stack), 'AWS::CloudFront::Distribution').DistributionConfig.Origins[0].VpcOriginConfig).toBeDefined();
    expect(paywall.originSecret).toBeUndefined();
    expect(unprotectedWarnings(stack)).toEqual([]);
  });
});

describe('OriginSecret in a distribution of your own', () => {
  const build = (configure: (stack: Stack, secret: OriginSecret) => void) => {
    const app = new App();
    const stack = new Stack(app, 'Site', { env: { region: 'us-east-1' } });
    const secret = new OriginSecret(stack, 'OriginSecret', { headerName: 'X-Site-Secret', rotationInterval: Duration.days(7) });
    configure(stack, secret);
    return { app, stack, secret, template: () => Template.fromStack(stack) };
  };

  it('puts the header on every member of an origin group and on every behavior, one origin per protect()ed origin', () => {
    let site!: cloudfront.Distribution;
    const { stack, secret, template: synthesized } = build((stack, secret) => {
      const primary = secret.protect(new origins.OriginGroup({ primaryOrigin: new origins.HttpOrigin('a.example.com'), fallbackOrigin: new origins.HttpOrigin('b.example.com') }));
      site = new cloudfront.Distribution(stack, 'Site', { defaultBehavior: { origin: primary }, additionalBehaviors: { '/img/*': { origin: primary } } });
    });
    const template = synthesized();
    const config = only(template, 'AWS::CloudFront::Distribution').DistributionConfig;
    expect(config.Origins.map((o: any) => [o.DomainName, o.OriginCustomHeaders])).toEqual([
      ['a.example.com', [{ HeaderName: 'x-site-secret', HeaderValue: dynamicReference(logicalId(stack, secret.secret)) }]],
      ['b.example.com', [{ HeaderName: 'x-site-secret', HeaderValue: dynamicReference(logicalId(stack, secret.secret)) }]],
    ]);
    expect(only(template, 'AWS::SecretsManager::RotationSchedule').RotationRules).toEqual({ ScheduleExpression: 'rate(7 days)' });
    expect(only(template, 'AWS::Lambda::Function').Environment.Variables[RotationEnvironment.distributionIds]).toEqual({ Ref: logicalId(stack, site) });
  });

  it('fails synth when no distribution uses it (its rotation would have nothing to update)', () => {
    const { app } = build(() => undefined);
    expect(() => app.synth()).toThrow(/no distribution carries its header[\s\S]*originSecret\.protect\(origin\)/);
  });

  it('refuses an origin that already sets the header, and header names CloudFront refuses', () => {
    expect(() =>
      build((stack, secret) => {
        new cloudfront.Distribution(stack, 'Site', { defaultBehavior: { origin: secret.protect(new origins.HttpOrigin('a.example.com', { customHeaders: { 'x-site-secret': 'static' } })) } });
      }),
    ).toThrow(/already sets the custom header x-site-secret/);
    const stack = new Stack(new App(), 'Other', { env: { region: 'us-east-1' } });
    expect(() => new OriginSecret(stack, 'Bad', { headerName: 'x-amz-date' })).toThrow(/headerName "x-amz-date" cannot be a CloudFront origin custom header/);
    expect(() => new OriginSecret(stack, 'Often', { rotationInterval: Duration.hours(1) })).toThrow(/rotationInterval must be from 4 hours to 1000 days/);
  });
});

describe('CloudFrontOriginIngress, for ALB and EC2 origins', () => {
  const app = new App();
  const stack = new Stack(app, 'Site', { env: { region: 'eu-west-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0 });
  const group = new ec2.SecurityGroup(stack, 'AlbSecurityGroup', { vpc, allowAllOutbound: false });
  const ingress = new CloudFrontOriginIngress(stack, 'FromCloudFront', { securityGroup: group });
  const template = Template.fromStack(stack);

  it('allows port 443 only from the CloudFront origin-facing prefix list, resolved at deploy time', () => {
    expect(template.toJSON().Resources[logicalId(stack, group)].Properties.SecurityGroupIngress).toBeUndefined();
    expect(propertiesOf(template, 'AWS::EC2::SecurityGroupIngress')).toEqual([
      {
        Description: 'CloudFront origin-facing servers only (cdk-x402)',
        GroupId: { 'Fn::GetAtt': [logicalId(stack, group), 'GroupId'] },
        FromPort: 443,
        ToPort: 443,
        IpProtocol: 'tcp',
        SourcePrefixListId: { 'Fn::GetAtt': [logicalId(stack, ingress.lookup), 'PrefixLists.0.PrefixListId'] },
      },
    ]);
  });

  it('looks the id up with EC2 DescribeManagedPrefixLists in the stack\'s region, allowed that one read-only action', () => {
    const lookup = template.toJSON().Resources[logicalId(stack, ingress.lookup)].Properties;
    const call = JSON.parse(lookup.Create);
    expect(call).toEqual({
      service: 'EC2',
      action: 'describeManagedPrefixLists',
      parameters: { Filters: [{ Name: 'prefix-list-name', Values: [CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST] }] },
      physicalResourceId: { id: CLOUDFRONT_ORIGIN_FACING_PREFIX_LIST },
      outputPaths: ['PrefixLists.0.PrefixListId'],
    }); // no region: the provider calls EC2 in its own region, the stack's
    const statements = propertiesOf(template, 'AWS::IAM::Policy').flatMap((p) => p.PolicyDocument.Statement);
    expect(statements).toEqual([{ Action: 'ec2:DescribeManagedPrefixLists', Effect: 'Allow', Resource: '*' }]);
  });

  it('keeps synth offline: no context lookup, so no credentials', () => {
    expect(app.synth().manifest.missing).toBeUndefined();
  });

  it('passes the cdk-nag AwsSolutions checks, its findings acknowledged with a reason', () => {
    const nagged = new App();
    const own = new Stack(nagged, 'Alb', { env: { region: 'eu-west-1' } });
    new CloudFrontOriginIngress(own, 'FromCloudFront', { securityGroup: ec2.SecurityGroup.fromSecurityGroupId(own, 'Group', 'sg-0123456789abcdef0') });
    applyNagChecks(nagged);
    const report = JSON.parse(readFileSync(path.join(nagged.synth().directory, 'validation-report.json'), 'utf8'));
    const nag = report.pluginReports.find((r: any) => r.pluginName === 'AwsSolutions');
    expect(nag.violations).toEqual([]);
    expect(nag.suppressedViolations.map((v: any) => v.ruleName).sort()).toEqual([
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'AwsSolutions-IAM5[Resource::*]',
    ]);
  });
});

/** A paywall in a given stack in front of a given origin. */
function paywallStackIn(stack: Stack, origin: cloudfront.IOrigin): { stack: Stack; paywall: X402Paywall } {
  return { stack, paywall: new X402Paywall(stack, 'Paywall', { ...SETTINGS, origin }) };
}
