import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { CloudFrontRequestEvent, CloudFrontResultResponse } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { EdgeConfig } from '../../lambda/core/config';
import { CDP_FACILITATOR } from '../../lambda/core/facilitators';
import { ExactEvmPrecheck } from '../../lambda/core/precheck';
import { paymentRequiredV2, routeTerms } from '../../lambda/core/requirements';
import { compileRoutes } from '../../lambda/core/routes';
import { CDP_KEY_TTL_MS } from '../../lambda/edge/facilitator-auth';
import { createEdgeRuntime, type EdgeRuntimeOptions } from '../../lambda/edge/runtime';
import { testEdgeConfig } from '../support/config';
import { encodePayment, signPayment } from '../support/payer';

/** Stands in for an authenticated facilitator (such as Coinbase CDP): records what it is sent. */
let server: http.Server;
let seen: Array<{ path: string; authorization?: string }> = [];
const secrets = mockClient(SecretsManagerClient);

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ isValid: false, invalidReason: 'invalid_exact_evm_insufficient_balance', payer: '0x0' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
beforeEach(() => {
  seen = [];
  secrets.reset();
});
afterAll(async () => {
  // The edge's kept-alive connections would otherwise hold close() open until they idle out.
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/**
 * These tests check what is sent, not deadlines: the verify deadline covers the secret read and the
 * first JWT signing, which took over 2 s on a loaded 2-core CI machine and turned a 402 into a 503.
 */
function configWith(overrides: Partial<EdgeConfig['facilitator']> = {}): EdgeConfig {
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return testEdgeConfig({ facilitator: { url, verifyTimeoutMs: 15_000, settleTimeoutMs: 15_000, ...overrides } });
}

/** A viewer-request event carrying a valid (unfunded) payment for /articles/a. */
async function paidRequest(config: EdgeConfig): Promise<CloudFrontRequestEvent> {
  const terms = routeTerms(compileRoutes(config)[0], config);
  const payment = await signPayment(privateKeyToAccount(generatePrivateKey()), paymentRequiredV2(terms, 'https://example.com/articles/a'));
  return {
    Records: [
      {
        cf: {
          config: { distributionDomainName: 'example.com', distributionId: 'E1', eventType: 'viewer-request', requestId: 'r' },
          request: {
            clientIp: '127.0.0.1',
            method: 'GET',
            uri: '/articles/a',
            querystring: '',
            headers: { host: [{ key: 'Host', value: 'example.com' }], 'payment-signature': [{ key: 'PAYMENT-SIGNATURE', value: encodePayment(payment) }] },
          },
        },
      },
    ],
  } as unknown as CloudFrontRequestEvent;
}

async function viewerRequest(config: EdgeConfig, options: EdgeRuntimeOptions = {}): Promise<CloudFrontResultResponse> {
  const handlers = createEdgeRuntime(config, { log: () => undefined, precheck: new ExactEvmPrecheck(config), ...options });
  return (await handlers.viewerRequest(await paidRequest(config))) as CloudFrontResultResponse;
}

it('sends the auth headers of a createAuthHeaders hook with the facilitator call', async () => {
  const response = await viewerRequest(configWith(), {
    createAuthHeaders: async () => {
      const headers = { Authorization: 'Bearer signed-jwt' };
      return { verify: headers, settle: headers, supported: headers };
    },
  });
  expect(response.status).toBe('402');
  expect(JSON.parse(response.body!).error).toBe('invalid_exact_evm_insufficient_balance');
  expect(seen).toEqual([{ path: '/verify', authorization: 'Bearer signed-jwt' }]);
});

describe('Coinbase CDP auth from Secrets Manager', () => {
  const cdp = { kind: 'cdp', secretId: 'x402/cdp-api-key', region: 'us-east-1' } as const;
  const cdpHost = new URL(CDP_FACILITATOR).host;

  /**
   * The CDP facilitator's URL, reached on loopback: the test server stands in for CDP's host, the
   * way an /etc/hosts entry would (the edge's real HTTP client, only the address, and so plain
   * HTTP instead of TLS, differs).
   */
  function cdpConfig(): EdgeConfig {
    return configWith({ url: CDP_FACILITATOR, auth: cdp });
  }
  // The module object itself (an `import *` namespace's properties cannot be replaced).
  const https: typeof import('node:https') = jest.requireActual('node:https');
  beforeEach(() => {
    const loopback = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    jest.spyOn(https, 'request').mockImplementation(((url: URL, options: http.RequestOptions, answered: (response: http.IncomingMessage) => void) =>
      http.request(url.href.replace(`https://${cdpHost}`, loopback), { ...options, agent: undefined }, answered)) as unknown as typeof https.request);
  });
  afterEach(() => jest.restoreAllMocks());

  it('never sends the CDP key to a facilitator that is not CDP\'s: no Authorization reaches it, and the secret is not even read', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ apiKeyId: 'key-123', apiKeySecret: cdpKey('ed25519').apiKeySecret }) });
    const response = await viewerRequest(configWith({ auth: cdp }));
    expect(response.status).toBe('402');
    expect(seen).toEqual([{ path: '/verify', authorization: undefined }]);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(0);
  });

  /** A CDP secret API key in each of CDP's two formats, and the public key that checks its JWTs. */
  function cdpKey(type: 'ed25519' | 'ec'): { apiKeySecret: string; publicKey: KeyObject } {
    if (type === 'ed25519') {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const jwk = privateKey.export({ format: 'jwk' });
      const apiKeySecret = Buffer.concat([Buffer.from(jwk.d!, 'base64url'), Buffer.from(jwk.x!, 'base64url')]).toString('base64');
      return { apiKeySecret, publicKey };
    }
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    return { apiKeySecret: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicKey };
  }

  /** Checks a JWT's signature with the public key and returns its header and claims. */
  function verifiedJwt(token: string, publicKey: KeyObject) {
    const [header, claims, signature] = token.split('.');
    const decoded = JSON.parse(Buffer.from(header, 'base64url').toString());
    const data = Buffer.from(`${header}.${claims}`);
    const sig = Buffer.from(signature, 'base64url');
    const valid =
      decoded.alg === 'EdDSA'
        ? verify(null, data, publicKey, sig)
        : verify('sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, sig);
    expect(valid).toBe(true);
    return { header: decoded, claims: JSON.parse(Buffer.from(claims, 'base64url').toString()) };
  }

  it.each(['ed25519', 'ec'] as const)('signs each facilitator call with the %s key held in the secret', async (type) => {
    const { apiKeySecret, publicKey } = cdpKey(type);
    secrets.on(GetSecretValueCommand, { SecretId: cdp.secretId }).resolves({ SecretString: JSON.stringify({ apiKeyId: 'key-123', apiKeySecret }) });

    const response = await viewerRequest(cdpConfig());
    expect(response.status).toBe('402');
    expect(seen).toHaveLength(1);
    expect(seen[0].path).toBe('/platform/v2/x402/verify');
    const [scheme, token] = seen[0].authorization!.split(' ');
    expect(scheme).toBe('Bearer');
    const { header, claims } = verifiedJwt(token, publicKey);
    expect(header).toMatchObject({ kid: 'key-123', typ: 'JWT', alg: type === 'ed25519' ? 'EdDSA' : 'ES256' });
    expect(claims).toMatchObject({ sub: 'key-123', iss: 'cdp', uris: ['POST api.cdp.coinbase.com/platform/v2/x402/verify'] });
    expect(claims.exp - claims.nbf).toBe(120);
  });

  it('reads the secret once for many requests', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ apiKeyId: 'key-123', apiKeySecret: cdpKey('ed25519').apiKeySecret }) });
    const config = cdpConfig();
    const handlers = createEdgeRuntime(config, { log: () => undefined, precheck: new ExactEvmPrecheck(config) });
    await Promise.all([1, 2, 3].map(async () => handlers.viewerRequest(await paidRequest(config))));
    expect(seen).toHaveLength(3);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it('keeps signing with the key in hand when a refresh after the cache time fails', async () => {
    let now = Date.now();
    secrets.on(GetSecretValueCommand).resolvesOnce({ SecretString: JSON.stringify({ apiKeyId: 'key-123', apiKeySecret: cdpKey('ec').apiKeySecret }) }).rejects(new Error('ThrottlingException'));
    // Authorizations valid for an hour, so the edge's clock may move past the key's cache time.
    const config = { ...cdpConfig(), maxTimeoutSeconds: 3600 };
    const handlers = createEdgeRuntime(config, { log: () => undefined, clock: () => now, precheck: new ExactEvmPrecheck(config) });
    await handlers.viewerRequest(await paidRequest(config));
    now += CDP_KEY_TTL_MS + 1;
    await handlers.viewerRequest(await paidRequest(config));
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    expect(seen.map((call) => call.authorization?.startsWith('Bearer '))).toEqual([true, true]);
  });

  it('refreshes the key after the cache time beside the request, which signs with the key in hand instead of waiting for Secrets Manager', async () => {
    let now = Date.now();
    const [first, second] = [cdpKey('ed25519'), cdpKey('ed25519')];
    let answerRefresh = () => undefined as void;
    const refreshAnswered = new Promise<void>((resolve) => (answerRefresh = resolve));
    secrets
      .on(GetSecretValueCommand)
      .resolvesOnce({ SecretString: JSON.stringify({ apiKeyId: 'key-1', apiKeySecret: first.apiKeySecret }) })
      .callsFake(async () => {
        await refreshAnswered;
        return { SecretString: JSON.stringify({ apiKeyId: 'key-2', apiKeySecret: second.apiKeySecret }) };
      });
    const config = { ...cdpConfig(), maxTimeoutSeconds: 3600 };
    const handlers = createEdgeRuntime(config, { log: () => undefined, clock: () => now, precheck: new ExactEvmPrecheck(config) });
    await handlers.viewerRequest(await paidRequest(config));
    now += CDP_KEY_TTL_MS + 1;
    // Completes while Secrets Manager has not answered the refresh.
    await handlers.viewerRequest(await paidRequest(config));
    answerRefresh();
    await new Promise((resolve) => setImmediate(resolve));
    await handlers.viewerRequest(await paidRequest(config));
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    const kids = seen.map((call, i) => verifiedJwt(call.authorization!.split(' ')[1], i < 2 ? first.publicKey : second.publicKey).header.kid);
    expect(kids).toEqual(['key-1', 'key-1', 'key-2']);
  });

  it.each([
    ['an unreadable secret', () => secrets.on(GetSecretValueCommand).rejects(new Error('AccessDeniedException'))],
    ['a secret without the key', () => secrets.on(GetSecretValueCommand).resolves({ SecretString: '{"apiKeyId":"key-123"}' })],
  ])('fails closed with 503 and never reaches the facilitator on %s', async (_, arrange) => {
    arrange();
    const response = await viewerRequest(cdpConfig());
    expect(response.status).toBe('503');
    expect(JSON.parse(response.body!).error).toBe('facilitator_unavailable');
    expect(seen).toHaveLength(0);
  });
});
