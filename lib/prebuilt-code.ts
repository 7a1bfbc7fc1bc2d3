import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { EdgeConfig } from '../lambda/core/config';
import { bundleFile, injectConfig, readPrebuiltBundle, zippedSize, type BundleName, type EdgeBundleName } from './prebuilt-bundle';

/** What an edge bundle is deployed with. */
export interface EdgeInjection {
  /** Injected into the bundle (Lambda@Edge has no environment variables). */
  readonly config: EdgeConfig;
  /** Synth fails when the zipped code is larger: Lambda@Edge's quota for the trigger. */
  readonly maxZippedBytes: number;
  /** Names the limit in the error. */
  readonly limitName: string;
}

/**
 * A Lambda code asset from a prebuilt bundle (lib/prebuilt-bundle.ts), an edge bundle with its
 * configuration injected: no esbuild, no Docker. The asset hash is the hash of the deployed code,
 * so it changes exactly when the code or the configuration does, and is the same in every run
 * and process.
 */
export function prebuiltCode(name: 'settlement-ingest' | 'origin-rotation' | 'batch-claims'): lambda.Code;
export function prebuiltCode(name: EdgeBundleName, edge: EdgeInjection): lambda.Code;
export function prebuiltCode(name: Exclude<BundleName, 'cli'>, edge?: EdgeInjection): lambda.Code {
  const prebuilt = readPrebuiltBundle(name);
  const code = edge ? injectConfig(name as EdgeBundleName, prebuilt, edge.config) : prebuilt;
  if (edge) {
    const zipped = zippedSize(code);
    if (zipped > edge.maxZippedBytes) {
      throw new Error(`cdk-x402: the ${name} bundle is ${zipped} bytes zipped with this configuration; ${edge.limitName} allows ${edge.maxZippedBytes}`);
    }
  }
  return lambda.Code.fromAsset(path.dirname(bundleFile(name)), {
    assetHashType: AssetHashType.CUSTOM,
    assetHash: createHash('sha256').update(code).digest('hex'),
    // CDK's way to stage generated content: once per asset hash, it hands tryBundle the asset's
    // directory in the cloud assembly; nothing is run.
    bundling: {
      // Required by the type; never used: writing the code succeeds or throws.
      image: DockerImage.fromRegistry('cdk-x402/no-docker-bundling'),
      local: {
        tryBundle(outputDir: string): boolean {
          writeFileSync(path.join(outputDir, 'index.js'), code);
          return true;
        },
      },
    },
  });
}
