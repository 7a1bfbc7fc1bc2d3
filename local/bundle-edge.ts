import type { EdgeConfig } from '../lambda/core/config';
import { EDGE_BUNDLE_SETTINGS, EDGE_ENTRIES, edgeConfigDefine } from '../lib/edge-bundle';
import { buildBundle, zippedSize } from '../lib/esbuild-code';
import type { EdgeEventType } from './distribution';

export type EdgeEntryName = keyof typeof EDGE_ENTRIES;

export interface EdgeBundle {
  readonly code: Buffer;
  readonly bytes: number;
  /** Size of the code deflated as a .zip entry: what Lambda@Edge's 1 MB zipped limit counts. */
  readonly zippedBytes: number;
}

/** One edge handler as the CDK construct bundles it (the same builder and settings), config baked in. */
export function bundleEdgeEntry(name: EdgeEntryName, config: EdgeConfig): EdgeBundle {
  const code = buildBundle({ entry: EDGE_ENTRIES[name], settings: EDGE_BUNDLE_SETTINGS, define: edgeConfigDefine(config) });
  return { code, bytes: code.length, zippedBytes: zippedSize(code) };
}

/** Every edge handler of lib/edge-bundle.ts, bundled as deployed. */
export function bundleEdge(config: EdgeConfig): Record<EdgeEntryName, EdgeBundle> {
  return Object.fromEntries(Object.keys(EDGE_ENTRIES).map((name) => [name, bundleEdgeEntry(name as EdgeEntryName, config)])) as Record<EdgeEntryName, EdgeBundle>;
}

/** The entry a trigger's function is built from, by name: `origin-request` → `originRequest`. */
export function entryForEventType(eventType: EdgeEventType): EdgeEntryName {
  const name = eventType.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  if (!(name in EDGE_ENTRIES)) {
    throw new Error(`the distribution associates a ${eventType} function, but lib/edge-bundle.ts EDGE_ENTRIES has no "${name}" entry to build it from`);
  }
  return name as EdgeEntryName;
}
