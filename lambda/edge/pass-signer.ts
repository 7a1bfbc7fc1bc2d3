import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { PassSigningKey } from '../core/config';
import type { PassSignerPort } from '../core/passes/scheme';

/**
 * The pass signer of the origin-facing functions. The private key is read from Secrets Manager
 * (a PKCS#8 PEM of a P-256 key, as `cdk-x402 pass-key create` stores it) on the first sale of a
 * container and kept; a failed read is retried by the next sale. The AWS SDK client loads with that
 * first sale, not at init (a cold start that serves no sale never pays for it). (KMS would keep
 * the key out of the function's memory altogether; its SDK client is not among this package's
 * dependencies.)
 */
export function passSigner(key: PassSigningKey): PassSignerPort {
  if (key.kind === 'local') return signerWith(key.kid, async () => privateKey(key.privateKeyPem, 'the local signing key'));
  let client: SecretsManagerClient | undefined;
  return signerWith(key.kid, async () => {
    const sdk = await import('@aws-sdk/client-secrets-manager');
    client ??= new sdk.SecretsManagerClient({ region: key.region, maxAttempts: 2 });
    const { SecretString } = await client.send(new sdk.GetSecretValueCommand({ SecretId: key.secretId }));
    return privateKey(SecretString ?? '', `secret ${key.secretId}`);
  });
}

function signerWith(kid: string, load: () => Promise<KeyObject>): PassSignerPort {
  let loading: Promise<KeyObject> | undefined;
  const keyObject = () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));
  return {
    kid,
    async sign(signingInput) {
      // ieee-p1363: r ‖ s, the JOSE form of an ES256 signature (not DER).
      return sign('sha256', Buffer.from(signingInput, 'utf8'), { key: await keyObject(), dsaEncoding: 'ieee-p1363' });
    },
  };
}

function privateKey(pem: string, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw new Error(`${where} does not hold a PEM private key (cdk-x402 pass-key create stores a PKCS#8 P-256 key)`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error(`${where} holds a ${key.asymmetricKeyType} key, not a P-256 (prime256v1) key: passes are ES256`);
  }
  return key;
}
