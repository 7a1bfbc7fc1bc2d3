import Module from 'node:module';
import * as path from 'node:path';
import { wrapFetchWithPayment } from '@x402/fetch';
import type { EdgeHandlers } from '../../lambda/edge/cloudfront-adapter';
import { bundleEdge } from '../../local/bundle-edge';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { officialClient } from '../support/payer';

/** Loads a CommonJS bundle from memory as Lambda would load it from the zip (AWS SDK from node_modules, as the runtime provides it). */
function loadBundle(code: string, name: string): { handler: (event: unknown) => Promise<unknown> } {
  const filename = path.join(__dirname, '..', '..', `${name}.bundle.js`);
  const bundle = new Module(filename);
  bundle.filename = filename;
  bundle.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(filename));
  (bundle as unknown as { _compile(code: string, filename: string): void })._compile(code, filename);
  return bundle.exports;
}

let stack: LocalStack;
let sizes: { viewerRequest: number; originResponse: number };

beforeAll(async () => {
  // The bundles read credentials from the environment, as in Lambda: jest.config.js sets fake ones.
  stack = await startLocalStack({
    handlers: async (config): Promise<EdgeHandlers> => {
      const bundles = await bundleEdge(config);
      sizes = { viewerRequest: bundles.viewerRequest.zippedBytes, originResponse: bundles.originResponse.zippedBytes };
      return {
        viewerRequest: loadBundle(bundles.viewerRequest.code, 'viewer-request').handler as EdgeHandlers['viewerRequest'],
        originRequest: loadBundle(bundles.originRequest.code, 'origin-request').handler as EdgeHandlers['originRequest'],
        originResponse: loadBundle(bundles.originResponse.code, 'origin-response').handler as EdgeHandlers['originResponse'],
      };
    },
  });
}, 60_000);
afterAll(() => stack?.close());

it('the viewer-request bundle stays far below Lambda@Edge\'s 1 MB zipped limit', () => {
  expect(sizes.viewerRequest).toBeLessThan(150 * 1024);
  expect(sizes.originResponse).toBeLessThan(150 * 1024);
});

it('the deployed bundles, configuration baked in at build time, take a real payment', async () => {
  const agent = await stack.chain.newFundedWallet(100_000n);
  const unpaid = await fetch(`${stack.edge.url}/articles/bundled`);
  expect(unpaid.status).toBe(402);

  const response = await wrapFetchWithPayment(fetch, officialClient(agent))(`${stack.edge.url}/articles/bundled`);
  expect(response.status).toBe(200);
  expect(response.headers.get('payment-response')).toBeTruthy();
  expect(await stack.chain.usdcBalance(agent.address)).toBe(99_000n);
  expect((await stack.receipts())[0]).toMatchObject({ status: 'settled', route: '/articles/*' });
});
