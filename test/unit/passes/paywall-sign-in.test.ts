/**
 * Sign in with x through the transport-neutral paywall: the 402 of a covered route offers it, a
 * valid proof of a pass holder is admitted as its pass (no facilitator, no settlement), and the
 * credentials a request carries are tried in order: payment, bearer pass, sign-in. Proofs are made
 * by the official client helper with real keys; the facilitator and the table are in memory.
 */
import { decodePaymentRequiredHeader } from '@x402/core/http';
import { createSIWxPayload, encodeSIWxHeader, type SIWxExtension } from '@x402/extensions/sign-in-with-x';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { EdgeConfig } from '../../../lambda/core/config';
import { decodeHandoff, PENDING_SETTLEMENT_HEADER } from '../../../lambda/core/handoff';
import type { PassRecord } from '../../../lambda/core/passes/scheme';
import { SIGN_IN_WITH_X } from '../../../lambda/core/passes/sign-in-challenge';
import { signedInPayer } from '../../../lambda/core/passes/sign-in-proof';
import { Paywall, type PaywallRequest, type ViewerOutcome } from '../../../lambda/core/paywall';
import { newPassKeyPair } from '../../../local/pass-key';
import { testEdgeConfig } from '../../support/config';
import { MemoryReceipts } from '../../support/memory-receipts';

const KEY = newPassKeyPair();
const PASSES: NonNullable<EdgeConfig['passes']> = {
  siteId: `0x${'12'.repeat(20)}/0123456789abcdef`,
  offers: [{ name: 'day', price: '$0.50', durationSeconds: 86_400, scope: ['/articles/*'] }],
  verifyKeys: [{ kid: 'k1', jwk: KEY.jwk }],
};
const config = testEdgeConfig({ passes: PASSES });
const holder = privateKeyToAccount(generatePrivateKey());
const now = () => Math.floor(Date.now() / 1000);
const HELD: PassRecord = { passName: 'day', passScope: ['/articles/*'], passSeconds: 86_400, passNotBefore: now() - 60, passExpiresAt: now() + 86_000, passId: 'jti-held' };

function setup(held: () => Promise<readonly PassRecord[]> = async () => [HELD]) {
  const calls: string[] = [];
  const queries: string[] = [];
  const log: Array<Record<string, unknown>> = [];
  const receipts = new MemoryReceipts();
  const paywall = new Paywall(config, {
    facilitator: {
      verify: async () => (calls.push('verify'), { isValid: true }),
      settle: async () => (calls.push('settle'), { success: true, transaction: '0x01', network: 'eip155:84532' }),
    },
    receipts,
    passRecords: receipts,
    heldPasses: { heldPasses: (payer) => (queries.push(payer), held()) },
    clock: Date.now,
    log: (line) => log.push(line),
  }, undefined, signedInPayer);
  return { paywall, calls, queries, log };
}

const request = (uri: string, headers: Record<string, string> = {}): PaywallRequest => ({
  method: 'GET',
  uri,
  host: 'example.com',
  clientIp: '203.0.113.9',
  header: (name) => ({ 'x-amzn-waf-x402-eligible': 'true', ...headers })[name],
});

async function challengeOf(paywall: Paywall, uri: string): Promise<SIWxExtension | undefined> {
  const outcome = await paywall.onViewerRequest(request(uri));
  if (outcome.kind !== 'respond') throw new Error('expected a 402');
  return decodePaymentRequiredHeader(outcome.response.headers['payment-required']).extensions?.[SIGN_IN_WITH_X] as SIWxExtension | undefined;
}

async function proof(paywall: Paywall, uri = '/articles/one', signer = holder): Promise<string> {
  const extension = (await challengeOf(paywall, uri))!;
  const info = { ...extension.info, chainId: extension.supportedChains[0].chainId, type: extension.supportedChains[0].type };
  return encodeSIWxHeader(await createSIWxPayload(info, signer, `https://example.com${uri}`));
}

function errorOf(outcome: ViewerOutcome): string {
  if (outcome.kind !== 'respond') throw new Error(`expected a refusal, got ${JSON.stringify(outcome)}`);
  return JSON.parse(outcome.response.body).error;
}

it('offers sign-in in the 402 of a covered route only, with a fresh nonce each time', async () => {
  const { paywall } = setup();
  const first = await challengeOf(paywall, '/articles/one');
  const second = await challengeOf(paywall, '/articles/one');
  expect(first?.info).toMatchObject({ domain: 'example.com', uri: 'https://example.com/articles/one' });
  expect(first?.info.nonce).not.toBe(second?.info.nonce);
  expect(await challengeOf(paywall, '/api/premium-report')).toBeUndefined();
});

it('admits a proof of a pass holder as its pass: the pass hand-off, no facilitator, counted as pass use', async () => {
  const { paywall, calls, queries, log } = setup();
  const header = await proof(paywall);
  const outcome = await paywall.onViewerRequest(request('/articles/one', { [SIGN_IN_WITH_X]: header }));
  if (outcome.kind !== 'forward') throw new Error(`expected the request forwarded, got ${JSON.stringify(outcome)}`);
  expect(decodeHandoff(outcome.setHeaders[PENDING_SETTLEMENT_HEADER])).toMatchObject({ kind: 'pass', passId: 'jti-held', payer: holder.address.toLowerCase() });
  expect(await paywall.onOriginResponse({ method: 'GET', uri: '/articles/one', handoff: outcome.setHeaders[PENDING_SETTLEMENT_HEADER] }, 200)).toEqual({ kind: 'release', setHeaders: {} });
  expect(calls).toEqual([]);
  expect(queries).toEqual([holder.address]);
  expect(log).toContainEqual(expect.objectContaining({ PassRequests: 1, Route: '/articles/*' }));
});

it('refuses a proof whose holder has only an expired pass, none, or none that opens the route, naming why', async () => {
  const expired = setup(async () => [{ ...HELD, passExpiresAt: now() - 3600 }]);
  expect(errorOf(await expired.paywall.onViewerRequest(request('/articles/one', { [SIGN_IN_WITH_X]: await proof(expired.paywall) })))).toBe('sign_in_no_pass');
  const none = setup(async () => []);
  expect(errorOf(await none.paywall.onViewerRequest(request('/articles/one', { [SIGN_IN_WITH_X]: await proof(none.paywall) })))).toBe('sign_in_no_pass');
  const { paywall } = setup();
  // The proof is for this site; the pass does not open the premium report.
  const extension = (await challengeOf(paywall, '/articles/one'))!;
  const info = { ...extension.info, uri: 'https://example.com/api/premium-report', chainId: extension.supportedChains[0].chainId, type: extension.supportedChains[0].type };
  const header = encodeSIWxHeader(await createSIWxPayload(info, holder, 'https://example.com/api/premium-report'));
  expect(errorOf(await paywall.onViewerRequest(request('/api/premium-report', { [SIGN_IN_WITH_X]: header })))).toBe('pass_out_of_scope');
});

it('fails closed with 503 when the passes cannot be looked up', async () => {
  const { paywall } = setup(async () => {
    throw new Error('table unreachable');
  });
  const outcome = await paywall.onViewerRequest(request('/articles/one', { [SIGN_IN_WITH_X]: await proof(paywall) }));
  expect(outcome).toMatchObject({ kind: 'respond', response: { status: 503 } });
  expect(errorOf(outcome)).toBe('receipt_store_unavailable');
});

it('leaves a proof alone when the request carries a bearer pass (the pass decides, no table query)', async () => {
  const { paywall, queries } = setup();
  const header = await proof(paywall);
  const outcome = await paywall.onViewerRequest(request('/articles/one', { [SIGN_IN_WITH_X]: header, authorization: 'Bearer eyJhbGciOiJFUzI1NiIsImtpZCI6ImsxIiwidHlwIjoieDQwMi1wYXNzK2p3dCJ9.e30.AAAA' }));
  expect(errorOf(outcome)).toMatch(/^pass_/);
  expect(queries).toEqual([]);
});
