/**
 * The Node origin check (lambda/origin/check.ts) as an express middleware on a real loopback
 * server, reading the secret from Secrets Manager behind aws-sdk-client-mock; the rotation test
 * runs the real rotation handler against the same fakes and sends what CloudFront would send.
 */
import type * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import express from 'express';
import { createOriginSecretCheck, type OriginSecretCheck } from '../../lambda/origin';
import type { RotationStep } from '../../lambda/origin/rotation';
import { handler as rotate } from '../../lambda/origin/rotation-handler';
import { RotationEnvironment } from '../../lambda/origin/secret-header';
import { distributionConfig, FakeCloudFront, FakeSecretsManager, SECRET_ARN } from '../support/origin-secret-fakes';

const INITIAL = 'InitialValueInitialValueInitialValueInitialValueInitialValue0001';
const DISTRIBUTION = 'E1PAYWALLSITE';

let secrets: FakeSecretsManager;
let now: number;
let served: number;
let server: http.Server | undefined;

beforeEach(() => {
  secrets = new FakeSecretsManager(INITIAL);
  now = Date.parse('2026-03-01T12:00:00Z');
  served = 0;
});
afterEach(async () => {
  secrets.mock.restore();
  if (server) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
});

/** An express origin behind the check; returns its base URL. */
async function origin(options: Partial<Parameters<typeof createOriginSecretCheck>[0]> = {}): Promise<{ url: string; check: OriginSecretCheck }> {
  const check = createOriginSecretCheck({
    secretId: SECRET_ARN,
    region: 'us-east-1',
    client: new SecretsManagerClient({ region: 'us-east-1', maxAttempts: 1 }),
    clock: () => now,
    onReadError: () => undefined,
    ...options,
  });
  const app = express();
  app.use(check.middleware);
  app.use((_req, res) => {
    served++;
    res.json({ article: 'priced content' });
  });
  server = await new Promise<http.Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/articles/one`, check };
}

const get = (url: string, headerValue?: string) => fetch(url, { headers: headerValue === undefined ? {} : { 'x-origin-verify': headerValue } });

describe('the origin secret check on a Node origin', () => {
  it('passes a request carrying the current value on to the origin\'s handler', async () => {
    const { url } = await origin();
    const response = await get(url, INITIAL);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ article: 'priced content' });
    expect(served).toBe(1);
  });

  it('answers 403 with a JSON error, never reaching the handler, when the header is missing or wrong', async () => {
    const { url } = await origin();
    for (const value of [undefined, '', 'guessed', INITIAL.slice(0, -1), `${INITIAL}x`]) {
      const response = await get(url, value);
      expect(response.status).toBe(403);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(await response.json()).toEqual({ error: 'not_from_cloudfront', message: expect.stringContaining('CloudFront distribution') });
    }
    expect(served).toBe(0);
  });

  it('answers 503 when the secret cannot be read and nothing is cached, and 403 without reading for a missing header', async () => {
    secrets.mock.on(GetSecretValueCommand).rejects(Object.assign(new Error('User is not authorized to perform: secretsmanager:GetSecretValue'), { name: 'AccessDeniedException' }));
    const { url } = await origin();
    const response = await get(url, INITIAL);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toEqual({ error: 'origin_secret_unavailable', message: expect.any(String) });
    expect((await get(url)).status).toBe(403);
    expect(served).toBe(0);
  });

  it('keeps serving CloudFront from its cache while Secrets Manager fails after the cache expired', async () => {
    const { url } = await origin();
    expect((await get(url, INITIAL)).status).toBe(200);
    secrets.mock.on(GetSecretValueCommand).rejects(Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }));
    now += 10 * 60_000;
    expect((await get(url, INITIAL)).status).toBe(200);
    expect((await get(url, 'guessed')).status).toBe(403);
  });

  it('reads Secrets Manager at most once per interval however many forged headers arrive', async () => {
    const { url } = await origin({ minReadIntervalMs: 10_000 });
    for (let i = 0; i < 20; i++) expect((await get(url, `forged-${i}`)).status).toBe(403);
    const reads = () => secrets.mock.commandCalls(GetSecretValueCommand).length;
    expect(reads()).toBe(3); // one read: the current, pending and previous stages
    now += 10_000;
    expect((await get(url, 'forged-again')).status).toBe(403);
    expect(reads()).toBe(6);
  });

  it('accepts what CloudFront sends at every step of a rotation, and the previous value after it', async () => {
    process.env[RotationEnvironment.distributionIds] = DISTRIBUTION;
    process.env[RotationEnvironment.headerName] = 'x-origin-verify';
    const cloudfront = new FakeCloudFront({ [DISTRIBUTION]: distributionConfig(INITIAL) });
    try {
      const { url } = await origin();
      const fromCloudFront = () => get(url, cloudfront.headerSent(DISTRIBUTION));
      const rotation = async (token: string) => {
        secrets.startRotation(token);
        for (const step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as RotationStep[]) {
          await rotate({ Step: step, SecretId: SECRET_ARN, ClientRequestToken: token });
          now += 15_000; // edge locations pick up a distribution change over seconds to minutes
          expect((await fromCloudFront()).status).toBe(200);
        }
      };

      expect((await fromCloudFront()).status).toBe(200);
      await rotation('11111111-1111-4111-8111-111111111111');
      const second = cloudfront.headerSent(DISTRIBUTION)!;
      expect(second).not.toBe(INITIAL);
      // Edge locations still on the old configuration keep working.
      expect((await get(url, INITIAL)).status).toBe(200);

      await rotation('22222222-2222-4222-8222-222222222222');
      expect((await get(url, second)).status).toBe(200);
      now += 10 * 60_000; // past the cache: the value from two rotations ago is no longer accepted
      expect((await get(url, INITIAL)).status).toBe(403);
      expect(served).toBe(11); // every request but the last reached the handler
    } finally {
      cloudfront.mock.restore();
    }
  });

  it('offers isFromCloudFront for plain node:http servers, false when the secret cannot be read', async () => {
    const { check } = await origin();
    await expect(check.isFromCloudFront({ 'x-origin-verify': INITIAL })).resolves.toBe(true);
    await expect(check.isFromCloudFront({ 'x-origin-verify': 'guessed' })).resolves.toBe(false);
    const failing = createOriginSecretCheck({ secretId: SECRET_ARN, region: 'us-east-1', onReadError: () => undefined });
    secrets.mock.on(GetSecretValueCommand).rejects(new Error('network down'));
    await expect(failing.verdict({ 'x-origin-verify': INITIAL })).resolves.toBe('secret-unavailable');
    await expect(failing.isFromCloudFront({ 'x-origin-verify': INITIAL })).resolves.toBe(false);
  });
});
