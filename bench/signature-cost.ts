/**
 * The floor of any local payment check: one EIP-712 TransferWithAuthorization signature
 * verification with viem (`verifyTypedData`: hash the typed data, recover the signer, compare),
 * the same call our viewer-request makes in lambda/core/precheck.ts.
 */
import { performance } from 'node:perf_hooks';
import { authorizationTypes } from '@x402/evm';
import { verifyTypedData, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { percentile } from './load-worker';


export interface SignatureCost {
  readonly runs: number;
  readonly warmup: number;
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly meanMs: number;
}

export async function measureSignatureCost(asset: { address: string; name: string; version: string; chainId: number }, runs = 1000, warmup = 100): Promise<SignatureCost> {
  const payer = privateKeyToAccount(generatePrivateKey());
  const now = BigInt(Math.floor(Date.now() / 1000));
  const domain = { name: asset.name, version: asset.version, chainId: asset.chainId, verifyingContract: asset.address as Address };
  const message = {
    from: payer.address,
    to: privateKeyToAccount(generatePrivateKey()).address,
    value: 1000n,
    validAfter: now - 600n,
    validBefore: now + 120n,
    nonce: generatePrivateKey() as Hex,
  };
  const signature = await payer.signTypedData({ domain, types: authorizationTypes, primaryType: 'TransferWithAuthorization', message });
  const check = () => verifyTypedData({ address: payer.address, domain, types: authorizationTypes, primaryType: 'TransferWithAuthorization', message, signature });
  for (let i = 0; i < warmup; i++) if (!(await check())) throw new Error('signature did not verify');
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await check();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { runs, warmup, medianMs: percentile(times, 50), p99Ms: percentile(times, 99), meanMs: times.reduce((s, t) => s + t, 0) / runs };
}
