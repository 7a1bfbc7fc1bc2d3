/** `npm run build:bundles`: deterministic, and rebuilt whenever one of its inputs changes. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { bundleFile, type BundleName } from '../../lib/prebuilt-bundle';
import { BUNDLES, buildBundle, ensureBundles, type BuiltBundle } from '../../scripts/build-bundles';

const ROOT = path.join(__dirname, '..', '..');
const NAMES = Object.keys(BUNDLES) as BundleName[];

const built = new Map<BundleName, BuiltBundle>();
beforeAll(() => {
  for (const name of NAMES) built.set(name, buildBundle(name));
}, 120_000);

it.each(NAMES)('builds %s to the same bytes as the build on disk (made by another process)', (name) => {
  expect(built.get(name)!.code.equals(readFileSync(bundleFile(name)))).toBe(true);
});

it('records every source file a bundle is built from, packages included, so changing any of them rebuilds', () => {
  const inputs = new Set(Object.keys((JSON.parse(readFileSync(path.join(ROOT, 'dist', 'bundles', 'manifest.json'), 'utf8')) as { inputs: Record<string, string> }).inputs));
  for (const name of NAMES) expect(built.get(name)!.inputs.filter((input) => !inputs.has(input))).toEqual([]);
  for (const input of ['lambda/edge/baked-config.ts', 'lambda/core/paywall.ts', 'cli/program.ts']) expect(inputs).toContain(input);
  expect([...inputs].some((input) => input.startsWith('node_modules/viem/'))).toBe(true);
  // The global setup built them if they were stale: nothing to do now.
  expect(ensureBundles()).toBe(false);
});
