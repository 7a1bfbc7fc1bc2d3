/**
 * The functions' code at synth: the package's prebuilt bundles, the edge configuration injected,
 * no esbuild. Asset hashes follow exactly the deployed code.
 */
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { App, Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { injectConfig, readPrebuiltBundle, zippedSize } from '../../lib/prebuilt-bundle';
import { prebuiltCode } from '../../lib/prebuilt-code';
import { codeKeys, paywallStack } from './helpers';

const ROOT = path.join(__dirname, '..', '..');
const OTHER_PAY_TO = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';

/** The code a function deploys: its asset's index.js in the cloud assembly. */
function deployedCode(app: App, s3Key: string): Buffer {
  return readFileSync(path.join(app.synth().directory, `asset.${s3Key.replace(/\.zip$/, '')}`, 'index.js'));
}

const idOf = (stack: Stack, fn: IConstruct) => stack.getLogicalId(fn.node.defaultChild as never);

/**
 * The synth through lib/index.ts in a child process, started as this file loads: its two synths run
 * on the other core while this file's own synths run; the last test awaits it.
 */
const synthPackages = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
  const child = execFile(process.execPath, ['--import', 'tsx', path.join('test', 'support', 'synth-packages.ts')], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 }, (error, stdout, stderr) =>
    resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr }));
  child.stdin?.end();
});

describe('the functions\' code', () => {
  const { app, stack, paywall } = paywallStack();
  const verifier = paywall.verifier!;
  const edge = {
    'viewer-request': idOf(stack, verifier.viewerRequest.lambda),
    'origin-request': idOf(stack, verifier.originRequest!.lambda),
    'origin-response': idOf(stack, verifier.originResponse.lambda),
  };
  const rotation = idOf(stack, paywall.originSecret!.rotationFunction);
  const keys = codeKeys(stack);

  it('is the prebuilt bundle, for an edge function with exactly its configuration injected', () => {
    for (const [name, id] of Object.entries(edge) as Array<[keyof typeof edge, string]>) {
      expect(deployedCode(app, keys[id]).equals(injectConfig(name, readPrebuiltBundle(name), verifier._edgeConfig))).toBe(true);
    }
    expect(deployedCode(app, keys[rotation]).equals(readPrebuiltBundle('origin-rotation'))).toBe(true);
  });

  it('gets a new asset hash for the edge functions when the configuration changes, and only for them', () => {
    const other = codeKeys(paywallStack({ payTo: OTHER_PAY_TO }).stack);
    expect(Object.keys(keys).filter((id) => other[id] !== keys[id]).sort()).toEqual(Object.values(edge).sort());
  });

  it('gets a new asset hash when the code changes by one byte, and only that function', () => {
    // This test file's copy of the bundle as read: one byte changed, then restored.
    const bundle = readPrebuiltBundle('origin-rotation');
    const at = bundle.lastIndexOf(';');
    bundle[at] = 0x0a;
    try {
      const changed = codeKeys(paywallStack().stack);
      expect(Object.keys(keys).filter((id) => changed[id] !== keys[id])).toEqual([rotation]);
    } finally {
      bundle[at] = 0x3b;
    }
    expect(codeKeys(paywallStack().stack)).toEqual(keys);
  });

  it('has the same asset hashes in another app and in another process', () => {
    expect(codeKeys(paywallStack().stack)).toEqual(keys);
    const child = spawnSync(
      process.execPath,
      ['--import', 'tsx', '-e', "const h = require('./test/constructs/helpers.ts'); process.stdout.write(JSON.stringify(h.codeKeys(h.paywallStack().stack)))"],
      { cwd: ROOT, encoding: 'utf8', timeout: 60_000 },
    );
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual(keys);
  });
});

describe('the Lambda@Edge size quota', () => {
  const config = paywallStack().paywall.verifier!._edgeConfig;
  const zipped = zippedSize(injectConfig('viewer-request', readPrebuiltBundle('viewer-request'), config));
  const synthWithQuota = (maxZippedBytes: number) => prebuiltCode('viewer-request', { config, maxZippedBytes, limitName: 'Lambda@Edge (this trigger)' });

  it('refuses an edge function whose code with its configuration is one byte over the quota, naming the bundle, its zipped size and the quota', () => {
    expect(() => synthWithQuota(zipped - 1)).toThrow(
      `cdk-x402: the viewer-request bundle is ${zipped} bytes zipped with this configuration; Lambda@Edge (this trigger) allows ${zipped - 1}`,
    );
    expect(() => synthWithQuota(zipped)).not.toThrow();
  });
});

describe('synth through lib/index.ts, both engines', () => {
  it('requires no esbuild and none of the handlers\' runtime packages', async () => {
    const child = await synthPackages;
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual(['aws-cdk-lib', 'constructs']);
  }, 120_000);
});
