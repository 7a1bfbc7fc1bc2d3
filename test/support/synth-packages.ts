/**
 * Run as a child process (`node --import tsx test/support/synth-packages.ts`): synthesizes the
 * reference stack with each engine through lib/index.ts, as an app using the construct library
 * does, and prints (JSON) every package that a lib/ or lambda/ file required meanwhile.
 */
import * as path from 'node:path';
import type * as cdk from 'aws-cdk-lib';

const ROOT = path.join(__dirname, '..', '..');
const SOURCES = ['lib', 'lambda'].map((dir) => path.join(ROOT, dir) + path.sep);

type Load = (request: string, parent: { filename?: string } | undefined, isMain: boolean) => unknown;
const Module = require('node:module') as { _load: Load; isBuiltin(request: string): boolean };
const packages = new Set<string>();
const load = Module._load;
Module._load = function (request, parent, isMain) {
  const fromSources = parent?.filename !== undefined && SOURCES.some((dir) => parent.filename!.startsWith(dir));
  if (fromSources && !request.startsWith('.') && !Module.isBuiltin(request)) {
    packages.add(request.split('/').slice(0, request.startsWith('@') ? 2 : 1).join('/'));
  }
  return load.call(this, request, parent, isMain);
};

// Loaded only now, so every require of the library is seen.
const { App } = require('aws-cdk-lib') as typeof cdk;
const { ReferenceStack } = require('../../lib/index') as typeof import('../../lib/index');
for (const engine of ['edge', 'waf']) {
  const app = new App({ context: { 'x402:engine': engine, 'x402:origin': 'origin.example.com', 'x402:payTo': '0x209693Bc6afc0C5328bA36FaF03C514EF312287C', 'x402:routes': { '/articles/*': '$0.001', 'POST /api/**': '$0.005' } } });
  new ReferenceStack(app, `Reference-${engine}`, { settings: ReferenceStack.settingsFromContext(app.node.getAllContext()) });
  app.synth();
}
process.stdout.write(JSON.stringify([...packages].sort()));
