/**
 * The handlers' bundles as the package ships them: built once at package build time
 * (scripts/build-bundles.ts, `npm run build:bundles`) into dist/bundles/<name>/index.js, each
 * self-contained. Synth only reads them and injects the edge configuration, so a CDK app needs
 * neither esbuild nor any of the handlers' runtime packages. Node built-ins only: the local edge
 * and the build script use this module without loading aws-cdk-lib.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { EDGE_CONFIG_PLACEHOLDER } from '../lambda/edge/baked-config';
import { packageRoot } from './package-root';

/** The Lambda@Edge handlers, named after their CloudFront trigger; each takes the configuration. */
export const EDGE_BUNDLES = ['viewer-request', 'origin-request', 'origin-response'] as const;
export type EdgeBundleName = (typeof EDGE_BUNDLES)[number];
/**
 * Every bundle the package ships: the Lambda handlers, the `cdk-x402` CLI and the agent's paying
 * fetch (`cdk-x402/client`). Both origin-facing triggers run the one `origin` bundle (the same
 * code, dispatched on the event's trigger), so it is shipped once.
 */
export type BuiltBundleName = 'viewer-request' | 'origin' | 'settlement-ingest' | 'origin-rotation' | 'batch-claims' | 'cli' | 'client';
/** A bundle by what it is built as, or by the edge trigger that runs it. */
export type BundleName = EdgeBundleName | BuiltBundleName;

/** The bundle a name is built as: an edge trigger's, or itself. */
export function builtBundleOf(name: BundleName): BuiltBundleName {
  return name === 'origin-request' || name === 'origin-response' ? 'origin' : name;
}

/** Where a bundle lives in the package (the repository, or an installed cdk-x402). */
export function bundleFile(name: BundleName): string {
  return path.join(packageRoot(), 'dist', 'bundles', builtBundleOf(name), 'index.js');
}

const prebuilt = new Map<BuiltBundleName, Buffer>();
/** A prebuilt bundle's bytes (read once per process). */
export function readPrebuiltBundle(name: BundleName): Buffer {
  let code = prebuilt.get(builtBundleOf(name));
  if (code === undefined) {
    const file = bundleFile(name);
    try {
      code = readFileSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      throw new Error(
        `cdk-x402: the prebuilt ${name} bundle is missing (${file}). In the cdk-x402 repository, run \`npm run build:bundles\`; ` +
          'an installed cdk-x402 package ships it, so reinstall the package.',
      );
    }
    prebuilt.set(builtBundleOf(name), code);
  }
  return code;
}

/** The placeholder as it stands in a built bundle: a double-quoted string literal. */
export const PLACEHOLDER_LITERAL = Buffer.from(JSON.stringify(EDGE_CONFIG_PLACEHOLDER));

/**
 * What a bundle bakes of the configuration: the viewer-request never signs passes, so it never
 * carries where the signing key is (nor, on the local edge, the key itself); public keys only.
 */
export function configForBundle(name: EdgeBundleName, config: unknown): unknown {
  const passes = (config as { passes?: Record<string, unknown> } | undefined)?.passes;
  if (name !== 'viewer-request' || !passes || passes.signingKey === undefined) return config;
  const { signingKey: _origin_only, ...verifyOnly } = passes;
  return { ...(config as object), passes: verifyOnly };
}

/**
 * The bundle with its placeholder literal replaced by the configuration's JSON text as a string
 * literal ({@link configForBundle}). Refuses a bundle without exactly one placeholder, so a
 * configuration is never half applied or silently missing.
 */
export function injectConfig(name: EdgeBundleName, bundle: Buffer, config: unknown): Buffer {
  const at = bundle.indexOf(PLACEHOLDER_LITERAL);
  if (at < 0 || bundle.indexOf(PLACEHOLDER_LITERAL, at + 1) >= 0) {
    throw new Error(
      `cdk-x402: the ${name} bundle holds its configuration placeholder ${at < 0 ? 'nowhere' : 'more than once'}, so the configuration cannot be injected exactly; ` +
        'rebuild the bundles with `npm run build:bundles` (in an installed package: reinstall cdk-x402)',
    );
  }
  return Buffer.concat([bundle.subarray(0, at), Buffer.from(jsStringLiteral(JSON.stringify(configForBundle(name, config))), 'ascii'), bundle.subarray(at + PLACEHOLDER_LITERAL.length)]);
}

/**
 * A JavaScript string literal of any text, in printable ASCII only: JSON.stringify escapes quotes,
 * backslashes and control characters; everything else outside printable ASCII (U+2028 and U+2029,
 * which older engines refuse inside string literals, lone surrogates, any non-ASCII character) is
 * written as \uXXXX. So the bytes do not depend on an encoding and the literal cannot end early.
 */
function jsStringLiteral(text: string): string {
  return JSON.stringify(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** What Lambda's zipped size quotas count: the code deflated as a .zip entry. */
export function zippedSize(code: Uint8Array): number {
  return deflateRawSync(code, { level: 9 }).length;
}
