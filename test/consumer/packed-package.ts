/**
 * cdk-x402 as a consumer gets it: `npm run build`, `npm pack`, then the tarball installed into a
 * fresh app with npm, offline. aws-cdk-lib and constructs come from this repository's own install
 * as `file:` dependencies (the tests reach no registry); the tarball itself is installed like any
 * registry package, so what is tested is exactly what `files`, `main`, `types` and `exports` ship.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';

export const REPO = path.join(__dirname, '..', '..');
const NODE_MODULES = path.join(REPO, 'node_modules');

/** The aws-cdk-lib copies the tests install apps against. */
export const CDK_LIBS = {
  /** The version this repository develops against. */
  current: path.join(NODE_MODULES, 'aws-cdk-lib'),
  /** The lowest version the peer range admits (devDependency alias `aws-cdk-lib-lowest`). */
  lowest: path.join(NODE_MODULES, 'aws-cdk-lib-lowest'),
} as const;

/** Sources whose change makes a new tarball: everything `npm run build` reads. */
const PACKAGE_INPUTS = ['package.json', 'lib', 'lambda', 'bin', 'cli', 'scripts', 'README.md', 'docs', 'LICENSE', 'CHANGELOG.md', 'API.md'];

function inputsHash(): string {
  const hash = createHash('sha256');
  const visit = (file: string): void => {
    if (!existsSync(file)) return;
    if (statSync(file).isDirectory()) {
      for (const entry of readdirSync(file).sort()) visit(path.join(file, entry));
    } else {
      hash.update(path.relative(REPO, file)).update('\0').update(readFileSync(file)).update('\0');
    }
  };
  for (const input of PACKAGE_INPUTS) visit(path.join(REPO, input));
  return hash.digest('hex').slice(0, 16);
}

export interface PackedBuild {
  /** Path of the `npm pack` tarball. */
  readonly tarball: string;
  /** What `npm run build` printed (the jsii compiler's summary among it). */
  readonly buildOutput: string;
}

let packed: PackedBuild | undefined;

/**
 * `npm run build` and `npm pack` of the current sources, done at most once per change of the
 * sources (cached in the OS temp dir across test files and runs): the consumer tests install the
 * tarball, the API reference test checks the jsii build inside it.
 */
export function packedBuild(): PackedBuild {
  if (packed) return packed;
  const dir = path.join(os.tmpdir(), `cdk-x402-pack-${inputsHash()}`);
  const done = path.join(dir, 'tarball');
  if (!existsSync(done)) {
    const staging = mkdtempSync(`${dir}-staging-`);
    writeFileSync(path.join(staging, 'build.log'), run('npm', ['run', '--silent', 'build'], REPO));
    // The build just ran: without --ignore-scripts, npm pack's prepack would run it all again.
    const name = run('npm', ['pack', '--silent', '--ignore-scripts', '--pack-destination', staging], REPO).trim().split('\n').pop()!;
    writeFileSync(path.join(staging, 'tarball'), path.join(dir, name));
    rmSync(dir, { recursive: true, force: true });
    renameSync(staging, dir);
  }
  packed = { tarball: readFileSync(done, 'utf8'), buildOutput: readFileSync(path.join(dir, 'build.log'), 'utf8') };
  return packed;
}

/** The packed tarball of the current sources (see packedBuild). */
export function packedTarball(): string {
  return packedBuild().tarball;
}

export interface AppSpec {
  /** Files of the app, by relative path. */
  readonly files: Readonly<Record<string, string>>;
  /** @default 'current' */
  readonly cdkLib?: keyof typeof CDK_LIBS;
  /** More packages linked from this repository's node_modules (e.g. typescript, ts-node). @default none */
  readonly devPackages?: readonly string[];
}

/** A fresh app directory with cdk-x402 installed from the tarball by `npm install --offline`. */
export function installApp(spec: AppSpec): string {
  const dir = appDirectory(spec);
  run('npm', NPM_INSTALL, dir);
  return dir;
}

/** {@link installApp} without blocking this process (see {@link runInBackground}). */
export async function installAppInBackground(spec: AppSpec): Promise<string> {
  const dir = appDirectory(spec);
  await runInBackground('npm', NPM_INSTALL, dir);
  return dir;
}

const NPM_INSTALL = ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'];

/** A fresh app directory: its package.json (cdk-x402 from the tarball) and files, not installed yet. */
function appDirectory(spec: AppSpec): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdk-x402-app-'));
  const link = (name: string, from = path.join(NODE_MODULES, name)) => `file:${from}`;
  const dependencies: Record<string, string> = {
    'aws-cdk-lib': link('aws-cdk-lib', CDK_LIBS[spec.cdkLib ?? 'current']),
    constructs: link('constructs'),
    'cdk-x402': `file:${packedTarball()}`,
  };
  const devDependencies = Object.fromEntries((spec.devPackages ?? []).map((name) => [name, link(name)]));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer-app', private: true, dependencies, devDependencies }, null, 2));
  writeFiles(dir, spec.files);
  return dir;
}

/** Copies an example from examples/ into a fresh app (its own package.json deps are replaced by the tarball). */
export function exampleFiles(name: string): Record<string, string> {
  const root = path.join(REPO, 'examples', name);
  const files: Record<string, string> = {};
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir)) {
      const file = path.join(dir, entry);
      if (entry === 'node_modules' || entry === 'cdk.out') continue;
      if (statSync(file).isDirectory()) visit(file);
      else if (entry !== 'package.json') files[path.relative(root, file)] = readFileSync(file, 'utf8');
    }
  };
  visit(root);
  return files;
}

export function writeFiles(dir: string, files: Readonly<Record<string, string>>): void {
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
}

/** Runs a command in `dir`, offline and without AWS credentials; returns stdout, throws with stderr. */
export function run(command: string, args: readonly string[], dir: string, env: Record<string, string> = {}): string {
  try {
    return execFileSync(command, args, {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...withoutAwsCredentials(process.env), npm_config_offline: 'true', ...env },
      timeout: 300_000,
    });
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} in ${dir} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/**
 * {@link run} in a child process this one does not wait for: a test file starts its slowest
 * commands as it loads and awaits them in their tests, so they use the other core meanwhile.
 */
export function runInBackground(command: string, args: readonly string[], dir: string, env: Record<string, string> = {}): Promise<string> {
  const running = new Promise<string>((resolve, reject) => {
    const child = execFile(command, args, { cwd: dir, encoding: 'utf8', env: { ...withoutAwsCredentials(process.env), npm_config_offline: 'true', ...env }, timeout: 300_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${command} ${args.join(' ')} in ${dir} failed: ${error.message}\n${stdout}\n${stderr}`)) : resolve(stdout));
    child.stdin?.end();
  });
  running.catch(() => undefined); // awaited by a test; a failure meanwhile is not unhandled
  return running;
}

function withoutAwsCredentials(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && !/^AWS_|^CDK_DEFAULT_/.test(e[0])));
}

/** The templates an app wrote to `cdk.out`, by stack name (artifact id). */
export function templates(dir: string, outdir = 'cdk.out'): Record<string, Template> {
  const out = path.join(dir, outdir);
  const manifest = JSON.parse(readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  const result: Record<string, Template> = {};
  for (const [id, artifact] of Object.entries<any>(manifest.artifacts)) {
    if (artifact.type !== 'aws:cloudformation:stack') continue;
    result[id] = Template.fromJSON(JSON.parse(readFileSync(path.join(out, artifact.properties.templateFile), 'utf8')));
  }
  return result;
}

/** Bytes on disk of a directory tree (apparent size), e.g. the installed package. */
export function treeBytes(dir: string): number {
  let total = 0;
  const visit = (file: string): void => {
    const stat = statSync(file);
    if (stat.isDirectory()) for (const entry of readdirSync(file)) visit(path.join(file, entry));
    else total += stat.size;
  };
  visit(dir);
  return total;
}

/**
 * A second copy of aws-cdk-lib (hard links, so it costs no space) inside this repository's
 * node_modules, where its own dependencies resolve: a different path, so Node loads it as a
 * different module from the app's copy.
 */
export function secondCdkLibCopy(): string {
  const copy = path.join(NODE_MODULES, '.cdk-x402-second-copy', 'aws-cdk-lib');
  if (!existsSync(path.join(copy, 'package.json'))) {
    rmSync(copy, { recursive: true, force: true });
    mkdirSync(path.dirname(copy), { recursive: true });
    execFileSync('cp', ['-al', CDK_LIBS.current, copy]);
  }
  return copy;
}

/**
 * What every consumer app must get: a distribution whose every behavior carries the viewer-request
 * and origin-response functions, with a web ACL attached, and a receipt table; found across the
 * app's stacks (the edge functions and the web ACL live in us-east-1).
 */
export function expectPaywalled(stacks: Record<string, Template>): void {
  const all = Object.values(stacks);
  const distributions = all.flatMap((t) => Object.values(t.findResources('AWS::CloudFront::Distribution')));
  expect(distributions).toHaveLength(1);
  const config = distributions[0].Properties.DistributionConfig;
  expect(config.WebACLId).toBeDefined();
  const behaviors = [config.DefaultCacheBehavior, ...(config.CacheBehaviors ?? [])];
  for (const behavior of behaviors) {
    const events = (behavior.LambdaFunctionAssociations ?? []).map((a: { EventType: string }) => a.EventType);
    expect(events).toEqual(expect.arrayContaining(['viewer-request', 'origin-response']));
  }
  expect(all.flatMap((t) => Object.values(t.findResources('AWS::WAFv2::WebACL')))).toHaveLength(1);
  const tables = all.flatMap((t) => Object.values(t.findResources('AWS::DynamoDB::Table')));
  expect(tables.map((t) => t.Properties.KeySchema)).toContainEqual([{ AttributeName: 'paymentId', KeyType: 'HASH' }]);
}
