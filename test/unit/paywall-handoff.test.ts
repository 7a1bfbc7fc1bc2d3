import type { CloudFrontRequest, CloudFrontRequestEvent, CloudFrontResponseEvent } from 'aws-lambda';
import type { PaymentRequirements } from '@x402/core/types';
import { privateKeyToAccount } from 'viem/accounts';
import { decodeHandoff, encodeHandoff, PAYMENT_ID_HEADER, PENDING_SETTLEMENT_HEADER } from '../../lambda/core/handoff';
import { Metrics } from '../../lambda/core/metrics';
import { Paywall } from '../../lambda/core/paywall';
import { ExactEvmPrecheck } from '../../lambda/core/precheck';
import { routeTerms } from '../../lambda/core/requirements';
import { compileRoutes } from '../../lambda/core/routes';
import { cloudFrontHandlers } from '../../lambda/edge/cloudfront-adapter';
import { testEdgeConfig } from '../support/config';
import { MemoryReceipts } from '../support/memory-receipts';
import { encodeHeader, forgeExact, v2Payload } from '../reliability/support/forge';

const config = testEdgeConfig();
const payer = privateKeyToAccount('0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b4690d1');
const requirements = routeTerms(compileRoutes(config)[0], config).requirements as PaymentRequirements;

function setup(withPrecheck = true) {
  const receipts = new MemoryReceipts();
  const logs: Array<Record<string, unknown>> = [];
  const settles: unknown[] = [];
  const paywall = new Paywall(config, {
    facilitator: {
      verify: async () => ({ isValid: true }),
      settle: async (payload) => {
        settles.push(payload);
        return { success: true, transaction: '0x' + 'ab'.repeat(32), network: 'eip155:84532', payer: payer.address };
      },
    },
    receipts,
    clock: Date.now,
    log: (line) => void logs.push(line),
  }, withPrecheck ? new ExactEvmPrecheck(config) : undefined);
  return { paywall, receipts, logs, settles, handlers: cloudFrontHandlers(paywall, (line) => void logs.push(line)) };
}

function viewerEvent(uri: string, headers: Record<string, string>): CloudFrontRequestEvent {
  const request: CloudFrontRequest = {
    clientIp: '203.0.113.7',
    method: 'GET',
    uri,
    querystring: '',
    headers: Object.fromEntries(Object.entries({ host: 'example.com', ...headers }).map(([name, value]) => [name, [{ key: name, value }]])),
  };
  return { Records: [{ cf: { config: { distributionDomainName: 'd.cloudfront.net', distributionId: 'E1', eventType: 'viewer-request', requestId: 'r' }, request } }] };
}

function originEvent(request: CloudFrontRequest, status = '200'): CloudFrontResponseEvent {
  return {
    Records: [
      {
        cf: {
          config: { distributionDomainName: 'd.cloudfront.net', distributionId: 'E1', eventType: 'origin-response', requestId: 'r' },
          request,
          response: { status, statusDescription: 'OK', headers: { 'content-type': [{ key: 'Content-Type', value: 'text/html' }] } },
        },
      },
    ],
  };
}

const plainRequest = (uri: string, headers: CloudFrontRequest['headers'] = {}): CloudFrontRequest => ({ clientIp: '203.0.113.7', method: 'GET', uri, querystring: '', headers });

describe('origin-response without the viewer-request hand-off', () => {
  it('withholds a priced 2xx response whose hand-off was lost, and counts it', async () => {
    const { handlers, logs } = setup();
    const result = await handlers.originResponse(originEvent(plainRequest('/articles/one')));
    expect(result.status).toBe('503');
    expect(JSON.parse(result.body!)).toMatchObject({ error: 'payment_handoff_missing' });
    expect(logs.some((line) => line[Metrics.handoffMissing] === 1)).toBe(true);
  });

  it('withholds a priced response whose hand-off is unreadable', async () => {
    const { handlers } = setup();
    const result = await handlers.originResponse(originEvent(plainRequest('/articles/one', { [PENDING_SETTLEMENT_HEADER]: [{ key: PENDING_SETTLEMENT_HEADER, value: 'garbage' }] })));
    expect(result.status).toBe('503');
  });

  it('passes a free route untouched', async () => {
    const { handlers } = setup();
    const result = await handlers.originResponse(originEvent(plainRequest('/about')));
    expect(result.status).toBe('200');
    expect(result.body).toBeUndefined();
  });
});

describe('viewer-request hand-off', () => {
  it('never admits a payment without a pre-check (the origin-facing functions carry none): 503, nothing reserved or forwarded', async () => {
    const { handlers, receipts, logs } = setup(false);
    const header = encodeHeader(v2Payload(requirements, await forgeExact(payer, requirements)));
    const result = (await handlers.viewerRequest(viewerEvent('/articles/one', { 'payment-signature': header }))) as { status: string; body: string };
    expect(result.status).toBe('503');
    expect(JSON.parse(result.body)).toMatchObject({ error: 'edge_unavailable' });
    expect(receipts.rows.size).toBe(0);
    expect(logs.some((line) => String(line.error).includes('no payment pre-check'))).toBe(true);
  });

  it('marks a priced request that need not pay (a person) as free, and origin-response releases it', async () => {
    const { handlers } = setup();
    const forwarded = (await handlers.viewerRequest(viewerEvent('/articles/one', { 'user-agent': 'Mozilla/5.0' }))) as CloudFrontRequest;
    expect(decodeHandoff(forwarded.headers[PENDING_SETTLEMENT_HEADER]![0].value)).toEqual({ kind: 'free', routeIndex: 0 });
    const released = await handlers.originResponse(originEvent(forwarded));
    expect(released.status).toBe('200');
    expect(released.body).toBeUndefined();
  });

  it('never forwards the signed payment: the origin and the cache key see a derived payment id, the row keeps the payment', async () => {
    const { handlers, receipts, settles } = setup();
    const exact = await forgeExact(payer, requirements);
    const header = encodeHeader(v2Payload(requirements, exact));
    const forwarded = (await handlers.viewerRequest(viewerEvent('/articles/one', { 'payment-signature': header }))) as CloudFrontRequest;

    expect(forwarded.headers['payment-signature']).toBeUndefined();
    expect(JSON.stringify(forwarded)).not.toContain(exact.signature.slice(2));
    const paymentId = forwarded.headers[PAYMENT_ID_HEADER]![0].value;
    expect(paymentId).toContain(exact.authorization.nonce.toLowerCase());
    expect(receipts.rows.get(paymentId)?.payment).toContain(exact.signature);

    const released = await handlers.originResponse(originEvent(forwarded));
    expect(released.headers?.['payment-response']).toBeDefined();
    expect(settles).toHaveLength(1);
    expect(receipts.rows.get(paymentId)).toMatchObject({ status: 'settled' });
    expect(receipts.rows.get(paymentId)?.payment).toBeUndefined();
  });

  it('settles a reservation at most once, even if two origin-responses carry the same hand-off', async () => {
    const { paywall, receipts, settles } = setup();
    const exact = await forgeExact(payer, requirements);
    const header = encodeHeader(v2Payload(requirements, exact));
    const outcome = await paywall.onViewerRequest({ method: 'GET', uri: '/articles/one', host: 'example.com', header: (n) => (n === 'payment-signature' ? header : undefined) });
    if (outcome.kind !== 'forward') throw new Error(`expected forward, got ${outcome.kind}`);
    const handoff = outcome.setHeaders[PENDING_SETTLEMENT_HEADER];
    const [first, second] = await Promise.all([
      paywall.onOriginResponse({ method: 'GET', uri: '/articles/one', handoff }, 200),
      paywall.onOriginResponse({ method: 'GET', uri: '/articles/one', handoff }, 200),
    ]);
    expect([first.kind, second.kind].sort()).toEqual(['release', 'respond']);
    expect(settles).toHaveLength(1);
    expect([...receipts.rows.values()].filter((r) => r.status === 'settled')).toHaveLength(1);
  });

  it('redelivers only within the authorization\'s validity', async () => {
    const { paywall, receipts } = setup();
    const exact = await forgeExact(payer, requirements);
    const header = encodeHeader(v2Payload(requirements, exact));
    const request = { method: 'GET', uri: '/articles/one', host: 'example.com', header: (n: string) => (n === 'payment-signature' ? header : undefined) };
    const first = await paywall.onViewerRequest(request);
    if (first.kind !== 'forward') throw new Error('expected forward');
    await paywall.onOriginResponse({ method: 'GET', uri: '/articles/one', handoff: first.setHeaders[PENDING_SETTLEMENT_HEADER] }, 200);
    const row = [...receipts.rows.values()][0];
    receipts.rows.set(row.paymentId, { ...row, expiresAt: Math.floor(Date.now() / 1000) - 1 });
    expect(await paywall.onViewerRequest(request)).toMatchObject({ kind: 'respond', response: { status: 402 } });
  });

  it('keeps a forged "free" hand-off from a client out: it is stripped before the paywall decides', async () => {
    const { handlers } = setup();
    const result = await handlers.viewerRequest(
      viewerEvent('/articles/one', { [PENDING_SETTLEMENT_HEADER]: encodeHandoff({ kind: 'free', routeIndex: 0 }), 'x-amzn-waf-x402-eligible': 'true' }),
    );
    expect(result).toMatchObject({ status: '402' });
  });
});

describe('an origin error for a paid request', () => {
  it('is passed on uncacheable, so the same payment presented again reaches origin-response, not a cached copy', async () => {
    const { handlers, receipts } = setup();
    const exact = await forgeExact(payer, requirements);
    const forwarded = (await handlers.viewerRequest(viewerEvent('/articles/one', { 'payment-signature': encodeHeader(v2Payload(requirements, exact)) }))) as CloudFrontRequest;
    const notFound = await handlers.originResponse(originEvent(forwarded, '404'));
    expect(notFound.status).toBe('404');
    expect(notFound.headers?.['cache-control']?.[0]?.value).toBe('private, no-store');
    expect([...receipts.rows.values()][0]).toMatchObject({ status: 'released' });
  });
});
