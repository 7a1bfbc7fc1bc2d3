import * as path from 'node:path';
import type { EdgeConfig } from '../lambda/core/config';

/** The Lambda@Edge entry points, one bundle each. */
export const EDGE_ENTRIES = {
  viewerRequest: path.join(__dirname, '..', 'lambda', 'edge', 'viewer-request.ts'),
  originRequest: path.join(__dirname, '..', 'lambda', 'edge', 'origin-request.ts'),
  originResponse: path.join(__dirname, '..', 'lambda', 'edge', 'origin-response.ts'),
} as const;

/**
 * esbuild settings shared by the CDK construct and the size check, so what is measured is what
 * is deployed. The AWS SDK v3 ships with the Lambda Node.js runtime and stays out of the bundle.
 */
export const EDGE_BUNDLE_SETTINGS = {
  platform: 'node',
  target: 'node22',
  format: 'cjs',
  minify: true,
  external: ['@aws-sdk/*'],
} as const;

/** Bakes the configuration into the bundle (Lambda@Edge has no environment variables). */
export function edgeConfigDefine(config: EdgeConfig): Record<string, string> {
  return { __X402_EDGE_CONFIG__: JSON.stringify(JSON.stringify(config)) };
}
