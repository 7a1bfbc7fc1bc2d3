import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudFrontRequest, CloudFrontRequestEvent, CloudFrontResponseEvent } from 'aws-lambda';
import {
  fromCloudFrontHeaders,
  isDisallowedHeader,
  splitRequestTarget,
  startLocalEdge,
  toCloudFrontHeaders,
  validateCloudFrontHeaders,
  type LocalEdge,
} from '../../local/cloudfront';
import { MANAGED_CACHE_POLICIES, type CachePolicyConfig, type DistributionConfig, type EdgeEventType, type OriginRequestPolicyConfig } from '../../local/distribution';
import { lambdaFunction, removeLambdaCode, type EdgeFunctionRuntime } from '../../local/lambda-container';
import { startSampleOrigin, type SampleOrigin } from '../../local/origin';
import { DEFAULT_ELIGIBILITY_HEADER } from '../../local/waf-emulation';
import { fixtureCode } from '../support/lambda-fixtures';

const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';
const TRIGGERS = ['viewer-request', 'origin-request', 'origin-response', 'viewer-response'] as const;

interface RawResponse { status: number; statusMessage: string; headers: http.IncomingHttpHeaders; body: string }

/** node:http, not fetch: fetch would normalise the path, and the edge must see it raw. */
function rawRequest(port: number, path: string, opts: { method?: string; headers?: Record<string, string | string[]>; body?: string } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, statusMessage: res.statusMessage ?? '', headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

// ---------------------------------------------------------------------------------------------

describe('CloudFront header helpers', () => {
  it('toCloudFrontHeaders keeps original casing and repeated values from rawHeaders', () => {
    expect(toCloudFrontHeaders(['Host', 'a.example', 'X-Multi', '1', 'x-multi', '2', 'User-Agent', 'ua'])).toEqual({
      host: [{ key: 'Host', value: 'a.example' }],
      'x-multi': [{ key: 'X-Multi', value: '1' }, { key: 'x-multi', value: '2' }],
      'user-agent': [{ key: 'User-Agent', value: 'ua' }],
    });
  });

  it('toCloudFrontHeaders accepts an IncomingHttpHeaders object (lower-case keys)', () => {
    expect(toCloudFrontHeaders({ accept: 'text/html', 'set-cookie': ['a=1', 'b=2'], skipped: undefined })).toEqual({
      accept: [{ key: 'accept', value: 'text/html' }],
      'set-cookie': [{ key: 'set-cookie', value: 'a=1' }, { key: 'set-cookie', value: 'b=2' }],
    });
  });

  it('fromCloudFrontHeaders uses the key casing, gives a missing key Initial-Caps as Lambda@Edge does, and turns repeats into arrays', () => {
    expect(fromCloudFrontHeaders({
      'content-type': [{ key: 'Content-Type', value: 'application/json' }],
      'set-cookie': [{ key: 'Set-Cookie', value: 'a=1' }, { key: 'Set-Cookie', value: 'b=2' }],
      'x-no-key': [{ value: 'v' }],
      empty: [],
    })).toEqual({ 'Content-Type': 'application/json', 'Set-Cookie': ['a=1', 'b=2'], 'X-No-Key': 'v' });
    expect(fromCloudFrontHeaders(undefined)).toEqual({});
  });

  it('splitRequestTarget keeps the path raw and drops only the "?"', () => {
    expect(splitRequestTarget('/a/%2e%2e/b?x=1&y=%20')).toEqual({ uri: '/a/%2e%2e/b', querystring: 'x=1&y=%20' });
    expect(splitRequestTarget('/p')).toEqual({ uri: '/p', querystring: '' });
    expect(splitRequestTarget('/p?')).toEqual({ uri: '/p', querystring: '' });
  });

  it('knows CloudFront\'s disallowed headers', () => {
    for (const h of ['Connection', 'x-cache', 'X-Amz-Cf-Id', 'x-amz-cf-anything', 'x-edge-location', 'x-forwarded-proto', 'x-accel-redirect']) {
      expect(isDisallowedHeader(h)).toBe(true);
    }
    for (const h of ['x-amzn-waf-x402-eligible', 'payment-signature', 'x-forwarded-for', 'host']) expect(isDisallowedHeader(h)).toBe(false);
  });

  it('validateCloudFrontHeaders rejects what CloudFront rejects', () => {
    expect(validateCloudFrontHeaders({ 'payment-required': [{ key: 'PAYMENT-REQUIRED', value: 'x' }] })).toBeUndefined();
    expect(validateCloudFrontHeaders(undefined)).toBeUndefined();
    expect(validateCloudFrontHeaders({ 'Content-Type': [{ value: 'x' }] })).toMatch(/lower case/);
    expect(validateCloudFrontHeaders({ 'content-type': [{ key: 'Content-Length', value: 'x' }] })).toMatch(/does not match/);
    expect(validateCloudFrontHeaders({ 'content-type': [{ value: 1 }] })).toMatch(/string value/);
    expect(validateCloudFrontHeaders({ 'content-type': { value: 'x' } })).toMatch(/array/);
    expect(validateCloudFrontHeaders({ 'x-cache': [{ value: 'x' }] })).toMatch(/disallowed/);
  });
});

// ---------------------------------------------------------------------------------------------
// The edge around real Lambda containers. Each trigger's function is test/support/edge-functions/relay.ts:
// it posts its event to the relay server below, which answers with what the test's implementation returns.

type AnyEvent = CloudFrontRequestEvent & CloudFrontResponseEvent;
type Impl = (event: AnyEvent) => unknown;
const passThrough: Record<EdgeEventType, Impl> = {
  'viewer-request': (e) => e.Records[0]!.cf.request,
  'origin-request': (e) => e.Records[0]!.cf.request,
  'origin-response': (e) => e.Records[0]!.cf.response,
  'viewer-response': (e) => e.Records[0]!.cf.response,
};
let impls: Record<EdgeEventType, Impl>;
const events: Record<EdgeEventType, AnyEvent[]> = { 'viewer-request': [], 'origin-request': [], 'origin-response': [], 'viewer-response': [] };
const cf = (trigger: EdgeEventType, i = 0) => events[trigger][i]!.Records[0]!.cf;

let relay: http.Server;
let relayCode: string;
let functions: Record<EdgeEventType, EdgeFunctionRuntime>;
let origin: SampleOrigin;
const logs: string[] = [];
const edges: LocalEdge[] = [];

const CACHING_DISABLED = MANAGED_CACHE_POLICIES['4135ea2d-6df8-44a3-9df3-4b5a84be39ad']!;
const ALL_VIEWER_EXCEPT_HOST: OriginRequestPolicyConfig = { headers: { behavior: 'allExcept', names: ['host'] }, cookies: { behavior: 'all', names: [] }, queryStrings: { behavior: 'all', names: [] } };
const ALL_METHODS = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'];

interface EdgeSetup {
  cachePolicy?: Partial<CachePolicyConfig>;
  originRequestPolicy?: OriginRequestPolicyConfig;
  triggers?: readonly EdgeEventType[];
  allowedMethods?: string[];
  cachedMethods?: string[];
  errorCachingMinTtl?: Record<number, number>;
  includeBody?: boolean;
  originPort?: number;
}

function distribution(setup: EdgeSetup = {}): DistributionConfig {
  const triggers = setup.triggers ?? TRIGGERS;
  return {
    behaviors: [{
      pathPattern: '*',
      targetOriginId: 'origin',
      allowedMethods: setup.allowedMethods ?? ALL_METHODS,
      cachedMethods: setup.cachedMethods ?? ['GET', 'HEAD'],
      cachePolicy: { ...CACHING_DISABLED, ...setup.cachePolicy },
      originRequestPolicy: 'originRequestPolicy' in setup ? setup.originRequestPolicy : ALL_VIEWER_EXCEPT_HOST,
      functions: Object.fromEntries(triggers.map((t) => [t, { functionId: t, includeBody: setup.includeBody === true && t.endsWith('request') }])),
    }],
    origins: {
      origin: {
        id: 'origin', domainName: '127.0.0.1', protocol: 'http', port: setup.originPort ?? origin.port, path: '', customHeaders: {},
        readTimeoutSeconds: 30, keepaliveTimeoutSeconds: 5, connectionAttempts: 3, sslProtocols: ['TLSv1.2'],
      },
    },
    errorCachingMinTtl: setup.errorCachingMinTtl ?? {},
    functions: Object.fromEntries(TRIGGERS.map((t) => [t, { functionId: t, handler: 'index.handler', timeoutSeconds: 5, memoryMb: 128 }])),
  };
}

async function edgeWith(setup: EdgeSetup = {}): Promise<LocalEdge> {
  const edge = await startLocalEdge({ distribution: distribution(setup), functions, originTimeoutMs: 600, log: (l) => logs.push(l) });
  edges.push(edge);
  return edge;
}

let edge: LocalEdge;

beforeAll(async () => {
  relay = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const { event } = JSON.parse(Buffer.concat(chunks).toString()) as { event: AnyEvent };
      const trigger = event.Records[0]!.cf.config.eventType as EdgeEventType;
      events[trigger].push(event);
      let answer: { result?: unknown; error?: string };
      try {
        answer = { result: await impls[trigger](event) };
      } catch (error) {
        answer = { error: (error as Error).message };
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer));
    });
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  relayCode = fixtureCode('relay', { __RELAY_URL__: JSON.stringify(`http://127.0.0.1:${(relay.address() as AddressInfo).port}/`) });
  functions = Object.fromEntries(TRIGGERS.map((t) => [t, lambdaFunction({ functionName: t, codePath: relayCode, timeoutMs: t.startsWith('viewer') ? 1500 : 3000 })])) as unknown as Record<EdgeEventType, EdgeFunctionRuntime>;
  origin = await startSampleOrigin();
  edge = await edgeWith();
});
afterAll(async () => {
  for (const e of edges) await e.close();
  await Promise.all(Object.values(functions).map((f) => f.close()));
  removeLambdaCode(relayCode);
  await origin.close();
  await new Promise((resolve) => relay.close(resolve));
});
beforeEach(() => {
  origin.reset();
  for (const list of Object.values(events)) list.length = 0;
  logs.length = 0;
  impls = { ...passThrough };
});

describe('local edge: events and the origin request', () => {
  it('pass-through: builds faithful events for each trigger and serves the origin', async () => {
    const res = await rawRequest(edge.port, '/articles/hello%20world?b=2&a=%2F', {
      headers: { 'User-Agent': CHROME, 'X-Custom': 'Ab', 'X-Multi': ['one', 'two'], Connection: 'keep-alive' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toContain('hello%20world');
    expect(res.headers['x-cache']).toBe('Miss from cloudfront');
    expect(res.headers.via).toMatch(/^1\.1 [0-9a-f]+\.cloudfront\.net \(CloudFront\)$/);

    expect(cf('viewer-request').config).toEqual({
      distributionDomainName: 'd111111abcdef8.cloudfront.net',
      distributionId: 'EDFDVBD6EXAMPLE',
      eventType: 'viewer-request',
      requestId: expect.stringMatching(/^[A-Za-z0-9_-]{56}$/),
    });
    const request = cf('viewer-request').request;
    expect(request).toMatchObject({ clientIp: '127.0.0.1', method: 'GET', uri: '/articles/hello%20world', querystring: 'b=2&a=%2F' });
    expect(request.headers['x-custom']).toEqual([{ key: 'X-Custom', value: 'Ab' }]);
    expect(request.headers['x-multi']).toEqual([{ key: 'X-Multi', value: 'one' }, { key: 'X-Multi', value: 'two' }]);
    expect(request.headers.host).toEqual([{ key: 'Host', value: `127.0.0.1:${edge.port}` }]);
    expect(request.headers.connection).toBeUndefined(); // disallowed: hidden from functions
    expect(request.headers[DEFAULT_ELIGIBILITY_HEADER]).toBeUndefined(); // a browser
    expect(request).not.toHaveProperty('body'); // include body is off
    // One request id across the triggers of one request.
    for (const trigger of TRIGGERS) expect(cf(trigger).config).toMatchObject({ eventType: trigger, requestId: cf('viewer-request').config.requestId });
    expect(cf('viewer-response').response).toMatchObject({ status: '200' });

    expect(origin.requestsFor('/articles/hello%20world')).toBe(1);
    expect(origin.received[0]!.url).toBe('/articles/hello%20world?b=2&a=%2F');
  });

  it('passes path tricks through undecoded, to the function and to the origin', async () => {
    await rawRequest(edge.port, '/free/..%2Fapi/premium-report', { headers: { 'User-Agent': CHROME } });
    await rawRequest(edge.port, '/free/../api//premium-report', { headers: { 'User-Agent': CHROME } });
    expect(events['viewer-request'].map((e) => e.Records[0]!.cf.request.uri)).toEqual(['/free/..%2Fapi/premium-report', '/free/../api//premium-report']);
    expect(origin.received.map((r) => r.url)).toEqual(['/free/..%2Fapi/premium-report', '/free/../api//premium-report']);
  });

  it('shows the WAF-inserted header to viewer-request for a bot', async () => {
    await rawRequest(edge.port, '/api/premium-report', { headers: { 'User-Agent': 'curl/8.5.0' } });
    const h = cf('viewer-request').request.headers;
    expect(h[DEFAULT_ELIGIBILITY_HEADER]).toEqual([{ key: DEFAULT_ELIGIBILITY_HEADER, value: 'true' }]);
    expect(h['x-amzn-waf-x402-bot-category']).toEqual([{ key: 'x-amzn-waf-x402-bot-category', value: 'http_library' }]);
    expect(logs.join('\n')).toMatch(/waf-emulation/);
  });

  it('forwards the request viewer-request returns to the origin and into the origin-facing events', async () => {
    impls['viewer-request'] = (e) => {
      const r = e.Records[0]!.cf.request;
      r.headers['x-x402-pending'] = [{ key: 'X-X402-Pending', value: 'nonce-123' }];
      delete r.headers['x-drop-me'];
      r.uri = '/api/premium-report';
      r.querystring = 'v=2';
      return r;
    };
    const res = await rawRequest(edge.port, '/premium?v=1', { headers: { 'User-Agent': 'GPTBot/1.1', 'X-Drop-Me': 'x' } });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ report: 'premium' });

    const seen = origin.received[0]!;
    expect(seen.url).toBe('/api/premium-report?v=2');
    expect(seen.headers['x-x402-pending']).toBe('nonce-123');
    expect(seen.headers['x-drop-me']).toBeUndefined();
    expect(seen.headers[DEFAULT_ELIGIBILITY_HEADER]).toBe('true');
    expect(seen.headers.host).toBe('127.0.0.1'); // the origin's domain name, as the policy does not forward Host
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-amz-cf-id']).toMatch(/^[A-Za-z0-9_-]{56}$/);

    const originRequest = cf('origin-request').request;
    expect(originRequest).toMatchObject({ method: 'GET', uri: '/api/premium-report', querystring: 'v=2', clientIp: '127.0.0.1' });
    expect(originRequest.headers['x-x402-pending']).toEqual([{ key: 'X-X402-Pending', value: 'nonce-123' }]);
    expect(originRequest.headers['x-amz-cf-id']).toBeUndefined(); // sent to the origin, hidden from functions
    expect(originRequest.headers.via?.[0]?.value).toMatch(/cloudfront\.net \(CloudFront\)$/);
    expect(originRequest.origin?.custom).toMatchObject({ domainName: '127.0.0.1', port: origin.port, protocol: 'http', path: '', readTimeout: 1 });

    const response = cf('origin-response');
    expect(response.config.requestId).toBe(cf('viewer-request').config.requestId);
    expect(response.request).toEqual(originRequest);
    expect(response.response).toEqual({ status: '200', statusDescription: 'OK', headers: expect.any(Object) });
    expect(response.response).not.toHaveProperty('body');
    expect(response.response.headers['content-type']).toEqual([{ key: 'content-type', value: 'application/json' }]);
  });

  it('an origin request policy allow-list: only its headers and the cache key\'s reach the origin and the origin-facing events', async () => {
    const filtered = await edgeWith({
      cachePolicy: { maxTtl: 3600, headers: { behavior: 'whitelist', names: ['x-key'] }, queryStrings: { behavior: 'whitelist', names: ['k'] }, cookies: { behavior: 'whitelist', names: ['c1'] }, acceptEncodingGzip: true, acceptEncodingBrotli: true },
      originRequestPolicy: { headers: { behavior: 'whitelist', names: ['x-keep'] }, queryStrings: { behavior: 'none', names: [] }, cookies: { behavior: 'whitelist', names: ['c2'] } },
    });
    impls['viewer-request'] = (e) => {
      const r = e.Records[0]!.cf.request;
      r.headers['x-handoff'] = [{ key: 'x-handoff', value: '1' }]; // not in either policy
      return r;
    };
    await rawRequest(filtered.port, '/?k=1&j=2', {
      headers: { 'User-Agent': CHROME, 'X-Keep': 'k', 'X-Key': 'v', 'X-Other': 'o', 'Accept-Encoding': 'gzip, deflate, br', Cookie: 'c1=1; c2=2; c3=3' },
    });
    const seen = origin.received[0]!;
    expect(seen.url).toBe('/?k=1');
    expect(seen.headers).toMatchObject({ 'x-keep': 'k', 'x-key': 'v', 'user-agent': 'Amazon CloudFront', cookie: 'c1=1; c2=2', 'accept-encoding': 'br,gzip', host: '127.0.0.1', 'x-forwarded-for': '127.0.0.1' });
    expect(seen.headers['x-other']).toBeUndefined();
    expect(seen.headers['x-handoff']).toBeUndefined();
    expect(seen.headers.via).toMatch(/cloudfront\.net \(CloudFront\)$/);

    for (const trigger of ['origin-request', 'origin-response'] as const) {
      const { headers, querystring } = cf(trigger).request;
      expect(Object.keys(headers).sort()).toEqual(['accept-encoding', 'cookie', 'host', 'user-agent', 'via', 'x-forwarded-for', 'x-keep', 'x-key']);
      expect(querystring).toBe('k=1');
    }
  });

  it('a response generated in viewer-request goes to the client; nothing else runs', async () => {
    impls['viewer-request'] = () => ({
      status: '402',
      statusDescription: 'Payment Required',
      headers: {
        'payment-required': [{ key: 'PAYMENT-REQUIRED', value: 'eyJ4NDAyVmVyc2lvbiI6Mn0=' }],
        'content-type': [{ key: 'Content-Type', value: 'application/json' }],
      },
      body: '{"error":"payment required"}',
    });
    const res = await rawRequest(edge.port, '/api/premium-report', { headers: { 'User-Agent': 'GPTBot/1.1' } });
    expect(res.status).toBe(402);
    expect(res.statusMessage).toBe('Payment Required');
    expect(res.headers['payment-required']).toBe('eyJ4NDAyVmVyc2lvbiI6Mn0=');
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['content-length']).toBe(String(res.body.length));
    expect(res.headers['x-cache']).toBe('LambdaGeneratedResponse from cloudfront');
    expect(res.body).toBe('{"error":"payment required"}');
    expect(origin.requests).toBe(0);
    expect([events['origin-request'], events['origin-response'], events['viewer-response']]).toEqual([[], [], []]);
  });

  it('decodes a base64 generated body', async () => {
    impls['viewer-request'] = () => ({ status: '200', bodyEncoding: 'base64', body: Buffer.from('binary ok').toString('base64') });
    const res = await rawRequest(edge.port, '/x');
    expect(res.body).toBe('binary ok');
  });

  it('forwards a POST body to the origin; include body exposes it (base64) to viewer-request and origin-request', async () => {
    const withBody = await edgeWith({ includeBody: true });
    const body = JSON.stringify({ q: 'weather' });
    const res = await rawRequest(withBody.port, '/api/premium-report', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
    expect(res.status).toBe(200);
    expect(origin.received[0]).toMatchObject({ method: 'POST', body });
    for (const trigger of ['viewer-request', 'origin-request'] as const) {
      expect(cf(trigger).request.body).toEqual({ action: 'read-only', data: Buffer.from(body).toString('base64'), encoding: 'base64', inputTruncated: false });
    }
    expect(cf('viewer-request').request.headers['content-length']).toEqual([{ key: 'Content-Length', value: String(body.length) }]);
  });

  it('refuses a method the behavior does not allow with 403, before any function', async () => {
    const getOnly = await edgeWith({ allowedMethods: ['GET', 'HEAD'] });
    const res = await rawRequest(getOnly.port, '/api/premium-report', { method: 'POST', body: '{}' });
    expect(res.status).toBe(403);
    expect(events['viewer-request']).toHaveLength(0);
    expect(origin.requests).toBe(0);
  });
});

describe('local edge: the origin response', () => {
  it('origin-response may replace the origin body (e.g. a 402 after a failed settlement)', async () => {
    impls['origin-response'] = (e) => ({
      ...e.Records[0]!.cf.response,
      status: '402',
      statusDescription: 'Payment Required',
      headers: { 'content-type': [{ key: 'Content-Type', value: 'application/json' }] },
      body: '{"error":"settlement failed"}',
    });
    const res = await rawRequest(edge.port, '/api/premium-report', { headers: { 'User-Agent': 'GPTBot/1.1' } });
    expect(res.status).toBe(402);
    expect(res.body).toBe('{"error":"settlement failed"}');
    expect(res.headers['content-length']).toBe(String(res.body.length));
    expect(origin.requestsFor('/api/premium-report')).toBe(1);
    expect(events['viewer-response']).toHaveLength(0); // not for a status of 400 or more
  });

  it('origin-response without body keeps the origin body with the updated status and headers', async () => {
    impls['origin-response'] = (e) => {
      const r = e.Records[0]!.cf.response;
      r.headers['payment-response'] = [{ key: 'PAYMENT-RESPONSE', value: 'c2V0dGxlZA==' }];
      return r;
    };
    const res = await rawRequest(edge.port, '/api/premium-report', { headers: { 'User-Agent': 'GPTBot/1.1' } });
    expect(res.status).toBe(200);
    expect(res.headers['payment-response']).toBe('c2V0dGxlZA==');
    expect(JSON.parse(res.body)).toMatchObject({ report: 'premium' });
  });

  it('origin-response runs for origin errors too (status 500), viewer-response does not', async () => {
    const res = await rawRequest(edge.port, '/api/fail');
    expect(res.status).toBe(500);
    expect(cf('origin-response').response.status).toBe('500');
    expect(events['viewer-response']).toHaveLength(0);
  });

  it('viewer-response sees the response with CloudFront\'s Via; its headers reach the viewer', async () => {
    impls['viewer-response'] = (e) => {
      const r = e.Records[0]!.cf.response;
      r.headers['x-viewer'] = [{ value: 'added' }];
      return r;
    };
    const res = await rawRequest(edge.port, '/');
    expect(res.headers['x-viewer']).toBe('added');
    expect(cf('viewer-response').response.headers.via?.[0]?.value).toBe(res.headers.via);
  });

  it.each<[string, Impl]>([
    ['a changed status', (e) => ({ ...e.Records[0]!.cf.response, status: '203' })],
    ['a changed read-only Via', (e) => ({ ...e.Records[0]!.cf.response, headers: { ...e.Records[0]!.cf.response.headers, via: [{ value: 'x' }] } })],
  ])('a viewer-response result with %s → 502', async (_, impl) => {
    impls['viewer-response'] = impl;
    expect((await rawRequest(edge.port, '/')).status).toBe(502);
  });

  it('an invalid origin-response result → 502 without the origin body', async () => {
    impls['origin-response'] = (e) => ({ ...e.Records[0]!.cf.response, headers: { 'Bad-Case': [{ value: 'x' }] } });
    const res = await rawRequest(edge.port, '/api/premium-report');
    expect(res.status).toBe(502);
    expect(res.body).not.toContain('premium');
  });

  it('an origin-response error → 503 and no origin body leaks', async () => {
    impls['origin-response'] = () => { throw new Error('settle exploded'); };
    const res = await rawRequest(edge.port, '/api/premium-report');
    expect(res.status).toBe(503);
    expect(res.body).toMatch(/LambdaExecutionError/);
    expect(res.body).not.toContain('premium');
    expect(origin.requestsFor('/api/premium-report')).toBe(1);
  });

  it('origin timeout → 504 after the origin\'s 3 attempts for a GET (1 for a POST); origin-response is not invoked', async () => {
    const res = await rawRequest(edge.port, '/api/slow?ms=2000');
    expect(res.status).toBe(504);
    expect(origin.requestsFor('/api/slow')).toBe(3);
    origin.reset();
    expect((await rawRequest(edge.port, '/api/slow?ms=2000', { method: 'POST', body: '{}' })).status).toBe(504);
    expect(origin.requestsFor('/api/slow')).toBe(1);
    expect(events['origin-response']).toHaveLength(0);
  });

  it('origin connection refused → 502 and origin-response is not invoked', async () => {
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const deadPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const dead = await edgeWith({ originPort: deadPort });
    const res = await rawRequest(dead.port, '/');
    expect(res.status).toBe(502);
    expect(events['origin-response']).toHaveLength(0);
  });
});

describe('local edge: chunked origins', () => {
  const path = '/articles/streamed';
  beforeEach(() => origin.setBehavior(path, { chunked: true }));

  it('passes a chunked origin response through; origin-response sees Transfer-Encoding as a header', async () => {
    const res = await rawRequest(edge.port, path, { headers: { 'User-Agent': CHROME } });
    expect(res.status).toBe(200);
    expect(res.body).toContain('The full text of the article "streamed"');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.headers['content-length']).toBeUndefined();
    expect(cf('origin-response').response.headers['transfer-encoding']).toEqual([{ key: 'Transfer-Encoding', value: 'chunked' }]);
  });

  it('a result that drops the read-only Transfer-Encoding fails validation: 502, as CloudFront answers', async () => {
    impls['origin-response'] = () => ({ status: '402', headers: { 'content-type': [{ value: 'application/json' }] }, body: '{"error":"x"}' });
    const res = await rawRequest(edge.port, path);
    expect(res.status).toBe(502);
    expect(res.body).toMatch(/read-only header "transfer-encoding"/);
  });

  it('a result that keeps it and replaces the body reaches the viewer, chunked', async () => {
    impls['origin-response'] = (e) => ({
      status: '402',
      headers: { 'transfer-encoding': e.Records[0]!.cf.response.headers['transfer-encoding']!, 'content-type': [{ value: 'application/json' }] },
      body: '{"error":"settlement_failed"}',
    });
    const res = await rawRequest(edge.port, path);
    expect(res.status).toBe(402);
    expect(res.body).toBe('{"error":"settlement_failed"}');
    expect(res.headers['transfer-encoding']).toBe('chunked');
    expect(res.body).not.toContain('The full text');
  });
});

describe('local edge: function failures and validation', () => {
  it('a viewer-request error → 503 LambdaExecutionError and no origin request', async () => {
    impls['viewer-request'] = () => { throw new Error('boom'); };
    const res = await rawRequest(edge.port, '/api/premium-report');
    expect(res.status).toBe(503);
    expect(res.headers['x-cache']).toBe('Error from cloudfront');
    expect(origin.requests).toBe(0);
    expect(logs.join('\n')).toMatch(/503 \(viewer-request function error \(LambdaExecutionError\): Error: boom\)/);
  });

  it('a viewer-request timeout → 503 LambdaLimitExceeded', async () => {
    impls['viewer-request'] = () => new Promise((resolve) => setTimeout(() => resolve(null), 5000));
    const res = await rawRequest(edge.port, '/');
    expect(res.status).toBe(503);
    expect(res.body).toMatch(/LambdaLimitExceeded/);
    expect(logs.join('\n')).toMatch(/timed out/);
    expect(origin.requests).toBe(0);
  });

  it.each<[string, Impl]>([
    ['a generated response over 40 KB', () => ({ status: '402', body: 'x'.repeat(41 * 1024) })],
    ['a disallowed header', () => ({ status: '402', headers: { 'x-cache': [{ value: 'Hit' }] } })],
    ['an invalid status', () => ({ status: 'nope' })],
    ['a 204 with a body', () => ({ status: '204', body: 'no content?' })],
    ['no result', () => undefined],
    ['a changed read-only Host header', (e) => {
      const r: CloudFrontRequest = e.Records[0]!.cf.request;
      r.headers.host = [{ key: 'Host', value: 'evil.example' }];
      return r;
    }],
    ['a uri without leading slash', (e) => ({ ...e.Records[0]!.cf.request, uri: 'api' })],
    ['a URI and query string of 8,192 characters', (e) => ({ ...e.Records[0]!.cf.request, querystring: `q=${'a'.repeat(8192)}` })],
    ['headers and URL over 20,480 bytes', (e) => {
      const r: CloudFrontRequest = e.Records[0]!.cf.request;
      r.headers['x-big'] = [{ key: 'X-Big', value: 'b'.repeat(21 * 1024) }];
      return r;
    }],
  ])('a viewer-request result with %s → 502 (validation error)', async (_, impl) => {
    impls['viewer-request'] = impl;
    const res = await rawRequest(edge.port, '/api/premium-report');
    expect(res.status).toBe(502);
    expect(origin.requests).toBe(0);
    expect(logs.join('\n')).toMatch(/failed validation|no request or response/);
  });

  it.each<[string, Impl]>([
    ['a changed read-only Accept-Encoding', (e) => {
      const r: CloudFrontRequest = e.Records[0]!.cf.request;
      r.headers['accept-encoding'] = [{ key: 'Accept-Encoding', value: 'identity' }];
      return r;
    }],
    ['headers and URL over 20,480 bytes', (e) => {
      const r: CloudFrontRequest = e.Records[0]!.cf.request;
      r.headers['x-big'] = [{ key: 'X-Big', value: 'b'.repeat(21 * 1024) }];
      return r;
    }],
    ['a generated response over 1 MB', () => ({ status: '200', body: 'x'.repeat(1024 * 1024 + 1) })],
  ])('an origin-request result with %s → 502 (validation error)', async (_, impl) => {
    impls['origin-request'] = impl;
    const res = await rawRequest(edge.port, '/api/premium-report', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(res.status).toBe(502);
    expect(origin.requests).toBe(0);
  });

  it('a viewer request over 20,480 bytes of URL and headers, or a URL over 8,192 bytes → 413 before any function', async () => {
    expect((await rawRequest(edge.port, '/', { headers: { 'X-Big': 'b'.repeat(20 * 1024) } })).status).toBe(413);
    expect((await rawRequest(edge.port, `/?q=${'a'.repeat(8192)}`)).status).toBe(413);
    // Just under the limit, the request goes on (the sample origin then applies its own, smaller one).
    expect((await rawRequest(edge.port, '/', { headers: { 'X-Big': 'b'.repeat(19 * 1024) } })).status).not.toBe(413);
    expect(events['viewer-request']).toHaveLength(1);
  });

  it('blocks a spoofed x-amzn-waf-* header with 403 before any function runs', async () => {
    const res = await rawRequest(edge.port, '/api/premium-report', {
      headers: { 'User-Agent': CHROME, 'X-Amzn-Waf-X402-Eligible': 'false' },
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatch(/WAF emulation/);
    expect(events['viewer-request']).toHaveLength(0);
    expect(origin.requests).toBe(0);
  });
});

describe('local edge: the cache', () => {
  let cached: LocalEdge;
  const keyedOnVariant: Partial<CachePolicyConfig> = { maxTtl: 3600, headers: { behavior: 'whitelist', names: ['x-variant'] } };
  const cacheable = (path: string, headers: Record<string, string> = {}, status = 200) =>
    origin.setBehavior(path, { status, body: `body of ${path}`, headers: { 'content-type': 'text/plain', 'cache-control': 'max-age=60', ...headers } });
  const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => rawRequest(cached.port, path, { headers: { 'User-Agent': CHROME, ...headers }, method });

  beforeAll(async () => {
    cached = await edgeWith({ cachePolicy: keyedOnVariant, errorCachingMinTtl: { 503: 0 } });
  });
  beforeEach(() => cached.cache.clear());

  it('a hit is served from the cache: the origin, origin-request and origin-response do not run; viewer-request and viewer-response do', async () => {
    cacheable('/c/hit');
    const miss = await get('/c/hit');
    const hit = await get('/c/hit');
    expect([miss.headers['x-cache'], hit.headers['x-cache']]).toEqual(['Miss from cloudfront', 'Hit from cloudfront']);
    expect(hit.body).toBe('body of /c/hit');
    expect(hit.headers.age).toMatch(/^\d+$/);
    expect(origin.requestsFor('/c/hit')).toBe(1);
    expect([events['origin-request'], events['origin-response']].map((e) => e.length)).toEqual([1, 1]);
    expect([events['viewer-request'], events['viewer-response']].map((e) => e.length)).toEqual([2, 2]);
  });

  it('the cache key includes the headers the cache policy lists, and only those', async () => {
    cacheable('/c/key');
    await get('/c/key', { 'X-Variant': 'a' });
    await get('/c/key', { 'X-Variant': 'b' });
    expect(origin.requestsFor('/c/key')).toBe(2);
    expect((await get('/c/key', { 'X-Variant': 'a', 'X-Other': 'changed' })).headers['x-cache']).toBe('Hit from cloudfront');
    expect((await get('/c/key?not=in-the-key', { 'X-Variant': 'b' })).headers['x-cache']).toBe('Hit from cloudfront');
    expect(origin.requestsFor('/c/key')).toBe(2);
  });

  it.each(['no-store', 'private', 'no-cache', 'max-age=60, private'])('a response with Cache-Control "%s" is not cached when the minimum TTL is 0', async (cacheControl) => {
    cacheable('/c/uncacheable', { 'cache-control': cacheControl });
    await get('/c/uncacheable');
    expect((await get('/c/uncacheable')).headers['x-cache']).toBe('Miss from cloudfront');
    expect(origin.requestsFor('/c/uncacheable')).toBe(2);
  });

  it('a minimum TTL above 0 caches even a no-store response', async () => {
    const minTtl = await edgeWith({ cachePolicy: { ...keyedOnVariant, minTtl: 30, defaultTtl: 30 } });
    cacheable('/c/min-ttl', { 'cache-control': 'no-store' });
    await rawRequest(minTtl.port, '/c/min-ttl');
    expect((await rawRequest(minTtl.port, '/c/min-ttl')).headers['x-cache']).toBe('Hit from cloudfront');
    expect(origin.requestsFor('/c/min-ttl')).toBe(1);
  });

  it('errors: a 404 is cached for the default error caching minimum TTL, a 503 whose ErrorCachingMinTTL is 0 is not, and a 402 never is', async () => {
    for (const [path, status] of [['/c/404', 404], ['/c/503', 503], ['/c/402', 402]] as const) {
      origin.setBehavior(path, { status }); // no Cache-Control: ErrorCachingMinTTL decides
      await get(path);
      await get(path);
    }
    expect([origin.requestsFor('/c/404'), origin.requestsFor('/c/503'), origin.requestsFor('/c/402')]).toEqual([1, 2, 2]);
  });

  it('what origin-response returns is what is cached: its 402 is not stored, its replaced body and headers are', async () => {
    cacheable('/c/to-402');
    impls['origin-response'] = () => ({ status: '402', headers: { 'content-type': [{ value: 'application/json' }] }, body: '{"error":"x"}' });
    await get('/c/to-402');
    expect((await get('/c/to-402')).status).toBe(402);
    expect(origin.requestsFor('/c/to-402')).toBe(2);

    cacheable('/c/rewritten');
    impls['origin-response'] = (e) => ({
      ...e.Records[0]!.cf.response,
      headers: { ...e.Records[0]!.cf.response.headers, 'x-by-origin-response': [{ value: 'yes' }] },
      body: 'rewritten body',
    });
    await get('/c/rewritten');
    impls['origin-response'] = () => { throw new Error('must not run on a hit'); };
    const hit = await get('/c/rewritten');
    expect([hit.headers['x-cache'], hit.body, hit.headers['x-by-origin-response']]).toEqual(['Hit from cloudfront', 'rewritten body', 'yes']);
  });

  it('a response generated by origin-request is cached under the key; one generated by viewer-request is not', async () => {
    impls['origin-request'] = () => ({ status: '200', headers: { 'cache-control': [{ value: 'max-age=60' }] }, body: 'from origin-request' });
    await get('/c/generated');
    impls['origin-request'] = () => { throw new Error('must not run on a hit'); };
    const hit = await get('/c/generated');
    expect([hit.headers['x-cache'], hit.body]).toEqual(['Hit from cloudfront', 'from origin-request']);
    expect(origin.requestsFor('/c/generated')).toBe(0);
    expect(events['origin-response']).toHaveLength(0);

    impls['origin-request'] = passThrough['origin-request'];
    impls['viewer-request'] = () => ({ status: '200', headers: { 'cache-control': [{ value: 'max-age=60' }] }, body: 'from viewer-request' });
    await get('/c/viewer-generated');
    impls['viewer-request'] = passThrough['viewer-request'];
    cacheable('/c/viewer-generated');
    expect((await get('/c/viewer-generated')).body).toBe('body of /c/viewer-generated');
  });

  it('stores the origin\'s object even when viewer-response replaces the viewer\'s copy', async () => {
    cacheable('/c/viewer-replaced');
    impls['viewer-response'] = (e) => ({ ...e.Records[0]!.cf.response, body: 'for this viewer only' });
    expect((await get('/c/viewer-replaced')).body).toBe('for this viewer only');
    impls['viewer-response'] = passThrough['viewer-response'];
    const hit = await get('/c/viewer-replaced');
    expect([hit.headers['x-cache'], hit.body]).toEqual(['Hit from cloudfront', 'body of /c/viewer-replaced']);
    expect(origin.requestsFor('/c/viewer-replaced')).toBe(1);
  });

  it('an origin that times out is a 5xx CloudFront caches for ErrorCachingMinTTL (10 s for a 504 here): the next viewer gets the 504 page without an origin request', async () => {
    origin.setBehavior('/c/silent', { delayMs: 2000 });
    expect((await get('/c/silent')).status).toBe(504);
    const again = await get('/c/silent');
    expect([again.status, again.headers['x-cache']]).toEqual([504, 'Hit from cloudfront']);
    expect(again.body).toMatch(/504 ERROR.*\n.*could not be satisfied/);
    expect(origin.requestsFor('/c/silent')).toBe(3); // the three attempts of the first request only
  });

  it('only GET and HEAD are answered from the cache (OPTIONS when the behavior caches it)', async () => {
    cacheable('/c/methods');
    for (const method of ['POST', 'POST', 'OPTIONS', 'OPTIONS']) await get('/c/methods', {}, method);
    expect(origin.requestsFor('/c/methods')).toBe(4);
    await get('/c/methods');
    expect((await get('/c/methods', {}, 'HEAD')).headers['x-cache']).toBe('Hit from cloudfront');
    expect(origin.requestsFor('/c/methods')).toBe(5);
  });
});
