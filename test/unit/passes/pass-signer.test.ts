/** The origin-facing pass signer over Secrets Manager (mocked with the SDK's own shapes). */
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { generateKeyPairSync } from 'node:crypto';
import { mockClient } from 'aws-sdk-client-mock';
import { isRejection } from '../../../lambda/core/rejection';
import { assemblePassToken, passSigningInput, PassVerifier, type PassClaims } from '../../../lambda/core/passes/token';
import { passSigner } from '../../../lambda/edge/pass-signer';
import { newPassKeyPair } from '../../../local/pass-key';

const secrets = mockClient(SecretsManagerClient);
const KEY = newPassKeyPair();
const SITE = 'site';
const CLAIMS: PassClaims = { iss: SITE, sub: `0x${'ab'.repeat(20)}`, pass: 'day', scope: ['/articles/*'], nbf: 1000, exp: 2000, jti: 'j' };
const SECRET = { kid: 'k1', kind: 'secrets-manager', secretId: 'x402/pass-key-k1', region: 'us-east-1' } as const;

beforeEach(() => secrets.reset());

async function token(signer = passSigner(SECRET)): Promise<string> {
  const input = passSigningInput(signer.kid, CLAIMS);
  return assemblePassToken(input, await signer.sign(input));
}

it('signs with the PKCS#8 key from the secret, read once per container, in the JOSE form the verifier checks', async () => {
  secrets.on(GetSecretValueCommand, { SecretId: 'x402/pass-key-k1' }).resolves({
    ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x402/pass-key-k1-AbCdEf',
    Name: 'x402/pass-key-k1',
    VersionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111',
    SecretString: KEY.privateKeyPem,
    VersionStages: ['AWSCURRENT'],
    CreatedDate: new Date(),
  });
  const signer = passSigner(SECRET);
  const verifier = new PassVerifier([{ kid: 'k1', jwk: KEY.jwk }], SITE);
  for (let i = 0; i < 3; i++) expect(verifier.verify(await token(signer), 1500)).toEqual(CLAIMS);
  expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
});

it('fails a sale while the secret cannot be read, and reads it again for the next one', async () => {
  secrets
    .on(GetSecretValueCommand)
    .rejectsOnce(new ResourceNotFoundException({ message: "Secrets Manager can't find the specified secret.", $metadata: { httpStatusCode: 400 } }))
    .resolves({ SecretString: KEY.privateKeyPem });
  const signer = passSigner(SECRET);
  await expect(token(signer)).rejects.toThrow(/can't find/);
  expect(isRejection(new PassVerifier([{ kid: 'k1', jwk: KEY.jwk }], SITE).verify(await token(signer), 1500))).toBe(false);
  expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
});

it('refuses a secret that is not a P-256 private key, saying what it must hold', async () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  secrets.on(GetSecretValueCommand).resolvesOnce({ SecretString: 'not a key' }).resolves({ SecretString: rsa });
  const signer = passSigner(SECRET);
  await expect(token(signer)).rejects.toThrow(/does not hold a PEM private key/);
  await expect(token(signer)).rejects.toThrow(/rsa key, not a P-256/);
});
