/**
 * Passes end to end on the local edge (the synthesized distribution, the deployed bundles in Lambda
 * containers, the official facilitator on a local chain, dynalite): the official x402 clients buy a
 * pass at its URL, then read covered routes with it and no further transaction.
 */
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from '@x402/core/http';
import { wrapFetchWithPayment } from '@x402/fetch';
import { createWalletClient, http, type PrivateKeyAccount } from 'viem';
import { baseSepolia } from 'viem/chains';
import { wrapFetchWithPayment as wrapFetchWithPaymentV1 } from 'x402-fetch';
import { PassScheme } from '../../lambda/core/passes/scheme';
import { passSigner } from '../../lambda/edge/pass-signer';
import { newPassKeyPair } from '../../local/pass-key';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { expectReceiptsReconcile } from '../support/edge-client';
import { officialClient } from '../support/payer';

const PASS_URL = '/.well-known/x402/pass/day';
let stack: LocalStack;
let agent: PrivateKeyAccount;

beforeAll(async () => {
  stack = await startLocalStack({ passes: [{ name: 'day', price: '$0.05', duration: '24h', routes: ['/articles/*'], description: 'Every article for a day' }] });
  agent = await stack.chain.newFundedWallet(1_000_000n);
});
afterAll(() => stack?.close());

const transfers = async () => (await stack.chain.settledTransfers()).length;

it('advertises the pass in the 402 of a covered route', async () => {
  const response = await fetch(`${stack.edge.url}/articles/offer`);
  expect(response.status).toBe(402);
  const required = decodePaymentRequiredHeader(response.headers.get('payment-required')!);
  expect(required.accepts[0].amount).toBe('1000');
  expect(required.extensions?.['x402-pass']).toMatchObject({ passes: [{ name: 'day', amount: '50000', durationSeconds: 86_400, scope: ['/articles/*'], url: expect.stringMatching(new RegExp(`^https://[^/]+${PASS_URL}$`)) }] });
});

it('sells the pass to the official v2 client, answered by the edge, and reads 10 articles with it and no further transaction', async () => {
  const before = { payer: await stack.chain.usdcBalance(agent.address), transfers: await transfers(), origin: stack.origin.requests };
  const buy = await wrapFetchWithPayment(fetch, officialClient(agent))(`${stack.edge.url}${PASS_URL}`);
  expect(buy.status).toBe(200);
  const sale = await buy.json();
  expect(sale).toMatchObject({ name: 'day', scope: ['/articles/*'], payer: agent.address.toLowerCase() });
  expect(decodePaymentResponseHeader(buy.headers.get('payment-response')!)).toMatchObject({ success: true, payer: agent.address });
  expect(stack.origin.requests).toBe(before.origin);
  expect(await stack.chain.usdcBalance(agent.address)).toBe(before.payer - 50_000n);
  expect(await transfers()).toBe(before.transfers + 1);

  const calls = stack.facilitator.calls.verify + stack.facilitator.calls.settle;
  for (let i = 0; i < 10; i++) {
    const read = await fetch(`${stack.edge.url}/articles/with-pass-${i}`, { headers: { authorization: `Bearer ${sale.pass}`, 'user-agent': 'GPTBot/1.0' } });
    expect(read.status).toBe(200);
    expect(await read.text()).toContain(`with-pass-${i}`);
    expect(read.headers.get('payment-response')).toBeNull();
  }
  expect(await transfers()).toBe(before.transfers + 1);
  expect(stack.facilitator.calls.verify + stack.facilitator.calls.settle).toBe(calls);
  expect(await stack.chain.usdcBalance(agent.address)).toBe(before.payer - 50_000n);

  const receipt = (await stack.receipts()).find((r) => r.kind === 'pass' && r.payer === agent.address);
  expect(receipt).toMatchObject({ status: 'settled', passName: 'day', passId: sale.passId, amount: '50000', passExpiresAt: Date.parse(sale.expiresAt) / 1000 });
  await expectReceiptsReconcile(stack);
});

it('sells it to the legacy v1 client (x402-fetch) as well', async () => {
  const legacyAgent = await stack.chain.newFundedWallet(1_000_000n);
  const wallet = createWalletClient({ account: legacyAgent, chain: baseSepolia, transport: http(stack.chain.rpcUrl) });
  const buy = await wrapFetchWithPaymentV1(fetch, wallet as never)(`${stack.edge.url}${PASS_URL}`);
  expect(buy.status).toBe(200);
  const { pass } = await buy.json();
  expect((await fetch(`${stack.edge.url}/articles/v1-pass`, { headers: { authorization: `Bearer ${pass}` } })).status).toBe(200);
  expect(await stack.chain.usdcBalance(legacyAgent.address)).toBe(1_000_000n - 50_000n);
});

it('refuses a pass out of its scope or tampered with 402, the reason and the offer, and never reaches the origin', async () => {
  const buy = await wrapFetchWithPayment(fetch, officialClient(agent))(`${stack.edge.url}${PASS_URL}`);
  const { pass } = await buy.json();
  const origin = stack.origin.requests;
  const refused = async (uri: string, token: string) => {
    const response = await fetch(`${stack.edge.url}${uri}`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(402);
    expect(decodePaymentRequiredHeader(response.headers.get('payment-required')!).accepts).toHaveLength(1);
    return (await response.json()).error;
  };
  expect(await refused('/api/premium-report', pass)).toBe('pass_out_of_scope');
  const [header, claims, signature] = pass.split('.');
  const widened = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(claims, 'base64url').toString()), scope: ['/**'] })).toString('base64url');
  expect(await refused('/articles/tampered', `${header}.${widened}.${signature}`)).toBe('pass_bad_signature');
  expect(stack.origin.requests).toBe(origin);
});

it('refuses expired, not-yet-valid, wrong-key and other-publisher passes with their reason code and the offer', async () => {
  const passes = stack.config.passes!;
  const [offer] = passes.offers;
  const now = Math.floor(Date.now() / 1000);
  const sign = (scheme: PassScheme, key: NonNullable<typeof passes.signingKey>, issuedAt: number) =>
    scheme.issue(offer, passSigner(key), agent.address, `e2e-${issuedAt}-${Math.random()}`, issuedAt).then((issued) => issued.token);
  const ours = new PassScheme(passes, stack.config);
  const strangerKey = { kid: passes.signingKey!.kid, kind: 'local' as const, privateKeyPem: newPassKeyPair().privateKeyPem };
  const otherPublisher = new PassScheme({ ...passes, siteId: `0x${'34'.repeat(20)}/0123456789abcdef` }, stack.config);
  const cases: Array<[string, string]> = [
    [await sign(ours, passes.signingKey!, now - offer.durationSeconds - 120), 'pass_expired'],
    [await sign(ours, passes.signingKey!, now + 3600), 'pass_not_yet_valid'],
    [await sign(ours, strangerKey, now), 'pass_bad_signature'],
    [await sign(otherPublisher, passes.signingKey!, now), 'pass_other_site'],
  ];
  for (const [token, reason] of cases) {
    const response = await fetch(`${stack.edge.url}/articles/refused`, { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(402);
    expect(decodePaymentRequiredHeader(response.headers.get('payment-required')!).extensions).toHaveProperty('x402-pass');
    expect((await response.json()).error).toBe(reason);
  }
  // Signed by our key, for our site, now: accepted (the cases above differ in one thing each).
  expect((await fetch(`${stack.edge.url}/articles/accepted`, { headers: { authorization: `Bearer ${await sign(ours, passes.signingKey!, now)}` } })).status).toBe(200);
});
