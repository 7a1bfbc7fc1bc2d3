/**
 * The origin secret's rotation Lambda (lambda/origin/rotation-handler.ts) through its four steps,
 * against Secrets Manager and CloudFront behind aws-sdk-client-mock (test/support/origin-secret-fakes.ts).
 */
import { PreconditionFailed, UpdateDistributionCommand } from '@aws-sdk/client-cloudfront';
import { PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { handler } from '../../lambda/origin/rotation-handler';
import type { RotationStep } from '../../lambda/origin/rotation';
import { RotationEnvironment } from '../../lambda/origin/secret-header';
import { distributionConfig, FakeCloudFront, FakeSecretsManager, SECRET_ARN } from '../support/origin-secret-fakes';

const TOKEN = '6f1c7a52-0d9b-4d61-9a8e-2f1f0c3b7e11';
const OLD = 'OldValueOldValueOldValueOldValueOldValueOldValueOldValueOldValue';
const step = (Step: RotationStep, ClientRequestToken = TOKEN) => handler({ Step, SecretId: SECRET_ARN, ClientRequestToken, RotationToken: 'rotation-token' });

describe('origin secret rotation, step by step', () => {
  let secrets: FakeSecretsManager;
  let cloudfront: FakeCloudFront;

  beforeEach(() => {
    process.env[RotationEnvironment.distributionIds] = 'E1PAYWALLSITE,E2PAYWALLSHOP';
    process.env[RotationEnvironment.headerName] = 'x-origin-verify';
    secrets = new FakeSecretsManager(OLD);
    cloudfront = new FakeCloudFront({ E1PAYWALLSITE: distributionConfig(OLD), E2PAYWALLSHOP: distributionConfig(OLD) });
    secrets.startRotation(TOKEN);
  });

  afterEach(() => {
    secrets.mock.restore();
    cloudfront.mock.restore();
  });

  it('createSecret stores a new random header-safe value as AWSPENDING for the token, once', async () => {
    await step('createSecret');
    const pending = secrets.valueAt('AWSPENDING')!;
    expect(pending).toMatch(/^[A-Za-z0-9_-]{64}$/);
    expect(pending).not.toBe(OLD);
    expect(secrets.mock.commandCalls(PutSecretValueCommand)[0].args[0].input).toEqual({
      SecretId: SECRET_ARN,
      ClientRequestToken: TOKEN,
      SecretString: pending,
      VersionStages: ['AWSPENDING'],
    });
    await step('createSecret'); // Secrets Manager retries a step with the same token
    expect(secrets.mock.commandCalls(PutSecretValueCommand)).toHaveLength(1);
    expect(secrets.valueAt('AWSPENDING')).toBe(pending);
    expect(secrets.valueAt('AWSCURRENT')).toBe(OLD);
  });

  it('setSecret switches every distribution\'s origin header to the pending value, with the ETag, changing nothing else', async () => {
    await step('createSecret');
    await step('setSecret');
    const pending = secrets.valueAt('AWSPENDING')!;
    const updates = cloudfront.mock.commandCalls(UpdateDistributionCommand).map((c) => c.args[0].input);
    expect(updates).toEqual([
      { Id: 'E1PAYWALLSITE', IfMatch: 'E2QWRUHEXAMPLE', DistributionConfig: distributionConfig(pending) },
      { Id: 'E2PAYWALLSHOP', IfMatch: 'E2QWRUHEXAMPLE', DistributionConfig: distributionConfig(pending) },
    ]);
    await step('setSecret');
    expect(cloudfront.mock.commandCalls(UpdateDistributionCommand)).toHaveLength(2);
  });

  it('setSecret fails on a concurrent change of the distribution (PreconditionFailed) instead of overwriting it, and a retry succeeds', async () => {
    await step('createSecret');
    cloudfront.changeConcurrently('E1PAYWALLSITE');
    await expect(step('setSecret')).rejects.toThrow(PreconditionFailed);
    expect(cloudfront.headerSent('E1PAYWALLSITE')).toBe(OLD);
    await step('setSecret');
    expect(cloudfront.headerSent('E1PAYWALLSITE')).toBe(secrets.valueAt('AWSPENDING'));
  });

  it('setSecret refuses a distribution none of whose origins carries the header', async () => {
    cloudfront.distributions.get('E2PAYWALLSHOP')!.config = distributionConfig(OLD, 'x-something-else');
    await step('createSecret');
    await expect(step('setSecret')).rejects.toThrow(/distribution E2PAYWALLSHOP has no origin with the custom header x-origin-verify/);
  });

  it('testSecret passes only once the distributions carry the pending value', async () => {
    await step('createSecret');
    await expect(step('testSecret')).rejects.toThrow(/distribution E1PAYWALLSITE: 1 origin header\(s\) x-origin-verify do not carry the pending value/);
    await step('setSecret');
    await expect(step('testSecret')).resolves.toBeUndefined();
  });

  it('testSecret, as Secrets Manager runs it to check a new schedule (a pending version without a value), checks access and the header only', async () => {
    await expect(step('testSecret')).resolves.toBeUndefined();
    cloudfront.distributions.get('E2PAYWALLSHOP')!.config = distributionConfig(OLD, 'x-something-else');
    await expect(step('testSecret')).rejects.toThrow(/distribution E2PAYWALLSHOP has no origin with the custom header x-origin-verify/);
    expect(cloudfront.mock.commandCalls(UpdateDistributionCommand)).toHaveLength(0);
  });

  it('finishSecret makes the new value AWSCURRENT and the old one AWSPREVIOUS, once', async () => {
    for (const s of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const) await step(s);
    const fresh = cloudfront.headerSent('E1PAYWALLSITE');
    expect(secrets.valueAt('AWSCURRENT')).toBe(fresh);
    expect(secrets.valueAt('AWSPREVIOUS')).toBe(OLD);
    expect(secrets.mock.commandCalls(UpdateSecretVersionStageCommand).map((c) => c.args[0].input)).toEqual([
      { SecretId: SECRET_ARN, VersionStage: 'AWSCURRENT', MoveToVersionId: TOKEN, RemoveFromVersionId: '00000000-0000-4000-8000-000000000000' },
    ]);
    await step('finishSecret');
    expect(secrets.mock.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
  });

  it('refuses to rotate a secret without rotation enabled, or a token that is not the pending version', async () => {
    secrets.rotationEnabled = false;
    await expect(step('createSecret')).rejects.toThrow(/does not have rotation enabled/);
    secrets.rotationEnabled = true;
    await expect(step('createSecret', 'not-a-version')).rejects.toThrow(/version not-a-version of secret .* is not a version being rotated/);
    expect(secrets.mock.commandCalls(PutSecretValueCommand)).toHaveLength(0);
  });

  it('fails with a message naming the setting when the construct did not configure it', async () => {
    delete process.env[RotationEnvironment.distributionIds];
    await expect(step('setSecret')).rejects.toThrow(/X402_ORIGIN_DISTRIBUTION_IDS is not set: the OriginSecret construct sets it/);
  });
});
