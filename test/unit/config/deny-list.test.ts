/** Deny-lists at synth: the SDN and plain file formats, and the checks of x402:deniedPayers / x402:deniedPayersFile. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { denyListFileText, MAX_DENIED_PAYERS, parseDenyList } from '../../../lib/config/deny-list';
import { X402ConfigError } from '../../../lib/config/problems';
import { resolveX402Config, toEdgeConfig } from '../../../lib/config/resolve';
import { Engine, type X402Settings } from '../../../lib/config/settings';
import { PAY_TO, SETTINGS } from '../../constructs/helpers';

const SDN_FIXTURE = path.join(__dirname, '..', '..', 'fixtures', 'deny-list', 'sdn.csv');
const DENIED = '0xAaAa000000000000000000000000000000000001';
const CHECKSUMMED = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const TABLE = { tableName: 'x402-receipts', region: 'us-east-1' };

function problemsOf(settings: X402Settings): X402ConfigError['problems'] {
  try {
    resolveX402Config(settings);
  } catch (error) {
    if (error instanceof X402ConfigError) return error.problems;
    throw error;
  }
  throw new Error('the configuration was accepted');
}

function tempFile(text: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'cdk-x402-deny-')), 'denied-payers.txt');
  writeFileSync(file, text);
  return file;
}

describe('parseDenyList', () => {
  it('takes the EVM digital-currency addresses of the SDN CSV, whatever the token, once each, and counts the other chains', () => {
    const parsed = parseDenyList(readFileSync(SDN_FIXTURE, 'utf8'));
    expect(parsed).toEqual({
      format: 'sdn',
      addresses: ['0xAAaA000000000000000000000000000000000001', '0xBbbb000000000000000000000000000000000002', CHECKSUMMED],
      otherCurrencies: 2,
      repeats: 1,
      problems: [],
    });
  });

  it('reads a plain list: one address a line, # comments and blank lines ignored, bad lines reported by number', () => {
    const parsed = parseDenyList(`# denied\n${CHECKSUMMED}\n\n0xbbbb000000000000000000000000000000000002  # mixer\nnot-an-address\n0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD\n`);
    expect(parsed.format).toBe('plain');
    expect(parsed.addresses).toEqual([CHECKSUMMED, '0xBbbb000000000000000000000000000000000002']);
    expect(parsed.problems).toEqual([
      { line: 5, text: 'not-an-address', problem: expect.stringMatching(/not an EVM address/) },
      { line: 6, text: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD', problem: expect.stringMatching(/EIP-55 checksum/) },
    ]);
  });

  it('reads back the file it writes (the normalized file is a plain list)', () => {
    const { addresses } = parseDenyList(readFileSync(SDN_FIXTURE, 'utf8'));
    const written = denyListFileText(addresses, 'sdn.csv', new Date('2026-12-01T00:00:00Z'));
    expect(written).toMatch(/^# /);
    expect(parseDenyList(written)).toEqual({ format: 'plain', addresses, otherCurrencies: 0, repeats: 0, problems: [] });
  });
});

describe('x402:deniedPayers and x402:deniedPayersFile', () => {
  it('merge into the lower-case set baked into the edge config', () => {
    const config = resolveX402Config({ ...SETTINGS, deniedPayers: [DENIED.toLowerCase()], deniedPayersFile: SDN_FIXTURE });
    expect(config.deniedPayers).toEqual(['0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed', '0xaaaa000000000000000000000000000000000001', '0xbbbb000000000000000000000000000000000002']);
    expect(toEdgeConfig(config, TABLE).deniedPayers).toEqual(config.deniedPayers);
  });

  it('are absent from the edge config when not set', () => {
    expect(toEdgeConfig(resolveX402Config(SETTINGS), TABLE)).not.toHaveProperty('deniedPayers');
  });

  it('refuse an entry that is not an address, naming it and the fix', () => {
    expect(problemsOf({ ...SETTINGS, deniedPayers: ['0x1234'] })).toEqual([
      { key: 'x402:deniedPayers', value: '0x1234', problem: expect.stringMatching(/not an EVM address/), fix: expect.stringMatching(/0x followed by 40 hex digits/) },
    ]);
  });

  it('refuse a mistyped mixed-case address', () => {
    expect(problemsOf({ ...SETTINGS, deniedPayers: ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD'] })[0].problem).toMatch(/EIP-55 checksum/);
  });

  it('refuse denying payTo', () => {
    expect(problemsOf({ ...SETTINGS, deniedPayers: [PAY_TO.toLowerCase()] })).toEqual([expect.objectContaining({ key: 'x402:deniedPayers', problem: expect.stringMatching(/denies x402:payTo/) })]);
  });

  it('refuse a file that cannot be read, with the import command as the fix', () => {
    const [problem] = problemsOf({ ...SETTINGS, deniedPayersFile: 'no-such-file.txt' });
    expect(problem).toMatchObject({ key: 'x402:deniedPayersFile', problem: expect.stringMatching(/cannot be read \(ENOENT\)/), fix: expect.stringMatching(/cdk-x402 denylist import <sdn.csv> --out no-such-file.txt/) });
  });

  it('refuse a file line that is not an address, by its line number', () => {
    const file = tempFile(`${CHECKSUMMED}\n0xnot\n`);
    expect(problemsOf({ ...SETTINGS, deniedPayersFile: file })).toEqual([
      { key: 'x402:deniedPayersFile', value: '0xnot', problem: expect.stringMatching(/^line 2 is not an EVM address/), fix: expect.stringContaining(`line 2 of ${file}`) },
    ]);
  });

  it(`refuse more than ${MAX_DENIED_PAYERS} addresses (the viewer-request bundle carries them)`, () => {
    const many = Array.from({ length: MAX_DENIED_PAYERS + 1 }, (_, i) => `0x${(i + 1).toString(16).padStart(40, '0')}`);
    expect(problemsOf({ ...SETTINGS, deniedPayersFile: tempFile(many.join('\n')) })[0].problem).toMatch(/more than 2000 addresses/);
  });

  it('refuse the waf engine, which cannot refuse a payer by address', () => {
    const problems = problemsOf({ ...SETTINGS, engine: Engine.WAF, deniedPayers: [DENIED.toLowerCase()] });
    expect(problems.find((p) => p.key === 'x402:deniedPayers')).toMatchObject({ problem: expect.stringMatching(/needs the edge engine/), fix: expect.stringMatching(/x402:engine=edge/) });
  });
});
