/**
 * The catalogue at /.well-known/x402.json: every priced route, metered route and pass, with the
 * very terms their 402s offer; served free, cacheable, GET and HEAD only.
 */
import { decodePaymentRequiredHeader } from '@x402/core/http';
import { PaymentRequirementsSchema } from '@x402/core/schemas';
import type { EdgeConfig } from '../../lambda/core/config';
import { buildCatalog, type Catalog } from '../../lambda/core/catalog';
import { CATALOG_PATH } from '../../lambda/core/discovery';
import { Paywall, type PaywallRequest } from '../../lambda/core/paywall';
import { ExactEvmPrecheck } from '../../lambda/core/precheck';
import { newPassKeyPair } from '../../local/pass-key';
import { resolveX402Config } from '../../lib/config/resolve';
import { SETTINGS } from '../constructs/helpers';
import { testEdgeConfig } from '../support/config';
import { MemoryReceipts } from '../support/memory-receipts';

const FACILITATOR = '0x00000000000000000000000000000000000Fac11'; // EIP-55, as the edge keeps it
const HOST = 'd111111abcdef8.cloudfront.net';
const KEY = newPassKeyPair();
const config: EdgeConfig = testEdgeConfig({
  routes: [
    { pattern: '/articles/*', price: '$0.001', description: 'One article', mimeType: 'text/html' },
    {
      pattern: 'GET /search',
      price: '$0.01',
      mimeType: 'application/json',
      discovery: { input: { q: 'cats' }, inputSchema: { properties: { q: { type: 'string' } } }, output: { example: { results: [] } } },
    },
    { pattern: 'POST /summarize', price: '$0.02', discovery: { inputSchema: { properties: { text: { type: 'string' } } }, bodyType: 'json' } },
    { pattern: '/metered/**', scheme: 'upto', maxPrice: '$0.005', description: 'Metered inference' },
  ],
  passes: {
    siteId: `0x${'12'.repeat(20)}/0123456789abcdef`,
    offers: [{ name: 'day', price: '$0.50', durationSeconds: 86_400, scope: ['/articles/*'] }],
    verifyKeys: [{ kid: 'k1', jwk: KEY.jwk }],
  },
});

function setup() {
  const calls: string[] = [];
  const unreachable = async (): Promise<never> => {
    throw new Error('no facilitator call expected');
  };
  const receipts = new MemoryReceipts();
  const paywall = new Paywall(
    config,
    {
      facilitator: {
        verify: unreachable,
        settle: unreachable,
        supported: async () => (calls.push('supported'), { kinds: [{ scheme: 'upto', network: config.network, extra: { facilitatorAddress: FACILITATOR } }] }),
      },
      receipts,
      passRecords: receipts,
      clock: Date.now,
      log: () => undefined,
    },
    new ExactEvmPrecheck(config),
  );
  return { paywall, calls };
}

function request(uri: string, method = 'GET', headers: Record<string, string> = {}): PaywallRequest {
  return { method, uri, host: HOST, clientIp: '203.0.113.9', querystring: '', header: (name) => headers[name] };
}

async function respond(paywall: Paywall, req: PaywallRequest) {
  const outcome = await paywall.onViewerRequest(req);
  if (outcome.kind !== 'respond') throw new Error(`expected a response, got ${JSON.stringify(outcome)}`);
  return outcome.response;
}

describe('the catalogue', () => {
  const catalog = buildCatalog(config, `https://${HOST}`, FACILITATOR);

  it('lists every priced route, metered route and pass in the draft manifest shape', () => {
    expect(catalog.x402Version).toBe(2);
    expect(catalog.items.map((item) => [item.resource.url, item.accepts[0].scheme])).toEqual([
      [`https://${HOST}/articles/*`, 'exact'],
      [`https://${HOST}/search`, 'exact'],
      [`https://${HOST}/summarize`, 'exact'],
      [`https://${HOST}/metered/**`, 'upto'],
      [`https://${HOST}/.well-known/x402/pass/day`, 'exact'],
    ]);
    for (const item of catalog.items) {
      expect(item.type).toBe('http');
      expect(PaymentRequirementsSchema.safeParse(item.accepts[0]).success).toBe(true);
    }
  });

  it('lifts the declared input and output contract, by method', () => {
    const [articles, search, summarize] = catalog.items;
    expect(articles.input).toEqual({ routeTemplate: '/articles/*' });
    expect(articles.output).toEqual({ mimeType: 'text/html' });
    expect(search.input).toEqual({ method: 'GET', routeTemplate: '/search', queryParams: { properties: { q: { type: 'string' } } } });
    expect(search.output).toEqual({ mimeType: 'application/json', example: { results: [] } });
    expect(summarize.input).toEqual({ method: 'POST', routeTemplate: '/summarize', body: { properties: { text: { type: 'string' } } }, bodyType: 'json' });
  });

  it('offers a pass with its duration and scope, as its holders\' 402s advertise it', () => {
    const pass = catalog.items[4];
    expect(pass.extensions).toEqual({
      'x402-pass': {
        header: 'Authorization: Bearer <pass>',
        passes: [{ name: 'day', amount: '500000', asset: config.asset.address, network: config.network, durationSeconds: 86_400, scope: ['/articles/*'], url: `https://${HOST}/.well-known/x402/pass/day` }],
      },
    });
  });

  it('names the facilitator address in a metered route\'s terms, as its 402 does, when known', () => {
    expect(catalog.items[3].accepts[0].extra).toEqual({ name: 'USDC', version: '2', assetTransferMethod: 'permit2', facilitatorAddress: FACILITATOR });
    expect(buildCatalog(config, `https://${HOST}`).items[3].accepts[0].extra).toEqual({ name: 'USDC', version: '2' });
  });
});

describe('the catalogue at the edge', () => {
  it('offers for every route exactly the requirements its 402 offers', async () => {
    const { paywall } = setup();
    const served = JSON.parse((await respond(paywall, request(CATALOG_PATH))).body) as Catalog;
    const eligible = { 'x-amzn-waf-x402-eligible': 'true' };
    const samples = ['/articles/one', '/search', '/summarize', '/metered/run', '/.well-known/x402/pass/day'];
    const methods = ['GET', 'GET', 'POST', 'GET', 'GET'];
    for (const [index, path] of samples.entries()) {
      const challenge = await respond(paywall, request(path, methods[index], eligible));
      expect(challenge.status).toBe(402);
      expect(served.items[index].accepts).toEqual(decodePaymentRequiredHeader(challenge.headers['payment-required']).accepts);
    }
  });

  it('serves it free to anyone, cacheable with an ETag, and revalidates it', async () => {
    const { paywall } = setup();
    const first = await respond(paywall, request(CATALOG_PATH));
    expect(first.status).toBe(200);
    expect(first.headers).toMatchObject({ 'content-type': 'application/json', 'cache-control': 'public, max-age=300', etag: expect.stringMatching(/^"[\w-]{27}"$/) });
    expect(first.headers['payment-required']).toBeUndefined();
    expect(JSON.parse(first.body)).toEqual(buildCatalog(config, `https://${HOST}`, FACILITATOR));
    const again = await respond(paywall, request(CATALOG_PATH, 'GET', { 'if-none-match': `W/${first.headers.etag}` }));
    expect(again).toMatchObject({ status: 304, body: '', headers: { etag: first.headers.etag } });
    const head = await respond(paywall, request(CATALOG_PATH, 'HEAD'));
    expect(head).toMatchObject({ status: 200, body: '', headers: { etag: first.headers.etag } });
  });

  it('asks the facilitator for its address once per container, as the 402s do', async () => {
    const { paywall, calls } = setup();
    await respond(paywall, request(CATALOG_PATH));
    await respond(paywall, request(CATALOG_PATH));
    await respond(paywall, request('/metered/run', 'GET', { 'x-amzn-waf-x402-eligible': 'true' }));
    expect(calls).toEqual(['supported']);
  });

  it('refuses other methods with a 405 in JSON', async () => {
    const { paywall } = setup();
    const refused = await respond(paywall, request(CATALOG_PATH, 'POST'));
    expect(refused.status).toBe(405);
    expect(refused.headers.allow).toBe('GET, HEAD');
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'method_not_allowed' });
  });
});

describe('the catalogue path at synth', () => {
  it('refuses a route that would price it, naming the route', () => {
    expect(() => resolveX402Config({ ...SETTINGS, routes: [{ pattern: 'GET /.well-known/x402.json', price: '$0.001' }] })).toThrow(
      /x402:routes\["GET \/\.well-known\/x402\.json"\].*where the edge serves the catalogue/s,
    );
  });
});
