import { readFileSync } from 'node:fs';
import * as path from 'node:path';

const PACKAGE_NAME = 'cdk-x402';

let root: string | undefined;
/**
 * The directory of cdk-x402's package.json, found from wherever this code runs: the repository
 * (lib/ or cli/ from their sources), an installed package (its compiled lib/ at any depth), or a
 * prebuilt bundle under dist/bundles/.
 */
export function packageRoot(): string {
  if (root !== undefined) return root;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (packageNameAt(dir) === PACKAGE_NAME) return (root = dir);
    if (path.dirname(dir) === dir) throw new Error(`cdk-x402: no package.json named "${PACKAGE_NAME}" in ${__dirname} or above it`);
  }
}

function packageNameAt(dir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }).name;
  } catch {
    return undefined; // none here, or not JSON: not ours
  }
}
