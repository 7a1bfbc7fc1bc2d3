import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { buildSync, type BuildOptions } from 'esbuild';

/** The repository's lambda/ folder: fingerprinted for the asset cache key, bundled by esbuild. */
export const LAMBDA_SOURCE_DIR = path.join(__dirname, '..', 'lambda');

/** The esbuild settings a bundle is built with (entry, bundling and output are set here). */
export type BundleSettings = Pick<BuildOptions, 'platform' | 'target' | 'format' | 'minify'> & {
  readonly external: readonly string[];
};

export interface EsbuildCodeOptions {
  /** Entry point (a .ts file under lambda/). */
  readonly entry: string;
  readonly settings: BundleSettings;
  /** esbuild `define`: values baked into the bundle. @default none */
  readonly define?: Record<string, string>;
  /** Synth fails when the zipped bundle is larger (e.g. a Lambda@Edge quota). @default no limit */
  readonly maxZippedBytes?: number;
  /** Names the limit in the error. @default 'Lambda' */
  readonly limitName?: string;
}

/** One bundle per (entry, settings, define) per process: tests and multi-stack apps bundle each once. */
const bundles = new Map<string, Buffer>();

/**
 * A Lambda code asset built by the local esbuild, never Docker. The asset hash is the hash of the
 * output, so it changes exactly when the deployed code (or a baked value) changes.
 */
export function esbuildCode(options: EsbuildCodeOptions): lambda.Code {
  const key = bundleKey(options);
  return lambda.Code.fromAsset(LAMBDA_SOURCE_DIR, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the type; never used: local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('cdk-x402/no-docker-bundling'),
      // Part of CDK's in-process asset cache key: one configuration's bundle is never reused for another.
      environment: { CDK_X402_BUNDLE_KEY: key },
      local: {
        tryBundle(outputDir: string): boolean {
          mkdirSync(outputDir, { recursive: true });
          writeFileSync(path.join(outputDir, 'index.js'), buildBundle(options));
          return true;
        },
      },
    },
  });
}

/** What Lambda's zipped size quotas count: the code deflated as a .zip entry. */
export function zippedSize(code: Uint8Array): number {
  return deflateRawSync(code, { level: 9 }).length;
}

function bundleKey({ entry, settings, define = {} }: EsbuildCodeOptions): string {
  return createHash('sha256').update(JSON.stringify({ entry, define, settings })).digest('hex');
}

/**
 * The bundle {@link esbuildCode} deploys, built once per (entry, settings, define) per process;
 * throws when it is over `maxZippedBytes`. Also what the local edge and the size checks measure.
 */
export function buildBundle(options: EsbuildCodeOptions): Buffer {
  const key = bundleKey(options);
  const cached = bundles.get(key);
  if (cached) return cached;
  const result = buildSync({
    ...options.settings,
    external: [...options.settings.external],
    entryPoints: [options.entry],
    bundle: true,
    write: false,
    define: options.define ?? {},
    logLevel: 'silent',
  });
  const code = Buffer.from(result.outputFiles[0].contents);
  if (options.maxZippedBytes !== undefined) {
    const zipped = zippedSize(code);
    if (zipped > options.maxZippedBytes) {
      throw new Error(`${path.basename(options.entry)}: the bundle is ${zipped} bytes zipped; ${options.limitName ?? 'Lambda'} allows ${options.maxZippedBytes} for it`);
    }
  }
  bundles.set(key, code);
  return code;
}
