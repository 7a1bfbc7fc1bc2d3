import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type {
  CloudFrontRequest,
  CloudFrontRequestEvent,
  CloudFrontRequestResult,
  CloudFrontResponseEvent,
  CloudFrontResultResponse,
} from 'aws-lambda';
import {
  fromCloudFrontHeaders,
  isDisallowedHeader,
  splitRequestTarget,
  startLocalEdge,
  toCloudFrontHeaders,
  validateCloudFrontHeaders,
  type LocalEdge,
} from '../../local/cloudfront';
import { startSampleOrigin, type SampleOrigin } from '../../local/origin';
import { DEFAULT_ELIGIBILITY_HEADER } from '../../local/waf-emulation';

const CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36';

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

  it('fromCloudFrontHeaders uses the key casing and turns repeats into arrays', () => {
    expect(fromCloudFrontHeaders({
      'content-type': [{ key: 'Content-Type', value: 'application/json' }],
      'set-cookie': [{ key: 'Set-Cookie', value: 'a=1' }, { key: 'Set-Cookie', value: 'b=2' }],
      'x-no-key': [{ value: 'v' }],
      empty: [],
    })).toEqual({ 'Content-Type': 'application/json', 'Set-Cookie': ['a=1', 'b=2'], 'x-no-key': 'v' });
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

describe('local edge (CloudFront emulation)', () => {
  let origin: SampleOrigin;
  let edge: LocalEdge;
  const logs: string[] = [];
  const viewerEvents: CloudFrontRequestEvent[] = [];
  const responseEvents: CloudFrontResponseEvent[] = [];
  // Each test installs its own handler behaviour; the edge calls through these.
  let viewerImpl: (e: CloudFrontRequestEvent) => Promise<CloudFrontRequestResult>;
  let originImpl: (e: CloudFrontResponseEvent) => Promise<CloudFrontResultResponse>;
  const passThroughViewer = async (e: CloudFrontRequestEvent) => e.Records[0]!.cf.request;
  const passThroughOrigin = async (e: CloudFrontResponseEvent) => e.Records[0]!.cf.response;

  beforeAll(async () => {
    origin = await startSampleOrigin();
    edge = await startLocalEdge({
      originUrl: origin.url,
      viewerRequest: (e) => { viewerEvents.push(e); return viewerImpl(e); },
      originResponse: (e) => { responseEvents.push(e); return originImpl(e); },
      originTimeoutMs: 300,
      functionTimeoutMs: { viewerRequest: 200 },
      log: (l) => logs.push(l),
    });
  });
  afterAll(async () => {
    await edge.close();
    await origin.close();
  });
  beforeEach(() => {
    origin.reset();
    viewerEvents.length = 0;
    responseEvents.length = 0;
    logs.length = 0;
    viewerImpl = passThroughViewer;
    originImpl = passThroughOrigin;
  });

  it('pass-through: builds a faithful viewer-request event and serves the origin', async () => {
    const res = await rawRequest(edge.port, '/articles/hello%20world?b=2&a=%2F', {
      headers: { 'User-Agent': CHROME, 'X-Custom': 'Ab', 'X-Multi': ['one', 'two'], Connection: 'keep-alive' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toContain('hello%20world');
    expect(res.headers['x-cache']).toBe('Miss from cloudfront');
    expect(res.headers.via).toMatch(/^1\.1 [0-9a-f]+\.cloudfront\.net \(CloudFront\)$/);

    expect(viewerEvents).toHaveLength(1);
    const cf = viewerEvents[0]!.Records[0]!.cf;
    expect(cf.config).toEqual({
      distributionDomainName: 'd111111abcdef8.cloudfront.net',
      distributionId: 'EDFDVBD6EXAMPLE',
      eventType: 'viewer-request',
      requestId: expect.stringMatching(/^[A-Za-z0-9_-]{56}$/),
    });
    expect(cf.request).toMatchObject({ clientIp: '127.0.0.1', method: 'GET', uri: '/articles/hello%20world', querystring: 'b=2&a=%2F' });
    expect(cf.request.headers['x-custom']).toEqual([{ key: 'X-Custom', value: 'Ab' }]);
    expect(cf.request.headers['x-multi']).toEqual([{ key: 'X-Multi', value: 'one' }, { key: 'X-Multi', value: 'two' }]);
    expect(cf.request.headers.host).toEqual([{ key: 'Host', value: `127.0.0.1:${edge.port}` }]);
    expect(cf.request.headers.connection).toBeUndefined(); // disallowed: hidden from functions
    expect(cf.request.headers[DEFAULT_ELIGIBILITY_HEADER]).toBeUndefined(); // a browser
    expect(cf.request).not.toHaveProperty('body'); // includeBody is off

    expect(origin.requestsFor('/articles/hello%20world')).toBe(1);
    expect(origin.received[0]!.url).toBe('/articles/hello%20world?b=2&a=%2F');
  });

  it('passes path tricks through undecoded, to the handler and to the origin', async () => {
    await rawRequest(edge.port, '/free/..%2Fapi/premium-report', { headers: { 'User-Agent': CHROME } });
    await rawRequest(edge.port, '/free/../api//premium-report', { headers: { 'User-Agent': CHROME } });
    expect(viewerEvents.map((e) => e.Records[0]!.cf.request.uri)).toEqual(['/free/..%2Fapi/premium-report', '/free/../api//premium-report']);
    expect(origin.received.map((r) => r.url)).toEqual(['/free/..%2Fapi/premium-report', '/free/../api//premium-report']);
  });

  it('shows the WAF-inserted header to viewer-request for a bot', async () => {
    await rawRequest(edge.port, '/api/premium-report', { headers: { 'User-Agent': 'curl/8.5.0' } });
    const h = viewerEvents[0]!.Records[0]!.cf.request.headers;
    expect(h[DEFAULT_ELIGIBILITY_HEADER]).toEqual([{ key: DEFAULT_ELIGIBILITY_HEADER, value: 'true' }]);
    expect(h['x-amzn-waf-x402-bot-category']).toEqual([{ key: 'x-amzn-waf-x402-bot-category', value: 'http_library' }]);
    expect(logs.join('\n')).toMatch(/waf-emulation/);
  });

  it('forwards the modified request to the origin and into the origin-response event', async () => {
    viewerImpl = async (e) => {
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
    expect(seen.headers.host).toBe(new URL(origin.url).host); // origin request: Host is the origin's
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-amz-cf-id']).toMatch(/^[A-Za-z0-9_-]{56}$/);

    expect(responseEvents).toHaveLength(1);
    const cf = responseEvents[0]!.Records[0]!.cf;
    expect(cf.config.eventType).toBe('origin-response');
    expect(cf.config.requestId).toBe(viewerEvents[0]!.Records[0]!.cf.config.requestId);
    expect(cf.request).toMatchObject({ method: 'GET', uri: '/api/premium-report', querystring: 'v=2', clientIp: '127.0.0.1' });
    expect(cf.request.headers['x-x402-pending']).toEqual([{ key: 'X-X402-Pending', value: 'nonce-123' }]);
    expect(cf.request.headers['x-amz-cf-id']).toBeUndefined(); // sent to the origin, hidden from functions
    expect(cf.request.origin?.custom?.domainName).toBe('127.0.0.1');
    expect(cf.response).toEqual({ status: '200', statusDescription: 'OK', headers: expect.any(Object) });
    expect(cf.response).not.toHaveProperty('body');
    expect(cf.response.headers['content-type']).toEqual([{ key: 'content-type', value: 'application/json' }]);
  });

  it('a viewer origin request policy allow-list filters what reaches the origin and origin-response', async () => {
    const filtered = await startLocalEdge({
      originUrl: origin.url,
      originRequestHeaders: ['x-keep'],
      viewerRequest: async (e) => {
        const r = e.Records[0]!.cf.request;
        r.headers['x-handoff'] = [{ key: 'x-handoff', value: '1' }];
        return r;
      },
      originResponse: async (e) => { responseEvents.push(e); return e.Records[0]!.cf.response; },
    });
    try {
      await rawRequest(filtered.port, '/', { headers: { 'User-Agent': CHROME, 'X-Keep': 'k' } });
      expect(origin.received[0]!.headers['x-keep']).toBe('k');
      expect(origin.received[0]!.headers['x-handoff']).toBeUndefined();
      expect(origin.received[0]!.headers['user-agent']).toBe('Amazon CloudFront');
      expect(responseEvents[0]!.Records[0]!.cf.request.headers['x-handoff']).toBeUndefined();
    } finally {
      await filtered.close();
    }
  });

  it('a response generated in viewer-request goes to the client; the origin is never reached', async () => {
    viewerImpl = async () => ({
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
    expect(responseEvents).toHaveLength(0);
  });

  it('decodes a base64 generated body', async () => {
    viewerImpl = async () => ({ status: '200', bodyEncoding: 'base64', body: Buffer.from('binary ok').toString('base64') });
    const res = await rawRequest(edge.port, '/x');
    expect(res.body).toBe('binary ok');
  });

  it('origin-response may replace the origin body (e.g. a 402 after a failed settlement)', async () => {
    originImpl = async (e) => ({
      ...e.Records[0]!.cf.response,
      status: '402',
      statusDescription: 'Payment Required',
      headers: { 'content-type': [{ key: 'Content-Type', value: 'application/json' }] },
      body: '{"error":"settlement failed"}',
    });
    const res = await rawRequest(edge.port, '/api/premium-report', { headers: { 'User-Agent': 'GPTBot/1.1' } });
    expect(res.status).toBe(402);
    expect(res.body).toBe('{"error":"settlement failed"}');
    expect(res.body).not.toContain('premium');
    expect(res.headers['content-length']).toBe(String(res.body.length));
    expect(origin.requestsFor('/api/premium-report')).toBe(1);
  });

  it('origin-response without body keeps the origin body with the updated status and headers', async () => {
    originImpl = async (e) => {
      const r = e.Records[0]!.cf.response;
      r.headers['payment-response'] = [{ key: 'PAYMENT-RESPONSE', value: 'c2V0dGxlZA==' }];
      return r;
    };
    const res = await rawRequest(edge.port, '/api/premium-report', { headers: { 'User-Agent': 'GPTBot/1.1' } });
    expect(res.status).toBe(200);
    expect(res.headers['payment-response']).toBe('c2V0dGxlZA==');
    expect(JSON.parse(res.body)).toMatchObject({ report: 'premium' });
  });

  it('origin-response runs for origin errors too (status 500)', async () => {
    const res = await rawRequest(edge.port, '/api/fail');
    expect(res.status).toBe(500);
    expect(responseEvents[0]!.Records[0]!.cf.response.status).toBe('500');
  });

  it('setBehavior forces an origin status that origin-response sees', async () => {
    origin.setBehavior('/api/premium-report', { status: 503 });
    await rawRequest(edge.port, '/api/premium-report');
    expect(responseEvents[0]!.Records[0]!.cf.response.status).toBe('503');
  });

  it('blocks a spoofed x-amzn-waf-* header with 403 before any function runs', async () => {
    const res = await rawRequest(edge.port, '/api/premium-report', {
      headers: { 'User-Agent': CHROME, 'X-Amzn-Waf-X402-Eligible': 'false' },
    });
    expect(res.status).toBe(403);
    expect(res.body).toMatch(/WAF emulation/);
    expect(viewerEvents).toHaveLength(0);
    expect(origin.requests).toBe(0);
  });

  it('a viewer-request error → 503 and no origin request', async () => {
    viewerImpl = async () => { throw new Error('boom'); };
    const res = await rawRequest(edge.port, '/api/premium-report');
    expect(res.status).toBe(503);
    expect(res.headers['x-cache']).toBe('Error from cloudfront');
    expect(origin.requests).toBe(0);
    expect(logs.join('\n')).toMatch(/503 \(viewer-request function error: Error: boom\)/);
  });

  it('a viewer-request timeout → 503', async () => {
    viewerImpl = () => new Promise((resolve) => setTimeout(() => resolve(null), 1000));
    const res = await rawRequest(edge.port, '/');
    expect(res.status).toBe(503);
    expect(logs.join('\n')).toMatch(/timed out/);
  });

  it('an origin-response error → 503 and no origin body leaks', async () => {
    originImpl = async () => { throw new Error('settle exploded'); };
    const res = await rawRequest(edge.port, '/api/premium-report');
    expect(res.status).toBe(503);
    expect(res.body).not.toContain('premium');
    expect(origin.requestsFor('/api/premium-report')).toBe(1);
  });

  it.each<[string, (e: CloudFrontRequestEvent) => Promise<CloudFrontRequestResult>]>([
    ['a generated response over 40 KB', async () => ({ status: '402', body: 'x'.repeat(41 * 1024) })],
    ['a disallowed header', async () => ({ status: '402', headers: { 'x-cache': [{ value: 'Hit' }] } })],
    ['an invalid status', async () => ({ status: 'nope' })],
    ['no result', async () => undefined],
    ['a changed read-only Host header', async (e) => {
      const r: CloudFrontRequest = e.Records[0]!.cf.request;
      r.headers.host = [{ key: 'Host', value: 'evil.example' }];
      return r;
    }],
    ['a uri without leading slash', async (e) => ({ ...e.Records[0]!.cf.request, uri: 'api' })],
  ])('a viewer-request result with %s → 502 (validation error)', async (_, impl) => {
    viewerImpl = impl;
    const res = await rawRequest(edge.port, '/api/premium-report');
    expect(res.status).toBe(502);
    expect(origin.requests).toBe(0);
    expect(logs.join('\n')).toMatch(/failed validation/);
  });

  it('an invalid origin-response result → 502 without the origin body', async () => {
    originImpl = async (e) => ({ ...e.Records[0]!.cf.response, headers: { 'Bad-Case': [{ value: 'x' }] } });
    const res = await rawRequest(edge.port, '/api/premium-report');
    expect(res.status).toBe(502);
    expect(res.body).not.toContain('premium');
  });

  it('origin timeout → 504 and origin-response is not invoked', async () => {
    const res = await rawRequest(edge.port, '/api/slow?ms=2000');
    expect(res.status).toBe(504);
    expect(responseEvents).toHaveLength(0);
    expect(origin.requestsFor('/api/slow')).toBe(1);
  });

  it('origin connection refused → 502 and origin-response is not invoked', async () => {
    const probe = http.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const deadPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    let called = false;
    const dead = await startLocalEdge({
      originUrl: `http://127.0.0.1:${deadPort}`,
      viewerRequest: passThroughViewer,
      originResponse: async (e) => { called = true; return e.Records[0]!.cf.response; },
    });
    try {
      const res = await rawRequest(dead.port, '/');
      expect(res.status).toBe(502);
      expect(called).toBe(false);
    } finally {
      await dead.close();
    }
  });

  it('forwards a POST body to the origin; includeBody exposes it (base64) to viewer-request', async () => {
    const seen: CloudFrontRequestEvent[] = [];
    const withBody = await startLocalEdge({
      originUrl: origin.url,
      includeBody: true,
      viewerRequest: async (e) => { seen.push(e); return e.Records[0]!.cf.request; },
      originResponse: passThroughOrigin,
    });
    try {
      const body = JSON.stringify({ q: 'weather' });
      const res = await rawRequest(withBody.port, '/api/premium-report', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body,
      });
      expect(res.status).toBe(200);
      expect(origin.received[0]).toMatchObject({ method: 'POST', body });
      expect(seen[0]!.Records[0]!.cf.request.body).toEqual({
        action: 'read-only', data: Buffer.from(body).toString('base64'), encoding: 'base64', inputTruncated: false,
      });
      expect(seen[0]!.Records[0]!.cf.request.headers['content-length']).toEqual([{ key: 'Content-Length', value: String(body.length) }]);
    } finally {
      await withBody.close();
    }
  });
});
