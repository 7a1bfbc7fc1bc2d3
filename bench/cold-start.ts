/**
 * Bundle size and cold-start module init time of each side's request handler.
 *
 * Each side's entry is built with the same esbuild settings as the deployed edge bundles
 * (lib/edge-bundle.ts) twice: fully bundled (what ships to Lambda@Edge) and with packages left in
 * node_modules (how a server usually runs). Init time is measured in a fresh `node` process per run:
 * the time to `require` the file, i.e. evaluate every module and build the handler/app, without
 * any network (our handler contacts nothing at init; the peer's facilitator sync is off).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import type { EdgeConfig } from '../lambda/core/config';
import { EDGE_BUNDLE_SETTINGS, EDGE_ENTRIES, edgeConfigDefine } from '../lib/edge-bundle';
import { zippedSize } from '../lib/esbuild-code';
import { percentile } from './load-worker';

const REPO = path.join(__dirname, '..');
const PEER_ENTRY = path.join(__dirname, 'peer', 'express-cold-entry.ts');

export interface ColdStartResult {
  readonly zippedBytes: number;
  readonly bytes: number;
  /** Median and spread of init times over fresh processes, in ms. */
  readonly initMs: { readonly median: number; readonly min: number; readonly max: number; readonly runs: number };
}

async function bundle(entry: string, config: EdgeConfig | undefined, packagesExternal: boolean): Promise<Uint8Array> {
  const result = await build({
    ...EDGE_BUNDLE_SETTINGS,
    external: [...EDGE_BUNDLE_SETTINGS.external],
    ...(packagesExternal ? { packages: 'external' as const } : {}),
    entryPoints: [entry],
    bundle: true,
    write: false,
    define: config ? edgeConfigDefine(config) : {},
    logLevel: 'silent',
  });
  return result.outputFiles[0].contents;
}

function timeRequire(file: string, runs: number): ColdStartResult['initMs'] {
  const script =
    'const t0 = process.hrtime.bigint(); require(process.argv[1]); ' +
    'process.stdout.write(String(Number(process.hrtime.bigint() - t0) / 1e6));';
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const child = spawnSync(process.execPath, ['-e', script, file], {
      cwd: REPO,
      // Bundles resolve the AWS SDK (provided by the Lambda runtime) and, unbundled, every package from the repo.
      env: { ...process.env, NODE_PATH: path.join(REPO, 'node_modules'), NODE_OPTIONS: '' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (child.status !== 0) throw new Error(`cold start of ${file} failed: ${child.stderr}`);
    times.push(Number(child.stdout));
  }
  times.sort((a, b) => a - b);
  return { median: percentile(times, 50), min: times[0], max: times[times.length - 1], runs };
}

export async function measureColdStarts(config: EdgeConfig, runs = 7): Promise<Record<'oursBundled' | 'oursUnbundled' | 'peerBundled' | 'peerUnbundled', ColdStartResult>> {
  // The files live in the repo (bench/.cold/) so unbundled builds resolve node_modules as a server would.
  const dir = mkdtempSync(path.join(tmpdir(), 'cdk-x402-cold-'));
  const local = path.join(REPO, 'bench', '.cold');
  rmSync(local, { recursive: true, force: true });
  mkdirSync(local, { recursive: true });
  try {
    const measure = async (name: string, entry: string, withConfig: boolean, external: boolean): Promise<ColdStartResult> => {
      const code = await bundle(entry, withConfig ? config : undefined, external);
      const file = path.join(external ? local : dir, `${name}.js`);
      writeFileSync(file, code);
      return { bytes: code.length, zippedBytes: zippedSize(code), initMs: timeRequire(file, runs) };
    };
    return {
      oursBundled: await measure('ours-bundled', EDGE_ENTRIES.viewerRequest, true, false),
      oursUnbundled: await measure('ours-unbundled', EDGE_ENTRIES.viewerRequest, true, true),
      peerBundled: await measure('peer-bundled', PEER_ENTRY, false, false),
      peerUnbundled: await measure('peer-unbundled', PEER_ENTRY, false, true),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(local, { recursive: true, force: true });
  }
}
