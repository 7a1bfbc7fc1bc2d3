/**
 * `cdk-x402 pay` against the local edge (loopback only): it pays a priced route's 402 with the
 * official x402 client within its spending policy, and refuses, before signing, terms over --max,
 * over the day's --budget (its ledger file) or on a network it was not given; --dry-run signs nothing.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { LOCAL_NETWORK } from '../../local/chain';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { cli } from '../support/cli';

let stack: LocalStack;
let ledgerDir: string;
/** The day the CLI's clock (test/support/cli.ts) is on. */
const DAY = '2026-11-21';

beforeAll(async () => {
  stack = await startLocalStack(); // $0.001 per article
  ledgerDir = mkdtempSync(path.join(os.tmpdir(), 'cdk-x402-pay-'));
});
afterAll(() => stack?.close());

const article = (name: string) => `${stack.edge.url}/articles/${name}`;
const freshLedger = (name: string) => path.join(ledgerDir, `${name}.json`);
const transfers = async () => (await stack.chain.settledTransfers()).length;
const settlements = () => stack.facilitator.calls.settle;
const signatures = () => stack.facilitator.calls.verify;

async function fundedKey(): Promise<{ key: `0x${string}`; address: `0x${string}` }> {
  const key = generatePrivateKey();
  const { address } = privateKeyToAccount(key);
  await stack.chain.mint(address, 1_000_000n);
  return { key, address };
}

it('pays within the policy: the content, a settled receipt, one on-chain transfer, and the ledger counts it', async () => {
  const { key, address } = await fundedKey();
  const ledger = freshLedger('within');
  const before = await transfers();
  const run = await cli(['pay', article('paid-within'), '--key-env', 'AGENT_KEY', '--ledger', ledger, '--network', LOCAL_NETWORK, '--json'], { env: { AGENT_KEY: key } });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const result = run.json();
  expect(result).toMatchObject({ status: 200, dryRun: false, settlement: { success: true, network: LOCAL_NETWORK } });
  expect(result.body).toContain('paid-within');
  expect(await transfers()).toBe(before + 1);
  expect(await stack.chain.usdcBalance(address)).toBe(1_000_000n - 1000n);
  const receipt = (await stack.receipts()).find((r) => r.txHash === result.settlement.transaction);
  expect(receipt).toMatchObject({ status: 'settled', payer: address });
  expect(JSON.parse(readFileSync(ledger, 'utf8'))).toEqual({ [DAY]: '1000' });
});

it('reads the key from --key-file, prints the content and the settlement', async () => {
  const { key } = await fundedKey();
  const keyFile = path.join(ledgerDir, 'agent.key');
  writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
  const run = await cli(['pay', article('with-key-file'), '--key-file', keyFile, '--ledger', freshLedger('key-file')]);
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('with-key-file');
  expect(run.stderr).toMatch(/^Paid: .* answered 200; settled on eip155:84532 by 0x[0-9a-fA-F]{40}, transaction 0x[0-9a-f]{64}\.\n$/);
});

it('refuses terms over --max before signing: exit 4, nothing verified, settled or counted', async () => {
  const { key, address } = await fundedKey();
  const ledger = freshLedger('over-max');
  const [verifiesBefore, settlesBefore, transfersBefore] = [signatures(), settlements(), await transfers()];
  const run = await cli(['pay', article('too-dear'), '--key-env', 'AGENT_KEY', '--ledger', ledger, '--max', '0.0005'], { env: { AGENT_KEY: key } });
  expect(run.code).toBe(4);
  expect(run.stderr).toContain('refused to pay');
  expect(run.stderr).toContain('nothing signed');
  expect(run.stderr).toContain('over the per-request maximum of 0.0005 USDC (--max)');
  expect(run.stdout).toBe('');
  expect([signatures(), settlements(), await transfers()]).toEqual([verifiesBefore, settlesBefore, transfersBefore]);
  expect(await stack.chain.usdcBalance(address)).toBe(1_000_000n);
  expect(() => readFileSync(ledger)).toThrow(/ENOENT/);
});

it('refuses once the day\'s budget is spent (ledger), and pays again the next UTC day', async () => {
  const { key } = await fundedKey();
  const ledger = freshLedger('budget');
  writeFileSync(ledger, JSON.stringify({ [DAY]: '1500' }));
  const payWithBudget = (name: string, now?: number) => cli(['pay', article(name), '--key-env', 'AGENT_KEY', '--ledger', ledger, '--budget', '0.0025'], { env: { AGENT_KEY: key }, now });

  expect((await payWithBudget('first')).code).toBe(0); // 1500 + 1000 = the budget, not over it
  const settlesBefore = settlements();
  const transfersBefore = await transfers();
  const over = await payWithBudget('second');
  expect(over.code).toBe(4);
  expect(over.stderr).toContain(`0.0025 USDC spent on ${DAY} (UTC), 0.0025 USDC budget for the day (--budget)`);
  expect([settlements(), await transfers()]).toEqual([settlesBefore, transfersBefore]);
  expect(JSON.parse(readFileSync(ledger, 'utf8'))).toEqual({ [DAY]: '2500' });

  const nextDay = await payWithBudget('next-day', Date.parse('2026-11-22T00:00:01Z'));
  expect(nextDay.code).toBe(0);
  expect(JSON.parse(readFileSync(ledger, 'utf8'))).toEqual({ [DAY]: '2500', '2026-11-22': '1000' });
});

it('refuses terms on a network or asset it was not given', async () => {
  const { key } = await fundedKey();
  const network = await cli(['pay', article('other-network'), '--key-env', 'AGENT_KEY', '--ledger', freshLedger('network'), '--network', 'eip155:8453'], { env: { AGENT_KEY: key } });
  expect(network.code).toBe(4);
  expect(network.stderr).toContain(`network ${LOCAL_NETWORK} is not allowed (--network eip155:8453)`);
  const asset = await cli(['pay', article('other-asset'), '--key-env', 'AGENT_KEY', '--ledger', freshLedger('asset'), '--network', LOCAL_NETWORK, '--asset', '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913'], { env: { AGENT_KEY: key } });
  expect(asset.code).toBe(4);
  expect(asset.stderr).toContain(`asset ${stack.chain.usdc} is not allowed (--asset)`);
});

it('--dry-run prints the terms and the verdict, needs no key, and pays nothing', async () => {
  const [verifiesBefore, settlesBefore, transfersBefore] = [signatures(), settlements(), await transfers()];
  const ledger = freshLedger('dry-run');
  const run = await cli(['pay', article('just-looking'), '--dry-run', '--ledger', ledger]);
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('asks (dry run, nothing signed)');
  expect(run.stdout).toMatch(new RegExp(`exact\\s+${LOCAL_NETWORK}\\s+${stack.chain.usdc}\\s+0.001 USDC\\s+${stack.payTo}\\s+would pay`));
  const over = await cli(['pay', article('just-looking'), '--dry-run', '--ledger', ledger, '--max', '0.0001', '--json']);
  expect(over.code).toBe(4);
  expect(over.json().error.terms[0]).toMatchObject({ amount: '1000', refused: expect.stringContaining('(--max)') });
  expect([signatures(), settlements(), await transfers()]).toEqual([verifiesBefore, settlesBefore, transfersBefore]);
  expect(() => readFileSync(ledger)).toThrow(/ENOENT/);
});

it('refuses a command line without a key, or with an amount that is not USDC', async () => {
  const noKey = await cli(['pay', article('x'), '--ledger', freshLedger('usage')]);
  expect(noKey.code).toBe(2);
  expect(noKey.stderr).toContain('exactly one of --key-file or --key-env');
  const badMax = await cli(['pay', article('x'), '--dry-run', '--max', '0.0000001']);
  expect(badMax.code).toBe(2);
  expect(badMax.stderr).toContain('--max "0.0000001" is not a positive USDC amount');
});
