/**
 * Secrets Manager and CloudFront as far as the origin secret's rotation and check use them, behind
 * aws-sdk-client-mock (the control plane cannot run here). They keep state the way the services
 * do: staging labels move between versions, and a distribution's ETag changes with every update.
 * Response shapes follow the SDK's types.
 */
import {
  CloudFrontClient,
  GetDistributionConfigCommand,
  PreconditionFailed,
  UpdateDistributionCommand,
  type DistributionConfig,
} from '@aws-sdk/client-cloudfront';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';

export const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:PaywallOriginSecret-AbCdEf';
const SECRET_NAME = 'PaywallOriginSecret';

const metadata = { httpStatusCode: 400, requestId: 'fake', attempts: 1, totalRetryDelay: 0 };

export class FakeSecretsManager {
  readonly mock = mockClient(SecretsManagerClient);
  readonly versions = new Map<string, { value?: string; stages: string[]; created: Date }>();
  rotationEnabled = true;

  constructor(initialValue: string) {
    this.versions.set('00000000-0000-4000-8000-000000000000', { value: initialValue, stages: ['AWSCURRENT'], created: new Date('2026-01-01T00:00:00Z') });
    this.mock.on(DescribeSecretCommand).callsFake(() => ({
      ARN: SECRET_ARN,
      Name: SECRET_NAME,
      RotationEnabled: this.rotationEnabled,
      RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:CdkX402-PaywallOriginSecretRotation',
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      VersionIdsToStages: Object.fromEntries([...this.versions].filter(([, v]) => v.stages.length > 0).map(([id, v]) => [id, [...v.stages]])),
      $metadata: {},
    }));
    this.mock.on(GetSecretValueCommand).callsFake(({ VersionId, VersionStage = 'AWSCURRENT' }) => {
      // A version Secrets Manager opened for a rotation has no value until createSecret puts one.
      const found = [...this.versions].find(([id, v]) => (VersionId === undefined || id === VersionId) && v.stages.includes(VersionStage) && v.value !== undefined);
      if (!found) {
        throw new ResourceNotFoundException({ message: `Secrets Manager can't find the specified secret value for staging label: ${VersionStage}`, $metadata: metadata });
      }
      const [id, version] = found;
      return { ARN: SECRET_ARN, Name: SECRET_NAME, VersionId: id, SecretString: version.value, VersionStages: [...version.stages], CreatedDate: version.created, $metadata: {} };
    });
    this.mock.on(PutSecretValueCommand).callsFake(({ ClientRequestToken, SecretString, VersionStages = ['AWSCURRENT'] }) => {
      for (const stage of VersionStages) this.removeStage(stage);
      this.versions.set(ClientRequestToken!, { value: SecretString!, stages: [...VersionStages], created: new Date() });
      return { ARN: SECRET_ARN, Name: SECRET_NAME, VersionId: ClientRequestToken, VersionStages, $metadata: {} };
    });
    this.mock.on(UpdateSecretVersionStageCommand).callsFake(({ VersionStage, MoveToVersionId, RemoveFromVersionId }) => {
      const holder = [...this.versions].find(([, v]) => v.stages.includes(VersionStage!))?.[0];
      if (holder !== undefined && holder !== RemoveFromVersionId) {
        throw new Error(`InvalidParameterException: the staging label ${VersionStage} is attached to version ${holder}; give it as RemoveFromVersionId`);
      }
      if (VersionStage === 'AWSCURRENT' && holder !== undefined) {
        // Secrets Manager labels the version that loses AWSCURRENT AWSPREVIOUS.
        this.removeStage('AWSPREVIOUS');
        this.versions.get(holder)!.stages.push('AWSPREVIOUS');
      }
      this.removeStage(VersionStage!);
      this.versions.get(MoveToVersionId!)!.stages.push(VersionStage!);
      return { ARN: SECRET_ARN, Name: SECRET_NAME, $metadata: {} };
    });
  }

  /** What Secrets Manager does when a rotation starts: a version for the token, labelled AWSPENDING, without a value. */
  startRotation(token: string): void {
    this.removeStage('AWSPENDING');
    this.versions.set(token, { stages: ['AWSPENDING'], created: new Date() });
  }

  valueAt(stage: string): string | undefined {
    return [...this.versions.values()].find((v) => v.stages.includes(stage))?.value;
  }

  private removeStage(stage: string): void {
    for (const version of this.versions.values()) version.stages = version.stages.filter((s) => s !== stage);
  }
}

/** A distribution like the paywall builds: a custom origin with the header, and an S3 origin without. */
export function distributionConfig(headerValue: string, headerName = 'x-origin-verify'): DistributionConfig {
  return {
    CallerReference: 'cdk-x402-1767225600000',
    Aliases: { Quantity: 0 },
    DefaultRootObject: '',
    Origins: {
      Quantity: 2,
      Items: [
        {
          Id: 'CdkX402PaywallDistributionOrigin1CC8AF476',
          DomainName: 'origin.example.com',
          OriginPath: '',
          CustomHeaders: { Quantity: 2, Items: [{ HeaderName: 'x-site', HeaderValue: 'shop' }, { HeaderName: headerName, HeaderValue: headerValue }] },
          CustomOriginConfig: {
            HTTPPort: 80,
            HTTPSPort: 443,
            OriginProtocolPolicy: 'https-only',
            OriginSslProtocols: { Quantity: 1, Items: ['TLSv1.2'] },
            OriginReadTimeout: 30,
            OriginKeepaliveTimeout: 5,
          },
          ConnectionAttempts: 3,
          ConnectionTimeout: 10,
          OriginShield: { Enabled: false },
          OriginAccessControlId: '',
        },
        {
          Id: 'CdkX402PaywallDistributionOrigin2Images',
          DomainName: 'images.s3.us-east-1.amazonaws.com',
          OriginPath: '',
          CustomHeaders: { Quantity: 0 },
          S3OriginConfig: { OriginAccessIdentity: '' },
          ConnectionAttempts: 3,
          ConnectionTimeout: 10,
          OriginShield: { Enabled: false },
          OriginAccessControlId: 'E2OACEXAMPLE',
        },
      ],
    },
    DefaultCacheBehavior: {
      TargetOriginId: 'CdkX402PaywallDistributionOrigin1CC8AF476',
      ViewerProtocolPolicy: 'redirect-to-https',
      CachePolicyId: '658327ea-f89d-4fab-a63d-7e88639e58f6',
      LambdaFunctionAssociations: {
        Quantity: 1,
        Items: [{ EventType: 'viewer-request', LambdaFunctionARN: 'arn:aws:lambda:us-east-1:123456789012:function:CdkX402-ViewerRequest:3', IncludeBody: false }],
      },
    },
    Comment: 'cdk-x402 edge engine',
    Enabled: true,
    WebACLId: 'arn:aws:wafv2:us-east-1:123456789012:global/webacl/cdk-x402/0c1d2e3f',
    HttpVersion: 'http2and3',
  };
}

export class FakeCloudFront {
  readonly mock = mockClient(CloudFrontClient);
  readonly distributions = new Map<string, { config: DistributionConfig; etag: string }>();
  private updates = 0;
  private changeAfterNextRead?: string;

  constructor(configs: Record<string, DistributionConfig>) {
    for (const [id, config] of Object.entries(configs)) this.distributions.set(id, { config, etag: 'E2QWRUHEXAMPLE' });
    this.mock.on(GetDistributionConfigCommand).callsFake(({ Id }) => {
      const distribution = this.distributions.get(Id!)!;
      const response = { DistributionConfig: structuredClone(distribution.config), ETag: distribution.etag, $metadata: {} };
      if (this.changeAfterNextRead === Id) {
        this.changeAfterNextRead = undefined;
        distribution.etag = `E${++this.updates}STACKUPDATEEXAMPLE`;
      }
      return response;
    });
    this.mock.on(UpdateDistributionCommand).callsFake(({ Id, IfMatch, DistributionConfig: config }) => {
      const distribution = this.distributions.get(Id!)!;
      if (IfMatch !== distribution.etag) throw new PreconditionFailed({ message: 'The request failed because it didn\'t meet the preconditions in one or more request-header fields.', $metadata: { ...metadata, httpStatusCode: 412 } });
      distribution.config = structuredClone(config!);
      distribution.etag = `E${++this.updates}UPDATEDEXAMPLE`;
      return { Distribution: { Id, ARN: `arn:aws:cloudfront::123456789012:distribution/${Id}`, Status: 'InProgress', DistributionConfig: config }, ETag: distribution.etag, $metadata: {} };
    });
  }

  /** Someone else (a stack update) changes the distribution right after its next read. */
  changeConcurrently(id: string): void {
    this.changeAfterNextRead = id;
  }

  /** The value CloudFront sends in `headerName` to the first origin of a distribution. */
  headerSent(id: string, headerName = 'x-origin-verify'): string | undefined {
    return this.distributions.get(id)!.config.Origins!.Items![0].CustomHeaders!.Items!.find((h) => h.HeaderName === headerName)?.HeaderValue;
  }
}
