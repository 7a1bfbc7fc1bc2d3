/**
 * The construct library has no runtime dependencies: lib/ and every module it imports (type-only
 * imports included, since they end up in the published .d.ts) may import only aws-cdk-lib,
 * constructs and node: built-ins, which every CDK app already has.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const ROOT = path.join(__dirname, '..', '..');
const ALLOWED = [/^aws-cdk-lib(\/|$)/, /^constructs$/, /^node:/];

function imports(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(path.join(ROOT, file), 'utf8'), true, true);
  return [...info.importedFiles, ...info.typeReferenceDirectives].map((ref) => ref.fileName);
}

function resolveRelative(from: string, specifier: string): string {
  const base = path.join(path.dirname(from), specifier);
  const found = [`${base}.ts`, path.join(base, 'index.ts')].find((candidate) => existsSync(path.join(ROOT, candidate)));
  if (!found) throw new Error(`${from} imports ${specifier}, which resolves to no .ts file`);
  return found;
}

/** Every module reachable from lib/, with the packages each one imports. */
function libraryGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const queue = readdirSync(path.join(ROOT, 'lib'), { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => path.join('lib', f));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (graph.has(file)) continue;
    const packages: string[] = [];
    for (const specifier of imports(file)) {
      if (specifier.startsWith('.')) queue.push(resolveRelative(file, specifier));
      else packages.push(specifier);
    }
    graph.set(file, packages);
  }
  return graph;
}

describe('the construct library\'s imports', () => {
  const graph = libraryGraph();

  it('reach only lib/ and the dependency-free lambda modules it shares with the handlers', () => {
    expect([...graph.keys()].filter((file) => !/^(lib|lambda)\//.test(file))).toEqual([]);
    expect(graph.size).toBeGreaterThan(30);
  });

  it('name no package but aws-cdk-lib, constructs and node: built-ins', () => {
    const offending = [...graph].flatMap(([file, packages]) =>
      packages.filter((name) => !ALLOWED.some((allowed) => allowed.test(name))).map((name) => `${file} imports ${name}`),
    );
    expect(offending).toEqual([]);
  });
});
