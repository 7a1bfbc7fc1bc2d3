/** The `cdk-x402` executable as a user runs it: package.json "bin" → bin/cdk-x402.js → tsx → bin/cdk-x402.ts. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

function run(command: string, args: string[]) {
  const result = spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, NO_COLOR: '1' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the cdk-x402 executable', () => {
  it('is package.json\'s "bin" entry', () => {
    expect(JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).bin).toEqual({ 'cdk-x402': 'bin/cdk-x402.js' });
  });

  it('answers `npx cdk-x402 --help` with the commands', () => {
    const help = run('npx', ['--no-install', 'cdk-x402', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: cdk-x402 [options] [command]');
    for (const command of ['report', 'toggle', 'status']) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  });

  it('exits with the CLI\'s exit code (2 for a bad command line)', () => {
    const bad = run(process.execPath, [path.join(ROOT, 'bin', 'cdk-x402.js'), 'toggle', 'maybe']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("Allowed choices are on, off");
    const version = run(process.execPath, [path.join(ROOT, 'bin', 'cdk-x402.js'), '--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version}\n` });
  });
});
