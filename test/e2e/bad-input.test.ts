import * as http from 'node:http';
import type { PaymentPayload } from '@x402/core/types';
import type { PrivateKeyAccount } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { PENDING_SETTLEMENT_HEADER } from '../../lambda/core/handoff';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { edgeFetch, expectReceiptsReconcile, paymentHeader, signedPaymentFor, termsFor } from '../support/edge-client';
import { signPayment } from '../support/payer';

let stack: LocalStack;
let agent: PrivateKeyAccount;
let payment: PaymentPayload;
const PATH = '/articles/guarded';

beforeAll(async () => {
  stack = await startLocalStack();
  agent = await stack.chain.newFundedWallet(1_000_000n);
  payment = await signedPaymentFor(stack, agent, PATH);
});
afterAll(() => stack?.close());

const b64 = (text: string) => Buffer.from(text).toString('base64');
function tamper(change: (p: any) => void): PaymentPayload {
  const copy = JSON.parse(JSON.stringify(payment));
  change(copy);
  return copy;
}

describe('every bad payment is refused with a JSON reason, never the content, never a charge', () => {
  const cases: Array<{ name: string; headers: () => Record<string, string>; status: number; reason: string }> = [
    { name: 'non-base64 header', headers: () => ({ 'payment-signature': '%%%not base64%%%' }), status: 400, reason: 'invalid_payload' },
    { name: 'base64 of non-JSON', headers: () => ({ 'payment-signature': b64('not json') }), status: 400, reason: 'invalid_payload' },
    { name: 'truncated header', headers: () => ({ 'payment-signature': paymentHeader(payment)['payment-signature'].slice(0, 64) }), status: 400, reason: 'invalid_payload' },
    { name: 'oversized header', headers: () => ({ 'payment-signature': 'A'.repeat(9000) }), status: 400, reason: 'payment_header_too_large' },
    { name: 'both payment headers', headers: () => ({ ...paymentHeader(payment), 'x-payment': paymentHeader(payment)['payment-signature'] }), status: 400, reason: 'invalid_payload' },
    { name: 'unknown x402 version', headers: () => paymentHeader(tamper((p) => (p.x402Version = 7))), status: 400, reason: 'invalid_payload' },
    { name: 'v1 payload in the v2 header', headers: () => paymentHeader({ x402Version: 1, scheme: 'exact', network: 'base-sepolia', payload: payment.payload }), status: 400, reason: 'invalid_x402_version' },
    { name: 'another scheme', headers: () => paymentHeader(tamper((p) => (p.accepted.scheme = 'upto'))), status: 402, reason: 'invalid_scheme' },
    { name: 'another network', headers: () => paymentHeader(tamper((p) => (p.accepted.network = 'eip155:8453'))), status: 402, reason: 'invalid_network' },
    { name: 'another asset', headers: () => paymentHeader(tamper((p) => (p.accepted.asset = '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913'))), status: 402, reason: 'invalid_exact_evm_asset_mismatch' },
    { name: 'payTo swapped', headers: () => paymentHeader(tamper((p) => { p.accepted.payTo = agent.address; p.payload.authorization.to = agent.address; })), status: 402, reason: 'invalid_exact_evm_recipient_mismatch' },
    { name: 'amount under the price', headers: () => paymentHeader(tamper((p) => { p.accepted.amount = '999'; p.payload.authorization.value = '999'; })), status: 402, reason: 'invalid_exact_evm_payload_authorization_value_mismatch' },
    { name: 'amount over the price', headers: () => paymentHeader(tamper((p) => (p.payload.authorization.value = '1001'))), status: 402, reason: 'invalid_exact_evm_payload_authorization_value_mismatch' },
    { name: 'expired authorization', headers: () => paymentHeader(tamper((p) => (p.payload.authorization.validBefore = String(Math.floor(Date.now() / 1000) - 1)))), status: 402, reason: 'invalid_exact_evm_payload_authorization_valid_before' },
    { name: 'authorization not yet valid', headers: () => paymentHeader(tamper((p) => (p.payload.authorization.validAfter = String(Math.floor(Date.now() / 1000) + 3600)))), status: 402, reason: 'invalid_exact_evm_payload_authorization_valid_after' },
    { name: 'tampered nonce (bad signature)', headers: () => paymentHeader(tamper((p) => (p.payload.authorization.nonce = '0x' + 'ab'.repeat(32)))), status: 402, reason: 'invalid_exact_evm_signature' },
    { name: 'signature of another key', headers: () => paymentHeader(tamper((p) => (p.payload.authorization.from = privateKeyToAccount(generatePrivateKey()).address))), status: 402, reason: 'invalid_exact_evm_signature' },
    { name: 'garbage signature', headers: () => paymentHeader(tamper((p) => (p.payload.signature = '0x' + '00'.repeat(65)))), status: 402, reason: 'invalid_exact_evm_signature' },
  ];

  it.each(cases)('$name → $status $reason', async ({ headers, status, reason }) => {
    const before = await stack.chain.usdcBalance(agent.address);
    const response = await edgeFetch(stack, PATH, headers());
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = await response.json();
    expect(body.error).toBe(reason);
    expect(typeof body.message).toBe('string');
    if (status === 402) expect(response.headers.get('payment-required')).toBeTruthy();
    expect(stack.origin.requestsFor(PATH)).toBe(0);
    expect(await stack.chain.usdcBalance(agent.address)).toBe(before);
  });

  it('refuses a payment from a wallet without funds at the facilitator, before the origin', async () => {
    const broke = privateKeyToAccount(generatePrivateKey());
    const response = await edgeFetch(stack, PATH, paymentHeader(await signPayment(broke, await termsFor(stack, PATH))));
    expect(response.status).toBe(402);
    expect((await response.json()).error).toMatch(/insufficient/);
    expect(stack.origin.requestsFor(PATH)).toBe(0);
  });

  it('ignores a client-sent settlement hand-off: the request is still asked to pay', async () => {
    const response = await edgeFetch(stack, PATH, { [PENDING_SETTLEMENT_HEADER]: 'eyJwYXltZW50SWQiOiJ4In0' });
    expect(response.status).toBe(402);
    expect(stack.origin.requestsFor(PATH)).toBe(0);
  });

  it('blocks a client that spoofs the WAF eligibility header', async () => {
    const response = await edgeFetch(stack, PATH, { 'user-agent': 'Mozilla/5.0', 'x-amzn-waf-x402-eligible': 'false' });
    expect(response.status).toBe(403);
    expect(stack.origin.requestsFor(PATH)).toBe(0);
  });

  it.each(['HEAD', 'OPTIONS', 'POST'])('asks %s on a priced route to pay too', async (method) => {
    const response = await edgeFetch(stack, PATH, {}, method);
    expect(response.status).toBe(402);
    expect(stack.origin.requestsFor(PATH)).toBe(0);
  });
});

describe('path tricks cannot dodge the price', () => {
  /** Raw request: fetch would normalize these paths before sending them. */
  function rawGet(path: string): Promise<{ status: number }> {
    return new Promise((resolve, reject) => {
      const request = http.request(`${stack.edge.url}${path}`, { headers: { 'user-agent': 'test-agent/1.0' } }, (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0 });
      });
      request.on('error', reject);
      request.end();
    });
  }

  it.each(['/free/../articles/guarded', '/%61rticles/guarded', '/ARTICLES/guarded', '//articles//guarded', '/articles/%2567uarded', '/articles\\guarded'])(
    '%s is priced like /articles/guarded',
    async (path) => {
      expect((await rawGet(path)).status).toBe(402);
      expect(stack.origin.requestsFor(PATH)).toBe(0);
    },
  );

  it('refuses an undecodable path with 400', async () => {
    expect((await rawGet('/articles/%zz')).status).toBe(400);
  });
});

describe('money', () => {
  it('reconciles: nothing was settled by any refused request', async () => {
    expect((await expectReceiptsReconcile(stack)).settled).toBe(0);
  });
});
