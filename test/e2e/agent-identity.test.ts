/**
 * Web Bot Auth through the local edge: an agent signs its requests with its ed25519 key (the
 * official web-bot-auth package), its key directory is served on 127.0.0.1, and the deployed
 * viewer-request bundle verifies the signature against it. A verified agent is recorded on its
 * receipt; a forged or expired signature, or an unreachable directory, is an untrusted agent that
 * pays the same price like anyone and is recorded without an agent. Price rules by who and why:
 * a verified agent pays its rule's price, a verified partner reads free, a refused agent gets 403
 * before any payment check, and a declared intent selects its price.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodePaymentRequiredHeader } from '@x402/core/http';
import { encodeHandoff, PENDING_SETTLEMENT_HEADER } from '../../lambda/core/handoff';
import { WAF_AGENT_HEADER } from '../../lambda/core/header-names';
import { KEY_DIRECTORY_PATH } from '../../lambda/core/identity/directory-url';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { edgeFetch, expectReceiptsReconcile, paymentHeader } from '../support/edge-client';
import { signPayment } from '../support/payer';
import { forgerKey, newTestAgent, type SigningOptions, type TestAgent } from '../support/web-bot-auth-agent';

const ROUTES = [
  { pattern: '/articles/*', price: '$0.001', description: 'One article', mimeType: 'text/html' },
  {
    pattern: '/reports/*',
    price: '$0.001',
    priceBy: [
      { price: 'refuse', when: [{ agent: true, equalTo: 'blocked-agent' }] },
      { price: 'free', when: [{ agent: true, equalTo: 'partner' }] },
      { price: '$0.0005', tier: 'agent-rate', when: [{ agent: true, equalTo: 'example-agent' }] },
      { price: '$0.003', tier: 'training', when: [{ intent: true, equalTo: 'training' }] },
    ],
  },
];
const logs: Record<string, unknown>[] = [];
let stack: LocalStack;
let directories: Server;
let agent: TestAgent;
/** An agent whose directory answers 500. */
let broken: TestAgent;
let directoryRequests = 0;
/** Agents whose directories each get their own server (their Signature-Agent is host:port). */
let partner: TestAgent;
let blocked: TestAgent;
const extraServers: Server[] = [];

/** Serves one agent's key directory on its own port; the agent is made for that origin. */
async function agentWithDirectory(): Promise<TestAgent> {
  let made: TestAgent | undefined;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(made!.directory()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  extraServers.push(server);
  made = newTestAgent(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return made;
}
const authority = (a: TestAgent) => new URL(a.origin).host;

beforeAll(async () => {
  directories = createServer((req, res) => {
    directoryRequests++;
    const owner = [agent, broken].find((a) => req.headers.host === new URL(a.origin).host && req.url === KEY_DIRECTORY_PATH);
    if (owner === agent) {
      res.writeHead(200, { 'content-type': 'application/http-message-signatures-directory+json', 'cache-control': 'max-age=3600' });
      res.end(JSON.stringify(agent.directory()));
    } else {
      res.writeHead(500).end();
    }
  });
  await new Promise<void>((resolve) => directories.listen(0, '127.0.0.1', resolve));
  const { port } = directories.address() as AddressInfo;
  // Two agents on one directory server, told apart by the Host header (localhost vs 127.0.0.1).
  agent = newTestAgent(`http://127.0.0.1:${port}`);
  broken = newTestAgent(`http://localhost:${port}`);
  partner = await agentWithDirectory();
  blocked = await agentWithDirectory();
  stack = await startLocalStack({
    routes: ROUTES,
    log: (line) => logs.push(line),
    // A deploy lists https agents only; the local edge is allowed its loopback directories.
    configure: (config) => ({
      ...config,
      agents: {
        trusted: [
          { name: 'example-agent', signatureAgent: `127.0.0.1:${port}` },
          { name: 'broken-agent', signatureAgent: `localhost:${port}` },
          { name: 'partner', signatureAgent: authority(partner) },
          { name: 'blocked-agent', signatureAgent: authority(blocked) },
        ],
        unknownAgents: 'ignore',
        allowLoopbackDirectories: true,
      },
    }),
  });
}, 120_000);
afterAll(async () => {
  await stack?.close();
  await new Promise((resolve) => directories?.close(resolve));
  await Promise.all(extraServers.map((server) => new Promise((resolve) => server.close(resolve))));
});

/** Asks for the terms and pays them, signing both requests as `signer` would; returns the paid response and its receipt. */
async function signedAndPaid(signer: TestAgent | undefined, path: string, options?: SigningOptions, extra: Record<string, string> = {}) {
  const url = `${stack.edge.url}${path}`;
  const signature = async () => ({ ...(signer ? await signer.sign('GET', url, options) : {}), ...extra });
  const offered = await edgeFetch(stack, path, await signature());
  expect(offered.status).toBe(402);
  const required = decodePaymentRequiredHeader(offered.headers.get('payment-required')!);
  const payer = await stack.chain.newFundedWallet(1_000_000n);
  const paid = await edgeFetch(stack, path, { ...(await signature()), ...paymentHeader(await signPayment(payer, required)) });
  const rows = (await stack.receipts()).filter((r) => r.resource.endsWith(path));
  expect(rows).toHaveLength(1);
  return { paid, required, receipt: rows[0] };
}

const refusals = () => logs.filter((l) => l.AgentSignaturesRefused === 1).map((l) => l.Reason);

it('records a verified Web Bot Auth agent on its receipt, fetching its directory at most once per container', async () => {
  const { paid, required, receipt } = await signedAndPaid(agent, '/articles/signed');
  expect(paid.status).toBe(200);
  expect(required.accepts[0].amount).toBe('1000');
  expect(receipt).toMatchObject({ status: 'settled', amount: '1000', agent: 'example-agent', agentVerifiedBy: 'web-bot-auth' });
  const { receipt: again } = await signedAndPaid(agent, '/articles/signed-again');
  expect(again.agent).toBe('example-agent');
  // Each Lambda container caches the directory: at most one fetch per container, never one per request.
  expect(directoryRequests).toBeLessThanOrEqual(2);
});

it('charges a forged signature the same price, recorded without an agent', async () => {
  const { paid, required, receipt } = await signedAndPaid(agent, '/articles/forged', { privateKey: forgerKey() });
  expect(paid.status).toBe(200);
  expect(required.accepts[0].amount).toBe('1000');
  expect(receipt.status).toBe('settled');
  expect(receipt.agent).toBeUndefined();
  expect(refusals()).toContain('bad_signature');
});

it('charges an expired signature the same price, recorded without an agent', async () => {
  const { paid, receipt } = await signedAndPaid(agent, '/articles/expired', { created: new Date(Date.now() - 600_000) });
  expect(paid.status).toBe(200);
  expect([receipt.status, receipt.agent]).toEqual(['settled', undefined]);
  expect(refusals()).toContain('expired');
});

it('answers the 402 and settles when the agent directory fails: untrusted, never a 5xx', async () => {
  const { paid, receipt } = await signedAndPaid(broken, '/articles/broken-directory');
  expect(paid.status).toBe(200);
  expect([receipt.status, receipt.agent]).toEqual(['settled', undefined]);
  expect(refusals()).toContain('directory_unavailable');
});

it('gives no content for a valid signature without a payment', async () => {
  const response = await edgeFetch(stack, '/articles/unpaid', await agent.sign('GET', `${stack.edge.url}/articles/unpaid`));
  expect(response.status).toBe(402);
});

describe('prices by who and why', () => {
  beforeAll(() => {
    for (const path of ['/reports/agent-rate', '/reports/agent-rate-forged', '/reports/partner', '/reports/blocked', '/reports/for-training']) {
      stack.origin.setBehavior(path, { status: 200, body: JSON.stringify({ report: path }), headers: { 'content-type': 'application/json' } });
    }
  });

  it("charges a verified agent its rule's price and records the rule; forged, it pays the route price", async () => {
    const { paid, required, receipt } = await signedAndPaid(agent, '/reports/agent-rate');
    expect([paid.status, required.accepts[0].amount]).toEqual([200, '500']);
    expect(receipt).toMatchObject({ status: 'settled', amount: '500', tier: 'agent-rate', agent: 'example-agent' });
    const forged = await signedAndPaid(agent, '/reports/agent-rate-forged', { privateKey: forgerKey() });
    expect(forged.receipt).toMatchObject({ status: 'settled', amount: '1000' });
    expect(forged.receipt.agent).toBeUndefined();
  });

  it('serves a verified partner free, and asks a forged or expired partner signature to pay', async () => {
    const url = `${stack.edge.url}/reports/partner`;
    const free = await edgeFetch(stack, '/reports/partner', await partner.sign('GET', url));
    expect(free.status).toBe(200);
    expect(free.headers.get('payment-response')).toBeNull();
    expect((await edgeFetch(stack, '/reports/partner', await partner.sign('GET', url, { privateKey: forgerKey() }))).status).toBe(402);
    expect((await edgeFetch(stack, '/reports/partner', await partner.sign('GET', url, { created: new Date(Date.now() - 600_000) }))).status).toBe(402);
    expect((await stack.receipts()).filter((r) => r.resource.endsWith('/reports/partner'))).toEqual([]);
  });

  it('refuses a refused agent with 403 and a reason, before any payment check: the facilitator is never called', async () => {
    const before = { ...stack.facilitator.calls };
    const url = `${stack.edge.url}/reports/blocked`;
    const refused = await edgeFetch(stack, '/reports/blocked', await blocked.sign('GET', url));
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ error: 'agent_refused' });
    // With a payment signed for the route's price too: refused, nothing verified, settled or recorded.
    const terms = decodePaymentRequiredHeader((await edgeFetch(stack, '/reports/blocked')).headers.get('payment-required')!);
    const payer = await stack.chain.newFundedWallet(1_000_000n);
    const paying = await edgeFetch(stack, '/reports/blocked', { ...(await blocked.sign('GET', url)), ...paymentHeader(await signPayment(payer, terms)) });
    expect(paying.status).toBe(403);
    expect(stack.facilitator.calls).toEqual(before);
    expect((await stack.receipts()).filter((r) => r.resource.endsWith('/reports/blocked'))).toEqual([]);
  });

  it('prices a declared intent by its rule, the same on the 402 and the paid retry', async () => {
    const { paid, required, receipt } = await signedAndPaid(undefined, '/reports/for-training', undefined, { 'x402-intent': 'training' });
    expect([paid.status, required.accepts[0].amount]).toEqual([200, '3000']);
    expect(receipt).toMatchObject({ status: 'settled', amount: '3000', tier: 'training' });
  });
});

describe('hostile identities never get content free', () => {
  it("blocks a client-sent WAF agent header claiming the partner (WAF's anti-spoofing rule)", async () => {
    const response = await edgeFetch(stack, '/reports/partner', { [WAF_AGENT_HEADER]: 'partner' });
    expect(response.status).toBe(403);
    expect(await response.text()).not.toContain('/reports/partner');
  });

  it("ignores a client-sent hand-off that says free for the partner: stripped, the request pays", async () => {
    const forged = encodeHandoff({ kind: 'free', routeIndex: 1, priceRule: 1, agent: 'partner' });
    expect((await edgeFetch(stack, '/reports/partner', { [PENDING_SETTLEMENT_HEADER]: forged })).status).toBe(402);
  });

  it('answers 402, never 5xx, to a Signature-Agent naming a private host, garbage, or an oversized value', async () => {
    const url = `${stack.edge.url}/reports/partner`;
    const signedHeaders = await partner.sign('GET', url);
    for (const signatureAgent of ['"https://10.0.0.1"', '"http://169.254.169.254"', 'not a url at all', `"https://${'a'.repeat(3000)}.example.com"`]) {
      const response = await edgeFetch(stack, '/reports/partner', { ...signedHeaders, 'signature-agent': signatureAgent });
      expect(response.status).toBe(402);
    }
    expect((await edgeFetch(stack, '/reports/partner', { signature: 'sig1=:AAAA:', 'signature-input': 'garbage', 'signature-agent': `"${partner.origin}"` })).status).toBe(402);
  });

  it("does not carry one agent's verification to another URL (the signature covers @authority)", async () => {
    const elsewhere = await partner.sign('GET', 'https://other.example.com/reports/partner');
    expect((await edgeFetch(stack, '/reports/partner', elsewhere)).status).toBe(402);
  });
});

it('reconciles every receipt with the chain', async () => {
  expect((await expectReceiptsReconcile(stack)).settled).toBe(8);
});
