import type { EdgeConfig } from '../core/config';

/**
 * Lambda@Edge has no environment variables: the configuration is a string literal of the bundle.
 * The prebuilt bundle holds this placeholder literal exactly once; synth replaces it, quotes
 * included, with the configuration's JSON text as a string literal (lib/prebuilt-bundle.ts).
 */
export const EDGE_CONFIG_PLACEHOLDER = '__CDK_X402_EDGE_CONFIG_PLACEHOLDER__';

export function bakedConfig(): EdgeConfig {
  try {
    return JSON.parse(EDGE_CONFIG_PLACEHOLDER) as EdgeConfig;
  } catch {
    // Only the placeholder itself is not JSON: an injected configuration always is.
    throw new Error('cdk-x402: this edge bundle carries no configuration; deploy it through the cdk-x402 constructs, which inject it at synth');
  }
}
