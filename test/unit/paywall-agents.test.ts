/** The paywall with x402:agents: a verified agent is recorded on its receipt; any other signer pays as anyone and is counted. */
import { decodePaymentRequiredHeader } from '@x402/core/http';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { AgentsConfig, EdgeConfig } from '../../lambda/core/config';
import { decodeHandoff, encodeHandoff, PENDING_SETTLEMENT_HEADER } from '../../lambda/core/handoff';
import { KEY_DIRECTORY_PATH } from '../../lambda/core/identity/directory-url';
import { WAF_AGENT_HEADER, WAF_VERIFIED_BOT_CATEGORY_HEADER, WAF_VERIFIED_BOT_ORGANIZATION_HEADER } from '../../lambda/core/header-names';
import type { FetchedDirectory } from '../../lambda/core/identity/key-directories';
import { Paywall } from '../../lambda/core/paywall';
import { ExactEvmPrecheck } from '../../lambda/core/precheck';
import { testEdgeConfig } from '../support/config';
import { MemoryReceipts } from '../support/memory-receipts';
import { encodePayment, signPayment } from '../support/payer';
import { forgerKey, newTestAgent } from '../support/web-bot-auth-agent';

const agent = newTestAgent('https://agent.example.com');
const stranger = newTestAgent('https://stranger.example.net');
const URL_PATH = '/articles/one';
const AGENTS: AgentsConfig = {
  trusted: [{ name: 'example-agent', signatureAgent: 'agent.example.com', botName: 'exampleagent' }],
  unknownAgents: 'ignore',
};

function harness(agents: AgentsConfig = AGENTS, directory: (url: string) => Promise<FetchedDirectory> = async () => ({ body: agent.directory() }), routes?: EdgeConfig['routes']) {
  const config = testEdgeConfig({ agents, ...(routes ? { routes } : {}) });
  const receipts = new MemoryReceipts();
  const lines: Record<string, unknown>[] = [];
  const fetched: string[] = [];
  const wall = new Paywall(
    config,
    {
      facilitator: { verify: async () => ({ isValid: true }), settle: async () => ({ success: true, transaction: `0x${'ab'.repeat(32)}`, network: 'eip155:84532' }) },
      receipts,
      clock: Date.now,
      log: (line) => lines.push(line),
      keyDirectories: (url) => {
        fetched.push(url);
        return directory(url);
      },
    },
    new ExactEvmPrecheck(config),
  );
  const refusals = () => lines.filter((l) => l.AgentSignaturesRefused === 1).map((l) => l.Reason);
  return { wall, receipts, fetched, refusals, lines };
}

function request(headers: Record<string, string>, payment?: string) {
  const all: Record<string, string> = { 'x-amzn-waf-x402-eligible': 'true', ...headers, ...(payment ? { 'payment-signature': payment } : {}) };
  return { method: 'GET', uri: URL_PATH, host: 'example.com', clientIp: '203.0.113.9', header: (name: string) => all[name] };
}

/** Asks for the terms, pays them, and returns the outcome and the receipt row. */
async function pay(h: ReturnType<typeof harness>, headers: () => Promise<Record<string, string>>) {
  const first = await h.wall.onViewerRequest(request(await headers()));
  if (first.kind !== 'respond') throw new Error('expected a 402');
  expect(first.response.status).toBe(402);
  const required = decodePaymentRequiredHeader(first.response.headers['payment-required']);
  const payment = encodePayment(await signPayment(privateKeyToAccount(generatePrivateKey()), required));
  const paid = await h.wall.onViewerRequest(request(await headers(), payment));
  if (paid.kind !== 'forward') throw new Error(`expected a forward, got ${JSON.stringify(paid)}`);
  const rows = [...h.receipts.rows.values()];
  expect(rows).toHaveLength(1);
  return { handoff: decodeHandoff(paid.setHeaders[PENDING_SETTLEMENT_HEADER])!, receipt: rows[0] };
}

const signed = (signer = agent, options?: Parameters<typeof agent.sign>[2]) => () => signer.sign('GET', `https://example.com${URL_PATH}`, options);

describe('Paywall with x402:agents', () => {
  it('records a Web Bot Auth agent verified against its key directory on the receipt and in the hand-off', async () => {
    const h = harness();
    const { handoff, receipt } = await pay(h, signed());
    expect([receipt.agent, receipt.agentVerifiedBy]).toEqual(['example-agent', 'web-bot-auth']);
    expect(handoff.agent).toBe('example-agent');
    expect(h.refusals()).toEqual([]);
  });

  it('fetches a directory once for many requests, not per request', async () => {
    const h = harness();
    await pay(h, signed());
    await h.wall.onViewerRequest(request(await signed()()));
    expect(h.fetched).toEqual([`https://agent.example.com${KEY_DIRECTORY_PATH}`]);
  });

  it('charges a forged signature as anyone: no agent on the receipt, counted as bad_signature', async () => {
    const h = harness();
    const { receipt, handoff } = await pay(h, signed(agent, { privateKey: forgerKey() }));
    expect([receipt.agent, handoff.agent]).toEqual([undefined, undefined]);
    expect(h.refusals()).toEqual(['bad_signature', 'bad_signature']);
  });

  it('charges an expired signature as anyone, counted as expired', async () => {
    const h = harness();
    const { receipt } = await pay(h, signed(agent, { created: new Date(Date.now() - 600_000) }));
    expect(receipt.agent).toBeUndefined();
    expect(h.refusals()).toEqual(['expired', 'expired']);
  });

  it('does not fetch the directory of an agent nobody listed (unknownAgents ignore)', async () => {
    const h = harness();
    const { receipt } = await pay(h, signed(stranger));
    expect(receipt.agent).toBeUndefined();
    expect(h.fetched).toEqual([]);
    expect(h.refusals()).toEqual(['unknown_agent', 'unknown_agent']);
  });

  it('verifies and records an unlisted agent by its host with unknownAgents verify', async () => {
    const h = harness({ ...AGENTS, unknownAgents: 'verify' }, async () => ({ body: stranger.directory() }));
    const { receipt } = await pay(h, signed(stranger));
    expect([receipt.agent, receipt.agentVerifiedBy]).toEqual(['stranger.example.net', 'web-bot-auth']);
  });

  it('answers the 402 when the key directory cannot be fetched: the agent is untrusted, never a 5xx', async () => {
    const h = harness(AGENTS, async () => {
      throw new Error('timeout');
    });
    const { receipt } = await pay(h, signed());
    expect(receipt.agent).toBeUndefined();
    expect(h.refusals()).toEqual(['directory_unavailable', 'directory_unavailable']);
  });

  it("takes WAF's verdict for a listed bot name, and ignores WAF's none or an unknown name", async () => {
    const h = harness();
    const { receipt } = await pay(h, async () => ({ [WAF_AGENT_HEADER]: 'example-agent' }));
    expect([receipt.agent, receipt.agentVerifiedBy]).toEqual(['example-agent', 'waf']);
    const other = harness();
    const { receipt: none } = await pay(other, async () => ({ [WAF_AGENT_HEADER]: 'none' }));
    expect(none.agent).toBeUndefined();
    expect(other.refusals()).toEqual([]);
  });

  it('does not count a request without any signature', async () => {
    const h = harness();
    const { receipt } = await pay(h, async () => ({}));
    expect(receipt.agent).toBeUndefined();
    expect(h.refusals()).toEqual([]);
  });
});

describe('Paywall with price rules by agent and intent', () => {
  const rules = testEdgeConfig({
    agents: { trusted: [...AGENTS.trusted, { name: 'partner', signatureAgent: 'partner.example.com' }, { name: 'blocked', botName: 'blockedbot' }], unknownAgents: 'ignore' },
    routes: [
      {
        pattern: '/articles/*',
        price: '$0.001',
        priceBy: [
          { price: 'refuse', when: [{ agent: true, equalTo: 'blocked' }] },
          { price: 'free', when: [{ agent: true, equalTo: 'partner' }] },
          { price: '$0.0005', tier: 'agent-rate', when: [{ agent: true, equalTo: 'example-agent' }] },
          { price: 'refuse', when: [{ intent: true, equalTo: 'training' }] },
          { price: '$0.002', tier: 'search', when: [{ intent: true, equalTo: 'search' }] },
        ],
      },
    ],
  });
  const partner = newTestAgent('https://partner.example.com');
  function wall(verified: string[] = []) {
    const settled: string[] = [];
    const receipts = new MemoryReceipts();
    const directoryOf = (url: string) => (url.includes('partner') ? partner : agent).directory();
    const paywall = new Paywall(
      rules,
      {
        facilitator: {
          verify: async () => {
            verified.push('verify');
            return { isValid: true };
          },
          settle: async () => {
            settled.push('settle');
            return { success: true, transaction: `0x${'ab'.repeat(32)}`, network: 'eip155:84532' };
          },
        },
        receipts,
        clock: Date.now,
        log: () => undefined,
        keyDirectories: async (url) => ({ body: directoryOf(url) }),
      },
      new ExactEvmPrecheck(rules),
    );
    return { paywall, receipts };
  }
  const amountFor = async (paywall: Paywall, headers: Record<string, string>) => {
    const outcome = await paywall.onViewerRequest(request(headers));
    if (outcome.kind !== 'respond' || outcome.response.status !== 402) throw new Error(JSON.stringify(outcome));
    return decodePaymentRequiredHeader(outcome.response.headers['payment-required']).accepts[0].amount;
  };

  it('prices a verified agent by its rule, and the same signer unverified at the route price', async () => {
    const { paywall } = wall();
    expect(await amountFor(paywall, await signed()())).toBe('500');
    expect(await amountFor(paywall, await signed(agent, { privateKey: forgerKey() })())).toBe('1000');
  });

  it('serves a verified partner free, and a forged partner signature pays', async () => {
    const { paywall } = wall();
    const free = await paywall.onViewerRequest(request(await partner.sign('GET', `https://example.com${URL_PATH}`)));
    expect(free.kind).toBe('forward');
    const handoff = free.kind === 'forward' ? decodeHandoff(free.setHeaders[PENDING_SETTLEMENT_HEADER]) : undefined;
    expect(handoff).toEqual({ kind: 'free', routeIndex: 0, priceRule: 1, agent: 'partner' });
    expect(await amountFor(paywall, await partner.sign('GET', `https://example.com${URL_PATH}`, { privateKey: forgerKey() }))).toBe('1000');
  });

  it('refuses a refused agent with 403 agent_refused, even with a payment, and never calls the facilitator', async () => {
    const calls: string[] = [];
    const { paywall, receipts } = wall(calls);
    const challenge = await wall().paywall.onViewerRequest(request({}));
    const required = decodePaymentRequiredHeader(challenge.kind === 'respond' ? challenge.response.headers['payment-required'] : '');
    const payment = encodePayment(await signPayment(privateKeyToAccount(generatePrivateKey()), required));
    const refused = await paywall.onViewerRequest(request({ [WAF_AGENT_HEADER]: 'blocked' }, payment));
    expect(refused.kind === 'respond' && [refused.response.status, JSON.parse(refused.response.body).error]).toEqual([403, 'agent_refused']);
    expect(calls).toEqual([]);
    expect(receipts.rows.size).toBe(0);
  });

  it('prices a declared intent dearer, refuses a refused one, and the same headers give the same terms twice', async () => {
    const { paywall } = wall();
    expect(await amountFor(paywall, { 'x402-intent': 'search' })).toBe('2000');
    expect(await amountFor(paywall, { 'x402-intent': 'Search ' })).toBe('2000');
    expect(await amountFor(paywall, { 'x402-intent': 'inference' })).toBe('1000');
    const refused = await paywall.onViewerRequest(request({ 'x402-intent': 'training' }));
    expect(refused.kind === 'respond' && refused.response.status).toBe(403);
  });

  it("prices by the verified bot category WAF forwards, and serves a free category without an agent", async () => {
    const byCategory = testEdgeConfig({
      routes: [{ pattern: '/articles/*', price: '$0.001', priceBy: [
        { price: 'free', when: [{ botCategory: true, equalTo: 'search_engine' }] },
        { price: '$0.004', when: [{ botCategory: true, equalTo: 'ai' }] },
      ] }],
    });
    const paywall = new Paywall(byCategory, { facilitator: { verify: async () => ({ isValid: true }), settle: async () => ({ success: true, transaction: '0x', network: 'eip155:84532' }) }, receipts: new MemoryReceipts(), clock: Date.now, log: () => undefined }, new ExactEvmPrecheck(byCategory));
    expect(await amountFor(paywall, { [WAF_VERIFIED_BOT_CATEGORY_HEADER]: 'ai' })).toBe('4000');
    expect(await amountFor(paywall, { [WAF_VERIFIED_BOT_CATEGORY_HEADER]: 'none' })).toBe('1000');
    const free = await paywall.onViewerRequest(request({ [WAF_VERIFIED_BOT_CATEGORY_HEADER]: 'search_engine' }));
    expect(free.kind === 'forward' && decodeHandoff(free.setHeaders[PENDING_SETTLEMENT_HEADER])).toEqual({ kind: 'free', routeIndex: 0, priceRule: 0, botCategory: 'search_engine' });
  });

  it('prices by the verified bot organization WAF forwards, with its category, and serves a free organization', async () => {
    const byOrganization = testEdgeConfig({
      routes: [{ pattern: '/articles/*', price: '$0.001', priceBy: [
        { price: 'free', when: [{ botOrganization: true, equalTo: 'google' }, { botCategory: true, equalTo: 'search_engine' }] },
        { price: '$0.003', when: [{ botOrganization: true, oneOf: ['google', 'microsoft'] }] },
      ] }],
    });
    const paywall = new Paywall(byOrganization, { facilitator: { verify: async () => ({ isValid: true }), settle: async () => ({ success: true, transaction: '0x', network: 'eip155:84532' }) }, receipts: new MemoryReceipts(), clock: Date.now, log: () => undefined }, new ExactEvmPrecheck(byOrganization));
    expect(await amountFor(paywall, { [WAF_VERIFIED_BOT_ORGANIZATION_HEADER]: 'microsoft' })).toBe('3000');
    expect(await amountFor(paywall, { [WAF_VERIFIED_BOT_ORGANIZATION_HEADER]: 'google', [WAF_VERIFIED_BOT_CATEGORY_HEADER]: 'ai' })).toBe('3000');
    expect(await amountFor(paywall, { [WAF_VERIFIED_BOT_ORGANIZATION_HEADER]: 'none' })).toBe('1000');
    expect(await amountFor(paywall, { [WAF_VERIFIED_BOT_ORGANIZATION_HEADER]: 'openai' })).toBe('1000');
    const free = await paywall.onViewerRequest(request({ [WAF_VERIFIED_BOT_ORGANIZATION_HEADER]: 'google', [WAF_VERIFIED_BOT_CATEGORY_HEADER]: 'search_engine' }));
    expect(free.kind === 'forward' && decodeHandoff(free.setHeaders[PENDING_SETTLEMENT_HEADER])).toEqual({ kind: 'free', routeIndex: 0, priceRule: 0, botCategory: 'search_engine', botOrganization: 'google' });
  });

  const BY_BOT: EdgeConfig['routes'] = [{ pattern: '/articles/*', price: '$0.001', priceBy: [
    { price: '$0.002', when: [{ botCategory: true, equalTo: 'ai' }] },
    { price: '$0.003', when: [{ botOrganization: true, equalTo: 'openai' }] },
  ] }];
  const verifiedAiBot = async () => ({ [WAF_VERIFIED_BOT_CATEGORY_HEADER]: 'ai', [WAF_VERIFIED_BOT_ORGANIZATION_HEADER]: 'openai' });

  it('records the verified bot category and organization WAF forwards on the receipt, in the hand-off and in the fallback record', async () => {
    const h = harness(AGENTS, undefined, BY_BOT);
    const { receipt, handoff } = await pay(h, verifiedAiBot);
    expect(receipt).toMatchObject({ amount: '2000', botCategory: 'ai', botOrganization: 'openai' });
    expect(receipt.agent).toBeUndefined();
    expect(handoff).toMatchObject({ kind: 'settle', priceRule: 0, botCategory: 'ai', botOrganization: 'openai' });
    // The settlement's receipt write fails every attempt: the log keeps the complete record.
    h.receipts.markSettled = () => Promise.reject(new Error('DynamoDB unreachable'));
    const outcome = await h.wall.onOriginResponse({ method: 'GET', uri: URL_PATH, handoff: encodeHandoff(handoff) }, 200);
    expect(outcome.kind).toBe('release');
    expect(h.lines.find((line) => line.event === 'x402.receipt_fallback')).toMatchObject({ status: 'settled', botCategory: 'ai', botOrganization: 'openai' });
  });

  it('records a verified bot next to the agent WAF verified', async () => {
    const h = harness(AGENTS, undefined, BY_BOT);
    const { receipt } = await pay(h, async () => ({ ...(await verifiedAiBot()), [WAF_AGENT_HEADER]: 'example-agent' }));
    expect(receipt).toMatchObject({ agent: 'example-agent', agentVerifiedBy: 'waf', botCategory: 'ai', botOrganization: 'openai' });
  });

  it('never reads a verified-bot header no price condition names: no WAF rule of ours overwrites a forged one', async () => {
    const h = harness(AGENTS, undefined, [{ pattern: '/articles/*', price: '$0.001', priceBy: [{ price: '$0.002', when: [{ botCategory: true, equalTo: 'ai' }] }] }]);
    const { receipt, handoff } = await pay(h, verifiedAiBot);
    expect([receipt.botCategory, receipt.botOrganization, handoff.botOrganization]).toEqual(['ai', undefined, undefined]);
  });

  it('decodes a hand-off with a verified bot, and refuses one whose bot names no Bot Control label', () => {
    const handoff = { kind: 'free', routeIndex: 0, botCategory: 'ai', botOrganization: 'example.org' } as const;
    expect(decodeHandoff(encodeHandoff(handoff))).toEqual(handoff);
    expect(decodeHandoff(encodeHandoff({ ...handoff, botCategory: 'AI Bots' }))).toBeUndefined();
    expect(decodeHandoff(encodeHandoff({ ...handoff, botOrganization: 7 } as never))).toBeUndefined();
  });

  it("records WAF's `none` and a value no rule of ours inserts as no bot", async () => {
    const none = await pay(harness(AGENTS, undefined, BY_BOT), async () => ({ [WAF_VERIFIED_BOT_CATEGORY_HEADER]: 'none', [WAF_VERIFIED_BOT_ORGANIZATION_HEADER]: 'Not A Label' }));
    expect([none.receipt.amount, none.receipt.botCategory, none.receipt.botOrganization]).toEqual(['1000', undefined, undefined]);
  });

  it('records the rule that priced a verified agent on its receipt', async () => {
    const { paywall, receipts } = wall();
    const { receipt, handoff } = await pay({ ...harness(), wall: paywall, receipts }, signed());
    expect([receipt.amount, receipt.tier, receipt.agent, handoff.priceRule]).toEqual(['500', 'agent-rate', 'example-agent', 2]);
  });
});
