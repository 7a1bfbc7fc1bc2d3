/**
 * A payer on the deny-list (x402:deniedPayersFile, here the SDN fixture plus one local wallet) is
 * refused at the edge before the facilitator, the chain or the receipt table hear of it; everyone
 * else still pays.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { wrapFetchWithPayment } from '@x402/fetch';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { expectReceiptsReconcile } from '../support/edge-client';
import { officialClient } from '../support/payer';

const denied = privateKeyToAccount(generatePrivateKey());
const lines: unknown[] = [];
let stack: LocalStack;

beforeAll(async () => {
  const sdn = readFileSync(path.join(__dirname, '..', 'fixtures', 'deny-list', 'sdn.csv'), 'utf8');
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'cdk-x402-deny-e2e-')), 'sdn.csv');
  writeFileSync(file, `${sdn}36003,"LOCAL DENIED WALLET",-0- ,"CYBER2",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,"Digital Currency Address - ETH ${denied.address.toLowerCase()}."\n`);
  stack = await startLocalStack({ deniedPayersFile: file, log: (line) => lines.push(line) });
  await stack.chain.mint(denied.address, 1_000_000n);
});
afterAll(() => stack?.close());

const facilitatorCalls = () => stack.facilitator.calls.verify + stack.facilitator.calls.settle;

it('bakes the SDN file into the edge, lower case', () => {
  expect(stack.config.deniedPayers).toContain(denied.address.toLowerCase());
  expect(stack.config.deniedPayers).toContain('0xbbbb000000000000000000000000000000000002');
});

it('refuses a denied payer with 403 payer_denied: no facilitator call, no receipt, no transfer, no content', async () => {
  const before = { calls: facilitatorCalls(), ethCalls: stack.chain.rpcCalls('eth_call') + stack.chain.rpcCalls('eth_getCode') };
  const response = await wrapFetchWithPayment(fetch, officialClient(denied))(`${stack.edge.url}/articles/denied`);
  expect(response.status).toBe(403);
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(await response.json()).toMatchObject({ error: 'payer_denied' });
  expect(response.headers.get('payment-response')).toBeNull();
  expect(facilitatorCalls()).toBe(before.calls);
  expect(stack.chain.rpcCalls('eth_call') + stack.chain.rpcCalls('eth_getCode')).toBe(before.ethCalls);
  expect(stack.origin.requestsFor('/articles/denied')).toBe(0);
  expect(await stack.receipts()).toEqual([]);
  expect(await stack.chain.usdcBalance(denied.address)).toBe(1_000_000n);
  expect(lines).toContainEqual(expect.objectContaining({ PaymentsDenied: 1 }));
});

it('still takes the payment of a payer not on the list', async () => {
  const agent = await stack.chain.newFundedWallet(1_000_000n);
  const before = facilitatorCalls();
  const response = await wrapFetchWithPayment(fetch, officialClient(agent))(`${stack.edge.url}/articles/allowed`);
  expect(response.status).toBe(200);
  expect(facilitatorCalls() - before).toBe(2);
  expect(await stack.chain.usdcBalance(agent.address)).toBe(1_000_000n - 1000n);
  expect((await expectReceiptsReconcile(stack)).settled).toBe(1);
});
