#!/usr/bin/env node
/**
 * The `cdk-x402` CLI: `report`, `toggle on|off`, `status`, `reconcile` for a deployed cdk-x402
 * stack. package.json "bin" (bin/cdk-x402.js) runs its prebuilt bundle (`npm run build:bundles`);
 * from the sources: `npm run cli -- ...` or `npx tsx bin/cdk-x402.ts ...`.
 */
import { runCli } from '../cli/program';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// `cdk-x402 report | head`: a closed pipe ends the output, not the process with a stack trace.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    console.error(error);
    process.exitCode = 1;
  },
);
