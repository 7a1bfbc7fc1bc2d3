/**
 * Where batch-settlement terms get their receiver authorizer: pinned in the configuration
 * (`x402:receiverAuthorizer`), the 402 and the catalogue name it without the facilitator's
 * /supported; unpinned, a /supported that fails answers the batch route a 503 JSON naming why,
 * while exact and upto routes' 402s and the catalogue do not depend on it.
 */
import { decodePaymentRequiredHeader } from '@x402/core/http';
import { getAddress } from 'viem';
import type { ChannelStorePort } from '../../lambda/core/batch/channel-books';
import type { Catalog } from '../../lambda/core/catalog';
import type { EdgeConfig } from '../../lambda/core/config';
import { CATALOG_PATH } from '../../lambda/core/discovery';
import type { SupportedKinds } from '../../lambda/core/upto';
import { Paywall, type PaywallRequest } from '../../lambda/core/paywall';
import { ExactEvmPrecheck } from '../../lambda/core/precheck';
import { testEdgeConfig } from '../support/config';
import { MemoryReceipts } from '../support/memory-receipts';

// EIP-55, as the edge keeps them.
const PINNED = getAddress(`0x${'ab'.repeat(20)}`);
const SUPPORTED_AUTHORIZER = getAddress(`0x${'cd'.repeat(20)}`);
const UPTO_FACILITATOR = getAddress(`0x${'ef'.repeat(20)}`);
const ROUTES: EdgeConfig['routes'] = [
  { pattern: '/articles/*', price: '$0.001' },
  { pattern: '/metered/**', scheme: 'upto', maxPrice: '$0.005' },
  { pattern: '/feed/**', scheme: 'batch-settlement', price: '$0.001', minDeposit: '$0.05', withdrawDelay: 3600 },
];
const ELIGIBLE = { 'x-amzn-waf-x402-eligible': 'true' };

/** A paywall whose /supported answers `supported` (or fails), counting its calls; no other facilitator or table call is expected. */
function setup(options: { readonly pinned?: string; readonly supported: 'down' | 'upto only' | 'both' }) {
  const config = testEdgeConfig({ routes: ROUTES, facilitator: { url: 'http://127.0.0.1:1', verifyTimeoutMs: 3000, settleTimeoutMs: 10000, ...(options.pinned ? { receiverAuthorizer: options.pinned } : {}) } });
  const unexpected = async (): Promise<never> => {
    throw new Error('no call expected');
  };
  let supportedCalls = 0;
  const kinds: SupportedKinds['kinds'] = [
    { scheme: 'upto', network: config.network, extra: { facilitatorAddress: UPTO_FACILITATOR } },
    ...(options.supported === 'both' ? [{ scheme: 'batch-settlement', network: config.network, extra: { receiverAuthorizer: SUPPORTED_AUTHORIZER } }] : []),
  ];
  const supported = async (): Promise<SupportedKinds> => {
    supportedCalls++;
    if (options.supported === 'down') throw new Error('connect ECONNREFUSED 127.0.0.1:1');
    return { kinds };
  };
  const channels = new Proxy({} as ChannelStorePort, { get: () => unexpected });
  const receipts = new MemoryReceipts();
  const paywall = new Paywall(config, { facilitator: { verify: unexpected, settle: unexpected, supported }, receipts, channels, clock: Date.now, log: () => undefined }, new ExactEvmPrecheck(config));
  return { paywall, supportedCalls: () => supportedCalls };
}

function request(uri: string, headers: Record<string, string> = ELIGIBLE): PaywallRequest {
  return { method: 'GET', uri, host: 'example.com', clientIp: '203.0.113.9', querystring: '', header: (name) => headers[name] };
}

async function respond(paywall: Paywall, uri: string, headers?: Record<string, string>) {
  const outcome = await paywall.onViewerRequest(request(uri, headers));
  if (outcome.kind !== 'respond') throw new Error(`expected a response, got ${JSON.stringify(outcome)}`);
  return outcome.response;
}

async function offered(paywall: Paywall, uri: string) {
  const response = await respond(paywall, uri);
  expect(response.status).toBe(402);
  return decodePaymentRequiredHeader(response.headers['payment-required']).accepts[0];
}

describe('the receiver authorizer of batch-settlement terms', () => {
  it('pinned: the 402 names it and the channel terms without asking /supported', async () => {
    const { paywall, supportedCalls } = setup({ pinned: PINNED, supported: 'down' });
    expect((await offered(paywall, '/feed/one')).extra).toEqual({ name: 'USDC', version: '2', receiverAuthorizer: PINNED, withdrawDelay: 3600, minDeposit: '50000' });
    expect((await offered(paywall, '/articles/one')).scheme).toBe('exact');
    expect(supportedCalls()).toBe(0);
  });

  it('pinned in lower case: the 402 names its checksummed form', async () => {
    const { paywall } = setup({ pinned: PINNED.toLowerCase(), supported: 'down' });
    expect((await offered(paywall, '/feed/one')).extra.receiverAuthorizer).toBe(PINNED);
  });

  it('unpinned and /supported down: the batch route answers a 503 JSON naming why, the exact route its 402', async () => {
    const { paywall } = setup({ supported: 'down' });
    const refused = await respond(paywall, '/feed/one');
    expect(refused.status).toBe(503);
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
    expect(refused.headers['retry-after']).toBeDefined();
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'batch_settlement_receiver_authorizer_unknown' });
    expect((await offered(paywall, '/articles/one')).scheme).toBe('exact');
  });

  it("unpinned and /supported without the batch kind: the upto route's 402 still names its facilitator, the batch route is a 503", async () => {
    const { paywall } = setup({ supported: 'upto only' });
    expect((await offered(paywall, '/metered/run')).extra.facilitatorAddress).toBe(UPTO_FACILITATOR);
    expect((await respond(paywall, '/feed/one')).status).toBe(503);
  });

  it('unpinned: the 402 names the one /supported lists', async () => {
    const { paywall } = setup({ supported: 'both' });
    expect((await offered(paywall, '/feed/one')).extra.receiverAuthorizer).toBe(SUPPORTED_AUTHORIZER);
  });
});

describe('the catalogue of a batch-settlement route', () => {
  async function catalogued(paywall: Paywall) {
    const served = await respond(paywall, CATALOG_PATH, {});
    expect(served.status).toBe(200);
    return (JSON.parse(served.body) as Catalog).items[2].accepts[0];
  }

  it('names the pinned receiver authorizer, exactly as the 402 does', async () => {
    const { paywall } = setup({ pinned: PINNED, supported: 'both' });
    expect(await catalogued(paywall)).toEqual(await offered(paywall, '/feed/one'));
    expect((await catalogued(paywall)).extra.receiverAuthorizer).toBe(PINNED);
  });

  it('unpinned, names the one the edge read from /supported', async () => {
    const { paywall } = setup({ supported: 'both' });
    expect((await catalogued(paywall)).extra.receiverAuthorizer).toBe(SUPPORTED_AUTHORIZER);
  });

  it('unpinned and not known: still served, with the deposit terms and without the receiver authorizer', async () => {
    const { paywall } = setup({ supported: 'upto only' });
    expect((await catalogued(paywall)).extra).toEqual({ name: 'USDC', version: '2', withdrawDelay: 3600, minDeposit: '50000' });
  });
});
