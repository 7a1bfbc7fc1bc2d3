/**
 * Load with reconciliation: 1,000 paid requests at concurrency 50 from 24 payer wallets through the
 * local edge, v2 and v1 headers mixed, 15% of them to an origin path that fails with 500. Then the
 * books must agree: settled receipts == on-chain transfers == balance deltas == responses served.
 */
import { decodePaymentRequiredHeader } from '@x402/core/http';
import type { PaymentRequirements } from '@x402/core/types';
import type { Hex, PrivateKeyAccount } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { expectReceiptsReconcile } from '../support/edge-client';
import { encodeHeader, forgeExact, v1Payload, v2Payload } from './support/forge';
import { Ledger } from './support/ledger';
import { containsPaidContent } from './support/raw-http';

const REQUESTS = 1000;
const CONCURRENCY = 50;
const WALLETS = 24;
const FAILING_SHARE = 0.15;
const V1_SHARE = 0.2;

const ledger = new Ledger('load');
let stack: LocalStack;
afterAll(async () => {
  await stack?.close();
  expect(ledger.close()).toEqual([]);
});

interface Planned {
  readonly payer: PrivateKeyAccount;
  readonly path: string;
  readonly fails: boolean;
  readonly requirements: PaymentRequirements;
  readonly v1: boolean;
  readonly nonce: Hex;
  readonly price: bigint;
}

it(`settles ${REQUESTS} paid requests at concurrency ${CONCURRENCY} from ${WALLETS} wallets, each exactly once, and none for a failed origin`, async () => {
  stack = await startLocalStack({ facilitatorVerifyTimeoutMs: 4000, facilitatorSettleTimeoutMs: 20_000 });
  const wallets: PrivateKeyAccount[] = [];
  for (let i = 0; i < WALLETS; i++) wallets.push(await stack.chain.newFundedWallet(1_000_000n));
  const terms = async (path: string): Promise<PaymentRequirements> =>
    decodePaymentRequiredHeader((await fetch(`${stack.edge.url}${path}`)).headers.get('payment-required')!).accepts[0];
  const article = await terms('/articles/load');
  const failing = await terms('/api/fail');

  const plan: Planned[] = Array.from({ length: REQUESTS }, (_, i) => {
    const fails = i % Math.round(1 / FAILING_SHARE) === 0;
    const requirements = fails ? failing : article;
    const path = fails ? '/api/fail' : `/articles/load-${i}`;
    return { payer: wallets[i % WALLETS], path, fails, requirements, v1: i % Math.round(1 / V1_SHARE) === 1, nonce: generatePrivateKey(), price: BigInt(requirements.amount) };
  });
  // Each authorization is signed just before it is sent, as a client signs (the official client's
  // typed data; see support/forge.ts): signed up front, the last ones would be sent a minute or more
  // later on a loaded machine, close to the validBefore the edge refuses within 6 s of.
  const paymentHeaders = async ({ payer, requirements, v1, nonce }: Planned): Promise<Record<string, string>> => {
    const exact = await forgeExact(payer, requirements, { authorization: { nonce } });
    return v1 ? { 'x-payment': encodeHeader(v1Payload(exact)) } : { 'payment-signature': encodeHeader(v2Payload(requirements, exact)) };
  };
  const balancesBefore = new Map<string, bigint>();
  for (const w of wallets) balancesBefore.set(w.address, await stack.chain.usdcBalance(w.address));
  const publisherBefore = await stack.chain.usdcBalance(stack.payTo);

  // The burst meets warm containers: 24 cold starts at once would starve the first requests of
  // CPU past their triggers' time on this machine (a CloudFront 503 no deployment gives).
  await stack.warmUp();
  const results: Array<{ status: number; served: boolean; paymentResponse: boolean; body: string }> = new Array(REQUESTS);
  let next = 0;
  const worker = async () => {
    while (next < REQUESTS) {
      const i = next++;
      const response = await fetch(`${stack.edge.url}${plan[i].path}`, { headers: { 'user-agent': 'load-agent/1.0', ...(await paymentHeaders(plan[i])) } });
      const body = await response.text();
      results[i] = { status: response.status, served: response.status === 200 && containsPaidContent(body), paymentResponse: response.headers.has('payment-response'), body };
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  ledger.tried(REQUESTS);

  // What the chain says, per authorization.
  const transfers = (await stack.chain.settledTransfers()).filter((t) => t.to.toLowerCase() === stack.payTo.toLowerCase());
  const chargedNonces = new Map<string, number>();
  for (const t of transfers) chargedNonces.set(t.nonce.toLowerCase(), (chargedNonces.get(t.nonce.toLowerCase()) ?? 0) + 1);
  const receipts = new Map((await stack.receipts()).map((r) => [r.nonce.toLowerCase(), r]));

  const expectedDelta = new Map<string, bigint>();
  let servedCount = 0;
  plan.forEach((p, i) => {
    const r = results[i];
    const charged = chargedNonces.get(p.nonce) ?? 0;
    if (r.served) servedCount++;
    if (r.served && charged === 0) ledger.violation('servedUnpaid', `${p.path} served without a transfer`);
    if (!r.served && charged > 0) ledger.violation('paymentLost', `${p.path} charged (${r.status}) without content`);
    if (charged > 1) ledger.violation('doubleCharge', `${p.path} charged ${charged} times`);
    if (charged > 0 && receipts.get(p.nonce)?.status !== 'settled') ledger.violation('paymentLost', `${p.path}: transfer without a settled receipt`);
    if (r.served) expectedDelta.set(p.payer.address, (expectedDelta.get(p.payer.address) ?? 0n) + p.price);
  });
  for (const w of wallets) {
    const delta = balancesBefore.get(w.address)! - (await stack.chain.usdcBalance(w.address));
    const expected = expectedDelta.get(w.address) ?? 0n;
    if (delta > expected) ledger.violation('doubleCharge', `${w.address} paid ${delta}, owed ${expected}`);
    if (delta < expected) ledger.violation('servedUnpaid', `${w.address} paid ${delta}, owed ${expected}`);
  }

  const statuses = results.reduce<Record<number, number>>((acc, r) => ({ ...acc, [r.status]: (acc[r.status] ?? 0) + 1 }), {});
  const failingCount = plan.filter((p) => p.fails).length;
  // Any other status, with what it said (a CloudFront error page, or the edge's JSON reason).
  expect(results.filter((r) => r.status !== 200 && r.status !== 500).map((r) => `${r.status}: ${r.body.replace(/<[^>]*>/g, ' ').slice(0, 300)}`)).toEqual([]);
  expect(statuses).toEqual({ 200: REQUESTS - failingCount, 500: failingCount });
  expect(results.every((r, i) => (plan[i].fails ? !r.paymentResponse && !r.served : r.paymentResponse && r.served))).toBe(true);
  expect(plan.filter((p) => p.fails).every((p) => receipts.get(p.nonce)?.status === 'released' && !chargedNonces.has(p.nonce))).toBe(true);
  const { settled } = await expectReceiptsReconcile(stack);
  expect(settled).toBe(servedCount);
  expect(transfers).toHaveLength(servedCount);
  expect((await stack.chain.usdcBalance(stack.payTo)) - publisherBefore).toBe(transfers.reduce((sum, t) => sum + t.value, 0n));
  expect(ledger.tally.details).toEqual([]);
}, 300_000);
