/**
 * `npm run build:token`: recompiles local/contracts/*.sol and writes the committed artifacts
 * (LocalUSDC.json, LocalMulticall.json, LocalSmartWallet.json, LocalPermit2.json, LocalUptoPermit2Proxy.json,
 * LocalBatchSettlement.json, LocalErc3009DepositCollector.json). test/integration/local-usdc-artifact.test.ts fails when
 * they are stale.
 */
import { writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { artifactPath, artifactText, compileContracts } from './compile';

const started = Date.now();
for (const artifact of Object.values(compileContracts((w) => console.warn(w)))) {
  const path = artifactPath(artifact.contractName);
  writeFileSync(path, artifactText(artifact));
  console.log(`wrote ${relative(process.cwd(), path)} (runtime ${(artifact.deployedBytecode.length - 2) / 2} bytes)`);
}
console.log(`compiled in ${Date.now() - started} ms`);
