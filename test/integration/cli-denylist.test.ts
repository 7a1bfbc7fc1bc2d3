/** `cdk-x402 denylist import`: the SDN CSV (or a plain list) → the file x402:deniedPayersFile names, which synth then bakes in. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ExitCode } from '../../cli/errors';
import { resolveX402Config } from '../../lib/config/resolve';
import { SETTINGS } from '../constructs/helpers';
import { cli } from '../support/cli';

const SDN_FIXTURE = path.join(__dirname, '..', 'fixtures', 'deny-list', 'sdn.csv');
const dir = () => mkdtempSync(path.join(tmpdir(), 'cdk-x402-denylist-'));

describe('cdk-x402 denylist import', () => {
  it('writes the EVM addresses of the SDN CSV to the file cdk.json names, reports the counts, and synth bakes exactly them', async () => {
    const app = dir();
    writeFileSync(path.join(app, 'cdk.json'), JSON.stringify({ app: 'npx ts-node bin/app.ts', context: { 'x402:deniedPayersFile': 'denied-payers.txt' } }));
    const run = await cli(['denylist', 'import', SDN_FIXTURE, '--context', path.join(app, 'cdk.json')]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(ExitCode.ok);
    const out = path.join(app, 'denied-payers.txt');
    expect(run.stdout).toContain(`Wrote ${out}: 3 payer addresses denied.`);
    expect(run.stdout).toContain('Left out 2 digital-currency addresses of chains without EVM addresses.');
    expect(run.stdout).toContain('Merged 1 repeated entries.');
    expect(readFileSync(out, 'utf8').split('\n').filter((line) => line.startsWith('0x'))).toEqual([
      '0xAAaA000000000000000000000000000000000001',
      '0xBbbb000000000000000000000000000000000002',
      '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
    ]);
    expect(resolveX402Config({ ...SETTINGS, deniedPayersFile: out }).deniedPayers).toEqual([
      '0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed',
      '0xaaaa000000000000000000000000000000000001',
      '0xbbbb000000000000000000000000000000000002',
    ]);
  });

  it('takes a plain list with --out and prints the counts as JSON', async () => {
    const source = path.join(dir(), 'list.txt');
    writeFileSync(source, '# our own\n0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed\n');
    const out = path.join(dir(), 'denied.txt');
    const run = await cli(['denylist', 'import', source, '--out', out, '--json']);
    expect(run.code).toBe(ExitCode.ok);
    expect(run.json()).toEqual({ source, format: 'plain', out, addresses: 1, otherCurrencies: 0, repeats: 1, invalid: [] });
  });

  it('refuses a file with entries that are not addresses and writes nothing, unless --skip-invalid', async () => {
    const source = path.join(dir(), 'list.txt');
    writeFileSync(source, '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\n0xnot-an-address\n');
    const out = path.join(dir(), 'denied.txt');
    const refused = await cli(['denylist', 'import', source, '--out', out]);
    expect(refused.code).toBe(ExitCode.usage);
    expect(refused.stderr).toContain('line 2: "0xnot-an-address" is not an EVM address');
    expect(refused.stderr).toContain('Fix: fix those lines, or pass --skip-invalid');
    expect(() => readFileSync(out)).toThrow(/ENOENT/);
    const skipped = await cli(['denylist', 'import', source, '--out', out, '--skip-invalid']);
    expect(skipped.code).toBe(ExitCode.ok);
    expect(skipped.stdout).toContain('Skipped 1 invalid entries');
  });

  it('asks for --out when cdk.json names no x402:deniedPayersFile', async () => {
    const app = dir();
    writeFileSync(path.join(app, 'cdk.json'), JSON.stringify({ context: {} }));
    const run = await cli(['denylist', 'import', SDN_FIXTURE, '--context', path.join(app, 'cdk.json')]);
    expect(run.code).toBe(ExitCode.usage);
    expect(run.stderr).toMatch(/sets no x402:deniedPayersFile[\s\S]*Fix: pass --out <file>/);
  });
});
