import type { EdgeConfig } from '../lambda/core/config';
import { EDGE_BUNDLE_SETTINGS, EDGE_ENTRIES, edgeConfigDefine } from '../lib/edge-bundle';
import { buildBundle, zippedSize } from '../lib/esbuild-code';

export interface EdgeBundle {
  readonly code: string;
  readonly bytes: number;
  /** Size of the code deflated as a .zip entry: what Lambda@Edge's 1 MB zipped limit counts. */
  readonly zippedBytes: number;
}

/** The edge handlers as the CDK construct bundles them (the same builder), config baked in. */
export function bundleEdge(config: EdgeConfig): Record<keyof typeof EDGE_ENTRIES, EdgeBundle> {
  const bundleOne = (entry: string): EdgeBundle => {
    const code = buildBundle({ entry, settings: EDGE_BUNDLE_SETTINGS, define: edgeConfigDefine(config) });
    return { code: code.toString('utf8'), bytes: code.length, zippedBytes: zippedSize(code) };
  };
  return {
    viewerRequest: bundleOne(EDGE_ENTRIES.viewerRequest),
    originRequest: bundleOne(EDGE_ENTRIES.originRequest),
    originResponse: bundleOne(EDGE_ENTRIES.originResponse),
  };
}
