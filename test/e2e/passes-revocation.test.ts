/**
 * A revoked pass through the local edge: `cdk-x402 pass revoke` lists it in the receipt table, and
 * the viewer-request containers refuse it once their copy of the list is reloaded (every
 * `revocationRefreshSeconds`, 60 by default: 1 here, so the test need not wait a minute).
 */
import { wrapFetchWithPayment } from '@x402/fetch';
import { decodePaymentRequiredHeader } from '@x402/core/http';
import type { PrivateKeyAccount } from 'viem';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { cli } from '../support/cli';
import { officialClient } from '../support/payer';

const REFRESH_SECONDS = 1;
let stack: LocalStack;
let agent: PrivateKeyAccount;

beforeAll(async () => {
  stack = await startLocalStack({
    passes: [{ name: 'day', price: '$0.05', duration: '24h', routes: ['/articles/*'] }],
    configure: (config) => ({ ...config, passes: { ...config.passes!, revocationRefreshSeconds: REFRESH_SECONDS } }),
  });
  agent = await stack.chain.newFundedWallet(1_000_000n);
});
afterAll(() => stack?.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const read = (pass: string, slug: string) => fetch(`${stack.edge.url}/articles/${slug}`, { headers: { authorization: `Bearer ${pass}`, 'user-agent': 'GPTBot/1.0' } });

it('refuses a revoked pass with pass_revoked and the offer, within the refresh interval and one table read', async () => {
  const sale = await (await wrapFetchWithPayment(fetch, officialClient(agent))(`${stack.edge.url}/.well-known/x402/pass/day`)).json();
  expect((await read(sale.pass, 'before-revocation')).status).toBe(200);

  const revoked = await cli(['pass', 'revoke', '--pass-id', sale.passId, '--expires-at', sale.expiresAt, '--table', stack.config.receiptTable.tableName, '--json', '-q'], { dynamo: stack.dynamo.client });
  expect(revoked.code).toBe(0);

  // Past the interval, the first request finds the copy stale and starts the reload (not waiting
  // for it); the requests after that reload are refused.
  await sleep(REFRESH_SECONDS * 1000 + 100);
  await read(sale.pass, 'starts-the-reload');
  await sleep(200);
  const refused = await read(sale.pass, 'after-revocation');
  expect(refused.status).toBe(402);
  expect(await refused.json()).toMatchObject({ error: 'pass_revoked' });
  const offer = decodePaymentRequiredHeader(refused.headers.get('payment-required')!).extensions?.['x402-pass'];
  expect(offer).toMatchObject({ passes: [{ name: 'day' }] });
  expect(stack.origin.requestsFor('/articles/after-revocation')).toBe(0);
});
