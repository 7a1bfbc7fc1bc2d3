/**
 * The local chain looks like Base Sepolia: chain id 84532, an EIP-3009 USDC (domain "USDC"/"2")
 * at Base Sepolia's USDC address, Multicall3's tryAggregate at its canonical address, and a
 * loopback JSON-RPC endpoint for other clients.
 */
import { authorizationTypes } from '@x402/evm';
import {
  createPublicClient,
  createWalletClient,
  custom,
  domainSeparator,
  encodeFunctionData,
  http,
  parseEther,
  parseSignature,
  toHex,
  type Address,
  type Hex,
  type PrivateKeyAccount,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import {
  LOCAL_USDC_ADDRESS,
  localUsdcAbi,
  MULTICALL3_ADDRESS,
  startLocalChain,
  type LocalChain,
} from '../../local/chain';

const PAY_TO: Address = '0x000000000000000000000000000000000000bEEF';


let chain: LocalChain;
let startMs: number;

beforeAll(async () => {
  const t = Date.now();
  chain = await startLocalChain();
  startMs = Date.now() - t;
});
afterAll(async () => {
  await chain?.close();
});

async function signAuthorization(payer: PrivateKeyAccount, value: bigint, opts: { validBefore?: bigint; signer?: PrivateKeyAccount } = {}) {
  const now = BigInt(Math.floor(Date.now() / 1000));
  const message = {
    from: payer.address,
    to: PAY_TO,
    value,
    validAfter: now - 600n,
    validBefore: opts.validBefore ?? now + 60n,
    nonce: toHex(crypto.getRandomValues(new Uint8Array(32))),
  };
  const signature = await (opts.signer ?? payer).signTypedData({
    domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: LOCAL_USDC_ADDRESS },
    types: authorizationTypes,
    primaryType: 'TransferWithAuthorization',
    message,
  });
  return { message, signature };
}

function senderWallet(account: PrivateKeyAccount) {
  return createWalletClient({ account, chain: chain.chain, transport: custom(chain.provider, { retryCount: 0 }) });
}

describe('local chain', () => {
  it('starts fast with chain id 84532', async () => {
    expect(startMs).toBeLessThan(5000);
    expect(await chain.publicClient.getChainId()).toBe(84532);
    expect(chain.network).toBe('eip155:84532');
    expect(chain.usdc).toBe('0x036CbD53842c5426634e7929541eC2318f3dCF7e');
  });

  it("has a USDC-like token at Base Sepolia's USDC address, with constant name/symbol and domain USDC/2", async () => {
    const read = <F extends 'name' | 'symbol' | 'decimals' | 'version' | 'DOMAIN_SEPARATOR'>(functionName: F) =>
      chain.publicClient.readContract({ address: chain.usdc, abi: localUsdcAbi, functionName });
    expect(await read('name')).toBe('USDC');
    expect(await read('symbol')).toBe('USDC');
    expect(await read('decimals')).toBe(6);
    expect(await read('version')).toBe('2');
    const { domain } = await chain.publicClient.getEip712Domain({ address: chain.usdc });
    expect(domain).toEqual({ name: 'USDC', version: '2', chainId: 84532, verifyingContract: chain.usdc, salt: expect.any(String) });
    // The separator is rebuilt for this address (the code was deployed elsewhere, then moved).
    expect(await read('DOMAIN_SEPARATOR')).toBe(
      domainSeparator({ domain: { name: 'USDC', version: '2', chainId: 84532, verifyingContract: chain.usdc } }),
    );
  });

  it('has Multicall3 tryAggregate at the canonical address', async () => {
    const result = await chain.publicClient.readContract({
      address: MULTICALL3_ADDRESS,
      abi: [
        {
          type: 'function',
          name: 'tryAggregate',
          stateMutability: 'view', // payable on chain; declared view to read it with eth_call
          inputs: [
            { name: 'requireSuccess', type: 'bool' },
            { name: 'calls', type: 'tuple[]', components: [{ name: 'target', type: 'address' }, { name: 'callData', type: 'bytes' }] },
          ],
          outputs: [{ name: '', type: 'tuple[]', components: [{ name: 'success', type: 'bool' }, { name: 'returnData', type: 'bytes' }] }],
        },
      ] as const,
      functionName: 'tryAggregate',
      args: [
        false,
        [
          { target: chain.usdc, callData: encodeFunctionData({ abi: localUsdcAbi, functionName: 'decimals' }) },
          // No such function: reverts, reported as success=false.
          { target: chain.usdc, callData: '0xdeadbeef' },
        ],
      ],
    });
    expect(result.map((r) => r.success)).toEqual([true, false]);
    expect(BigInt(result[0]!.returnData)).toBe(6n);
  });

  it('funds fresh wallets with USDC, also concurrently', async () => {
    const wallets = await Promise.all(Array.from({ length: 10 }, (_, i) => chain.newFundedWallet(BigInt(1000 + i))));
    expect(new Set(wallets.map((w) => w.address)).size).toBe(10);
    const balances = await Promise.all(wallets.map((w) => chain.usdcBalance(w.address)));
    expect(balances).toEqual(wallets.map((_, i) => BigInt(1000 + i)));
    expect(await chain.publicClient.getBalance({ address: wallets[0]!.address })).toBe(0n);
    const withEth = await chain.newFundedWallet(5n, { ethWei: parseEther('1') });
    expect(await chain.publicClient.getBalance({ address: withEth.address })).toBe(parseEther('1'));
  });

  it('settles EIP-3009 authorizations with both the (v,r,s) and the bytes-signature overloads', async () => {
    const payer = await chain.newFundedWallet(1_000_000n);
    const relayer = senderWallet(await chain.newFundedWallet(0n, { ethWei: parseEther('1') }));
    const before = await chain.settledTransfers();

    const a = await signAuthorization(payer, 1000n);
    const { v, r, s } = parseSignature(a.signature);
    const m = a.message;
    const tx1 = await relayer.writeContract({
      address: chain.usdc,
      abi: localUsdcAbi,
      functionName: 'transferWithAuthorization',
      args: [m.from, m.to, m.value, m.validAfter, m.validBefore, m.nonce, Number(v), r, s],
    });
    const b = await signAuthorization(payer, 2000n);
    const n = b.message;
    const tx2 = await relayer.writeContract({
      address: chain.usdc,
      abi: localUsdcAbi,
      functionName: 'transferWithAuthorization',
      args: [n.from, n.to, n.value, n.validAfter, n.validBefore, n.nonce, b.signature],
    });
    for (const hash of [tx1, tx2]) expect((await chain.publicClient.getTransactionReceipt({ hash })).status).toBe('success');

    expect(await chain.usdcBalance(payer.address)).toBe(1_000_000n - 3000n);
    expect(await chain.authorizationUsed(payer.address, m.nonce)).toBe(true);
    expect(await chain.authorizationUsed(payer.address, n.nonce)).toBe(true);
    expect(await chain.authorizationUsed(payer.address, toHex(1n, { size: 32 }))).toBe(false);

    const after = await chain.settledTransfers();
    expect(after.slice(before.length)).toEqual([
      { txHash: tx1, blockNumber: expect.any(BigInt), from: payer.address, to: PAY_TO, value: 1000n, nonce: m.nonce, scheme: 'exact' },
      { txHash: tx2, blockNumber: expect.any(BigInt), from: payer.address, to: PAY_TO, value: 2000n, nonce: n.nonce, scheme: 'exact' },
    ]);
  });

  it("rejects replays, expired authorizations and wrong signers with FiatToken's reason wording", async () => {
    const payer = await chain.newFundedWallet(1_000_000n);
    const relayer = senderWallet(await chain.newFundedWallet(0n, { ethWei: parseEther('1') }));
    const send = (auth: { message: Awaited<ReturnType<typeof signAuthorization>>['message']; signature: Hex }) => {
      const m = auth.message;
      return relayer.writeContract({
        address: chain.usdc,
        abi: localUsdcAbi,
        functionName: 'transferWithAuthorization',
        args: [m.from, m.to, m.value, m.validAfter, m.validBefore, m.nonce, auth.signature],
      });
    };
    const ok = await signAuthorization(payer, 10n);
    await send(ok);
    await expect(send(ok)).rejects.toThrow(/authorization is used or canceled/);
    const now = BigInt(Math.floor(Date.now() / 1000));
    await expect(send(await signAuthorization(payer, 10n, { validBefore: now - 1n }))).rejects.toThrow(/authorization is expired/);
    const mallory = privateKeyToAccount(generatePrivateKey());
    await expect(send(await signAuthorization(payer, 10n, { signer: mallory }))).rejects.toThrow(/invalid signature/);
    await expect(send(await signAuthorization(payer, 10_000_000n))).rejects.toThrow(/transfer amount exceeds balance/);
  });

  it('serves JSON-RPC on a loopback URL, single and batch', async () => {
    expect(chain.rpcUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const remote = createPublicClient({ chain: chain.chain, transport: http(chain.rpcUrl, { retryCount: 0 }) });
    const payer = await chain.newFundedWallet(4242n);
    expect(await remote.getChainId()).toBe(84532);
    expect(await remote.readContract({ address: chain.usdc, abi: localUsdcAbi, functionName: 'balanceOf', args: [payer.address] })).toBe(4242n);
    // Reverts travel as JSON-RPC errors with the reason.
    await expect(
      remote.simulateContract({
        address: chain.usdc,
        abi: localUsdcAbi,
        functionName: 'transferWithAuthorization',
        args: [payer.address, PAY_TO, 1n, 0n, 0n, toHex(0n, { size: 32 }), '0x'],
        account: payer.address,
      }),
    ).rejects.toThrow(/authorization is expired/);

    const res = await fetch(chain.rpcUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([
        { jsonrpc: '2.0', id: 1, method: 'eth_chainId' },
        { jsonrpc: '2.0', id: 2, method: 'no_such_method' },
      ]),
    });
    const batch = (await res.json()) as Array<{ id: number; result?: string; error?: { code: number } }>;
    expect(batch[0]).toEqual({ jsonrpc: '2.0', id: 1, result: '0x14a34' });
    expect(batch[1]!.error).toBeDefined();
    expect((await fetch(chain.rpcUrl, { method: 'POST', body: 'nope' })).status).toBe(400);
  });

  it('runs independent chains side by side in one process', async () => {
    const other = await startLocalChain();
    try {
      const w = await other.newFundedWallet(77n);
      expect(await other.usdcBalance(w.address)).toBe(77n);
      expect(await chain.usdcBalance(w.address)).toBe(0n);
      expect(other.facilitatorAccount.address).not.toBe(chain.facilitatorAccount.address);
    } finally {
      await other.close();
    }
  });
});
