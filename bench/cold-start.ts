/**
 * Bundle size and cold-start module init time of each side's request handler.
 *
 * Each side's handler twice: fully bundled (what ships to Lambda@Edge: ours is the prebuilt bundle
 * with the configuration injected) and with packages left in node_modules (how a server usually
 * runs), each built with the settings of the deployed edge bundles (scripts/build-bundles.ts). Init time is measured in a fresh `node` process per run:
 * from `require` of the file until the event loop has nothing left to do, i.e. evaluate every
 * module, build the handler/app and finish whatever work they started meanwhile, background
 * compilation included (viewer-request compiles and instantiates libsecp256k1's WASM and recovers
 * one known signature while it loads; V8 compiles that code path on the first call and optimizes
 * it on background threads: all of it counts), without any network (our handler contacts nothing
 * at init; the peer's facilitator sync is off).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import type { EdgeConfig } from '../lambda/core/config';
import { injectConfig, zippedSize } from '../lib/prebuilt-bundle';
import { edgeBundle } from '../local/bundle-edge';
import { BUNDLES, EDGE_SETTINGS } from '../scripts/build-bundles';
import { percentile } from './load-worker';

const REPO = path.join(__dirname, '..');
const PEER_ENTRY = path.join(__dirname, 'peer', 'express-cold-entry.ts');

export interface ColdStartResult {
  readonly zippedBytes: number;
  readonly bytes: number;
  /**
   * Median and spread of init times over fresh processes, in ms; `deferredMedian`: loading, after
   * init, what the handler loads only on its first paid request (the AWS SDK's DynamoDB client).
   */
  readonly initMs: { readonly median: number; readonly min: number; readonly max: number; readonly runs: number; readonly deferredMedian?: number };
}

async function bundle(entry: string, packagesExternal: boolean): Promise<Buffer> {
  const result = await build({
    ...EDGE_SETTINGS,
    external: [...EDGE_SETTINGS.external],
    ...(packagesExternal ? { packages: 'external' as const } : {}),
    entryPoints: [path.resolve(REPO, entry)],
    bundle: true,
    write: false,
    logLevel: 'silent',
  });
  return Buffer.from(result.outputFiles[0].contents);
}

function timeInit(file: string, runs: number, deferred: readonly string[]): ColdStartResult['initMs'] & { readonly deferredMedian?: number } {
  // 'beforeExit': the event loop is empty, so nothing the modules started at load is still pending.
  // Then the packages the handler loads only on its first paid request, timed on their own.
  const script =
    'const t0 = process.hrtime.bigint(); require(process.argv[1]); ' +
    "process.once('beforeExit', () => { const t1 = process.hrtime.bigint(); for (const m of JSON.parse(process.argv[2])) require(m); " +
    "process.stdout.write(JSON.stringify([Number(t1 - t0) / 1e6, Number(process.hrtime.bigint() - t1) / 1e6])); });";
  const times: number[] = [];
  const later: number[] = [];
  for (let i = 0; i < runs; i++) {
    const child = spawnSync(process.execPath, ['-e', script, file, JSON.stringify(deferred)], {
      cwd: REPO,
      // Bundles resolve the AWS SDK (provided by the Lambda runtime) and, unbundled, every package from the repo.
      env: { ...process.env, NODE_PATH: path.join(REPO, 'node_modules'), NODE_OPTIONS: '' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (child.status !== 0) throw new Error(`cold start of ${file} failed: ${child.stderr}`);
    const [init, deferredMs] = JSON.parse(child.stdout) as [number, number];
    times.push(init);
    later.push(deferredMs);
  }
  times.sort((a, b) => a - b);
  later.sort((a, b) => a - b);
  return { median: percentile(times, 50), min: times[0], max: times[times.length - 1], runs, ...(deferred.length > 0 ? { deferredMedian: percentile(later, 50) } : {}) };
}

/** What our viewer-request loads on its first paid request rather than at init (lambda/edge/runtime.ts). */
const OURS_DEFERRED = ['@aws-sdk/client-dynamodb'];

export async function measureColdStarts(config: EdgeConfig, runs = 7): Promise<Record<'oursBundled' | 'oursUnbundled' | 'peerBundled' | 'peerUnbundled', ColdStartResult>> {
  // The files live in the repo (bench/.cold/) so unbundled builds resolve node_modules as a server would.
  const dir = mkdtempSync(path.join(tmpdir(), 'cdk-x402-cold-'));
  const local = path.join(REPO, 'bench', '.cold');
  rmSync(local, { recursive: true, force: true });
  mkdirSync(local, { recursive: true });
  try {
    const measure = (name: string, code: Buffer, external: boolean, deferred: readonly string[] = []): ColdStartResult => {
      const file = path.join(external ? local : dir, `${name}.js`);
      writeFileSync(file, code);
      return { bytes: code.length, zippedBytes: zippedSize(code), initMs: timeInit(file, runs, deferred) };
    };
    return {
      oursBundled: measure('ours-bundled', edgeBundle('viewer-request', config).code, false, OURS_DEFERRED),
      oursUnbundled: measure('ours-unbundled', injectConfig('viewer-request', await bundle(BUNDLES['viewer-request'].entry, true), config), true, OURS_DEFERRED),
      peerBundled: measure('peer-bundled', await bundle(PEER_ENTRY, false), false),
      peerUnbundled: measure('peer-unbundled', await bundle(PEER_ENTRY, true), true),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(local, { recursive: true, force: true });
  }
}
