import * as path from 'node:path';
import { bundleEntry, EDGE_SETTINGS } from '../../scripts/build-bundles';
import { writeLambdaCode } from '../../local/lambda-container';

/** A test function of test/support/edge-functions/, bundled like the edge functions, written where Lambda containers load code. */
export function fixtureCode(name: 'relay' | 'probe', define: Record<string, string> = {}): string {
  const { code } = bundleEntry(path.join(__dirname, 'edge-functions', `${name}.ts`), EDGE_SETTINGS, define);
  return writeLambdaCode(`test-${name}`, code);
}
