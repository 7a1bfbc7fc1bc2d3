/**
 * The jsii build of the library (against the lowest aws-cdk-lib and constructs of the peer range,
 * scripts/build-jsii.ts), as `npm run build` makes it for the packed tarball the consumer tests
 * install (one build of the current sources for both): it must compile with no error and no
 * warning, and API.md must be what jsii-docgen makes of the assembly, so the checked-in reference
 * never goes stale.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packedBuild } from '../consumer/packed-package';

const ROOT = path.join(__dirname, '..', '..');

describe('the jsii build', () => {
  let unpacked: string;
  let packageDir: string;
  let buildOutput: string;
  beforeAll(() => {
    const build = packedBuild();
    buildOutput = build.buildOutput;
    unpacked = mkdtempSync(path.join(os.tmpdir(), 'cdk-x402-jsii-'));
    execFileSync('tar', ['-xzf', build.tarball, '-C', unpacked]);
    packageDir = path.join(unpacked, 'package');
    // Where the assembly's dependencies (aws-cdk-lib, constructs) resolve, for docgen and require.
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(packageDir, 'node_modules'), 'dir');
  }, 480_000);
  afterAll(() => rmSync(unpacked, { recursive: true, force: true }));

  it('compiles the library to JavaScript, declarations and a .jsii assembly with 0 errors and 0 warnings', () => {
    expect(buildOutput).toMatch(/Errors: 0 \| Warnings: 0/);
    const assembly = JSON.parse(readFileSync(path.join(packageDir, '.jsii'), 'utf8'));
    expect(Object.keys(assembly.types)).toContain('cdk-x402.X402Paywall');
    expect(require(path.join(packageDir, 'dist', 'lib', 'index.js')).X402Paywall).toBeDefined();
  });

  it('documents the assembly exactly as the checked-in API.md does (run npm run build && npm run docgen when this fails)', () => {
    // The tarball ships API.md: remove it so the comparison is with what docgen writes.
    rmSync(path.join(packageDir, 'API.md'));
    execFileSync('npm', ['run', '--silent', 'docgen'], { cwd: packageDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(readFileSync(path.join(packageDir, 'API.md'), 'utf8')).toBe(readFileSync(path.join(ROOT, 'API.md'), 'utf8'));
  }, 60_000);
});
