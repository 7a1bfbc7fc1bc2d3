import type { EdgeConfig } from '../core/config';

/**
 * Lambda@Edge has no environment variables: the bundler replaces this identifier with the
 * configuration's JSON text at build time (see lib/edge-bundle.ts).
 */
declare const __X402_EDGE_CONFIG__: string;

export function bakedConfig(): EdgeConfig {
  return JSON.parse(__X402_EDGE_CONFIG__) as EdgeConfig;
}
