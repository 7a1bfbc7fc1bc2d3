/**
 * Passes through the transport-neutral paywall: advertised in the 402, sold at their URL as an
 * ordinary exact payment (settled in the origin-request, answered by the edge), then used as a
 * bearer credential verified offline. Real signed payments; the facilitator and table in memory.
 */
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from '@x402/core/http';
import type { PaymentRequired } from '@x402/core/types';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { EdgeConfig } from '../../../lambda/core/config';
import { decodeHandoff, PENDING_SETTLEMENT_HEADER } from '../../../lambda/core/handoff';
import { PassScheme, type PassSignerPort } from '../../../lambda/core/passes/scheme';
import { ExactEvmPrecheck } from '../../../lambda/core/precheck';
import { Paywall, type OriginRequestOutcome, type PaywallRequest, type ViewerOutcome } from '../../../lambda/core/paywall';
import { passSigner } from '../../../lambda/edge/pass-signer';
import { testEdgeConfig } from '../../support/config';
import { MemoryReceipts } from '../../support/memory-receipts';
import { encodePayment, signPayment } from '../../support/payer';
import { newPassKeyPair } from '../../../local/pass-key';

const KEY = newPassKeyPair();
const SITE = `0x${'12'.repeat(20)}/0123456789abcdef`;
const PASSES: NonNullable<EdgeConfig['passes']> = {
  siteId: SITE,
  offers: [{ name: 'day', price: '$0.50', durationSeconds: 86_400, scope: ['/articles/*'] }],
  verifyKeys: [{ kid: 'k1', jwk: KEY.jwk }],
  signingKey: { kid: 'k1', kind: 'local', privateKeyPem: KEY.privateKeyPem },
};
const config = testEdgeConfig({ passes: PASSES });
const SALE = '/.well-known/x402/pass/day';
const TX = `0x${'ab'.repeat(32)}`;

function setup(options: { signer?: PassSignerPort; clock?: () => number; config?: EdgeConfig } = {}) {
  const receipts = new MemoryReceipts();
  const calls: string[] = [];
  const log: Array<Record<string, unknown>> = [];
  const edgeConfig = options.config ?? config;
  const paywall = new Paywall(edgeConfig, {
    facilitator: {
      supported: async () => ({ kinds: [{ x402Version: 2, scheme: 'upto', network: 'eip155:84532', extra: { facilitatorAddress: `0x${'fa'.repeat(20)}` } }], extensions: [], signers: {} }),
      verify: async () => (calls.push('verify'), { isValid: true }),
      settle: async (payload) => (calls.push('settle'), { success: true, transaction: TX, network: 'eip155:84532', payer: (payload.payload as { authorization: { from: string } }).authorization.from }),
    },
    receipts,
    passRecords: receipts,
    passSigner: options.signer ?? passSigner(PASSES.signingKey!),
    clock: options.clock ?? Date.now,
    log: (line) => log.push(line),
  }, new ExactEvmPrecheck(edgeConfig));
  return { paywall, receipts, calls, log };
}

function request(uri: string, headers: Record<string, string> = {}, method = 'GET'): PaywallRequest {
  return { method, uri, host: 'example.com', clientIp: '203.0.113.9', header: (name) => headers[name] };
}

function responded(outcome: ViewerOutcome | OriginRequestOutcome) {
  if (outcome.kind !== 'respond') throw new Error(`expected a response, got ${JSON.stringify(outcome)}`);
  return { ...outcome.response, json: JSON.parse(outcome.response.body) };
}

function handoffOf(outcome: ViewerOutcome | OriginRequestOutcome): string {
  if (outcome.kind !== 'forward') throw new Error(`expected the request forwarded, got ${JSON.stringify(outcome)}`);
  return outcome.setHeaders[PENDING_SETTLEMENT_HEADER];
}

/** The 402 of a path, as an x402 v2 client reads it. */
async function challenge(paywall: Paywall, uri: string): Promise<PaymentRequired> {
  const answer = responded(await paywall.onViewerRequest(request(uri, { 'x-amzn-waf-x402-eligible': 'true' })));
  expect(answer.status).toBe(402);
  return decodePaymentRequiredHeader(answer.headers['payment-required']);
}

/** Buys the day pass with an official-client payment: viewer-request, then the origin-request answers. */
async function buy(paywall: Paywall, payment?: string, sale = SALE) {
  const header = payment ?? encodePayment(await signPayment(privateKeyToAccount(generatePrivateKey()), await challenge(paywall, sale)));
  const viewer = await paywall.onViewerRequest(request(sale, { 'payment-signature': header }));
  const answer = responded(await paywall.onOriginRequest({ method: 'GET', uri: sale, handoff: handoffOf(viewer) }));
  return { ...answer, payment: header };
}

describe('a 402 on a route a pass opens', () => {
  it('advertises the pass in extensions: price, duration, scope and the absolute URL to buy it at', async () => {
    const { paywall } = setup();
    const terms = await challenge(paywall, '/articles/one');
    expect(terms.accepts[0].amount).toBe('1000');
    expect(terms.extensions).toEqual({
      'x402-pass': {
        header: 'Authorization: Bearer <pass>',
        passes: [{ name: 'day', amount: '500000', asset: config.asset.address, network: 'eip155:84532', durationSeconds: 86_400, scope: ['/articles/*'], url: `https://example.com${SALE}` }],
      },
    });
  });

  it('does not advertise it where it opens nothing', async () => {
    expect((await challenge(setup().paywall, '/api/premium-report')).extensions).toBeUndefined();
  });

  it('sells the pass itself as an ordinary exact payment, even to a client WAF did not flag', async () => {
    const { paywall } = setup();
    const answer = responded(await paywall.onViewerRequest(request(SALE)));
    expect(answer.status).toBe(402);
    expect(decodePaymentRequiredHeader(answer.headers['payment-required']).accepts[0]).toMatchObject({ scheme: 'exact', amount: '500000' });
  });
});

describe('buying a pass', () => {
  it('sells it to GET only: a HEAD would pay for a body CloudFront drops (405 before any payment is looked at)', async () => {
    const { paywall, calls } = setup();
    const answer = responded(await paywall.onViewerRequest(request(SALE, { 'payment-signature': 'x' }, 'HEAD')));
    expect(answer).toMatchObject({ status: 405, headers: { allow: 'GET' } });
    expect(calls).toEqual([]);
  });

  it('settles the payment and answers the signed pass from the edge, with PAYMENT-RESPONSE and a pass receipt', async () => {
    const { paywall, receipts, calls } = setup();
    const sale = await buy(paywall);
    expect(sale.status).toBe(200);
    expect(sale.headers['cache-control']).toBe('private, no-store');
    expect(decodePaymentResponseHeader(sale.headers['payment-response'])).toMatchObject({ success: true, transaction: TX });
    expect(sale.json).toMatchObject({ name: 'day', scope: ['/articles/*'], pass: expect.stringMatching(/^eyJ[\w-]+\.[\w-]+\.[\w-]{86}$/) });
    expect(Date.parse(sale.json.expiresAt) - Date.parse(sale.json.notBefore)).toBe(86_400_000);
    expect(calls).toEqual(['verify', 'settle']);
    const [row] = receipts.rows.values();
    expect(row).toMatchObject({ status: 'settled', kind: 'pass', passName: 'day', passScope: '["/articles/*"]', passSeconds: 86_400, passId: sale.json.passId, amount: '500000', route: `GET ${SALE}` });
    expect(row.passExpiresAt).toBe(Date.parse(sale.json.expiresAt) / 1000);
  });

  it('loses no money when signing fails after the settlement: 503 with PAYMENT-RESPONSE, and the same payment then gets the pass', async () => {
    const broken: PassSignerPort = { kid: 'k1', sign: async () => { throw new Error('Secrets Manager unreachable'); } };
    let signer = broken;
    const { paywall, receipts, calls } = setup({ signer: { kid: 'k1', sign: (input) => signer.sign(input) } });
    const failed = await buy(paywall);
    expect(failed.status).toBe(503);
    expect(failed.json.error).toBe('pass_signing_unavailable');
    expect(decodePaymentResponseHeader(failed.headers['payment-response'])).toMatchObject({ success: true, transaction: TX });
    const row = () => [...receipts.rows.values()][0];
    expect(row()).toMatchObject({ status: 'settled', txHash: TX });
    expect(row().kind).toBeUndefined();

    // Still failing on the way back: the redelivery it used is given back.
    const stillFailing = await buy(paywall, failed.payment);
    expect(stillFailing.status).toBe(503);
    expect(row().redeliveries).toBe(0);

    signer = passSigner(PASSES.signingKey!);
    const again = await buy(paywall, failed.payment);
    expect(again.status).toBe(200);
    expect(calls.filter((c) => c === 'settle')).toHaveLength(1);
    expect([...receipts.rows.values()][0]).toMatchObject({ kind: 'pass', passId: again.json.passId });
  });

  it('re-issues the same pass (id and validity) when the same payment asks again', async () => {
    let now = Date.now();
    const { paywall, calls } = setup({ clock: () => now });
    const first = await buy(paywall);
    now += 30_000;
    const again = await buy(paywall, first.payment);
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ passId: first.json.passId, expiresAt: first.json.expiresAt, notBefore: first.json.notBefore });
    expect(calls.filter((c) => c === 'settle')).toHaveLength(1);
  });
});

describe('using a pass', () => {
  it('opens covered routes offline: no facilitator, no table; the origin-response releases without settling', async () => {
    const { paywall, receipts, calls } = setup();
    const { json } = await buy(paywall);
    const before = JSON.stringify([...receipts.rows.values()]);
    calls.length = 0;
    for (const uri of ['/articles/one', '/articles/two', '/ARTICLES/three/']) {
      const viewer = await paywall.onViewerRequest(request(uri, { authorization: `Bearer ${json.pass}` }));
      const handoff = handoffOf(viewer);
      expect(decodeHandoff(handoff)).toMatchObject({ kind: 'pass', passId: json.passId, payer: json.payer });
      expect(await paywall.onOriginRequest({ method: 'GET', uri, handoff })).toEqual({ kind: 'pass' });
      expect(await paywall.onOriginResponse({ method: 'GET', uri, handoff }, 200)).toEqual({ kind: 'release', setHeaders: {} });
    }
    expect(calls).toEqual([]);
    expect(JSON.stringify([...receipts.rows.values()])).toBe(before);
  });

  it('counts pass use in metrics, by route', async () => {
    const { paywall, log } = setup();
    const { json } = await buy(paywall);
    await paywall.onViewerRequest(request('/articles/one', { authorization: `Bearer ${json.pass}` }));
    expect(log).toContainEqual(expect.objectContaining({ PassRequests: 1, Route: '/articles/*' }));
    expect(log).toContainEqual(expect.objectContaining({ PassesSold: 1, Route: `GET ${SALE}` }));
  });

  it('refuses a pass for another scope with 402 naming the problem, the normal terms and the pass offer', async () => {
    const { paywall } = setup();
    const { json } = await buy(paywall);
    const answer = responded(await paywall.onViewerRequest(request('/api/premium-report', { authorization: `Bearer ${json.pass}` })));
    expect(answer.status).toBe(402);
    expect(answer.json.error).toBe('pass_out_of_scope');
    expect(answer.json.message).toMatch(/opens \/articles\/\*, not GET \/api\/premium-report/);
    expect(decodePaymentRequiredHeader(answer.headers['payment-required'])).toMatchObject({ error: 'pass_out_of_scope', accepts: [{ amount: '10000' }] });
    // A pass does not buy a pass either.
    expect(responded(await paywall.onViewerRequest(request(SALE, { authorization: `Bearer ${json.pass}` }))).json.error).toBe('pass_out_of_scope');
  });

  it('refuses expired, forged and other-site passes with their reason, and the pass offer to buy a new one', async () => {
    let now = Date.now();
    const { paywall } = setup({ clock: () => now });
    const { json } = await buy(paywall);
    const other = new PassScheme({ ...PASSES, siteId: `0x${'34'.repeat(20)}/fedcba9876543210` }, config);
    const signer = passSigner(PASSES.signingKey!);
    const otherSite = await other.issue(PASSES.offers[0], signer, json.payer, 'p', Math.floor(now / 1000));
    const forged = `${json.pass.slice(0, -4)}AAAA`;
    const reasonFor = async (token: string) => {
      const answer = responded(await paywall.onViewerRequest(request('/articles/one', { authorization: `Bearer ${token}` })));
      expect(answer.status).toBe(402);
      expect(decodePaymentRequiredHeader(answer.headers['payment-required']).extensions).toHaveProperty('x402-pass');
      return answer.json.error;
    };
    expect(await reasonFor(forged)).toBe('pass_bad_signature');
    expect(await reasonFor(otherSite.token)).toBe('pass_other_site');
    now += 86_400_000 + 61_000;
    expect(await reasonFor(json.pass)).toBe('pass_expired');
  });

  it('refuses a revoked pass once the container has reloaded the list, without waiting on the table for it', async () => {
    let now = Date.now();
    const { paywall, receipts } = setup({ clock: () => now });
    const { json } = await buy(paywall);
    const read = async () => paywall.onViewerRequest(request('/articles/one', { authorization: `Bearer ${json.pass}` }));
    expect((await read()).kind).toBe('forward');
    receipts.revoked = { [json.passId]: Date.parse(json.expiresAt) / 1000 };
    expect((await read()).kind).toBe('forward');
    now += 60_000;
    expect((await read()).kind).toBe('forward');
    await new Promise((resolve) => setImmediate(resolve));
    const refused = responded(await read());
    expect(refused).toMatchObject({ status: 402, json: { error: 'pass_revoked' } });
  });

  it('leaves a bearer token that is not a pass to the origin, and lets a payment win over a pass', async () => {
    const { paywall } = setup();
    expect(await paywall.onViewerRequest(request('/articles/one', { authorization: 'Bearer opaque-session-token' }))).toMatchObject({ kind: 'forward' });
    const { json } = await buy(paywall);
    const pay = encodePayment(await signPayment(privateKeyToAccount(generatePrivateKey()), await challenge(paywall, '/articles/one')));
    const viewer = await paywall.onViewerRequest(request('/articles/one', { authorization: `Bearer ${json.pass}`, 'payment-signature': pay }));
    expect(decodeHandoff(handoffOf(viewer))).toMatchObject({ kind: 'settle' });
  });
});

describe('on a metered (upto) route', () => {
  const metered = testEdgeConfig({
    routes: [{ pattern: '/metered/**', scheme: 'upto', maxPrice: '$0.005' }, ...testEdgeConfig().routes],
    passes: {
      ...PASSES,
      offers: [
        { name: 'day', price: '$0.50', durationSeconds: 86_400, scope: ['/articles/*', '/metered/**'], metered: false },
        { name: 'flat', price: '$0.90', durationSeconds: 86_400, scope: ['/metered/**'], metered: true },
      ],
    },
  });
  const offeredPasses = (required: PaymentRequired) => ((required.extensions?.['x402-pass'] as { passes?: Array<{ name: string }> } | undefined)?.passes ?? []).map((p) => p.name);

  it('does not let a pass whose offer leaves metered routes out in: the agent gets the upto terms, and the 402 offers only passes that open it', async () => {
    const { paywall, calls } = setup({ config: metered });
    const { json } = await buy(paywall, undefined, '/.well-known/x402/pass/day');
    // Its other routes it opens.
    expect(decodeHandoff(handoffOf(await paywall.onViewerRequest(request('/articles/one', { authorization: `Bearer ${json.pass}` }))))).toMatchObject({ kind: 'pass' });
    calls.length = 0;
    const answer = responded(await paywall.onViewerRequest(request('/metered/run', { authorization: `Bearer ${json.pass}` })));
    expect(answer.status).toBe(402);
    expect(answer.json).toMatchObject({ error: 'pass_out_of_scope', message: expect.stringContaining('the "day" pass does not open metered (upto) routes') });
    const required = decodePaymentRequiredHeader(answer.headers['payment-required']);
    expect(required.accepts).toMatchObject([{ scheme: 'upto', amount: '5000' }]);
    expect(offeredPasses(required)).toEqual(['flat']);
    expect(offeredPasses(await challenge(paywall, '/articles/one'))).toEqual(['day']);
    expect(calls).toEqual([]);
  });

  it('lets a pass whose offer says metered: true in, unmetered: released without a settlement', async () => {
    const { paywall, calls } = setup({ config: metered });
    const { json } = await buy(paywall, undefined, '/.well-known/x402/pass/flat');
    calls.length = 0;
    const handoff = handoffOf(await paywall.onViewerRequest(request('/metered/run', { authorization: `Bearer ${json.pass}` })));
    expect(decodeHandoff(handoff)).toMatchObject({ kind: 'pass', passId: json.passId });
    expect(await paywall.onOriginResponse({ method: 'GET', uri: '/metered/run', handoff }, 200, undefined, '{"amount":"4000"}')).toMatchObject({ kind: 'release' });
    expect(calls).toEqual([]);
  });
});
