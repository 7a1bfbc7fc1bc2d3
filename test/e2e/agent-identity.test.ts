/**
 * Web Bot Auth through the local edge: an agent signs its requests with its ed25519 key (the
 * official web-bot-auth package), its key directory is served on 127.0.0.1, and the deployed
 * viewer-request bundle verifies the signature against it. A verified agent is recorded on its
 * receipt; a forged or expired signature, or an unreachable directory, is an untrusted agent that
 * pays the same price like anyone and is recorded without an agent.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodePaymentRequiredHeader } from '@x402/core/http';
import { KEY_DIRECTORY_PATH } from '../../lambda/core/identity/directory-url';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { edgeFetch, expectReceiptsReconcile, paymentHeader } from '../support/edge-client';
import { signPayment } from '../support/payer';
import { forgerKey, newTestAgent, type SigningOptions, type TestAgent } from '../support/web-bot-auth-agent';

const ROUTES = [{ pattern: '/articles/*', price: '$0.001', description: 'One article', mimeType: 'text/html' }];
const logs: Record<string, unknown>[] = [];
let stack: LocalStack;
let directories: Server;
let agent: TestAgent;
/** An agent whose directory answers 500. */
let broken: TestAgent;
let directoryRequests = 0;

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
});

/** Asks for the terms and pays them, signing both requests as `signer` would; returns the paid response and its receipt. */
async function signedAndPaid(signer: TestAgent, path: string, options?: SigningOptions) {
  const url = `${stack.edge.url}${path}`;
  const offered = await edgeFetch(stack, path, await signer.sign('GET', url, options));
  expect(offered.status).toBe(402);
  const required = decodePaymentRequiredHeader(offered.headers.get('payment-required')!);
  const payer = await stack.chain.newFundedWallet(1_000_000n);
  const paid = await edgeFetch(stack, path, { ...(await signer.sign('GET', url, options)), ...paymentHeader(await signPayment(payer, required)) });
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

it('reconciles every receipt with the chain', async () => {
  expect((await expectReceiptsReconcile(stack)).settled).toBe(5);
});
