/**
 * Hostile passes against the local edge: forged, altered, replayed across sites, scopes and time,
 * malformed, injected hand-offs, and a pass sale paid in parallel. For every one: no content, the
 * right status and reason code, and no money moved; a sale is charged once, whatever the races.
 */
import { createHmac } from 'node:crypto';
import { wrapFetchWithPayment } from '@x402/fetch';
import type { PrivateKeyAccount } from 'viem';
import { encodeHandoff, PENDING_SETTLEMENT_HEADER } from '../../lambda/core/handoff';
import { PassScheme } from '../../lambda/core/passes/scheme';
import { passSigner } from '../../lambda/edge/pass-signer';
import { recordingFetch } from '../../local/agent';
import { newPassKeyPair } from '../../local/pass-key';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { expectReceiptsReconcile } from '../support/edge-client';
import { officialClient } from '../support/payer';
import { moneyBooks } from './support/books';
import { Ledger } from './support/ledger';
import { containsPaidContent, rawRequest } from './support/raw-http';

const ledger = new Ledger('passes');
const ARTICLE = '/articles/guarded';
const SALE = '/.well-known/x402/pass/day';
let stack: LocalStack;
let agent: PrivateKeyAccount;
let pass: string;

beforeAll(async () => {
  stack = await startLocalStack({ passes: [{ name: 'day', price: '$0.05', duration: '24h', routes: ['/articles/*'] }] });
  agent = await stack.chain.newFundedWallet(10_000_000n);
  pass = (await (await wrapFetchWithPayment(fetch, officialClient(agent))(`${stack.edge.url}${SALE}`)).json()).pass;
});
afterAll(async () => {
  await stack?.close();
  expect(ledger.close()).toEqual([]);
});

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
const parts = () => pass.split('.');
const claims = () => JSON.parse(Buffer.from(parts()[1], 'base64url').toString());
const header = () => JSON.parse(Buffer.from(parts()[0], 'base64url').toString());
const withClaims = (change: Record<string, unknown>) => `${parts()[0]}.${b64({ ...claims(), ...change })}.${parts()[2]}`;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const now = () => Math.floor(Date.now() / 1000);
async function signedBy(options: { siteId?: string; pem?: string; kid?: string; issuedAt?: number; scope?: string[] }): Promise<string> {
  const passes = stack.config.passes!;
  const scheme = new PassScheme({ ...passes, siteId: options.siteId ?? passes.siteId }, stack.config);
  const key = { kid: options.kid ?? passes.signingKey!.kid, kind: 'local' as const, privateKeyPem: options.pem ?? (passes.signingKey as { privateKeyPem: string }).privateKeyPem };
  const offer = { ...passes.offers[0], scope: options.scope ?? passes.offers[0].scope };
  return (await scheme.issue(offer, passSigner(key), agent.address, `hostile-${Math.random()}`, options.issuedAt ?? now())).token;
}

interface HostilePass {
  readonly name: string;
  readonly request: () => Promise<{ target?: string; headers: Record<string, string> | Array<[string, string]> }>;
  readonly status: number;
  readonly reason: string;
}

const cases: HostilePass[] = [
  { name: 'scope widened after signing', request: async () => ({ headers: bearer(withClaims({ scope: ['/**'] })) }), status: 402, reason: 'pass_bad_signature' },
  { name: 'expiry extended after signing', request: async () => ({ headers: bearer(withClaims({ exp: now() + 365 * 86_400 })) }), status: 402, reason: 'pass_bad_signature' },
  { name: 'payer replaced after signing', request: async () => ({ headers: bearer(withClaims({ sub: `0x${'99'.repeat(20)}` })) }), status: 402, reason: 'pass_bad_signature' },
  { name: 'signature with a flipped character', request: async () => ({ headers: bearer(pass.slice(0, -3) + (pass.at(-3) === 'A' ? 'B' : 'A') + pass.slice(-2)) }), status: 402, reason: 'pass_bad_signature' },
  { name: 'signature cut to 32 bytes', request: async () => ({ headers: bearer(`${parts()[0]}.${parts()[1]}.${parts()[2].slice(0, 43)}`) }), status: 402, reason: 'pass_bad_signature' },
  { name: 'signature in DER instead of JOSE form', request: async () => ({ headers: bearer(`${parts()[0]}.${parts()[1]}.${b64(Buffer.concat([Buffer.from([0x30, 0x44, 0x02, 0x20]), Buffer.from(parts()[2], 'base64url').subarray(0, 32), Buffer.from([0x02, 0x20]), Buffer.from(parts()[2], 'base64url').subarray(32)]).toString('latin1'))}`) }), status: 402, reason: 'pass_bad_signature' },
  { name: 'alg none, empty signature', request: async () => ({ headers: bearer(`${b64({ ...header(), alg: 'none' })}.${parts()[1]}.`) }), status: 402, reason: 'pass_malformed' },
  { name: 'alg none, some signature', request: async () => ({ headers: bearer(`${b64({ ...header(), alg: 'none' })}.${parts()[1]}.${b64('x')}`) }), status: 402, reason: 'pass_unsupported_algorithm' },
  {
    name: 'HS256 keyed with the public key',
    request: async () => {
      const head = b64({ ...header(), alg: 'HS256' });
      const mac = createHmac('sha256', JSON.stringify(stack.config.passes!.verifyKeys[0].jwk)).update(`${head}.${parts()[1]}`).digest('base64url');
      return { headers: bearer(`${head}.${parts()[1]}.${mac}`) };
    },
    status: 402,
    reason: 'pass_unsupported_algorithm',
  },
  { name: 'ES384 claimed', request: async () => ({ headers: bearer(`${b64({ ...header(), alg: 'ES384' })}.${parts()[1]}.${parts()[2]}`) }), status: 402, reason: 'pass_unsupported_algorithm' },
  { name: 'kid of no key', request: async () => ({ headers: bearer(`${b64({ ...header(), kid: 'other' })}.${parts()[1]}.${parts()[2]}`) }), status: 402, reason: 'pass_unknown_key' },
  { name: 'signed by a stranger\'s key under our kid', request: async () => ({ headers: bearer(await signedBy({ pem: newPassKeyPair().privateKeyPem })) }), status: 402, reason: 'pass_bad_signature' },
  { name: 'another site\'s pass, same key', request: async () => ({ headers: bearer(await signedBy({ siteId: `${stack.payTo.toLowerCase()}/ffffffffffffffff` })) }), status: 402, reason: 'pass_other_site' },
  { name: 'another publisher\'s pass, same key', request: async () => ({ headers: bearer(await signedBy({ siteId: `0x${'34'.repeat(20)}/0123456789abcdef` })) }), status: 402, reason: 'pass_other_site' },
  { name: 'expired a minute and a second ago', request: async () => ({ headers: bearer(await signedBy({ issuedAt: now() - 86_400 - 61 })) }), status: 402, reason: 'pass_expired' },
  { name: 'valid only from an hour from now', request: async () => ({ headers: bearer(await signedBy({ issuedAt: now() + 3600 })) }), status: 402, reason: 'pass_not_yet_valid' },
  { name: 'for another scope', request: async () => ({ target: '/api/premium-report', headers: bearer(pass) }), status: 402, reason: 'pass_out_of_scope' },
  { name: 'signed for a scope under a dot-segment trick', request: async () => ({ target: '/articles/../api/premium-report', headers: bearer(pass) }), status: 402, reason: 'pass_out_of_scope' },
  { name: 'a pass offered for a pass', request: async () => ({ target: SALE, headers: bearer(pass) }), status: 402, reason: 'pass_out_of_scope' },
  { name: 'oversize pass (5 KB of scope)', request: async () => ({ headers: bearer(await signedBy({ scope: Array.from({ length: 150 }, (_, i) => `/articles/s${i}/*`) })) }), status: 402, reason: 'pass_too_large' },
  { name: 'header of a pass, claims garbage', request: async () => ({ headers: bearer(`${parts()[0]}.${b64('not json')}.${parts()[2]}`) }), status: 402, reason: 'pass_bad_signature' },
  { name: 'header of a pass, four parts', request: async () => ({ headers: bearer(`${pass}.x`) }), status: 402, reason: 'pass_malformed' },
  { name: 'forged pass hand-off, no pass', request: async () => ({ headers: { [PENDING_SETTLEMENT_HEADER]: encodeHandoff({ kind: 'pass', routeIndex: 1, passId: 'x', payer: agent.address }) } }), status: 402, reason: 'payment_required' },
  { name: 'forged pass hand-off next to a forged pass', request: async () => ({ headers: { [PENDING_SETTLEMENT_HEADER]: encodeHandoff({ kind: 'pass', routeIndex: 1, passId: 'x', payer: agent.address }), ...bearer(withClaims({ exp: now() + 10 * 86_400 })) } }), status: 402, reason: 'pass_bad_signature' },
  { name: 'pass in the query string, not the header', request: async () => ({ target: `${ARTICLE}?access_token=${pass}`, headers: {} }), status: 402, reason: 'payment_required' },
  { name: 'pass under another auth scheme', request: async () => ({ headers: { authorization: `Token ${pass}` } }), status: 402, reason: 'payment_required' },
];

describe('hostile passes never get content or move money', () => {
  it.each(cases)('$name → $status $reason', async ({ name, request, status, reason }) => {
    const { target = ARTICLE, headers } = await request();
    const before = await moneyBooks(stack, agent.address);
    const originBefore = stack.origin.received.length;
    const response = await rawRequest(stack.edge.url, target, { headers });
    const after = await moneyBooks(stack, agent.address);
    ledger.tried();
    if (containsPaidContent(response.body) || (response.status >= 200 && response.status < 300)) ledger.violation('servedUnpaid', `${name}: ${response.status}`);
    if (JSON.stringify(after, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) !== JSON.stringify(before, (_k, v) => (typeof v === 'bigint' ? String(v) : v))) ledger.violation('paymentLost', `${name}: money moved without content`);

    expect(response.status).toBe(status);
    expect(JSON.parse(response.body).error).toBe(reason);
    expect(response.headers['payment-required']).toBeTruthy();
    expect(stack.origin.received.length).toBe(originBefore);
    expect(after).toEqual(before);
  });

  it('tries at least 25 distinct hostile passes', () => {
    expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
    expect(cases.length).toBeGreaterThanOrEqual(25);
  });
});

describe('a pass sale is charged once', () => {
  it('the same payment sent 6 times in parallel: one transfer, every pass issued is the same pass', async () => {
    const buyer = await stack.chain.newFundedWallet(1_000_000n);
    const recorder = recordingFetch();
    const first = await wrapFetchWithPayment(recorder.fetch, officialClient(buyer))(`${stack.edge.url}${SALE}`);
    const payment = recorder.lastPaymentHeader();
    const { passId } = await first.json();
    const transfersBefore = (await stack.chain.settledTransfers()).length;
    const again = await Promise.all(Array.from({ length: 6 }, () => fetch(`${stack.edge.url}${SALE}`, { headers: { 'payment-signature': payment! } })));
    const bodies = await Promise.all(again.map((r) => r.json()));
    ledger.tried(7);
    const issued = bodies.filter((b) => typeof b.pass === 'string');
    if ((await stack.chain.settledTransfers()).length !== transfersBefore) ledger.violation('doubleCharge', 'a pass payment presented again moved money');
    expect(issued.every((b) => b.passId === passId)).toBe(true);
    // The redelivery allowance (1): at most one more copy of the same pass; the rest are replays.
    expect(issued.length).toBeLessThanOrEqual(1);
    expect(bodies.filter((b) => b.error === 'invalid_exact_evm_nonce_already_used').length).toBe(6 - issued.length);
    expect(await stack.chain.usdcBalance(buyer.address)).toBe(1_000_000n - 50_000n);
    await expectReceiptsReconcile(stack);
  });
});
