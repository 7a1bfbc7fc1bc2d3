/**
 * WAF's verdicts through the local edge: the emulated WAF evaluates the synthesized web ACL's
 * label rules (x402-agent-verified-<n>, x402-verified-bot-category/organization-<n> and their
 * `none` rules) over the Bot Control labels each test bot is declared to get (by its User-Agent,
 * as the test's word for what Bot Control concludes), and the deployed viewer-request bundle
 * prices, serves, refuses and records from the headers those rules insert. A client's own
 * `x-amzn-waf-*` headers are blocked, or, past WAF's inspection limit, overwritten by WAF's.
 */
import { decodePaymentRequiredHeader } from '@x402/core/http';
import { WAF_AGENT_HEADER, WAF_VERIFIED_BOT_CATEGORY_HEADER, WAF_VERIFIED_BOT_ORGANIZATION_HEADER } from '../../lambda/core/header-names';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { WAF_HEADER_INSPECTION_BYTES } from '../../local/waf-emulation';
import { edgeFetch, expectReceiptsReconcile, paymentHeader } from '../support/edge-client';
import { signPayment } from '../support/payer';

const ROUTES = [
  {
    pattern: '/articles/*',
    price: '$0.001',
    description: 'One article',
    mimeType: 'text/html',
    priceBy: [
      { price: 'refuse', when: [{ botOrganization: true, equalTo: 'refused-labs' }] },
      { price: 'free', when: [{ botOrganization: true, equalTo: 'partner-search' }] },
      { price: '$0.002', tier: 'agent-rate', when: [{ agent: true, equalTo: 'waf-agent' }] },
      { price: '$0.003', tier: 'ai', when: [{ botCategory: true, equalTo: 'ai' }] },
      { price: '$0.004', when: [{ botOrganization: true, equalTo: 'example-ai' }] },
    ],
  },
];

/** What Bot Control is declared to conclude about each test bot, by its User-Agent. */
const BOT_CONTROL_LABELS: Record<string, readonly string[]> = {
  'ExampleAiBot/1.0': ['bot:verified', 'bot:category:ai', 'bot:organization:example-ai', 'bot:name:exampleaibot'],
  // Claims the AI category from its User-Agent only: Bot Control does not verify it.
  'UnverifiedAiBot/1.0': ['bot:category:ai', 'bot:organization:example-ai'],
  'PartnerSearchBot/1.0': ['bot:verified', 'bot:category:search_engine', 'bot:organization:partner-search'],
  'UnverifiedPartnerBot/1.0': ['bot:category:search_engine', 'bot:organization:partner-search'],
  'RefusedBot/1.0': ['bot:verified', 'bot:category:ai', 'bot:organization:refused-labs'],
  'WafAgent/1.0': ['web_bot_auth:verified', 'bot:name:wafagent'],
};
const logs: Record<string, unknown>[] = [];
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    routes: ROUTES,
    agents: [{ name: 'waf-agent', botName: 'wafagent' }],
    botControlLabels: ({ headers }) => BOT_CONTROL_LABELS[String(headers['user-agent'])] ?? [],
    log: (line) => logs.push(line),
  });
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

const as = (userAgent: string, headers: Record<string, string> = {}) => ({ 'user-agent': userAgent, ...headers });

/** Asks for the terms and pays them as `userAgent`; returns the terms, the paid response and its receipt. */
async function paidAs(userAgent: string, path: string, headers: Record<string, string> = {}) {
  const offered = await edgeFetch(stack, path, as(userAgent, headers));
  expect(offered.status).toBe(402);
  const required = decodePaymentRequiredHeader(offered.headers.get('payment-required')!);
  const payer = await stack.chain.newFundedWallet(1_000_000n);
  const paid = await edgeFetch(stack, path, as(userAgent, { ...headers, ...paymentHeader(await signPayment(payer, required)) }));
  const rows = (await stack.receipts()).filter((r) => r.resource.endsWith(path));
  expect(rows).toHaveLength(1);
  return { amount: required.accepts[0].amount, paid, receipt: rows[0] };
}

it("prices a verified bot of a priced category by its rule and records its category and organization", async () => {
  const { amount, paid, receipt } = await paidAs('ExampleAiBot/1.0', '/articles/verified-ai');
  expect([amount, paid.status]).toEqual(['3000', 200]);
  expect(receipt).toMatchObject({ status: 'settled', amount: '3000', tier: 'ai', botCategory: 'ai', botOrganization: 'example-ai' });
  expect(receipt.agent).toBeUndefined();
});

it('charges a bot whose category Bot Control did not verify the route price, recorded without a category', async () => {
  const { amount, receipt } = await paidAs('UnverifiedAiBot/1.0', '/articles/unverified-ai');
  expect(amount).toBe('1000');
  expect([receipt.status, receipt.botCategory, receipt.botOrganization]).toEqual(['settled', undefined, undefined]);
});

it('serves a verified bot of a free organization without payment, and asks the same organization unverified to pay', async () => {
  const free = await edgeFetch(stack, '/articles/partner', as('PartnerSearchBot/1.0'));
  expect(free.status).toBe(200);
  expect(free.headers.get('payment-response')).toBeNull();
  expect(logs.find((line) => line.event === 'x402.free_by_rule')).toMatchObject({ botOrganization: 'partner-search', priceRule: 1 });
  expect((await edgeFetch(stack, '/articles/partner', as('UnverifiedPartnerBot/1.0'))).status).toBe(402);
  expect((await stack.receipts()).filter((r) => r.resource.endsWith('/articles/partner'))).toEqual([]);
});

it('refuses a verified bot of a refused organization with 403 agent_refused, even with a payment, and calls no facilitator', async () => {
  const refused = await edgeFetch(stack, '/articles/refused', as('RefusedBot/1.0'));
  expect(refused.status).toBe(403);
  expect(await refused.json()).toMatchObject({ error: 'agent_refused' });
  const terms = decodePaymentRequiredHeader((await edgeFetch(stack, '/articles/refused')).headers.get('payment-required')!);
  const before = { ...stack.facilitator.calls };
  const payer = await stack.chain.newFundedWallet(1_000_000n);
  expect((await edgeFetch(stack, '/articles/refused', as('RefusedBot/1.0', paymentHeader(await signPayment(payer, terms))))).status).toBe(403);
  expect(stack.facilitator.calls).toEqual(before);
  expect((await stack.receipts()).filter((r) => r.resource.endsWith('/articles/refused'))).toEqual([]);
});

it("prices and records an agent Bot Control verified by its Web Bot Auth signature, as WAF's verdict", async () => {
  const { amount, receipt } = await paidAs('WafAgent/1.0', '/articles/waf-agent');
  expect(amount).toBe('2000');
  expect(receipt).toMatchObject({ status: 'settled', amount: '2000', tier: 'agent-rate', agent: 'waf-agent', agentVerifiedBy: 'waf' });
});

describe("a client's own x-amzn-waf-x402-* headers are never trusted", () => {
  it.each([
    [WAF_VERIFIED_BOT_ORGANIZATION_HEADER, 'partner-search'],
    [WAF_VERIFIED_BOT_CATEGORY_HEADER, 'ai'],
    [WAF_AGENT_HEADER, 'waf-agent'],
  ])('blocks a client-sent %s: %s (anti-spoofing rule)', async (name, value) => {
    const response = await edgeFetch(stack, '/articles/forged-early', as('test-agent/1.0', { [name]: value }));
    expect(response.status).toBe(403);
    expect(await response.text()).toMatch(/blocked by the local WAF emulation/);
  });

  it("overwrites a forged copy past WAF's inspection limit with WAF's own none: the request pays the route price, recorded as nobody", async () => {
    // Header names sort before x-amzn-waf-*, so the forged copies come last whichever order the client sends.
    const padding = { 'a-padding': 'a'.repeat(WAF_HEADER_INSPECTION_BYTES) };
    const forged = { [WAF_VERIFIED_BOT_ORGANIZATION_HEADER]: 'partner-search', [WAF_VERIFIED_BOT_CATEGORY_HEADER]: 'ai', [WAF_AGENT_HEADER]: 'waf-agent' };
    const { amount, receipt } = await paidAs('test-agent/1.0', '/articles/forged-late', { ...padding, ...forged });
    expect(amount).toBe('1000');
    expect([receipt.status, receipt.agent, receipt.botCategory, receipt.botOrganization]).toEqual(['settled', undefined, undefined, undefined]);
  });
});

it('reconciles every receipt with the chain', async () => {
  expect((await expectReceiptsReconcile(stack)).settled).toBe(4);
});
