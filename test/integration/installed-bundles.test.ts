/**
 * The prebuilt bundles found from an installed, compiled cdk-x402 (lib/ compiled to
 * <package>/dist/lib/*.js, as the jsii build lays it out), run by plain Node in an app that is not
 * the repository.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { transformSync } from 'esbuild';
import { bundleFile } from '../../lib/prebuilt-bundle';

const ROOT = path.join(__dirname, '..', '..');
const SOURCES = ['lib/prebuilt-bundle.ts', 'lib/package-root.ts', 'lambda/edge/baked-config.ts'];

let app: string;
let installed: string;
beforeAll(() => {
  app = mkdtempSync(path.join(tmpdir(), 'cdk-x402-consumer-'));
  writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer-app', private: true }));
  installed = path.join(app, 'node_modules', 'cdk-x402');
  mkdirSync(installed, { recursive: true });
  copyFileSync(path.join(ROOT, 'package.json'), path.join(installed, 'package.json'));
  for (const source of SOURCES) {
    const target = path.join(installed, 'dist', source.replace(/\.ts$/, '.js'));
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, transformSync(readFileSync(path.join(ROOT, source), 'utf8'), { loader: 'ts', format: 'cjs', platform: 'node' }).code);
  }
});
afterAll(() => rmSync(app, { recursive: true, force: true }));

/** Runs a script in the consumer app with plain Node: no tsx, no repository on the way. */
function inApp(script: string) {
  return spawnSync(process.execPath, ['-e', script], { cwd: app, encoding: 'utf8', timeout: 30_000, env: { ...process.env, NODE_OPTIONS: '', NODE_PATH: '' } });
}

const READ = "const b = require('./node_modules/cdk-x402/dist/lib/prebuilt-bundle.js'); const code = b.readPrebuiltBundle('viewer-request'); console.log(JSON.stringify({ file: b.bundleFile('viewer-request'), bytes: code.length, placeholders: code.toString().split(b.PLACEHOLDER_LITERAL.toString()).length - 1 }));";

it('finds the bundles of the installed package from its compiled lib/, at any depth below its package.json', () => {
  mkdirSync(path.join(installed, 'dist', 'bundles', 'viewer-request'), { recursive: true });
  copyFileSync(bundleFile('viewer-request'), path.join(installed, 'dist', 'bundles', 'viewer-request', 'index.js'));
  const result = inApp(READ);
  expect(result.stderr).toBe('');
  expect(JSON.parse(result.stdout)).toEqual({
    file: path.join(installed, 'dist', 'bundles', 'viewer-request', 'index.js'),
    bytes: statSync(bundleFile('viewer-request')).size,
    placeholders: 1,
  });
});

it('names the missing bundle and the fix when the package has none', () => {
  rmSync(path.join(installed, 'dist', 'bundles'), { recursive: true, force: true });
  const result = inApp(READ);
  expect(result.status).toBe(1);
  expect(result.stderr).toContain(
    `cdk-x402: the prebuilt viewer-request bundle is missing (${path.join(installed, 'dist', 'bundles', 'viewer-request', 'index.js')}). ` +
      'In the cdk-x402 repository, run `npm run build:bundles`; an installed cdk-x402 package ships it, so reinstall the package.',
  );
});
