/**
 * The committed contract artifacts (local/contracts/*.json) must be what the sources compile to.
 * If this fails: `npm run build:token` and commit the JSON.
 */
import { readFileSync } from 'node:fs';
import { toFunctionSignature, toEventSignature, type AbiEvent, type AbiFunction } from 'viem';
import { eip3009ReconcileAbi } from '../../cli/chain';
import { localUsdcAbi } from '../../local/chain';
import { artifactPath, artifactText, compileContracts, CONTRACT_SOURCES } from '../../local/contracts/compile';

describe('local contract artifacts', () => {
  const compiled = compileContracts();

  it.each(Object.values(CONTRACT_SOURCES))('%s.json is current (run `npm run build:token` if not)', (name) => {
    expect(readFileSync(artifactPath(name), 'utf8')).toBe(artifactText(compiled[name]!));
  });

  it.each([
    ['local/chain.ts', localUsdcAbi],
    ['cdk-x402 reconcile (cli/chain.ts)', eip3009ReconcileAbi],
  ] as const)('the typed ABI used by %s is a subset of the compiled LocalUSDC ABI', (_user, abi) => {
    const signature = (item: { type: string }) =>
      item.type === 'function' ? toFunctionSignature(item as AbiFunction) : item.type === 'event' ? toEventSignature(item as AbiEvent) : item.type;
    const compiledSignatures = new Set((compiled.LocalUSDC!.abi as Array<{ type: string }>).map(signature));
    for (const item of abi) expect(compiledSignatures).toContain(signature(item));
  });

  it('LocalMulticall exposes tryAggregate, the function the x402 facilitator calls', () => {
    const fns = (compiled.LocalMulticall!.abi as AbiFunction[]).filter((i) => i.type === 'function').map((f) => toFunctionSignature(f));
    expect(fns).toEqual(['tryAggregate(bool,(address,bytes)[])']);
  });
});
