/**
 * The x402 `upto` scheme end to end on the local chain, with the official packages only: the
 * upto server builds its requirements from the local facilitator's `/supported`, the upto client
 * (as the demo agent's client in local/agent.ts registers it) signs a Permit2 witness transfer for
 * a maximum, and the local facilitator (over HTTP) verifies it and settles the actual amount
 * through LocalUptoPermit2Proxy and LocalPermit2 at their canonical addresses.
 */
import { HTTPFacilitatorClient } from '@x402/core/http';
import { x402ResourceServer } from '@x402/core/server';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { x402UptoPermit2ProxyABI, type UptoPermit2Payload } from '@x402/evm';
import { UptoEvmScheme as UptoServerScheme } from '@x402/evm/upto/server';
import { getAddress, toFunctionSelector, type Address, type Hex, type PrivateKeyAccount } from 'viem';
import { LOCAL_PERMIT2_ADDRESS, LOCAL_UPTO_PROXY_ADDRESS, startLocalChain, type LocalChain } from '../../local/chain';
import { officialClientFor } from '../../local/agent';
import { startLocalFacilitator, type LocalFacilitator } from '../../local/facilitator';

const PAY_TO: Address = '0x000000000000000000000000000000000000bEEF';
const MAXIMUM = 5000n; // $0.005

let chain: LocalChain;
let fac: LocalFacilitator;
let http: HTTPFacilitatorClient;
let server: x402ResourceServer;
let maxRequirements: PaymentRequirements;

beforeAll(async () => {
  chain = await startLocalChain();
  fac = await startLocalFacilitator(chain);
  http = new HTTPFacilitatorClient({ url: fac.url, timeoutMs: 5000 });
  server = new x402ResourceServer(http).register(chain.network, new UptoServerScheme());
  await server.initialize();
  [maxRequirements] = await server.buildPaymentRequirements({ scheme: 'upto', network: chain.network, price: '$0.005', payTo: PAY_TO, maxTimeoutSeconds: 60 });
});
afterAll(async () => {
  await fac?.close();
  await chain?.close();
});

/** A payer with 1 USDC and its one-time Permit2 approval, as in the demo setup. */
async function approvedPayer(): Promise<PrivateKeyAccount> {
  const payer = await chain.newFundedWallet(1_000_000n);
  await chain.approvePermit2(payer);
  return payer;
}

/** The demo agent's official client (exact and upto) signs for the maximum. */
function sign(payer: PrivateKeyAccount, req = maxRequirements): Promise<PaymentPayload> {
  return officialClientFor(payer).createPaymentPayload({ x402Version: 2, resource: { url: 'http://127.0.0.1/metered' }, accepts: [req] });
}

const authorizationOf = (p: PaymentPayload) => (p.payload as unknown as UptoPermit2Payload).permit2Authorization;
const settleAt = (payload: PaymentPayload, amount: bigint) => http.settle(payload, { ...maxRequirements, amount: amount.toString() });

async function balances(payer: Address): Promise<{ payer: bigint; payTo: bigint }> {
  return { payer: await chain.usdcBalance(payer), payTo: await chain.usdcBalance(PAY_TO) };
}

/** The proxy's `settle` arguments for a signed payload, as the facilitator passes them. */
function proxySettleArgs(payload: PaymentPayload, amount: bigint, witnessTo?: Address) {
  const auth = authorizationOf(payload);
  return [
    { permitted: { token: getAddress(auth.permitted.token), amount: BigInt(auth.permitted.amount) }, nonce: BigInt(auth.nonce), deadline: BigInt(auth.deadline) },
    amount,
    getAddress(auth.from),
    { to: witnessTo ?? getAddress(auth.witness.to), facilitator: getAddress(auth.witness.facilitator), validAfter: BigInt(auth.witness.validAfter) },
    (payload.payload as unknown as UptoPermit2Payload).signature as Hex,
  ] as const;
}

describe('upto on the local chain (official client, server and facilitator)', () => {
  it('/supported lists upto on eip155:84532 with the facilitator address, which the upto server puts into its requirements', async () => {
    const supported = await http.getSupported();
    expect(supported.kinds).toContainEqual({ x402Version: 2, scheme: 'upto', network: 'eip155:84532', extra: { facilitatorAddress: chain.facilitatorAccount.address } });
    expect(maxRequirements).toEqual({
      scheme: 'upto',
      network: 'eip155:84532',
      amount: MAXIMUM.toString(),
      asset: chain.usdc,
      payTo: PAY_TO,
      maxTimeoutSeconds: 60,
      extra: { name: 'USDC', version: '2', assetTransferMethod: 'permit2', facilitatorAddress: chain.facilitatorAccount.address },
    });
  });

  it('approvePermit2 is the payer\'s own approve transaction; its ETH balance is unchanged', async () => {
    const payer = await chain.newFundedWallet(1_000_000n);
    expect(await chain.permit2Allowance(payer.address)).toBe(0n);
    const hash = await chain.approvePermit2(payer);
    const tx = await chain.publicClient.getTransaction({ hash });
    expect(getAddress(tx.from)).toBe(payer.address);
    expect(getAddress(tx.to!)).toBe(chain.usdc);
    expect(await chain.permit2Allowance(payer.address)).toBe(2n ** 256n - 1n);
    expect(await chain.publicClient.getBalance({ address: payer.address })).toBe(0n);
  });

  it('settles an actual amount below the maximum (settlementOverrides of the official server), exactly once', async () => {
    const payer = await approvedPayer();
    const payload = await sign(payer);
    const auth = authorizationOf(payload);
    expect(auth).toMatchObject({ from: payer.address, spender: LOCAL_UPTO_PROXY_ADDRESS, permitted: { token: chain.usdc, amount: '5000' }, witness: { to: PAY_TO, facilitator: chain.facilitatorAccount.address } });
    const before = await balances(payer.address);

    expect(await server.verifyPayment(payload, maxRequirements)).toMatchObject({ isValid: true, payer: payer.address });
    const settled = await server.settlePayment(payload, maxRequirements, undefined, undefined, { amount: '1234' });
    expect(settled).toMatchObject({ success: true, network: 'eip155:84532', payer: payer.address, amount: '1234' });

    const tx = await chain.publicClient.getTransaction({ hash: settled.transaction as Hex });
    expect(getAddress(tx.from)).toBe(chain.facilitatorAccount.address);
    expect(getAddress(tx.to!)).toBe(LOCAL_UPTO_PROXY_ADDRESS);
    expect(await balances(payer.address)).toEqual({ payer: before.payer - 1234n, payTo: before.payTo + 1234n });
    expect(await chain.permit2NonceUsed(payer.address, BigInt(auth.nonce))).toBe(true);

    // The Permit2 nonce is spent: neither the rest of the maximum nor a re-verify passes.
    expect(await settleAt(payload, 1234n)).toMatchObject({ success: false, errorReason: 'permit2_simulation_failed', transaction: '' });
    expect(await settleAt(payload, MAXIMUM - 1234n)).toMatchObject({ success: false, transaction: '' });
    expect(await http.verify(payload, maxRequirements)).toMatchObject({ isValid: false, invalidReason: 'permit2_simulation_failed' });
    expect(await balances(payer.address)).toEqual({ payer: before.payer - 1234n, payTo: before.payTo + 1234n });
  });

  it('settles exactly the maximum', async () => {
    const payer = await approvedPayer();
    const payload = await sign(payer);
    const before = await balances(payer.address);
    expect(await http.verify(payload, maxRequirements)).toMatchObject({ isValid: true });
    expect(await settleAt(payload, MAXIMUM)).toMatchObject({ success: true, amount: MAXIMUM.toString() });
    expect(await balances(payer.address)).toEqual({ payer: before.payer - MAXIMUM, payTo: before.payTo + MAXIMUM });
  });

  it('refuses an amount above the maximum without spending the authorization, which still settles within it', async () => {
    const payer = await approvedPayer();
    const payload = await sign(payer);
    const before = await balances(payer.address);
    expect(await settleAt(payload, MAXIMUM + 1n)).toMatchObject({ success: false, errorReason: 'invalid_upto_evm_payload_settlement_exceeds_amount', transaction: '' });
    expect(await balances(payer.address)).toEqual(before);
    expect(await chain.permit2NonceUsed(payer.address, BigInt(authorizationOf(payload).nonce))).toBe(false);

    expect(await settleAt(payload, 1n)).toMatchObject({ success: true, amount: '1' });
    expect(await balances(payer.address)).toEqual({ payer: before.payer - 1n, payTo: before.payTo + 1n });
  });

  it('settles 0 as success without a transaction, leaving the authorization unspent', async () => {
    const payer = await approvedPayer();
    const payload = await sign(payer);
    const before = await balances(payer.address);
    expect(await settleAt(payload, 0n)).toMatchObject({ success: true, transaction: '', amount: '0' });
    expect(await balances(payer.address)).toEqual(before);
    expect(await chain.permit2NonceUsed(payer.address, BigInt(authorizationOf(payload).nonce))).toBe(false);
  });

  it('tells a payer without the Permit2 approval that it is required', async () => {
    const payer = await chain.newFundedWallet(1_000_000n);
    const payload = await sign(payer);
    expect(await http.verify(payload, maxRequirements)).toMatchObject({ isValid: false, invalidReason: 'permit2_allowance_required' });
    expect(await settleAt(payload, 1000n)).toMatchObject({ success: false, errorReason: 'permit2_allowance_required' });
  });

  it('answers 400 invalid_payload to an upto payment that is not a Permit2 witness authorization', async () => {
    const payload = await sign(await approvedPayer());
    const { permit2Authorization, signature } = payload.payload as unknown as UptoPermit2Payload;
    const { witness: _witness, ...withoutWitness } = permit2Authorization;
    for (const inner of [{ signature, authorization: permit2Authorization }, { signature, permit2Authorization: withoutWitness }]) {
      const res = await fetch(`${fac.url}/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ x402Version: 2, paymentPayload: { ...payload, payload: inner }, paymentRequirements: maxRequirements }),
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ isValid: false, invalidReason: 'invalid_payload' });
    }
  });

  it('the contracts themselves refuse another caller, more than the maximum and a changed payee', async () => {
    const payer = await approvedPayer();
    const payload = await sign(payer);
    const simulate = (from: Address, args: ReturnType<typeof proxySettleArgs>) =>
      chain.publicClient.simulateContract({ account: from, address: LOCAL_UPTO_PROXY_ADDRESS, abi: x402UptoPermit2ProxyABI, functionName: 'settle', args });
    // The in-process node reports custom errors by their selector only.
    const revertsWith = (error: string) => new RegExp(`return data: ${toFunctionSelector(`${error}()`)}`);
    const facilitator = chain.facilitatorAccount.address;

    await expect(simulate(payer.address, proxySettleArgs(payload, 1000n))).rejects.toThrow(revertsWith('UnauthorizedFacilitator'));
    await expect(simulate(facilitator, proxySettleArgs(payload, MAXIMUM + 1n))).rejects.toThrow(revertsWith('AmountExceedsPermitted'));
    // The witness hash is rebuilt from the fields passed in: another payee breaks the signature.
    await expect(simulate(facilitator, proxySettleArgs(payload, 1000n, '0x000000000000000000000000000000000000dEaD'))).rejects.toThrow(revertsWith('InvalidSigner'));
    await expect(simulate(facilitator, proxySettleArgs(payload, 1000n))).resolves.toBeDefined();
    expect(await chain.publicClient.readContract({ address: LOCAL_UPTO_PROXY_ADDRESS, abi: x402UptoPermit2ProxyABI, functionName: 'PERMIT2' })).toBe(LOCAL_PERMIT2_ADDRESS);
  });
});
