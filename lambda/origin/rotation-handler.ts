/**
 * The origin secret's rotation Lambda (lib/origin-protection.ts): runs in the secret's region,
 * told the distributions and the header name through its environment (RotationEnvironment).
 */
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { rotateOriginSecret, type RotationEvent } from './rotation';
import { RotationEnvironment } from './secret-header';

/** CloudFront's control plane is global; its endpoint signs in us-east-1. */
const CLOUDFRONT_API_REGION = 'us-east-1';

let clients: { secrets: SecretsManagerClient; cloudfront: CloudFrontClient } | undefined;

export async function handler(event: RotationEvent): Promise<void> {
  const distributionIds = required(RotationEnvironment.distributionIds).split(',').filter((id) => id !== '');
  const headerName = required(RotationEnvironment.headerName);
  clients ??= { secrets: new SecretsManagerClient({}), cloudfront: new CloudFrontClient({ region: CLOUDFRONT_API_REGION }) };
  await rotateOriginSecret(event, { ...clients, distributionIds, headerName, log: (line) => console.log(JSON.stringify(line)) });
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: the OriginSecret construct sets it; redeploy the stack`);
  return value;
}
