/**
 * `npm run build:bundles`: every Lambda handler and the `cdk-x402` CLI, each built once by esbuild
 * into a self-contained bundle, dist/bundles/<name>/index.js (lib/prebuilt-bundle.ts reads them).
 * The package ships these; synth only injects the configuration into the edge bundles. This file
 * is the one home of the bundles' entries and build settings. Same sources, same bytes.
 *
 * `--if-stale` builds only when a bundle is missing or a source, a setting or the lock file
 * changed since the last build: what the test setup, the local edge and the reference app run, so
 * they never use bundles older than the tree (and start in milliseconds when nothing changed).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { BuildOptions } from 'esbuild';
import { packageRoot } from '../lib/package-root';
import { builtBundleOf, bundleFile, EDGE_BUNDLES, PLACEHOLDER_LITERAL, zippedSize, type BuiltBundleName } from '../lib/prebuilt-bundle';

export type BundleSettings = Pick<BuildOptions, 'platform' | 'target' | 'format' | 'minify'> & { readonly external: readonly string[] };

/**
 * Lambda@Edge, for node22 (the runtime lib/edge-verifier.ts pins; move both together). The AWS
 * SDK v3 ships with the Lambda runtime and stays out of the bundle.
 */
export const EDGE_SETTINGS: BundleSettings = { platform: 'node', target: 'node22', format: 'cjs', minify: true, external: ['@aws-sdk/*'] };

/**
 * The regional Lambdas (nodejs24.x): everything bundled, the AWS SDK included, since the SDK of
 * the Lambda runtime may predate WAF's ListSettlementRecords: the pinned, tested WAF client goes in.
 * DynamoDB is a long-standing API: the runtime's client serves it (about 107 KB less to install).
 */
const REGIONAL_SETTINGS: BundleSettings = { platform: 'node', target: 'node24', format: 'cjs', minify: true, external: ['@aws-sdk/client-dynamodb'] };

/**
 * The regional Lambdas that call only long-standing AWS APIs (DynamoDB, Secrets Manager, CloudFront
 * distributions): they use the SDK v3 the nodejs24.x runtime ships, as the edge functions do, which
 * keeps about 1.2 MB of SDK out of the installed package.
 */
const REGIONAL_RUNTIME_SDK_SETTINGS: BundleSettings = { ...REGIONAL_SETTINGS, external: ['@aws-sdk/*'] };

/** The CLI runs on the user's Node (package.json "engines"), with every package it uses inside. */
const CLI_SETTINGS: BundleSettings = { platform: 'node', target: 'node20', format: 'cjs', minify: true, external: [] };

/** Each bundle's entry point (relative to the package root) and settings. */
export const BUNDLES: Readonly<Record<BuiltBundleName, { readonly entry: string; readonly settings: BundleSettings }>> = {
  'viewer-request': { entry: 'lambda/edge/viewer-request.ts', settings: EDGE_SETTINGS },
  // origin-request and origin-response: one bundle for both triggers.
  origin: { entry: 'lambda/edge/origin.ts', settings: EDGE_SETTINGS },
  'settlement-ingest': { entry: 'lambda/ingest/handler.ts', settings: REGIONAL_SETTINGS },
  'origin-rotation': { entry: 'lambda/origin/rotation-handler.ts', settings: REGIONAL_RUNTIME_SDK_SETTINGS },
  'batch-claims': { entry: 'lambda/batch-claims/handler.ts', settings: REGIONAL_RUNTIME_SDK_SETTINGS },
  cli: { entry: 'bin/cdk-x402.ts', settings: CLI_SETTINGS },
  // The package's "./client" export: payingFetch for agents in JavaScript, the x402 client inside.
  client: { entry: 'cli/paying-fetch.ts', settings: CLI_SETTINGS },
};

const ROOT = packageRoot();
const MANIFEST = path.join(ROOT, 'dist', 'bundles', 'manifest.json');

/** What a build depends on besides the bundles' own inputs: these settings, esbuild, the resolved packages. */
const BUILDER_FILES = ['scripts/build-bundles.ts', 'lib/prebuilt-bundle.ts', 'tsconfig.json', 'package-lock.json', 'node_modules/esbuild/package.json'];

interface Manifest {
  /** Hash of {@link BUILDER_FILES}. */
  readonly builder: string;
  /** Each bundle's sha256. */
  readonly bundles: Readonly<Record<string, string>>;
  /** Every source file a bundle was built from (relative to the package root), with its sha256. */
  readonly inputs: Readonly<Record<string, string>>;
}

export interface BuiltBundle {
  readonly code: Buffer;
  /** Every file it was built from, relative to the package root. */
  readonly inputs: readonly string[];
}

/** One entry built with the given settings (`define` only for test functions), in memory. */
export function bundleEntry(entry: string, settings: BundleSettings, define: Record<string, string> = {}): BuiltBundle {
  // Loaded only to build: a check that finds the bundles current needs no esbuild.
  const { buildSync } = require('esbuild') as typeof import('esbuild');
  const result = buildSync({
    ...settings,
    external: [...settings.external],
    entryPoints: [path.resolve(ROOT, entry)],
    absWorkingDir: ROOT,
    bundle: true,
    write: false,
    metafile: true,
    define,
    logLevel: 'silent',
  });
  return { code: Buffer.from(result.outputFiles[0].contents), inputs: Object.keys(result.metafile.inputs) };
}

/** Builds one bundle of {@link BUNDLES} and checks it: an edge bundle holds its configuration placeholder exactly once. */
export function buildBundle(name: BuiltBundleName): BuiltBundle {
  const { entry, settings } = BUNDLES[name];
  const built = bundleEntry(entry, settings);
  const placeholders = occurrences(built.code, PLACEHOLDER_LITERAL);
  if (EDGE_BUNDLES.map(builtBundleOf).includes(name) && placeholders !== 1) {
    throw new Error(`${name}: the bundle holds the configuration placeholder ${PLACEHOLDER_LITERAL} ${placeholders} times, not once (lambda/edge/baked-config.ts)`);
  }
  return built;
}

/** Builds every bundle into dist/bundles/ and records what they were built from. */
function buildBundles(): Record<BuiltBundleName, Buffer> {
  const names = Object.keys(BUNDLES) as BuiltBundleName[];
  const built = Object.fromEntries(names.map((name) => [name, buildBundle(name)])) as Record<BuiltBundleName, BuiltBundle>;
  const inputs = [...new Set(names.flatMap((name) => built[name].inputs))].sort();
  for (const name of names) writeAtomically(bundleFile(name), built[name].code);
  removeStaleBundles(names);
  const manifest: Manifest = {
    builder: builderHash(),
    bundles: Object.fromEntries(names.map((name) => [name, sha256(built[name].code)])),
    inputs: Object.fromEntries(inputs.map((input) => [input, sha256(readFileSync(path.join(ROOT, input)))])),
  };
  writeAtomically(MANIFEST, Buffer.from(`${JSON.stringify(manifest, null, 1)}\n`));
  return Object.fromEntries(names.map((name) => [name, built[name].code])) as Record<BuiltBundleName, Buffer>;
}

/** Builds the bundles unless they are current; true when it built them. */
export function ensureBundles(): boolean {
  if (bundlesAreCurrent()) return false;
  const started = Date.now();
  buildBundles();
  process.stderr.write(`cdk-x402: built the bundles in dist/bundles/ (missing, or their sources changed) in ${Date.now() - started} ms\n`);
  return true;
}

function bundlesAreCurrent(): boolean {
  try {
    const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as Manifest;
    if (manifest.builder !== builderHash()) return false;
    for (const name of Object.keys(BUNDLES) as BuiltBundleName[]) {
      if (manifest.bundles[name] !== sha256(readFileSync(bundleFile(name)))) return false;
    }
    return Object.entries(manifest.inputs).every(([input, hash]) => sha256(readFileSync(path.join(ROOT, input))) === hash);
  } catch {
    return false; // a manifest, bundle or input is missing
  }
}

function builderHash(): string {
  const hash = createHash('sha256');
  for (const file of BUILDER_FILES) hash.update(file).update(sha256(readFileSync(path.join(ROOT, file))));
  return hash.digest('hex');
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function occurrences(haystack: Buffer, needle: Buffer): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + 1)) count++;
  return count;
}

/** Other processes (a test run, the local edge) may build at the same time: write aside, then rename. */
/** The package ships every dist/bundles/<name>/index.js: a bundle no longer built (renamed or merged) must not linger there. */
function removeStaleBundles(names: readonly BuiltBundleName[]): void {
  const dir = path.dirname(MANIFEST);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && !(names as readonly string[]).includes(entry.name)) rmSync(path.join(dir, entry.name), { recursive: true, force: true });
  }
}

function writeAtomically(file: string, data: Buffer): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, data);
  renameSync(temp, file);
}

if (require.main === module) {
  const started = Date.now();
  if (process.argv.includes('--if-stale')) {
    ensureBundles();
  } else {
    const bundles = buildBundles();
    for (const [name, code] of Object.entries(bundles)) {
      console.log(`${`dist/bundles/${name}/index.js`.padEnd(38)} ${(code.length / 1024).toFixed(1).padStart(8)} KB ${(zippedSize(code) / 1024).toFixed(1).padStart(7)} KB zipped`);
    }
    console.log(`built in ${Date.now() - started} ms`);
  }
}
