/**
 * Prices follow the path the origin serves and the methods a route lists, through the local edge
 * with the sample routes (`/articles/*` $0.001, `GET /api/premium-report` $0.01, `/api/**` $0.002).
 */
import { decodePaymentRequiredHeader } from '@x402/core/http';
import type { PrivateKeyAccount } from 'viem';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { rawRequest } from '../reliability/support/raw-http';
import { edgeFetch, expectReceiptsReconcile, paymentHeader, signedPaymentFor } from '../support/edge-client';
import { signPayment } from '../support/payer';

let stack: LocalStack;
let agent: PrivateKeyAccount;

beforeAll(async () => {
  stack = await startLocalStack();
  agent = await stack.chain.newFundedWallet(1_000_000n);
});
afterAll(() => stack?.close());

describe('a method a priced path does not list is refused, never sold at a broader route\'s price', () => {
  it('answers a POST to the GET-priced premium report with 405, Allow and a JSON body naming the allowed methods', async () => {
    const response = await edgeFetch(stack, '/api/premium-report', {}, 'POST');
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toBe('GET, HEAD');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ x402Version: 2, error: 'method_not_allowed', message: expect.stringMatching(/priced for GET, HEAD only/) });
    expect(stack.origin.requestsFor('/api/premium-report')).toBe(0);
  });

  it('refuses the POST even with a payment for the $0.002 of /api/**: no charge, no facilitator call, no origin', async () => {
    const cheap = await signedPaymentFor(stack, agent, '/api/anything');
    const verifies = stack.facilitator.calls.verify;
    const before = await stack.chain.usdcBalance(agent.address);
    const response = await edgeFetch(stack, '/api/premium-report', paymentHeader(cheap), 'POST');
    expect(response.status).toBe(405);
    expect(stack.facilitator.calls.verify).toBe(verifies);
    expect(stack.origin.requestsFor('/api/premium-report')).toBe(0);
    expect(await stack.chain.usdcBalance(agent.address)).toBe(before);
  });

  it('prices HEAD like GET: the premium report asks $0.01 for it', async () => {
    const response = await edgeFetch(stack, '/api/premium-report', {}, 'HEAD');
    expect(response.status).toBe(402);
    expect(decodePaymentRequiredHeader(response.headers.get('payment-required')!).accepts[0].amount).toBe('10000');
  });

  it('still sells POST on the rest of /api/** at its price', async () => {
    const response = await edgeFetch(stack, '/api/other', {}, 'POST');
    expect(response.status).toBe(402);
    expect(decodePaymentRequiredHeader(response.headers.get('payment-required')!).accepts[0].amount).toBe('2000');
  });
});

describe('";" path parameters are priced as a servlet container (which strips them) serves the path', () => {
  it.each([
    ['/api/premium-report;.css', '/api/premium-report'],
    ['/api/premium-report%3B.json', '/api/premium-report'],
    ['/articles;x=1/secret', '/articles/secret'],
    ['/free/..;/articles/secret', '/articles/secret'],
  ])('%s is offered at the price of %s, for that resource', async (target, priced) => {
    const response = await rawRequest(stack.edge.url, target);
    expect(response.status).toBe(402);
    const terms = decodePaymentRequiredHeader(response.headers['payment-required'] as string);
    const expected = priced === '/api/premium-report' ? '10000' : '1000';
    expect(terms.accepts[0].amount).toBe(expected);
    expect(new URL(terms.resource.url).pathname).toBe(priced);
  });

  it('forwards exactly the priced path, so every origin serves what was paid for', async () => {
    const target = '/articles;jsessionid=ABC/matrix';
    const challenge = await rawRequest(stack.edge.url, target);
    const payment = await signPayment(agent, decodePaymentRequiredHeader(challenge.headers['payment-required'] as string));
    const before = stack.origin.received.length;
    const paid = await rawRequest(stack.edge.url, target, { headers: paymentHeader(payment) });
    expect(paid.status).toBe(200);
    expect(stack.origin.received.slice(before).map((r) => r.url)).toEqual(['/articles/matrix']);
  });
});

describe('money', () => {
  it('reconciles: the one paid request is the one settlement', async () => {
    expect((await expectReceiptsReconcile(stack)).settled).toBe(1);
  });
});
