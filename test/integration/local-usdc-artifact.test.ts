/**
 * The committed contract artifacts (local/contracts/*.json) must be what the sources compile to.
 * If this fails: `npm run build:token` and commit the JSON.
 */
import { readFileSync } from 'node:fs';
import { x402UptoPermit2ProxyABI } from '@x402/evm';
import { toFunctionSignature, toEventSignature, type AbiEvent, type AbiFunction } from 'viem';
import { eip3009ReconcileAbi } from '../../cli/chain';
import { localPermit2Abi, localUsdcAbi } from '../../local/chain';
import { artifactPath, artifactText, compileContracts, CONTRACT_SOURCES } from '../../local/contracts/compile';

const signature = (item: { type: string }) =>
  item.type === 'function' ? toFunctionSignature(item as AbiFunction) : item.type === 'event' ? toEventSignature(item as AbiEvent) : item.type;
const functionSignatures = (abi: readonly unknown[]) => (abi as AbiFunction[]).filter((i) => i.type === 'function').map((f) => toFunctionSignature(f));

describe('local contract artifacts', () => {
  const compiled = compileContracts();

  it.each(Object.values(CONTRACT_SOURCES))('%s.json is current (run `npm run build:token` if not)', (name) => {
    expect(readFileSync(artifactPath(name), 'utf8')).toBe(artifactText(compiled[name]!));
  });

  it.each([
    ['local/chain.ts', localUsdcAbi],
    ['cdk-x402 reconcile (cli/chain.ts)', eip3009ReconcileAbi],
  ] as const)('the typed ABI used by %s is a subset of the compiled LocalUSDC ABI', (_user, abi) => {
    const compiledSignatures = new Set((compiled.LocalUSDC!.abi as Array<{ type: string }>).map(signature));
    for (const item of abi) expect(compiledSignatures).toContain(signature(item));
  });

  it('LocalMulticall exposes tryAggregate, the function the x402 facilitator calls', () => {
    expect(functionSignatures(compiled.LocalMulticall!.abi)).toEqual(['tryAggregate(bool,(address,bytes)[])']);
  });

  it('LocalUptoPermit2Proxy has the x402 upto proxy functions the facilitator calls and reads, with the same signatures', () => {
    const official = functionSignatures(x402UptoPermit2ProxyABI);
    const local = functionSignatures(compiled.LocalUptoPermit2Proxy!.abi);
    // settleWithPermit needs EIP-2612 on the token (see the contract's comment): the one official function left out.
    expect(official.filter((f) => !local.includes(f))).toEqual(['settleWithPermit((uint256,uint256,bytes32,bytes32,uint8),((address,uint256),uint256,uint256),uint256,address,(address,address,uint256),bytes)']);
    expect(local).toEqual(expect.arrayContaining(['settle(((address,uint256),uint256,uint256),uint256,address,(address,address,uint256),bytes)', 'PERMIT2()']));
    // Its revert reasons are the official ones, so the facilitator maps them (e.g. UnauthorizedFacilitator).
    const errors = (abi: readonly unknown[]) => (abi as Array<{ type: string; name: string }>).filter((i) => i.type === 'error').map((e) => e.name);
    expect(errors(x402UptoPermit2ProxyABI)).toEqual(expect.arrayContaining(errors(compiled.LocalUptoPermit2Proxy!.abi)));
  });

  it('the typed ABI used by local/chain.ts is a subset of the compiled LocalPermit2 ABI', () => {
    expect(functionSignatures(compiled.LocalPermit2!.abi)).toEqual(expect.arrayContaining(functionSignatures(localPermit2Abi)));
  });

  it('LocalBatchSettlement has every function and the Settled event of the public x402 batch-settlement ABI, with the same signatures', () => {
    // The functions @x402/evm 2.27's batch-settlement client, server and facilitator call or read.
    const official = [
      'multicall(bytes[])',
      'deposit((address,address,address,address,address,uint40,bytes32),uint128,address,bytes)',
      'claim((((address,address,address,address,address,uint40,bytes32),uint128),bytes,uint128)[])',
      'claimWithSignature((((address,address,address,address,address,uint40,bytes32),uint128),bytes,uint128)[],bytes)',
      'settle(address,address)',
      'initiateWithdraw((address,address,address,address,address,uint40,bytes32),uint128)',
      'finalizeWithdraw((address,address,address,address,address,uint40,bytes32))',
      'refund((address,address,address,address,address,uint40,bytes32),uint128)',
      'refundWithSignature((address,address,address,address,address,uint40,bytes32),uint128,uint256,bytes)',
      'getChannelId((address,address,address,address,address,uint40,bytes32))',
      'CHANNEL_CONFIG_TYPEHASH()',
      'channels(bytes32)',
      'pendingWithdrawals(bytes32)',
      'receivers(address,address)',
      'getVoucherDigest(bytes32,uint128)',
      'getRefundDigest(bytes32,uint256,uint128)',
      'refundNonce(bytes32)',
      'getClaimBatchDigest((((address,address,address,address,address,uint40,bytes32),uint128),bytes,uint128)[])',
    ];
    const abi = compiled.LocalBatchSettlement!.abi;
    const normalize = (f: string) => f.replace(/ \w+(?=[,)])/g, '').replace(/\b(tuple)\b/g, '');
    expect(functionSignatures(abi).map(normalize)).toEqual(expect.arrayContaining(official));
    expect((abi as Array<{ type: string }>).filter((i) => i.type === 'event').map((e) => signature(e))).toContain('Settled(address,address,address,uint128)');
  });
});
