/**
 * viem's verdict on signatures, for test/unit/signature-check.test.ts, in worker threads: viem's
 * key recovery (pure JS) is the costly part of that property test, so it runs on the other core
 * while the test computes its own side. Plain JavaScript, so a worker loads it as it is.
 */
const { parentPort, workerData } = require('node:worker_threads');
const { isErc6492Signature, recoverAddress } = require('viem');

const HALF_ORDER = BigInt(workerData.secp256k1Order) / 2n;

/** `recoverTypedDataAddress` is `recoverAddress` of `hashTypedData`; USDC's rules on top, for the forms viem accepts and USDC does not. */
async function viemVerdict({ digest, from, signature }) {
  if (isErc6492Signature(signature)) return 'counterfactual';
  const signer = await recoverAddress({ hash: digest, signature }).catch(() => undefined);
  if (signer?.toLowerCase() !== from.toLowerCase()) return 'unrecovered';
  if (parseInt(signature.slice(130), 16) < 27) return 'vIsParity';
  return BigInt(`0x${signature.slice(66, 130)}`) > HALF_ORDER ? 'highS' : 'recovered';
}

parentPort.on('message', async ({ id, checks }) => {
  const verdicts = [];
  for (const check of checks) verdicts.push(await viemVerdict(check));
  parentPort.postMessage({ id, verdicts });
});
