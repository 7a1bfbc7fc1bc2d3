#!/usr/bin/env node
'use strict';
// package.json "bin" entry of the `cdk-x402` CLI: the prebuilt bundle of bin/cdk-x402.ts and cli/
// (scripts/build-bundles.ts), every package it uses inside, so plain Node runs it.
const { existsSync } = require('node:fs');
const path = require('node:path');

const bundle = path.join(__dirname, '..', 'dist', 'bundles', 'cli', 'index.js');
if (!existsSync(bundle)) {
  process.stderr.write(
    `cdk-x402: the CLI is not built (${bundle} is missing). In the cdk-x402 repository, run \`npm run build:bundles\` ` +
      '(or run it from its sources: `npm run cli -- <args>`); an installed cdk-x402 package ships it, so reinstall the package.\n',
  );
  process.exit(1);
}
require(bundle);
