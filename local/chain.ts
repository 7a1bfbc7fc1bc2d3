/**
 * A local, in-process blockchain that looks like Base Sepolia to x402 software:
 * chain id 84532, a USDC-like EIP-3009 token at Base Sepolia's USDC address (EIP-712 domain
 * "USDC" / "2"), Multicall3's `tryAggregate`, Permit2's witness transfer, the x402 `upto`
 * Permit2 proxy and the x402 `batch-settlement` contract with its ERC-3009 deposit collector at
 * their canonical addresses. The official x402 clients therefore pay it with their
 * defaults (no spend controls), v1 clients with the network name `base-sepolia`, v2 clients with
 * `eip155:84532`, `upto` clients once the payer allowed Permit2 ({@link LocalChain.approvePermit2}).
 *
 * The chain is Hardhat 2's EDR network created directly from an in-memory config (no
 * hardhat.config file, independent of the current directory), so several independent chains can
 * run in one process. By default blocks are mined on every transaction (automine); with
 * `blockTimeMs` (or `setBlockTime`) a block is mined every so often instead, as on Base (2 s), and
 * a settlement waits in the mempool for it. Blocks may share a timestamp, so chain time follows
 * the wall clock and authorizations don't expire during long runs.
 *
 * ```ts
 * const chain = await startLocalChain();
 * const payer = await chain.newFundedWallet(1_000_000n); // 1 USDC
 * // ... pay with @x402/fetch or x402-fetch, settle through local/facilitator.ts ...
 * await chain.close();
 * ```
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolveConfig } from 'hardhat/internal/core/config/config-resolution';
import { createProvider } from 'hardhat/internal/core/providers/construction';
import {
  createPublicClient,
  createWalletClient,
  custom,
  decodeFunctionData,
  defineChain,
  encodeFunctionData,
  getAddress,
  parseEther,
  numberToHex,
  parseAbi,
  parseAbiItem,
  parseEventLogs,
  toHex,
  type Address,
  type Chain,
  type Hex,
  type PrivateKeyAccount,
  type PublicClient,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { BATCH_SETTLEMENT_ADDRESS, createPermit2ApprovalTx, ERC3009_DEPOSIT_COLLECTOR_ADDRESS, PERMIT2_ADDRESS, x402UptoPermit2ProxyABI, x402UptoPermit2ProxyAddress } from '@x402/evm';
import { permit2NonceAbi } from '../cli/chain';
import LocalMulticallArtifact from './contracts/LocalMulticall.json';
import LocalPermit2Artifact from './contracts/LocalPermit2.json';
import LocalUptoPermit2ProxyArtifact from './contracts/LocalUptoPermit2Proxy.json';
import LocalBatchSettlementArtifact from './contracts/LocalBatchSettlement.json';
import LocalErc3009DepositCollectorArtifact from './contracts/LocalErc3009DepositCollector.json';
import LocalUSDCArtifact from './contracts/LocalUSDC.json';
import { keepIdleConnections } from './idle-connections';

export const LOCAL_CHAIN_ID = 84532 as const;
/** CAIP-2 id used by x402 v2. */
export const LOCAL_NETWORK = 'eip155:84532' as const;
/** Network name used by x402 v1. */
export const LOCAL_NETWORK_V1 = 'base-sepolia' as const;
/** Base Sepolia's USDC address, where the local token's code is installed. */
export const LOCAL_USDC_ADDRESS: Address = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';
/** EIP-712 domain of Base Sepolia USDC: goes into PaymentRequirements.extra. */
export const LOCAL_USDC_EIP712 = { name: 'USDC', version: '2' } as const;
export const LOCAL_USDC_DECIMALS = 6;
/** Canonical Multicall3 address; the x402 facilitator's failure diagnostics call `tryAggregate` there. */
export const MULTICALL3_ADDRESS: Address = '0xcA11bde05977b3631167028862bE2a173976CA11';
/** Permit2's canonical address (the one @x402/evm signs for); LocalPermit2's code is installed there. */
export const LOCAL_PERMIT2_ADDRESS: Address = PERMIT2_ADDRESS;
/** The x402 upto Permit2 proxy's canonical address (the `upto` spender); LocalUptoPermit2Proxy's code is installed there. */
export const LOCAL_UPTO_PROXY_ADDRESS: Address = x402UptoPermit2ProxyAddress;
/** The x402 batch-settlement contract's canonical address; LocalBatchSettlement's code is installed there. */
export const LOCAL_BATCH_SETTLEMENT_ADDRESS: Address = BATCH_SETTLEMENT_ADDRESS;
/** The batch-settlement ERC-3009 deposit collector's canonical address; LocalErc3009DepositCollector's code is installed there. */
export const LOCAL_ERC3009_DEPOSIT_COLLECTOR_ADDRESS: Address = ERC3009_DEPOSIT_COLLECTOR_ADDRESS;

/**
 * Typed ABI of the token functions and events this kit uses (a subset of LocalUSDC.json's ABI;
 * the artifact test checks that every entry exists in the compiled contract).
 */
export const localUsdcAbi = parseAbi([
  'function name() view returns (string)',
  'function symbol() view returns (string)',
  'function decimals() view returns (uint8)',
  'function version() view returns (string)',
  'function totalSupply() view returns (uint256)',
  'function balanceOf(address account) view returns (uint256)',
  'function transfer(address to, uint256 value) returns (bool)',
  'function allowance(address owner, address spender) view returns (uint256)',
  'function mint(address to, uint256 value)',
  'function authorizationState(address authorizer, bytes32 nonce) view returns (bool)',
  'function DOMAIN_SEPARATOR() view returns (bytes32)',
  'function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s)',
  'function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, bytes signature)',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
  'event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)',
]);

/** Typed ABI of the Permit2 reads this kit uses, cdk-x402 reconcile's (checked against LocalPermit2.json by the artifact test). */
export const localPermit2Abi = permit2NonceAbi;

/** The minimal EIP-1193 surface of the in-process provider. */
export interface Eip1193Provider {
  request(args: { method: string; params?: readonly unknown[] | object }): Promise<unknown>;
}

export interface SettledTransfer {
  readonly txHash: Hex;
  readonly blockNumber: bigint;
  readonly from: Address;
  readonly to: Address;
  readonly value: bigint;
  readonly nonce: Hex;
  /** `exact`: an EIP-3009 transferWithAuthorization; `upto`: a Permit2 transfer by the x402 upto proxy. */
  readonly scheme: 'exact' | 'upto';
}

export interface LocalChain {
  readonly chainId: typeof LOCAL_CHAIN_ID;
  readonly network: typeof LOCAL_NETWORK;
  readonly networkV1: typeof LOCAL_NETWORK_V1;
  /** Token address (Base Sepolia USDC's). */
  readonly usdc: Address;
  /** viem chain definition whose default RPC URL is {@link rpcUrl}. */
  readonly chain: Chain;
  /** The in-process provider itself (also accepts hardhat_* / evm_* methods, e.g. evm_increaseTime). */
  readonly provider: Eip1193Provider;
  /** viem public client over the in-process provider. */
  readonly publicClient: PublicClient;
  /** Random key, funded with 10,000 ETH at genesis; the facilitator settles with it. */
  readonly facilitatorAccount: PrivateKeyAccount;
  /** Loopback JSON-RPC endpoint (http://127.0.0.1:<random port>) forwarding to the provider. */
  readonly rpcUrl: string;
  /**
   * Fault injection for tests: the next `times` (default: every) calls of these JSON-RPC methods,
   * from anyone using {@link provider} or {@link rpcUrl} (the facilitator included), fail with an
   * RPC error instead of reaching the chain; `undefined` clears it. E.g. `eth_getTransactionReceipt`
   * fails a settlement after its transaction was mined, `eth_sendRawTransaction` before it is sent.
   */
  setRpcFault(fault: RpcFault | undefined): void;
  /** How often this JSON-RPC method was called so far, by anyone using {@link provider} or {@link rpcUrl}. */
  rpcCalls(method: string): number;
  /** A fresh random key with `usdcAtomic` minted to it (and `ethWei` of ETH if given; payers need none). */
  newFundedWallet(usdcAtomic: bigint, opts?: { ethWei?: bigint }): Promise<PrivateKeyAccount>;
  /** Mints `usdcAtomic` to any address. */
  mint(to: Address, usdcAtomic: bigint): Promise<void>;
  usdcBalance(address: Address): Promise<bigint>;
  /**
   * The payer's one-time ERC-20 `approve(Permit2, max)`, which `upto` payments need: a real
   * transaction signed by `account`. The chain lends it the gas (its ETH balance is the same
   * afterwards); on a real network the payer pays ~46k gas once. Returns the transaction hash.
   */
  approvePermit2(account: PrivateKeyAccount): Promise<Hex>;
  /** The token allowance `owner` gave Permit2 (max uint256 after {@link approvePermit2}). */
  permit2Allowance(owner: Address): Promise<bigint>;
  /** Permit2's unordered nonce bitmap: true once `nonce` of `owner` was used by a witness transfer. */
  permit2NonceUsed(owner: Address, nonce: bigint): Promise<boolean>;
  /** EIP-3009 `authorizationState`: true once the nonce was used (or canceled). */
  authorizationUsed(payer: Address, nonce: Hex): Promise<boolean>;
  /**
   * Every settlement since block 0 by block (for reconciliation): each AuthorizationUsed + Transfer
   * pair, and each upto proxy settlement with its Permit2 nonce (as the receipts write it, 32 bytes).
   */
  settledTransfers(): Promise<SettledTransfer[]>;
  /** The interval between blocks in ms, or undefined when every transaction is mined at once. */
  readonly blockTimeMs: number | undefined;
  /**
   * Switches mining: a block every `ms` (transactions wait for it, like Base's 2 s blocks), or
   * `undefined` for one block per transaction. Transactions waiting in the mempool are mined first.
   */
  setBlockTime(ms: number | undefined): Promise<void>;
  close(): Promise<void>;
}

export interface RpcFault {
  readonly methods: readonly string[];
  readonly times?: number;
}

export interface LocalChainOptions {
  /** Port of the loopback JSON-RPC endpoint; 0 (default) picks a free one. */
  readonly rpcPort?: number;
  /** Facilitator private key; random by default. */
  readonly facilitatorKey?: Hex;
  /** Mine a block every this many ms (Base: {@link BASE_BLOCK_TIME_MS}) instead of one per transaction. */
  readonly blockTimeMs?: number;
}

/** Base's block time (mainnet and Sepolia). */
export const BASE_BLOCK_TIME_MS = 2000;

const GENESIS_ETH = parseEther('10000');
/** Far more than an approve costs at the local chain's gas price; returned after the approval. */
const APPROVAL_GAS_LOAN_WEI = parseEther('1');

/** Starts a fresh chain (~0.3 s). Call close() when done so the RPC endpoint stops listening. */
export async function startLocalChain(opts: LocalChainOptions = {}): Promise<LocalChain> {
  checkBlockTime(opts.blockTimeMs);
  const facilitatorKey = opts.facilitatorKey ?? generatePrivateKey();
  const facilitatorAccount = privateKeyToAccount(facilitatorKey);
  // The funder is owned by the node (it signs eth_sendTransaction itself and assigns nonces
  // atomically), so concurrent mints never collide with each other or with the facilitator.
  const funderKey = generatePrivateKey();
  const funder = privateKeyToAccount(funderKey).address;

  // resolveConfig needs an existing file path only to derive project paths (unused: no forking).
  const config = resolveConfig(__filename, {
    networks: {
      hardhat: {
        chainId: LOCAL_CHAIN_ID,
        allowBlocksWithSameTimestamp: true,
        mining: { auto: true, interval: 0 },
        accounts: [facilitatorKey, funderKey].map((privateKey) => ({ privateKey, balance: GENESIS_ETH.toString() })),
      },
    },
  });
  const node: Eip1193Provider = await createProvider(config, 'hardhat');
  let rpcFault: { methods: readonly string[]; remaining: number } | undefined;
  const rpcCalls = new Map<string, number>();
  const provider: Eip1193Provider = {
    request(args) {
      rpcCalls.set(args.method, (rpcCalls.get(args.method) ?? 0) + 1);
      if (rpcFault?.methods.includes(args.method) && rpcFault.remaining > 0) {
        if (--rpcFault.remaining === 0) rpcFault = undefined;
        return Promise.reject(Object.assign(new Error(`injected RPC fault: ${args.method} failed`), { code: -32603 }));
      }
      return node.request(args);
    },
  };

  let blockTimeMs: number | undefined;
  const setBlockTime = async (ms: number | undefined): Promise<void> => {
    checkBlockTime(ms);
    if (ms === undefined) {
      await provider.request({ method: 'evm_setIntervalMining', params: [0] });
      await provider.request({ method: 'evm_setAutomine', params: [true] });
      // Automine covers new transactions only: mine those that waited for the next interval.
      const pending = (await provider.request({ method: 'eth_getBlockByNumber', params: ['pending', false] })) as { transactions: unknown[] } | null;
      if (pending && pending.transactions.length > 0) await provider.request({ method: 'evm_mine' });
    } else {
      await provider.request({ method: 'evm_setAutomine', params: [false] });
      await provider.request({ method: 'evm_setIntervalMining', params: [ms] });
    }
    blockTimeMs = ms;
  };

  /** Sends from the funder and returns once the transaction is mined (at once with automine, else in the next block). */
  const send = async (tx: { to?: Address; data: Hex; value?: bigint }): Promise<{ contractAddress: Address | null }> => {
    const hash = (await provider.request({
      method: 'eth_sendTransaction',
      params: [{ from: funder, data: tx.data, ...(tx.to ? { to: tx.to } : {}), ...(tx.value ? { value: toHex(tx.value) } : {}) }],
    })) as Hex;
    for (;;) {
      const receipt = (await provider.request({ method: 'eth_getTransactionReceipt', params: [hash] })) as { contractAddress: Address | null; status: Hex } | null;
      if (receipt) {
        if (receipt.status !== '0x1') throw new Error(`local chain: transaction ${hash} reverted`);
        return receipt;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  // Deploy once to get the runtime code with its immutables (EIP-712 name/version, chain id)
  // filled in, then move that code to the USDC address and clear the deploy address.
  const deployed = await send({ data: LocalUSDCArtifact.bytecode as Hex });
  if (!deployed.contractAddress) throw new Error('LocalUSDC deployment failed: no contract address');
  const runtime = (await provider.request({ method: 'eth_getCode', params: [deployed.contractAddress, 'latest'] })) as Hex;
  await provider.request({ method: 'hardhat_setCode', params: [LOCAL_USDC_ADDRESS, runtime] });
  await provider.request({ method: 'hardhat_setCode', params: [deployed.contractAddress, '0x'] });
  // These have no constructor and no immutables: their solc runtime code works at any address.
  await provider.request({ method: 'hardhat_setCode', params: [MULTICALL3_ADDRESS, LocalMulticallArtifact.deployedBytecode] });
  await provider.request({ method: 'hardhat_setCode', params: [LOCAL_PERMIT2_ADDRESS, LocalPermit2Artifact.deployedBytecode] });
  await provider.request({ method: 'hardhat_setCode', params: [LOCAL_UPTO_PROXY_ADDRESS, LocalUptoPermit2ProxyArtifact.deployedBytecode] });
  await provider.request({ method: 'hardhat_setCode', params: [LOCAL_BATCH_SETTLEMENT_ADDRESS, LocalBatchSettlementArtifact.deployedBytecode] });
  await provider.request({ method: 'hardhat_setCode', params: [LOCAL_ERC3009_DEPOSIT_COLLECTOR_ADDRESS, LocalErc3009DepositCollectorArtifact.deployedBytecode] });

  const rpc = await serveJsonRpc(provider, opts.rpcPort ?? 0);
  const chain = defineChain({
    id: LOCAL_CHAIN_ID,
    name: 'Base Sepolia (local)',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpc.url] } },
    testnet: true,
  });
  const publicClient = createPublicClient({ chain, transport: custom(provider, { retryCount: 0 }), pollingInterval: 50 });

  const mint = async (to: Address, usdcAtomic: bigint): Promise<void> => {
    await send({ to: LOCAL_USDC_ADDRESS, data: encodeFunctionData({ abi: localUsdcAbi, functionName: 'mint', args: [to, usdcAtomic] }) });
  };

  if (opts.blockTimeMs !== undefined) await setBlockTime(opts.blockTimeMs);

  let closed = false;
  return {
    chainId: LOCAL_CHAIN_ID,
    network: LOCAL_NETWORK,
    networkV1: LOCAL_NETWORK_V1,
    usdc: LOCAL_USDC_ADDRESS,
    chain,
    provider,
    publicClient: publicClient as PublicClient,
    facilitatorAccount,
    rpcUrl: rpc.url,
    setRpcFault(fault) {
      rpcFault = fault ? { methods: fault.methods, remaining: fault.times ?? Infinity } : undefined;
    },
    rpcCalls: (method) => rpcCalls.get(method) ?? 0,
    mint,
    async newFundedWallet(usdcAtomic, walletOpts = {}) {
      const account = privateKeyToAccount(generatePrivateKey());
      if (usdcAtomic > 0n) await mint(account.address, usdcAtomic);
      if (walletOpts.ethWei) await provider.request({ method: 'hardhat_setBalance', params: [account.address, toHex(walletOpts.ethWei)] });
      return account;
    },
    async usdcBalance(address) {
      return publicClient.readContract({ address: LOCAL_USDC_ADDRESS, abi: localUsdcAbi, functionName: 'balanceOf', args: [address] });
    },
    async approvePermit2(account) {
      const wallet = createWalletClient({ account, chain, transport: custom(provider, { retryCount: 0 }), pollingInterval: 50 });
      const ethBefore = await publicClient.getBalance({ address: account.address });
      await provider.request({ method: 'hardhat_setBalance', params: [account.address, toHex(ethBefore + APPROVAL_GAS_LOAN_WEI)] });
      const hash = await wallet.sendTransaction(createPermit2ApprovalTx(LOCAL_USDC_ADDRESS));
      const receipt = await publicClient.waitForTransactionReceipt({ hash });
      if (receipt.status !== 'success') throw new Error(`local chain: Permit2 approval ${hash} reverted`);
      await provider.request({ method: 'hardhat_setBalance', params: [account.address, toHex(ethBefore)] });
      return hash;
    },
    async permit2Allowance(owner) {
      return publicClient.readContract({ address: LOCAL_USDC_ADDRESS, abi: localUsdcAbi, functionName: 'allowance', args: [owner, LOCAL_PERMIT2_ADDRESS] });
    },
    async permit2NonceUsed(owner, nonce) {
      const word = await publicClient.readContract({ address: LOCAL_PERMIT2_ADDRESS, abi: localPermit2Abi, functionName: 'nonceBitmap', args: [owner, nonce >> 8n] });
      return ((word >> (nonce & 0xffn)) & 1n) === 1n;
    },
    async authorizationUsed(payer, nonce) {
      return publicClient.readContract({ address: LOCAL_USDC_ADDRESS, abi: localUsdcAbi, functionName: 'authorizationState', args: [payer, nonce] });
    },
    async settledTransfers() {
      const logs = await publicClient.getLogs({ address: LOCAL_USDC_ADDRESS, fromBlock: 0n, toBlock: 'latest' });
      const events = parseEventLogs({ abi: localUsdcAbi, logs, eventName: ['AuthorizationUsed', 'Transfer'] });
      const out: SettledTransfer[] = [];
      for (const ev of events) {
        if (ev.eventName !== 'AuthorizationUsed') continue;
        // The token emits Transfer right after AuthorizationUsed in the same transaction.
        const transfer = events.find(
          (t) => t.eventName === 'Transfer' && t.transactionHash === ev.transactionHash && t.logIndex === ev.logIndex + 1,
        );
        if (!transfer || transfer.eventName !== 'Transfer') throw new Error(`AuthorizationUsed without Transfer in ${ev.transactionHash}`);
        out.push({
          txHash: ev.transactionHash,
          blockNumber: ev.blockNumber,
          from: getAddress(transfer.args.from),
          to: getAddress(transfer.args.to),
          value: transfer.args.value,
          nonce: ev.args.nonce,
          scheme: 'exact',
        });
      }
      // Metered (upto) settlements: the proxy's Settled event marks them, its calldata names the Permit2 nonce.
      const settled = await publicClient.getLogs({ address: LOCAL_UPTO_PROXY_ADDRESS, event: parseAbiItem('event Settled()'), fromBlock: 0n, toBlock: 'latest' });
      for (const hash of new Set(settled.map((log) => log.transactionHash))) {
        const call = decodeFunctionData({ abi: x402UptoPermit2ProxyABI, data: (await publicClient.getTransaction({ hash })).input });
        if (call.functionName !== 'settle') throw new Error(`local chain: upto settlement ${hash} is not a settle call`);
        const [permit, amount, owner] = call.args;
        const transfer = events.find((t) => t.eventName === 'Transfer' && t.transactionHash === hash && t.args.from.toLowerCase() === owner.toLowerCase() && t.args.value === amount);
        if (!transfer || transfer.eventName !== 'Transfer') throw new Error(`upto settlement without Transfer in ${hash}`);
        out.push({ txHash: hash, blockNumber: transfer.blockNumber, from: getAddress(owner), to: getAddress(transfer.args.to), value: amount, nonce: numberToHex(permit.nonce, { size: 32 }), scheme: 'upto' });
      }
      return out.sort((a, b) => (a.blockNumber < b.blockNumber ? -1 : a.blockNumber > b.blockNumber ? 1 : 0));
    },
    get blockTimeMs() {
      return blockTimeMs;
    },
    setBlockTime,
    async close() {
      if (closed) return;
      closed = true;
      // Interval mining runs on a timer: stop it, or the process keeps mining after close.
      if (blockTimeMs !== undefined) await setBlockTime(undefined).catch(() => undefined);
      await rpc.close();
    },
  };
}

function checkBlockTime(ms: number | undefined): void {
  if (ms !== undefined && !(Number.isInteger(ms) && ms > 0)) {
    throw new Error(`blockTimeMs must be a positive whole number of milliseconds (e.g. ${BASE_BLOCK_TIME_MS}), or undefined to mine every transaction at once; got ${String(ms)}`);
  }
}

/** A loopback HTTP JSON-RPC endpoint (single and batch requests) in front of an EIP-1193 provider. */
async function serveJsonRpc(provider: Eip1193Provider, port: number): Promise<{ url: string; close(): Promise<void> }> {
  type RpcRequest = { jsonrpc?: string; id?: unknown; method?: unknown; params?: unknown };
  const handleOne = async (req: RpcRequest) => {
    const id = req?.id ?? null;
    if (!req || typeof req.method !== 'string') return { jsonrpc: '2.0', id, error: { code: -32600, message: 'Invalid Request' } };
    try {
      const result = await provider.request({ method: req.method, params: (req.params as unknown[] | undefined) ?? [] });
      return { jsonrpc: '2.0', id, result: result ?? null };
    } catch (err) {
      const e = err as { code?: number; message?: string; data?: unknown };
      return {
        jsonrpc: '2.0',
        id,
        error: { code: typeof e.code === 'number' ? e.code : -32603, message: e.message ?? String(err), ...(e.data !== undefined ? { data: e.data } : {}) },
      };
    }
  };
  const server: Server = createServer((req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method !== 'POST') return reply(405, { jsonrpc: '2.0', id: null, error: { code: -32600, message: 'POST JSON-RPC only' } });
    readBody(req).then(async (text) => {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return reply(400, { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error' } });
      }
      reply(200, Array.isArray(body) ? await Promise.all(body.map((r) => handleOne(r as RpcRequest))) : await handleOne(body as RpcRequest));
    }, () => res.destroy());
  });
  keepIdleConnections(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
