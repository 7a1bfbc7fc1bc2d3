#!/usr/bin/env node
'use strict';
// package.json "bin" entry of the `cdk-x402` CLI. The CLI is TypeScript (bin/cdk-x402.ts, cli/), like
// the rest of this repository; tsx's CommonJS hook compiles it on load (about half a second).
let tsx;
try {
  tsx = require('tsx/cjs/api');
} catch {
  process.stderr.write('cdk-x402: the tsx package is missing. Run `npm ci` in the cdk-x402 repository (tsx is one of its devDependencies), or run `npx tsx bin/cdk-x402.ts`.\n');
  process.exit(1);
}
tsx.register();
require('./cdk-x402.ts');
