import type { EdgeConfig } from '../lambda/core/config';
import { EDGE_BUNDLES, injectConfig, readPrebuiltBundle, zippedSize, type EdgeBundleName } from '../lib/prebuilt-bundle';
import type { EdgeEventType } from './distribution';

export interface EdgeBundle {
  readonly code: Buffer;
  readonly bytes: number;
  /** Size of the code deflated as a .zip entry: what Lambda@Edge's 1 MB zipped limit counts. */
  readonly zippedBytes: number;
}

/**
 * One edge handler as the CDK construct deploys it: the package's prebuilt bundle, this
 * configuration injected by the same function (test/constructs/prebuilt-code.test.ts checks that
 * a synthesized function's code is exactly that).
 */
export function edgeBundle(name: EdgeBundleName, config: EdgeConfig): EdgeBundle {
  const code = injectConfig(name, readPrebuiltBundle(name), config);
  return { code, bytes: code.length, zippedBytes: zippedSize(code) };
}

/** Every edge handler, as deployed with this configuration. */
export function edgeBundles(config: EdgeConfig): Record<EdgeBundleName, EdgeBundle> {
  return Object.fromEntries(EDGE_BUNDLES.map((name) => [name, edgeBundle(name, config)])) as Record<EdgeBundleName, EdgeBundle>;
}

/** The bundle a trigger's function runs: the one named after the trigger. */
export function bundleForEventType(eventType: EdgeEventType): EdgeBundleName {
  if (!(EDGE_BUNDLES as readonly string[]).includes(eventType)) {
    throw new Error(`the distribution associates a ${eventType} function, but cdk-x402 ships no ${eventType} bundle (lib/prebuilt-bundle.ts EDGE_BUNDLES)`);
  }
  return eventType as EdgeBundleName;
}
