import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { CONTEXT_KEYS, contextKeysMarkdown } from '../../lib/config/context-keys';

const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

describe('README configuration reference', () => {
  it('is the table generated from the schema (regenerate with contextKeysMarkdown() when this fails)', () => {
    const match = /<!-- x402-config:start -->\n([\s\S]*?)\n<!-- x402-config:end -->/.exec(readme);
    expect(match).not.toBeNull();
    expect(match![1].trim()).toBe(contextKeysMarkdown());
  });

  it('documents every key of cdk.json', () => {
    const context = JSON.parse(readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')).context as Record<string, unknown>;
    const documented = new Set(CONTEXT_KEYS.map((k) => k.key));
    for (const key of Object.keys(context).filter((k) => k.startsWith('x402:'))) expect(documented).toContain(key);
  });
});
