/** The `cdk-x402` executable as a user runs it: package.json "bin" → bin/cdk-x402.js → the prebuilt bundle (dist/bundles/cli/), plain Node. */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { bundleFile } from '../../lib/prebuilt-bundle';

const ROOT = path.join(__dirname, '..', '..');
const VERSION = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;

function run(command: string, args: string[], cwd = ROOT) {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 30_000, env: { ...process.env, NO_COLOR: '1', NODE_OPTIONS: '', NODE_PATH: '' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The package as installed: package.json, the bin entry and, if built, the CLI bundle; no node_modules anywhere above it. */
function installedPackage(withBundle: boolean): { dir: string; bin: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'cdk-x402-installed-'));
  mkdirSync(path.join(dir, 'bin'));
  copyFileSync(path.join(ROOT, 'package.json'), path.join(dir, 'package.json'));
  copyFileSync(path.join(ROOT, 'bin', 'cdk-x402.js'), path.join(dir, 'bin', 'cdk-x402.js'));
  if (withBundle) {
    mkdirSync(path.join(dir, 'dist', 'bundles', 'cli'), { recursive: true });
    copyFileSync(bundleFile('cli'), path.join(dir, 'dist', 'bundles', 'cli', 'index.js'));
  }
  return { dir, bin: path.join(dir, 'bin', 'cdk-x402.js'), remove: () => rmSync(dir, { recursive: true, force: true }) };
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
    expect(run(process.execPath, [path.join(ROOT, 'bin', 'cdk-x402.js'), '--version'])).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
  });

  it('runs with plain Node from its bundle alone, no package installed beside it (commander and the AWS SDK inside)', () => {
    const installed = installedPackage(true);
    try {
      expect(run(process.execPath, [installed.bin, '--version'], installed.dir)).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
      const help = run(process.execPath, [installed.bin, 'report', '--help'], installed.dir);
      expect(help).toMatchObject({ code: 0, stderr: '' });
      expect(help.stdout).toContain('Usage: cdk-x402 report');
      // The AWS SDK client inside runs: DescribeStacks against a closed loopback port.
      const status = spawnSync(process.execPath, [installed.bin, 'status', '--stack', 'Nope', '--region', 'us-east-1'], {
        cwd: installed.dir,
        encoding: 'utf8',
        timeout: 30_000,
        env: { ...process.env, NODE_OPTIONS: '', NODE_PATH: '', AWS_ENDPOINT_URL: 'http://127.0.0.1:9' },
      });
      expect(status.stderr).toContain('cannot reach AWS for DescribeStacks on CloudFormation stack Nope (us-east-1): connect ECONNREFUSED 127.0.0.1:9');
      expect(status.status).toBe(3);
    } finally {
      installed.remove();
    }
  });

  it('says how to build it when the bundle is missing', () => {
    const installed = installedPackage(false);
    try {
      const result = run(process.execPath, [installed.bin, '--help'], installed.dir);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/^cdk-x402: the CLI is not built \(.*dist\/bundles\/cli\/index\.js is missing\)\. In the cdk-x402 repository, run `npm run build:bundles`/);
    } finally {
      installed.remove();
    }
  });

  it('stays under 2 MB with the AWS SDK clients and viem inside', () => {
    expect(statSync(bundleFile('cli')).size).toBeLessThan(2 * 1024 * 1024);
  });
});
