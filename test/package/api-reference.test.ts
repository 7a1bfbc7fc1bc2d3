/**
 * The jsii build of the library (against the lowest aws-cdk-lib and constructs of the peer range,
 * scripts/build-jsii.ts), run on a copy of its sources: it must compile with no error and no
 * warning, and API.md must be what jsii-docgen makes of the assembly, so the checked-in reference
 * never goes stale.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');

describe('the jsii build', () => {
  let copy: string;
  let buildOutput: string;
  const run = (script: string) => execFileSync('npm', ['run', '--silent', script], { cwd: copy, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  beforeAll(() => {
    copy = mkdtempSync(path.join(os.tmpdir(), 'cdk-x402-jsii-'));
    for (const entry of ['lib', 'lambda', 'scripts', 'package.json', 'README.md', 'LICENSE']) cpSync(path.join(ROOT, entry), path.join(copy, entry), { recursive: true });
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
    buildOutput = run('build:jsii');
  }, 240_000);
  afterAll(() => rmSync(copy, { recursive: true, force: true }));

  it('compiles the library to JavaScript, declarations and a .jsii assembly with 0 errors and 0 warnings', () => {
    expect(buildOutput).toMatch(/Errors: 0 \| Warnings: 0/);
    const assembly = JSON.parse(readFileSync(path.join(copy, '.jsii'), 'utf8'));
    expect(Object.keys(assembly.types)).toContain('cdk-x402.X402Paywall');
    expect(require(path.join(copy, 'dist', 'lib', 'index.js')).X402Paywall).toBeDefined();
  });

  it('documents the assembly exactly as the checked-in API.md does (run npm run build && npm run docgen when this fails)', () => {
    run('docgen');
    expect(readFileSync(path.join(copy, 'API.md'), 'utf8')).toBe(readFileSync(path.join(ROOT, 'API.md'), 'utf8'));
  }, 60_000);
});
