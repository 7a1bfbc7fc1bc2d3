import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SAMPLE_ADDRESSES } from '../../../lib/config/sample-addresses';

const ROOT = path.join(__dirname, '..', '..', '..');
/** 0x + exactly 40 hex digits (not a prefix of a longer hex string such as a transaction hash). */
const ADDRESS = /(?<![0-9a-fA-Fx])0x[0-9a-fA-F]{40}(?![0-9a-fA-F])/g;

function addressesIn(relativePath: string): Map<string, string> {
  const found = new Map<string, string>();
  const full = path.join(ROOT, relativePath);
  const files = relativePath.endsWith('.md') ? [full] : readdirSync(full, { recursive: true, encoding: 'utf8' }).map((f) => path.join(full, f)).filter((f) => /\.(ts|snap|md|json|csv|txt)$/.test(f));
  for (const file of files) {
    for (const [address] of readFileSync(file, 'utf8').matchAll(ADDRESS)) found.set(address.toLowerCase(), path.relative(ROOT, file));
  }
  return found;
}

describe('sample addresses', () => {
  it('lists every address printed in README.md, docs/ and test/, so none of them can become a mainnet payTo (add new ones to lib/config/sample-addresses.ts)', () => {
    const listed = new Set(SAMPLE_ADDRESSES.map((s) => s.address.toLowerCase()));
    const found = new Map([...addressesIn('README.md'), ...addressesIn('docs'), ...addressesIn('test')]);
    expect(found.size).toBeGreaterThan(5);
    const unlisted = [...found].filter(([address]) => !listed.has(address)).map(([address, file]) => `${address} (${file})`);
    expect(unlisted).toEqual([]);
  });
});
