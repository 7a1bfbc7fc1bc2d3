/**
 * Discovery through the local edge: the catalogue at /.well-known/x402.json (free, cacheable, the
 * same text `cdk-x402 catalog` prints for the same configuration, the same terms as every 402),
 * and a 402 carrying the Bazaar extension that validates with the official packages, stays within
 * 2 KB and is paid by the official client.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from '@x402/core/http';
import { PaymentRequiredSchema } from '@x402/core/schemas';
import { validateDiscoveryExtension, type DiscoveryExtension } from '@x402/extensions/bazaar';
import { wrapFetchWithPayment } from '@x402/fetch';
import type { Catalog } from '../../lambda/core/catalog';
import { CATALOG_PATH, MAX_PAYMENT_REQUIRED_HEADER_BYTES } from '../../lambda/core/discovery';
import { CONTEXT_KEYS } from '../../lib/config/context-keys';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { cli } from '../support/cli';
import { edgeFetch } from '../support/edge-client';
import { officialClient } from '../support/payer';

const ROUTES = [
  { pattern: '/articles/*', price: '$0.001', description: 'One article', mimeType: 'text/html' },
  {
    pattern: 'GET /search',
    price: '$0.002',
    description: 'Search the archive',
    mimeType: 'application/json',
    discovery: {
      input: { q: 'cats' },
      inputSchema: { properties: { q: { type: 'string' } }, required: ['q'] },
      output: { example: { results: ['cats-1'] }, schema: { properties: { results: { type: 'array' } } } },
    },
  },
  { pattern: 'POST /summarize', price: '$0.003', description: 'Summarize a text', discovery: { input: { text: 'a long text' }, inputSchema: { properties: { text: { type: 'string' } } } } },
  { pattern: '/metered/**', scheme: 'upto' as const, maxPrice: '$0.005', description: 'Metered inference', mimeType: 'application/json' },
];
const PASS = { name: 'day', price: '$0.05', duration: '24h', routes: ['/articles/*'], description: 'Every article for a day' };
/** A request each item's pattern prices, in catalogue order. */
const SAMPLES = [['GET', '/articles/one'], ['GET', '/search'], ['POST', '/summarize'], ['GET', '/metered/run'], ['GET', '/.well-known/x402/pass/day']] as const;

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ routes: ROUTES, passes: [PASS] });
}, 120_000);
afterAll(() => stack?.close());

const host = () => new URL(stack.edge.url).host;

/** The stack's settings as the x402:* keys of a cdk.json, the way a publisher writes them. */
function contextFile(): string {
  const settings = stack.settings as unknown as Record<string, unknown>;
  const context = Object.fromEntries(CONTEXT_KEYS.filter((spec) => settings[spec.prop] !== undefined).map((spec) => [spec.key, settings[spec.prop]]));
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'cdk-x402-catalog-')), 'cdk.json');
  writeFileSync(file, JSON.stringify({ app: 'npx tsx bin/app.ts', context }));
  return file;
}

/** The upto terms name the facilitator's address: the local facilitator's, read as the edge reads it. */
async function facilitatorAddress(): Promise<string> {
  const supported = (await (await fetch(`${stack.facilitator.url}/supported`)).json()) as { kinds: Array<{ scheme: string; extra?: { facilitatorAddress?: string } }> };
  return supported.kinds.find((kind) => kind.scheme === 'upto')!.extra!.facilitatorAddress!;
}

it('serves the catalogue free to anyone, cacheable, revalidated by its ETag, GET and HEAD only', async () => {
  const response = await fetch(`${stack.edge.url}${CATALOG_PATH}`, { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0' } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(response.headers.get('cache-control')).toBe('public, max-age=300');
  const etag = response.headers.get('etag')!;
  expect(etag).toMatch(/^"[\w-]+"$/);
  const catalog = (await response.json()) as Catalog;
  expect(catalog.items.map((item) => item.input.routeTemplate)).toEqual(['/articles/*', '/search', '/summarize', '/metered/**', '/.well-known/x402/pass/day']);

  const agent = await edgeFetch(stack, CATALOG_PATH, { 'if-none-match': etag });
  expect(agent.status).toBe(304);
  const head = await edgeFetch(stack, CATALOG_PATH, {}, 'HEAD');
  expect(head.status).toBe(200);
  expect(head.headers.get('etag')).toBe(etag);
  const post = await edgeFetch(stack, CATALOG_PATH, { 'content-type': 'application/json' }, 'POST');
  expect(post.status).toBe(405);
  expect(await post.json()).toMatchObject({ error: 'method_not_allowed' });
  expect(stack.origin.requestsFor(CATALOG_PATH)).toBe(0);
});

it('offers in the catalogue exactly the terms each route\'s 402 offers', async () => {
  const catalog = (await (await edgeFetch(stack, CATALOG_PATH)).json()) as Catalog;
  for (const [index, [method, samplePath]] of SAMPLES.entries()) {
    const challenge = await edgeFetch(stack, samplePath, {}, method);
    expect(challenge.status).toBe(402);
    expect(catalog.items[index].accepts).toEqual(decodePaymentRequiredHeader(challenge.headers.get('payment-required')!).accepts);
  }
});

it('prints with `cdk-x402 catalog` the very text the edge serves for the same configuration', async () => {
  const served = await (await edgeFetch(stack, CATALOG_PATH)).text();
  const run = await cli(['catalog', '--host', host(), '--context', contextFile(), '--facilitator-address', await facilitatorAddress()]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toBe(`${served}\n`);

  const table = await cli(['catalog', '--format', 'table', '--context', contextFile()]);
  expect(table.code).toBe(0);
  expect(table.stdout.split('\n').slice(2, 7).map((line) => line.split(/\s{2,}/))).toEqual([
    ['priced', 'any', '/articles/*', '0.001 USDC', 'One article'],
    ['priced', 'GET', '/search', '0.002 USDC', 'Search the archive'],
    ['priced', 'POST', '/summarize', '0.003 USDC', 'Summarize a text'],
    ['metered', 'any', '/metered/**', 'up to 0.005 USDC', 'Metered inference'],
    ['pass', 'GET', '/.well-known/x402/pass/day', '0.05 USDC', 'Every article for a day'],
  ]);
});

it('sends a 402 with the Bazaar extension that the official packages validate, within 2 KB, and the official client pays it', async () => {
  const challenge = await edgeFetch(stack, '/search?q=cats');
  expect(challenge.status).toBe(402);
  const header = challenge.headers.get('payment-required')!;
  console.log(`PAYMENT-REQUIRED of GET /search with the Bazaar extension: ${header.length} bytes (limit ${MAX_PAYMENT_REQUIRED_HEADER_BYTES})`);
  expect(header.length).toBeLessThanOrEqual(MAX_PAYMENT_REQUIRED_HEADER_BYTES);
  const required = decodePaymentRequiredHeader(header);
  expect(PaymentRequiredSchema.safeParse(required).success).toBe(true);
  const bazaar = required.extensions?.bazaar as DiscoveryExtension;
  expect(validateDiscoveryExtension(bazaar)).toEqual({ valid: true });
  expect(bazaar.info).toMatchObject({ input: { type: 'http', method: 'GET', queryParams: { q: 'cats' } }, output: { type: 'json', example: { results: ['cats-1'] } } });

  stack.origin.setBehavior('/search', { status: 200, body: JSON.stringify({ results: ['cats-1'] }), headers: { 'content-type': 'application/json' } });
  const agent = await stack.chain.newFundedWallet(1_000_000n);
  const before = await stack.chain.usdcBalance(stack.payTo);
  const paid = await wrapFetchWithPayment(fetch, officialClient(agent))(`${stack.edge.url}/search?q=cats`, { headers: { 'user-agent': 'test-agent/1.0' } });
  expect(paid.status).toBe(200);
  expect(decodePaymentResponseHeader(paid.headers.get('payment-response')!)).toMatchObject({ success: true, payer: agent.address });
  expect(await paid.json()).toEqual({ results: ['cats-1'] });
  expect(await stack.chain.usdcBalance(stack.payTo)).toBe(before + 2000n);
});
