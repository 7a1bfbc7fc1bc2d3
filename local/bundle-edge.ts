import { build } from 'esbuild';
import { deflateRawSync } from 'node:zlib';
import type { EdgeConfig } from '../lambda/core/config';
import { EDGE_BUNDLE_SETTINGS, EDGE_ENTRIES, edgeConfigDefine } from '../lib/edge-bundle';

export interface EdgeBundle {
  readonly code: string;
  readonly bytes: number;
  /** Size of the code deflated as a .zip entry: what Lambda@Edge's 1 MB zipped limit counts. */
  readonly zippedBytes: number;
}

/** Bundles both edge handlers exactly as the CDK construct does, config baked in. */
export async function bundleEdge(config: EdgeConfig): Promise<Record<keyof typeof EDGE_ENTRIES, EdgeBundle>> {
  const bundleOne = async (entry: string): Promise<EdgeBundle> => {
    const result = await build({
      ...EDGE_BUNDLE_SETTINGS,
      external: [...EDGE_BUNDLE_SETTINGS.external],
      entryPoints: [entry],
      bundle: true,
      write: false,
      define: edgeConfigDefine(config),
      logLevel: 'silent',
    });
    const code = result.outputFiles[0].contents;
    return { code: Buffer.from(code).toString('utf8'), bytes: code.length, zippedBytes: deflateRawSync(code, { level: 9 }).length };
  };
  return {
    viewerRequest: await bundleOne(EDGE_ENTRIES.viewerRequest),
    originResponse: await bundleOne(EDGE_ENTRIES.originResponse),
  };
}
