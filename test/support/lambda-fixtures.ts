import * as path from 'node:path';
import { EDGE_BUNDLE_SETTINGS } from '../../lib/edge-bundle';
import { buildBundle } from '../../lib/esbuild-code';
import { writeLambdaCode } from '../../local/lambda-container';

/** A test function of test/support/edge-functions/, bundled like the edge functions, written where Lambda containers load code. */
export function fixtureCode(name: 'relay' | 'probe', define: Record<string, string> = {}): string {
  const code = buildBundle({ entry: path.join(__dirname, 'edge-functions', `${name}.ts`), settings: EDGE_BUNDLE_SETTINGS, define });
  return writeLambdaCode(`test-${name}`, code);
}
