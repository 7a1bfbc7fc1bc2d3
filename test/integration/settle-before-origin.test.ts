/**
 * Side-effecting paid requests (POST, PUT, PATCH, DELETE) are settled by the origin-request trigger,
 * before the origin runs. The three handlers are driven in CloudFront's order against the real
 * chain, facilitator and dynalite (the CloudFront emulation is not needed to show the ordering).
 */
import { decodePaymentRequiredHeader } from '@x402/core/http';
import type { CloudFrontRequest, CloudFrontRequestEvent, CloudFrontResponseEvent, CloudFrontResultResponse } from 'aws-lambda';
import type { PrivateKeyAccount } from 'viem';
import type { EdgeHandlers } from '../../lambda/edge/cloudfront-adapter';
import { ExactEvmPrecheck } from '../../lambda/core/precheck';
import { createEdgeRuntime } from '../../lambda/edge/runtime';
import { LOCAL_DYNAMO_CREDENTIALS } from '../../local/dynamo';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { encodePayment, signPayment } from '../support/payer';

const ORDERS = '/api/orders';
let stack: LocalStack;
let handlers: EdgeHandlers;
let agent: PrivateKeyAccount;

beforeAll(async () => {
  stack = await startLocalStack();
  handlers = createEdgeRuntime(stack.config, { credentials: LOCAL_DYNAMO_CREDENTIALS, log: () => undefined, precheck: new ExactEvmPrecheck(stack.config) });
  agent = await stack.chain.newFundedWallet(1_000_000n);
});
afterAll(() => stack?.close());

const cfConfig = (eventType: string) => ({ distributionDomainName: 'd.cloudfront.net', distributionId: 'E1', eventType, requestId: 'r' }) as never;
const requestEvent = (request: CloudFrontRequest, eventType: string): CloudFrontRequestEvent => ({ Records: [{ cf: { config: cfConfig(eventType), request } }] });
const responseEvent = (request: CloudFrontRequest, status: number): CloudFrontResponseEvent => ({
  Records: [{ cf: { config: cfConfig('origin-response'), request, response: { status: String(status), statusDescription: '', headers: {} } } }],
});

async function paidPost(): Promise<CloudFrontRequest> {
  const challenge = await fetch(`${stack.edge.url}${ORDERS}`, { method: 'POST', headers: { 'user-agent': 'test-agent/1.0' } });
  expect(challenge.status).toBe(402);
  const payment = await signPayment(agent, decodePaymentRequiredHeader(challenge.headers.get('payment-required')!));
  return {
    clientIp: '203.0.113.9',
    method: 'POST',
    uri: ORDERS,
    querystring: '',
    headers: { host: [{ key: 'Host', value: 'shop.example' }], 'payment-signature': [{ key: 'PAYMENT-SIGNATURE', value: encodePayment(payment) }] },
  };
}

it('charges before the origin runs, and reports that settlement whatever the origin answers', async () => {
  const before = await stack.chain.usdcBalance(agent.address);
  const viewed = (await handlers.viewerRequest(requestEvent(await paidPost(), 'viewer-request'))) as CloudFrontRequest;
  expect(await stack.chain.usdcBalance(agent.address)).toBe(before);

  const toOrigin = (await handlers.originRequest(requestEvent(viewed, 'origin-request'))) as CloudFrontRequest;
  expect(toOrigin.uri).toBe(ORDERS);
  // The side effect may happen now: it is paid for.
  expect(await stack.chain.usdcBalance(agent.address)).toBe(before - 5000n);
  const receipt = (await stack.receipts()).find((r) => r.route === `POST ${ORDERS}`);
  expect(receipt).toMatchObject({ status: 'settled', txHash: expect.stringMatching(/^0x/) });

  const answered = (await handlers.originResponse(responseEvent(toOrigin, 500))) as CloudFrontResultResponse;
  expect(answered.status).toBe('500');
  expect(answered.headers?.['payment-response']).toBeDefined();
  expect(await stack.chain.usdcBalance(agent.address)).toBe(before - 5000n);
});

it('never lets the request reach the origin when settlement fails', async () => {
  const viewed = (await handlers.viewerRequest(requestEvent(await paidPost(), 'viewer-request'))) as CloudFrontRequest;
  stack.facilitator.setFault('down');
  try {
    const result = (await handlers.originRequest(requestEvent(viewed, 'origin-request'))) as CloudFrontResultResponse;
    expect(result.status).toBe('503');
    expect(JSON.parse(result.body!)).toMatchObject({ error: 'facilitator_unavailable' });
  } finally {
    stack.facilitator.setFault('none');
  }
});

it('stops a priced request that lost its hand-off before the origin, and leaves safe methods to origin-response', async () => {
  const request: CloudFrontRequest = { clientIp: '203.0.113.9', method: 'GET', uri: '/articles/x', querystring: '', headers: {} };
  expect(await handlers.originRequest(requestEvent(request, 'origin-request'))).toMatchObject({ status: '503' });
  const viewed = (await handlers.viewerRequest(requestEvent({ ...request, headers: { 'user-agent': [{ key: 'User-Agent', value: 'Mozilla/5.0' }] } }, 'viewer-request'))) as CloudFrontRequest;
  expect(await handlers.originRequest(requestEvent(viewed, 'origin-request'))).toEqual(viewed);
});
