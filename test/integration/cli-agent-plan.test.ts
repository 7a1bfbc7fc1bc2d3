/**
 * `cdk-x402 agent plan` against the local edge (loopback only): it reads a covered route's 402,
 * prints per request vs the pass for the planned reads, and with --buy buys the pass with the
 * official x402 client; the token it prints opens the route.
 */
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { cli } from '../support/cli';

let stack: LocalStack;

beforeAll(async () => {
  // $0.001 per article, $0.05 for a day.
  stack = await startLocalStack({ passes: [{ name: 'day', price: '$0.05', duration: '24h', routes: ['/articles/*'] }] });
});
afterAll(() => stack?.close());

const transfers = async () => (await stack.chain.settledTransfers()).length;

it('prints per request as the cheaper way for few reads, and buys nothing even with --buy', async () => {
  const key = generatePrivateKey();
  const before = await transfers();
  const run = await cli(['agent', 'plan', '--url', `${stack.edge.url}/articles/one`, '--reads', '20', '--buy', '--key-env', 'AGENT_KEY'], { env: { AGENT_KEY: key } });
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('Cheapest: paying per request.');
  expect(run.stdout).toMatch(/\*\s+per request\s+20000\s+20/);
  expect(run.stdout).toMatch(/pass "day"\s+50000\s+1/);
  expect(run.stderr).toContain('no pass bought');
  expect(await transfers()).toBe(before);
});

it('plans as JSON, counting the day pass once per day of the period', async () => {
  const run = await cli(['agent', 'plan', '--url', `${stack.edge.url}/articles/one`, '--reads', '1000', '--period', '3d', '--json']);
  expect(run.code).toBe(0);
  expect(run.json().plan.options).toEqual([
    expect.objectContaining({ way: 'pass', pass: 'day', passes: 3, total: '150000', payments: 3 }),
    expect.objectContaining({ way: 'per-request', total: '1000000', payments: 1000 }),
  ]);
});

it('buys the pass when it is cheaper, with one transaction, and prints a token that opens the route', async () => {
  const key = generatePrivateKey();
  const payer = privateKeyToAccount(key);
  await stack.chain.mint(payer.address, 1_000_000n);
  const before = await transfers();
  const run = await cli(['agent', 'plan', '--url', `${stack.edge.url}/articles/one`, '--reads', '500', '--buy', '--key-env', 'AGENT_KEY', '--json'], { env: { AGENT_KEY: key } });
  expect(run.code).toBe(0);
  const { plan, bought } = run.json();
  expect(plan.best).toMatchObject({ way: 'pass', pass: 'day' });
  expect(bought).toMatchObject({ name: 'day', payer: payer.address.toLowerCase(), scope: ['/articles/*'] });
  expect(await transfers()).toBe(before + 1);
  expect(await stack.chain.usdcBalance(payer.address)).toBe(1_000_000n - 50_000n);
  const read = await fetch(`${stack.edge.url}/articles/with-the-bought-pass`, { headers: { authorization: `Bearer ${bought.pass}`, 'user-agent': 'GPTBot/1.0' } });
  expect(read.status).toBe(200);
});

it('refuses --buy without a usable key, and a URL that is not priced, with a fix', async () => {
  const noKey = await cli(['agent', 'plan', '--url', `${stack.edge.url}/articles/one`, '--reads', '5', '--buy']);
  expect(noKey.code).toBe(2);
  expect(noKey.stderr).toContain('--buy needs --key-env');
  const badKey = await cli(['agent', 'plan', '--url', `${stack.edge.url}/articles/one`, '--reads', '5', '--buy', '--key-env', 'AGENT_KEY'], { env: { AGENT_KEY: 'nope' } });
  expect(badKey.code).toBe(2);
  expect(badKey.stderr).toContain('not a 32-byte hex private key');
  const free = await cli(['agent', 'plan', '--url', `${stack.edge.url}/free/page`, '--reads', '5']);
  expect(free.code).toBe(2);
  expect(free.stderr).toContain('there is nothing to plan');
});
