/**
 * The edge's facilitator client (lambda/edge/facilitator-http.ts, node:http on kept-alive
 * connections) against the real local facilitator, side by side with @x402/core's
 * HTTPFacilitatorClient: the same answers and the same errors, and each call bounded by its deadline.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { HTTPFacilitatorClient } from '@x402/core/http';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import type { Address, Hex } from 'viem';
import { startLocalChain, type LocalChain } from '../../local/chain';
import { startLocalFacilitator, type LocalFacilitator } from '../../local/facilitator';
import { httpFacilitator } from '../../lambda/edge/facilitator-http';
import { signPayment } from '../support/payer';

const PAY_TO: Address = '0x000000000000000000000000000000000000bEEF';
const SLOW_MS = 1_500;

let chain: LocalChain;
let fac: LocalFacilitator;
let official: HTTPFacilitatorClient;

beforeAll(async () => {
  chain = await startLocalChain();
  fac = await startLocalFacilitator(chain, { slowMs: SLOW_MS });
  official = new HTTPFacilitatorClient({ url: fac.url, timeoutMs: 5000 });
});
afterAll(async () => {
  await fac?.close();
  await chain?.close();
});
afterEach(() => fac.setFault('none'));

function requirements(): PaymentRequirements {
  return { scheme: 'exact', network: 'eip155:84532', amount: '1000', asset: chain.usdc, payTo: PAY_TO, maxTimeoutSeconds: 60, extra: { name: 'USDC', version: '2' } };
}

async function payment(): Promise<{ payload: PaymentPayload; payer: Address }> {
  const account = await chain.newFundedWallet(1_000_000n);
  const payload = await signPayment(account, { x402Version: 2, resource: { url: 'http://127.0.0.1/paid', description: 'test', mimeType: 'application/json' }, accepts: [requirements()] });
  return { payload, payer: account.address };
}

/** A loopback server answering every request with `handle`; closed after `use`. */
async function withServer(handle: http.RequestListener, use: (url: string) => Promise<void>): Promise<void> {
  const server = http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    await use(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

it('verifies and settles a real payment with the same answers as the official client: the payer is charged once', async () => {
  const client = httpFacilitator(`${fac.url}/`);
  const { payload, payer } = await payment();
  const verified = await client.verify(payload, requirements(), 5000);
  expect(verified).toEqual(await official.verify(payload, requirements()));
  expect(verified).toMatchObject({ isValid: true, payer });

  const settled = await client.settle(payload, requirements(), 5000);
  expect(settled).toMatchObject({ success: true, network: 'eip155:84532', payer, transaction: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
  expect((await chain.publicClient.getTransactionReceipt({ hash: settled.transaction as Hex })).status).toBe('success');
  expect(await chain.usdcBalance(payer)).toBe(999_000n);

  // The facilitator's refusal is an answer, as with the official client.
  const again = await client.settle(payload, requirements(), 5000);
  expect(again).toEqual(await official.settle(payload, requirements()));
  expect(again).toMatchObject({ success: false, errorReason: 'invalid_exact_evm_nonce_already_used' });
  expect(await chain.usdcBalance(payer)).toBe(999_000n);
});

it('reads /supported as the official client does', async () => {
  expect(await httpFacilitator(fac.url).supported(5000)).toEqual(await official.getSupported());
});

it('a 400 verdict is a VerifyError carrying the reason, as with the official client', async () => {
  const { payload } = await payment();
  const malformed = { ...payload, payload: { nonsense: true } } as unknown as PaymentPayload;
  const theirs = await official.verify(malformed, requirements()).catch((error: unknown) => error);
  const ours = await httpFacilitator(fac.url).verify(malformed, requirements(), 5000).catch((error: unknown) => error);
  expect(theirs).toMatchObject({ name: 'VerifyError', statusCode: 400 });
  expect(ours).toMatchObject({ name: 'VerifyError', statusCode: 400, invalidReason: (theirs as { invalidReason: string }).invalidReason });
});

it('an answer that is not JSON, or not a verdict, is an error', async () => {
  const { payload } = await payment();
  fac.setFault('garbage');
  await expect(httpFacilitator(fac.url).verify(payload, requirements(), 5000)).rejects.toMatchObject({ name: 'FacilitatorResponseError', message: expect.stringMatching(/verify returned invalid JSON/) });
  await expect(httpFacilitator(fac.url).settle(payload, requirements(), 5000)).rejects.toMatchObject({ name: 'FacilitatorResponseError', message: expect.stringMatching(/settle returned invalid JSON/) });
  fac.setFault('unavailable');
  await expect(httpFacilitator(fac.url).verify(payload, requirements(), 5000)).rejects.toThrow(/Facilitator verify failed \(503\)/);
  await withServer(
    (_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ isValid: 'yes' })),
    (url) => expect(httpFacilitator(url).verify(payload, requirements(), 5000)).rejects.toThrow(/verify returned invalid data/),
  );
});

it('a 500 with a non-JSON body is an error, and a 500 settle verdict is a SettleError (not an answer)', async () => {
  const { payload } = await payment();
  await withServer(
    (_, res) => res.writeHead(500).end('Internal Server Error'),
    (url) => expect(httpFacilitator(url).verify(payload, requirements(), 5000)).rejects.toThrow('Facilitator verify failed (500): Internal Server Error'),
  );
  await withServer(
    (_, res) => res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ success: false, errorReason: 'unexpected_settle_error', transaction: '', network: 'eip155:84532' })),
    (url) => expect(httpFacilitator(url).settle(payload, requirements(), 5000)).rejects.toMatchObject({ name: 'SettleError', statusCode: 500, errorReason: 'unexpected_settle_error' }),
  );
});

it('gives up at the deadline: on a server that never answers, on a slow facilitator, and on an auth lookup that hangs', async () => {
  const { payload } = await payment();
  await withServer(
    () => undefined,
    (url) => expect(httpFacilitator(url).verify(payload, requirements(), 300)).rejects.toMatchObject({ name: 'FacilitatorTimeoutError', operation: 'verify' }),
  );
  fac.setFault('slow');
  await expect(httpFacilitator(fac.url).settle(payload, requirements(), 300)).rejects.toMatchObject({ name: 'FacilitatorTimeoutError', operation: 'settle' });
  fac.setFault('none');
  const hangingAuth = httpFacilitator(fac.url, () => new Promise(() => undefined));
  await expect(hangingAuth.supported(300)).rejects.toMatchObject({ name: 'FacilitatorTimeoutError', operation: 'supported' });
});

it('sends the auth hook\'s headers for each path, and refuses a flat headers object', async () => {
  const seen: Array<{ path?: string; authorization?: string }> = [];
  await withServer(
    (req, res) => {
      seen.push({ path: req.url, authorization: req.headers.authorization });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kinds: [], extensions: [], signers: {} }));
    },
    async (url) => {
      const client = httpFacilitator(url, async () => ({ supported: { Authorization: 'Bearer for-supported' }, verify: { Authorization: 'Bearer for-verify' } }));
      await client.supported(2000);
      expect(seen).toEqual([{ path: '/supported', authorization: 'Bearer for-supported' }]);
      const flat = httpFacilitator(url, async () => ({ Authorization: 'Bearer flat' }) as never);
      await expect(flat.supported(2000)).rejects.toThrow(/keyed by facilitator path/);
      expect(seen).toHaveLength(1);
    },
  );
});

it('sends a verify again on a fresh connection when the server closed the reused one, but never a settle', async () => {
  const { payload } = await payment();
  // Answers the first request of each connection; drops the connection at its second, as a server
  // closing an idle kept-alive connection just as the client reuses it.
  const requestsOn = new WeakMap<object, number>();
  let received = 0;
  await withServer(
    (req, res) => {
      const seen = (requestsOn.get(req.socket) ?? 0) + 1;
      requestsOn.set(req.socket, seen);
      req.resume();
      req.on('end', () => {
        received++;
        if (seen === 2) {
          req.socket.destroy();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ isValid: true, payer: PAY_TO }));
      });
    },
    async (url) => {
      const client = httpFacilitator(url);
      await client.verify(payload, requirements(), 2000);
      expect(await client.verify(payload, requirements(), 2000)).toEqual({ isValid: true, payer: PAY_TO });
      expect(received).toBe(3);
      await expect(client.settle(payload, requirements(), 2000)).rejects.toMatchObject({ code: 'ECONNRESET' });
      expect(received).toBe(4);
    },
  );
});
