import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CloudFrontRequestEvent, CloudFrontResultResponse } from 'aws-lambda';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { paymentRequiredV2, routeTerms } from '../../lambda/core/requirements';
import { compileRoutes } from '../../lambda/core/routes';
import { createEdgeRuntime } from '../../lambda/edge/runtime';
import { testEdgeConfig } from '../support/config';
import { encodePayment, signPayment } from '../support/payer';

/** Stands in for an authenticated facilitator (such as Coinbase CDP): records what it is sent. */
let server: http.Server;
const seen: Array<{ path: string; authorization?: string }> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push({ path: req.url ?? '', authorization: req.headers.authorization });
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ isValid: false, invalidReason: 'invalid_exact_evm_insufficient_balance', payer: '0x0' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});
afterAll(() => new Promise((resolve) => server.close(resolve)));

it('sends the auth headers of the createAuthHeaders hook with every facilitator call', async () => {
  const config = testEdgeConfig({ facilitator: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, verifyTimeoutMs: 2000, settleTimeoutMs: 2000 } });
  const handlers = createEdgeRuntime(config, {
    createAuthHeaders: async () => {
      const headers = { Authorization: 'Bearer signed-jwt' };
      return { verify: headers, settle: headers, supported: headers };
    },
    log: () => undefined,
  });
  const terms = routeTerms(compileRoutes(config)[0], config);
  const payment = await signPayment(privateKeyToAccount(generatePrivateKey()), paymentRequiredV2(terms, 'https://example.com/articles/a'));
  const event = {
    Records: [
      {
        cf: {
          config: { distributionDomainName: 'example.com', distributionId: 'E1', eventType: 'viewer-request', requestId: 'r' },
          request: {
            clientIp: '127.0.0.1',
            method: 'GET',
            uri: '/articles/a',
            querystring: '',
            headers: { host: [{ key: 'Host', value: 'example.com' }], 'payment-signature': [{ key: 'PAYMENT-SIGNATURE', value: encodePayment(payment) }] },
          },
        },
      },
    ],
  } as unknown as CloudFrontRequestEvent;

  const response = (await handlers.viewerRequest(event)) as CloudFrontResultResponse;
  expect(response.status).toBe('402');
  expect(JSON.parse(response.body!).error).toBe('invalid_exact_evm_insufficient_balance');
  expect(seen).toEqual([{ path: '/verify', authorization: 'Bearer signed-jwt' }]);
});
