/** `cdk-x402 pass-key create | retire` (Secrets Manager mocked with the SDK's shapes) and `pass revoke` (dynalite), in-process. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreateSecretCommand, ResourceExistsException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { assemblePassToken, passSigningInput, PassVerifier } from '../../lambda/core/passes/token';
import { DynamoReceiptStore } from '../../lambda/edge/dynamo-receipt-store';
import { passSigner } from '../../lambda/edge/pass-signer';
import { createReceiptTable, startLocalDynamo, type LocalDynamo } from '../../local/dynamo';
import { resolveX402Config } from '../../lib/config/resolve';
import { PAY_TO, ROUTES, cli } from '../support/cli';

const secrets = mockClient(SecretsManagerClient);
const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:cdk-x402/pass-key-site-1-AbCdEf';
beforeEach(() => secrets.reset());

it('create stores a P-256 private key in Secrets Manager and prints the x402:passKeys entry whose public key verifies its passes', async () => {
  secrets.on(CreateSecretCommand).resolves({ ARN, Name: 'cdk-x402/pass-key-site-1', VersionId: 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111' });
  const run = await cli(['pass-key', 'create', '--kid', 'site-1', '--json', '-q']);
  expect(run.code).toBe(0);
  const entry = run.json();
  expect(entry).toEqual({ kid: 'site-1', publicKey: { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String) }, secret: ARN });

  const [call] = secrets.commandCalls(CreateSecretCommand);
  expect(call.args[0].input).toMatchObject({ Name: 'cdk-x402/pass-key-site-1', SecretString: expect.stringContaining('-----BEGIN PRIVATE KEY-----') });
  // The printed entry is valid configuration, and the stored key signs passes its public key verifies.
  const config = resolveX402Config({ payTo: PAY_TO, routes: ROUTES, passes: [{ name: 'day', price: '$0.5', duration: '24h', routes: ['/articles/*'] }], passKeys: [entry] });
  expect(config.passes?.signingKey).toEqual({ kid: 'site-1', kind: 'secrets-manager', secretId: ARN, region: 'us-east-1' });
  const signer = passSigner({ kid: 'site-1', kind: 'local', privateKeyPem: call.args[0].input.SecretString! });
  const claims = { iss: 's', sub: 'p', pass: 'day', scope: ['/articles/*'], nbf: 0, exp: 10, jti: 'j' };
  const input = passSigningInput('site-1', claims);
  expect(new PassVerifier(config.passes!.verifyKeys, 's').verify(assemblePassToken(input, await signer.sign(input)), 5)).toEqual(claims);
});

it('create explains a secret that exists already (exit 3), and writes nothing else', async () => {
  secrets.on(CreateSecretCommand).rejects(new ResourceExistsException({ message: 'The operation failed because the secret cdk-x402/pass-key-site-1 already exists.', $metadata: { httpStatusCode: 400 } }));
  const run = await cli(['pass-key', 'create', '--kid', 'site-1']);
  expect(run.code).toBe(3);
  expect(run.stderr).toMatch(/exists already.*another --kid/s);
  expect(run.stdout).toBe('');
});

it('retire marks the key in cdk.json and says when it can be removed (after the longest pass)', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cdk-x402-pass-key-'));
  const file = path.join(dir, 'cdk.json');
  const context = { 'x402:passes': { day: { price: '$0.5', duration: '24h', routes: ['/articles/*'] }, week: { price: '$2', duration: '7d', routes: ['/articles/*'] } }, 'x402:passKeys': [{ kid: 'old', publicKey: {}, secret: ARN }, { kid: 'new', publicKey: {}, secret: ARN }] };
  writeFileSync(file, JSON.stringify({ app: 'x', context }));
  const run = await cli(['pass-key', 'retire', '--kid', 'old', '--context', file, '--json'], { now: Date.parse('2026-12-01T00:00:00Z') });
  expect(run.code).toBe(0);
  expect(run.json()).toEqual({ kid: 'old', retiredAt: '2026-12-01T00:00:00.000Z', removableAfter: '2026-12-08T00:00:00.000Z', file });
  const written = JSON.parse(readFileSync(file, 'utf8'));
  expect(written.context['x402:passKeys']).toEqual([{ kid: 'old', publicKey: {}, secret: ARN, retiredAt: '2026-12-01T00:00:00.000Z' }, { kid: 'new', publicKey: {}, secret: ARN }]);
  expect(written.app).toBe('x');
  expect((await cli(['pass-key', 'retire', '--kid', 'gone', '--context', file])).code).toBe(2);
});

describe('pass revoke', () => {
  let ddb: LocalDynamo;
  beforeAll(async () => {
    ddb = await startLocalDynamo();
    await createReceiptTable(ddb.client, 'receipts');
  });
  afterAll(() => ddb?.close());

  it('lists the pass in the table, for the edge to refuse it, until the pass expires', async () => {
    const run = await cli(['pass', 'revoke', '--pass-id', 'S2N5sp9LC-nNjJ-BqKgT7gV-dN-EH0Ip', '--expires-at', '2026-12-03T04:24:22Z', '--table', 'receipts', '--json', '-q'], { dynamo: ddb.client });
    expect(run.code).toBe(0);
    expect(run.json()).toEqual({ passId: 'S2N5sp9LC-nNjJ-BqKgT7gV-dN-EH0Ip', tableName: 'receipts', listedUntil: '2026-12-03T04:24:22.000Z' });
    expect(await new DynamoReceiptStore(ddb.client, 'receipts').revokedPasses()).toEqual({ 'S2N5sp9LC-nNjJ-BqKgT7gV-dN-EH0Ip': Date.parse('2026-12-03T04:24:22Z') / 1000 });
    expect((await cli(['pass', 'revoke', '--pass-id', 'not a pass', '--table', 'receipts'], { dynamo: ddb.client })).code).toBe(2);
  });
});
