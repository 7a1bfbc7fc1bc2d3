/**
 * `npm run build:jsii`: compiles lib/ (and the lambda modules it imports) with jsii against the
 * lowest aws-cdk-lib and constructs of the peer range, as jsii asks (JSII6), so the published
 * declarations are proven to type-check there. The repository itself develops against newer
 * versions; the lowest ones are its devDependency aliases `aws-cdk-lib-lowest` and
 * `constructs-lowest`. The compile runs in a staging copy whose package.json and node_modules name
 * those copies; its dist/lib, dist/lambda and .jsii are then moved into the repository.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..');
const STAGE = path.join(ROOT, 'dist', 'jsii-stage');
/** Peer → the devDependency alias holding its lowest version. */
const LOWEST = { 'aws-cdk-lib': 'aws-cdk-lib-lowest', constructs: 'constructs-lowest' } as const;
const SOURCES = ['lib', 'lambda', 'README.md', 'LICENSE'];
const OUTPUTS = ['dist/lib', 'dist/lambda', '.jsii'];

function main(): void {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  for (const output of OUTPUTS) rmSync(path.join(ROOT, output), { recursive: true, force: true });
  rmSync(STAGE, { recursive: true, force: true });
  mkdirSync(path.join(STAGE, 'node_modules'), { recursive: true });
  for (const source of SOURCES) cpSync(path.join(ROOT, source), path.join(STAGE, source), { recursive: true });

  const devDependencies = { ...pkg.devDependencies };
  for (const [peer, alias] of Object.entries(LOWEST)) {
    const lowest = String(pkg.peerDependencies[peer]).replace(/^\^/, '');
    const installed = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', alias, 'package.json'), 'utf8')).version;
    if (installed !== lowest) {
      throw new Error(`build-jsii: the peer range of ${peer} starts at ${lowest}, but the devDependency ${alias} is ${installed}: make them agree (package.json)`);
    }
    devDependencies[peer] = lowest;
  }
  writeFileSync(path.join(STAGE, 'package.json'), JSON.stringify({ ...pkg, devDependencies }, null, 2));

  // Every package is linked, but aws-cdk-lib is a hard-linked copy: inside the stage, its own
  // `constructs` import resolves to the stage's (the lowest), as a consumer's would.
  for (const entry of readdirSync(path.join(ROOT, 'node_modules'))) {
    if (entry in LOWEST || entry.startsWith('.')) continue;
    const target = path.join(STAGE, 'node_modules', entry === LOWEST['aws-cdk-lib'] ? 'aws-cdk-lib' : entry === LOWEST.constructs ? 'constructs' : entry);
    if (entry === LOWEST['aws-cdk-lib']) execFileSync('cp', ['-al', path.join(ROOT, 'node_modules', entry), target]);
    else symlinkSync(path.join(ROOT, 'node_modules', entry), target);
  }

  execFileSync(path.join(ROOT, 'node_modules', '.bin', 'jsii'), ['--fail-on-warnings', '--generate-tsconfig', 'tsconfig.jsii.json'], {
    cwd: STAGE,
    stdio: 'inherit',
    env: { ...process.env, JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION: '20' },
  });
  for (const output of OUTPUTS) renameSync(path.join(STAGE, output), path.join(ROOT, output));
  rmSync(STAGE, { recursive: true, force: true });
}

main();
