import { wrapFetchWithPayment } from '@x402/fetch';
import { edgeBundles } from '../../local/bundle-edge';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { officialClient } from '../support/payer';

let stack: LocalStack;

// The local edge runs the prebuilt bundles with the configuration injected as synth does, each function in its own Lambda containers.
beforeAll(async () => {
  stack = await startLocalStack();
}, 60_000);
afterAll(() => stack?.close());

// libsecp256k1's WASM (inlined, base64) is most of viewer-request: about 185 KB of its ~225 KB zipped; the origin-facing bundles, without it, are ~35 KB.
it('every edge bundle stays under 300 KB zipped, far below Lambda@Edge\'s 1 MB viewer-trigger limit', () => {
  for (const bundle of Object.values(edgeBundles(stack.config))) expect(bundle.zippedBytes).toBeLessThan(300 * 1024);
});

it('the prebuilt bundles, the configuration injected, take a real payment', async () => {
  const agent = await stack.chain.newFundedWallet(100_000n);
  const unpaid = await fetch(`${stack.edge.url}/articles/bundled`);
  expect(unpaid.status).toBe(402);

  const response = await wrapFetchWithPayment(fetch, officialClient(agent))(`${stack.edge.url}/articles/bundled`);
  expect(response.status).toBe(200);
  expect(response.headers.get('payment-response')).toBeTruthy();
  expect(await stack.chain.usdcBalance(agent.address)).toBe(99_000n);
  expect((await stack.receipts())[0]).toMatchObject({ status: 'settled', route: '/articles/*' });
});
