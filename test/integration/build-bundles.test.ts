/** `npm run build:bundles`: deterministic, and rebuilt whenever one of its inputs changes. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SECP256K1_WASM_BASE64 } from '../../lambda/core/secp256k1-wasm';
import { builtBundleOf, bundleFile, injectConfig, type BuiltBundleName } from '../../lib/prebuilt-bundle';
import { BUNDLES, buildBundle, ensureBundles, type BuiltBundle } from '../../scripts/build-bundles';
import { testEdgeConfig } from '../support/config';

const ROOT = path.join(__dirname, '..', '..');
const NAMES = Object.keys(BUNDLES) as BuiltBundleName[];

const built = new Map<BuiltBundleName, BuiltBundle>();
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

describe('libsecp256k1 (the WASM of the local signature check)', () => {
  const WASM_MARKER = SECP256K1_WASM_BASE64.slice(0, 200);

  it('is carried by viewer-request only: the origin-facing bundles hold neither its WASM nor the pre-check, and are smaller by at least its size', () => {
    const viewer = built.get('viewer-request')!.code;
    expect(viewer.toString('latin1').split(WASM_MARKER)).toHaveLength(2);
    {
      const name = 'origin';
      const code = built.get(name)!.code;
      expect(code.includes(WASM_MARKER)).toBe(false);
      expect(code.includes('WebAssembly')).toBe(false);
      expect(built.get(name)!.inputs).not.toContain('lambda/core/precheck.ts');
      expect(viewer.length - code.length).toBeGreaterThan(SECP256K1_WASM_BASE64.length);
    }
  });

  // Counted by Lambda's init phase and by bench/cold-start.ts, which times `require` of the bundle.
  it.each([
    ['viewer-request', 1],
    ['origin-response', 0],
  ] as const)('%s instantiates %i WASM module(s) while its module loads, synchronously', (name, instances) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cdk-x402-wasm-'));
    try {
      const file = path.join(dir, 'index.js');
      writeFileSync(file, injectConfig(name, built.get(builtBundleOf(name))!.code, testEdgeConfig()));
      const script =
        'let n = 0; const Instance = WebAssembly.Instance; WebAssembly.Instance = function (...a) { n++; return new Instance(...a); };' +
        'WebAssembly.instantiate = () => { throw new Error("asynchronous instantiation"); };' +
        'require(process.argv[1]); process.stdout.write(String(n));';
      const child = spawnSync(process.execPath, ['-e', script, file], { env: { ...process.env, NODE_PATH: path.join(ROOT, 'node_modules') }, encoding: 'utf8' });
      expect(child.stderr).not.toContain('Error');
      expect(child.stdout).toBe(String(instances));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
