/**
 * Rotation of the origin secret (lib/origin-protection.ts wires it as the secret's rotation
 * function), in the four steps Secrets Manager invokes:
 *
 * - createSecret: a new random value, stored as AWSPENDING (once per rotation token);
 * - setSecret: every distribution's origins that carry the header send the pending value
 *   (GetDistributionConfig, change the header, UpdateDistribution with the ETag);
 * - testSecret: the distributions' configurations carry the pending value (when Secrets Manager
 *   tests a new schedule with a pending version without a value: that they are readable and
 *   carry the header);
 * - finishSecret: AWSCURRENT moves to the new version (the old one becomes AWSPREVIOUS).
 *
 * The origin accepts the pending, current and previous values (ACCEPTED_SECRET_STAGES), so edge
 * locations switching over at their own pace are served throughout. Every step is idempotent:
 * Secrets Manager retries a failed step with the same token.
 */
import { randomBytes } from 'node:crypto';
import { GetDistributionConfigCommand, UpdateDistributionCommand, type CloudFrontClient, type DistributionConfig } from '@aws-sdk/client-cloudfront';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';

export type RotationStep = 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';

/** The event Secrets Manager invokes a rotation function with. */
export interface RotationEvent {
  readonly Step: RotationStep;
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly RotationToken?: string;
}

export interface RotationContext {
  readonly secrets: SecretsManagerClient;
  readonly cloudfront: CloudFrontClient;
  /** Distributions whose origins carry the header. */
  readonly distributionIds: readonly string[];
  readonly headerName: string;
  readonly log?: (line: Record<string, unknown>) => void;
}

/** 48 random bytes, base64url: 64 header-safe characters. */
export function newOriginSecretValue(): string {
  return randomBytes(48).toString('base64url');
}

export async function rotateOriginSecret(event: RotationEvent, context: RotationContext): Promise<void> {
  const { Step: step, SecretId: secretId, ClientRequestToken: token } = event;
  const log = context.log ?? (() => undefined);
  const metadata = await context.secrets.send(new DescribeSecretCommand({ SecretId: secretId }));
  if (!metadata.RotationEnabled) throw new Error(`secret ${secretId} does not have rotation enabled`);
  const versions = metadata.VersionIdsToStages ?? {};
  const stages = versions[token];
  if (!stages) throw new Error(`version ${token} of secret ${secretId} is not a version being rotated`);
  if (stages.includes('AWSCURRENT')) {
    log({ event: 'x402.origin_secret_rotation', step, secretId, outcome: 'already current' });
    return;
  }
  if (!stages.includes('AWSPENDING')) throw new Error(`version ${token} of secret ${secretId} is not AWSPENDING`);

  switch (step) {
    case 'createSecret':
      await createSecret(context, secretId, token);
      break;
    case 'setSecret':
      for (const id of context.distributionIds) await sendPendingValue(context, id, await pendingValue(context, secretId, token));
      break;
    case 'testSecret': {
      // Creating a schedule without rotating, Secrets Manager tests the configuration with a pending version of its own: then only access and the header are checked.
      const value = await pendingValue(context, secretId, token).catch((error: unknown) => {
        if (error instanceof ResourceNotFoundException) return undefined;
        throw error;
      });
      for (const id of context.distributionIds) await checkDistributionSends(context, id, value);
      break;
    }
    case 'finishSecret':
      await finishSecret(context, secretId, token, versions);
      break;
    default:
      throw new Error(`unknown rotation step ${String(step)}`);
  }
  log({ event: 'x402.origin_secret_rotation', step, secretId, distributions: context.distributionIds });
}

async function createSecret(context: RotationContext, secretId: string, token: string): Promise<void> {
  // There must be a current value to rotate from.
  await context.secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }));
  try {
    await context.secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: token, VersionStage: 'AWSPENDING' }));
    return; // created by an earlier attempt of this rotation
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error;
  }
  await context.secrets.send(
    new PutSecretValueCommand({ SecretId: secretId, ClientRequestToken: token, SecretString: newOriginSecretValue(), VersionStages: ['AWSPENDING'] }),
  );
}

async function pendingValue(context: RotationContext, secretId: string, token: string): Promise<string> {
  const { SecretString } = await context.secrets.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: token, VersionStage: 'AWSPENDING' }));
  if (!SecretString) throw new Error(`the AWSPENDING version of secret ${secretId} has no SecretString`);
  return SecretString;
}

/** The origins of a distribution configuration that carry the header (by name, case-insensitively). */
function headersToRotate(config: DistributionConfig, headerName: string, distributionId: string) {
  const name = headerName.toLowerCase();
  const headers = (config.Origins?.Items ?? []).flatMap((origin) => (origin.CustomHeaders?.Items ?? []).filter((h) => h.HeaderName?.toLowerCase() === name));
  if (headers.length === 0) {
    throw new Error(`distribution ${distributionId} has no origin with the custom header ${headerName}: nothing to rotate (was the origin protection removed?)`);
  }
  return headers;
}

async function readDistributionConfig(context: RotationContext, distributionId: string): Promise<{ config: DistributionConfig; etag: string }> {
  const { DistributionConfig: config, ETag: etag } = await context.cloudfront.send(new GetDistributionConfigCommand({ Id: distributionId }));
  if (!config || !etag) throw new Error(`GetDistributionConfig ${distributionId} returned no configuration or ETag`);
  return { config, etag };
}

async function sendPendingValue(context: RotationContext, distributionId: string, value: string): Promise<void> {
  const { config, etag } = await readDistributionConfig(context, distributionId);
  const headers = headersToRotate(config, context.headerName, distributionId);
  if (headers.every((h) => h.HeaderValue === value)) return; // set by an earlier attempt
  for (const header of headers) header.HeaderValue = value;
  // IfMatch: a concurrent change (a stack update) makes this fail with PreconditionFailed instead of being overwritten; the retry reads again.
  await context.cloudfront.send(new UpdateDistributionCommand({ Id: distributionId, IfMatch: etag, DistributionConfig: config }));
}

/** The distribution's origins carry the header, with `value` when given. */
async function checkDistributionSends(context: RotationContext, distributionId: string, value: string | undefined): Promise<void> {
  const { config } = await readDistributionConfig(context, distributionId);
  const headers = headersToRotate(config, context.headerName, distributionId);
  if (value === undefined) return;
  const stale = headers.filter((h) => h.HeaderValue !== value).length;
  if (stale > 0) throw new Error(`distribution ${distributionId}: ${stale} origin header(s) ${context.headerName} do not carry the pending value`);
}

async function finishSecret(context: RotationContext, secretId: string, token: string, versions: Record<string, string[]>): Promise<void> {
  const current = Object.entries(versions).find(([, stages]) => stages.includes('AWSCURRENT'))?.[0];
  await context.secrets.send(
    new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT', MoveToVersionId: token, RemoveFromVersionId: current }),
  );
}
