/** `cdk-x402 catalog` refusals: each names what is missing and how to give it. */
import { cli, PAY_TO } from '../support/cli';

const CONFIG = ['--context', '/nonexistent/cdk.json', '-c', `x402:payTo=${PAY_TO}`];

it('needs --host for the JSON the edge serves', async () => {
  const run = await cli(['catalog', ...CONFIG, '-c', 'x402:routes={"/a/*":"$0.001"}']);
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/--format json needs --host[\s\S]*Fix: add --host/);
});

it('refuses a host that is a URL', async () => {
  const run = await cli(['catalog', ...CONFIG, '-c', 'x402:routes={"/a/*":"$0.001"}', '--host', 'https://example.com/']);
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/is not a host name/);
});

it('refuses a configuration synth would refuse, with synth\'s message', async () => {
  const run = await cli(['catalog', '--context', '/nonexistent/cdk.json', '-c', 'x402:routes={"/a/*":"$0.001"}', '--format', 'table']);
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/x402:payTo = \(not set\): is required/);
});

it('refuses a -c that is not key=value, and a missing cdk.json without -c', async () => {
  expect((await cli(['catalog', ...CONFIG, '-c', 'x402:routes', '--format', 'table'])).stderr).toMatch(/is not key=value/);
  expect((await cli(['catalog', '--context', '/nonexistent/cdk.json', '--format', 'table'])).stderr).toMatch(/there is no \/nonexistent\/cdk.json/);
});

it('names --facilitator-address when the facilitator does not say what upto terms name', async () => {
  const run = await cli(['catalog', ...CONFIG, '-c', 'x402:facilitatorUrl=https://127.0.0.1:1', '-c', 'x402:routes={"/m/**":{"scheme":"upto","maxPrice":"$0.01"}}', '--host', 'example.com']);
  expect(run.code).toBe(1);
  expect(run.stderr).toMatch(/https:\/\/127\.0\.0\.1:1\/supported gave none[\s\S]*Fix: pass --facilitator-address/);
  const given = await cli(['catalog', ...CONFIG, '-c', 'x402:facilitatorUrl=https://127.0.0.1:1', '-c', 'x402:routes={"/m/**":{"scheme":"upto","maxPrice":"$0.01"}}', '--host', 'example.com', '--facilitator-address', '0x00000000000000000000000000000000000fac11']);
  expect(given.code).toBe(0);
  expect(JSON.parse(given.stdout).items[0].accepts[0].extra.facilitatorAddress).toBe('0x00000000000000000000000000000000000Fac11');
});

it("lists a batch-settlement route's deposit terms, with the pinned receiver authorizer and without the facilitator", async () => {
  const routes = ['-c', 'x402:routes={"/feed/**":{"scheme":"batch-settlement","price":"$0.001","minDeposit":"$0.05","withdrawDelay":3600}}', '-c', 'x402:facilitatorUrl=https://127.0.0.1:1'];
  const pinned = await cli(['catalog', ...CONFIG, ...routes, '-c', `x402:receiverAuthorizer=${PAY_TO}`, '--host', 'example.com']);
  expect(pinned.code).toBe(0);
  expect(JSON.parse(pinned.stdout).items[0].accepts[0].extra).toEqual({ name: 'USDC', version: '2', receiverAuthorizer: PAY_TO, withdrawDelay: 3600, minDeposit: '50000' });
  const unpinned = await cli(['catalog', ...CONFIG, ...routes, '--host', 'example.com']);
  expect(unpinned.code).toBe(0);
  expect(JSON.parse(unpinned.stdout).items[0].accepts[0].extra).toEqual({ name: 'USDC', version: '2', withdrawDelay: 3600, minDeposit: '50000' });
});
