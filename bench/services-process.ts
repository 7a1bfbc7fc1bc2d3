/**
 * The chain and the facilitator of the benchmark, in a process of their own. Lambda@Edge and an
 * Express server alike reach a facilitator and a chain RPC endpoint running elsewhere: here both
 * sides call them over loopback HTTP, and their CPU (signature checks, simulations, transaction
 * signing, mining) is billed to neither side's process. The child reports its URLs over IPC,
 * answers the few requests the bench makes of them (mint, approve, block time, settled transfers,
 * facilitator call counts), profiles itself when asked (`--cpu-profile`), and exits when the parent
 * disconnects.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createPublicClient, http, type Address, type Hex, type PrivateKeyAccount, type PublicClient } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { startLocalChain, type LocalChain, type SettledTransfer } from '../local/chain';
import { startLocalFacilitator, type LocalFacilitator } from '../local/facilitator';
import { answerProfileRequests } from './cpu-profile';

/** What the bench asks of the chain and the facilitator (the child's side of each is in {@link OPERATIONS}). */
interface Operations {
  mint(to: Address, usdcAtomic: bigint): Promise<void>;
  approvePermit2(privateKey: Hex): Promise<Hex>;
  setBlockTime(ms: number | undefined): Promise<void>;
  settledTransfers(): Promise<SettledTransfer[]>;
  facilitatorCalls(): Promise<{ verify: number; settle: number }>;
}

type Request = { [K in keyof Operations]: { readonly id: number; readonly op: K; readonly args: Parameters<Operations[K]> } }[keyof Operations];
type Reply = { readonly id: number; readonly result?: unknown; readonly error?: string };
interface Hello {
  readonly facilitatorUrl: string;
  readonly rpcUrl: string;
  readonly facilitatorAddress: Address;
}

const OPERATIONS = (chain: LocalChain, facilitator: LocalFacilitator): Operations => ({
  mint: (to, usdcAtomic) => chain.mint(to, usdcAtomic),
  approvePermit2: (privateKey) => chain.approvePermit2(privateKeyToAccount(privateKey)),
  setBlockTime: (ms) => chain.setBlockTime(ms),
  settledTransfers: () => chain.settledTransfers(),
  facilitatorCalls: async () => ({ verify: facilitator.calls.verify, settle: facilitator.calls.settle }),
});

/** The chain and facilitator as the bench process sees them. */
export interface BenchServices {
  readonly child: ChildProcess;
  readonly facilitatorUrl: string;
  readonly rpcUrl: string;
  /** The account the facilitator settles with. */
  readonly facilitatorAddress: Address;
  /** viem over the chain's RPC endpoint. */
  readonly publicClient: PublicClient;
  /** One JSON-RPC call to the chain (evm_* and hardhat_* included). */
  rpc<T>(method: string, params?: unknown[]): Promise<T>;
  /** The interval between blocks in ms, or undefined when every transaction is mined at once. */
  readonly blockTimeMs: number | undefined;
  setBlockTime(ms: number | undefined): Promise<void>;
  /** A fresh random key with `usdcAtomic` minted to it. */
  newFundedWallet(usdcAtomic: bigint): Promise<PrivateKeyAccount>;
  /** The payer's one-time approval of Permit2 (a wallet from {@link newFundedWallet}). */
  approvePermit2(wallet: PrivateKeyAccount): Promise<Hex>;
  /** The key of a wallet from {@link newFundedWallet}, for clients in another process (bench/batch-agents-process.ts). */
  privateKeyOf(wallet: PrivateKeyAccount): Hex;
  settledTransfers(): Promise<SettledTransfer[]>;
  /** Requests the facilitator received so far. */
  facilitatorCalls(): Promise<{ verify: number; settle: number }>;
  close(): Promise<void>;
}

export async function startServicesProcess(): Promise<BenchServices> {
  // `advanced` serialization carries the bigints of mints and settled transfers.
  const child = fork(path.join(__dirname, 'services-process.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  const hello = await new Promise<Hello>((resolve, reject) => {
    child.once('message', (message: Hello) => resolve(message));
    child.once('exit', (code) => reject(new Error(`services process exited (${code})`)));
  });
  let nextId = 0;
  const waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  child.on('message', (message: Reply) => {
    const waiter = waiting.get(message.id);
    if (!waiter) return; // a profiler's answer (bench/cpu-profile.ts)
    waiting.delete(message.id);
    if (message.error !== undefined) waiter.reject(new Error(message.error));
    else waiter.resolve(message.result);
  });
  child.on('exit', (code) => {
    for (const waiter of waiting.values()) waiter.reject(new Error(`services process exited (${code})`));
    waiting.clear();
  });
  const ask = <K extends keyof Operations>(op: K, ...args: Parameters<Operations[K]>) =>
    new Promise<Awaited<ReturnType<Operations[K]>>>((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (value: unknown) => void, reject });
      child.send({ id, op, args } as Request);
    });
  const keys = new Map<Address, Hex>();
  const keyOf = (wallet: PrivateKeyAccount): Hex => {
    const key = keys.get(wallet.address);
    if (!key) throw new Error(`${wallet.address} is not a wallet of newFundedWallet`);
    return key;
  };
  let blockTimeMs: number | undefined;
  const publicClient = createPublicClient({ transport: http(hello.rpcUrl, { retryCount: 0 }), pollingInterval: 50 }) as PublicClient;
  return {
    child,
    ...hello,
    publicClient,
    rpc: <T>(method: string, params: unknown[] = []) => publicClient.request({ method, params } as never) as Promise<T>,
    get blockTimeMs() {
      return blockTimeMs;
    },
    async setBlockTime(ms) {
      await ask('setBlockTime', ms);
      blockTimeMs = ms;
    },
    async newFundedWallet(usdcAtomic) {
      const key = generatePrivateKey();
      const wallet = privateKeyToAccount(key);
      keys.set(wallet.address, key);
      await ask('mint', wallet.address, usdcAtomic);
      return wallet;
    },
    approvePermit2(wallet) {
      return ask('approvePermit2', keyOf(wallet));
    },
    privateKeyOf: (wallet) => keyOf(wallet),
    settledTransfers: () => ask('settledTransfers'),
    facilitatorCalls: () => ask('facilitatorCalls'),
    close: async () => void child.disconnect(),
  };
}

async function serve(): Promise<void> {
  const chain = await startLocalChain();
  const facilitator = await startLocalFacilitator(chain);
  const operations = OPERATIONS(chain, facilitator);
  process.on('message', (message: Request | { profile: unknown }) => {
    if (!('op' in message)) return; // answered by answerProfileRequests
    const { id, op, args } = message;
    (operations[op] as (...a: typeof args) => Promise<unknown>)(...args).then(
      (result) => process.send!({ id, result } satisfies Reply),
      (error: unknown) => process.send!({ id, error: String(error) } satisfies Reply),
    );
  });
  answerProfileRequests();
  process.on('disconnect', () => void Promise.allSettled([facilitator.close(), chain.close()]).finally(() => process.exit(0)));
  process.send!({ facilitatorUrl: facilitator.url, rpcUrl: chain.rpcUrl, facilitatorAddress: chain.facilitatorAccount.address } satisfies Hello);
}

if (require.main === module) {
  serve().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
