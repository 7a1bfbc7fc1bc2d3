/**
 * What the chain says about an EIP-3009 authorization, read through viem from a JSON-RPC endpoint
 * (`cdk-x402 reconcile --rpc-url`): whether it is used (`authorizationState`), and if so the
 * transaction that used it (`AuthorizationUsed(authorizer, nonce)`, both indexed, as in Circle's
 * FiatToken and local/contracts/LocalUSDC.sol) with the `Transfer` it made. Every read is pinned to
 * one head block, so "unused at block B, whose timestamp is past validBefore" means it can never
 * be used: the token requires `block.timestamp < validBefore`, and block timestamps never decrease.
 */
import { PERMIT2_ADDRESS, x402UptoPermit2ProxyABI, x402UptoPermit2ProxyAddress } from '@x402/evm';
import {
  BaseError,
  decodeFunctionData,
  ContractFunctionZeroDataError,
  createPublicClient,
  getAddress,
  http,
  HttpRequestError,
  parseAbi,
  parseEventLogs,
  TimeoutError,
  TransactionNotFoundError,
  TransactionReceiptNotFoundError,
  type Address,
  type Hex,
  type PublicClient,
} from 'viem';
import { CliError, ExitCode } from './errors';

/** The EIP-3009 surface reconciliation reads (signatures as in Circle's FiatToken v2). */
export const eip3009ReconcileAbi = parseAbi([
  'function authorizationState(address authorizer, bytes32 nonce) view returns (bool)',
  'event AuthorizationUsed(address indexed authorizer, bytes32 indexed nonce)',
  'event AuthorizationCanceled(address indexed authorizer, bytes32 indexed nonce)',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
]);

/** Permit2's unordered nonce bitmap: bit `nonce & 0xff` of word `nonce >> 8` is set once the nonce is used. */
export const permit2NonceAbi = parseAbi(['function nonceBitmap(address owner, uint256 wordPosition) view returns (uint256)']);

/** The block every read of one run is pinned to. */
export interface ChainHead {
  readonly number: bigint;
  /** Epoch seconds. */
  readonly timestamp: number;
}

/** The authorization a receipt row holds. */
export interface AuthorizationRef {
  readonly asset: string;
  readonly payer: string;
  readonly nonce: string;
  /** ISO time the edge reserved it (the transaction cannot be much older). */
  readonly createdAt: string;
  /** validBefore, epoch seconds. */
  readonly expiresAt: number;
  /** The transaction the facilitator reported, when it reported one. */
  readonly txHash?: string;
}

export type AuthorizationFinding =
  /** `authorizationState` false at the head block. */
  | { readonly kind: 'unused' }
  /** Used by this transaction, which then transferred `value` from the payer to `to`. */
  | { readonly kind: 'transfer'; readonly txHash: Hex; readonly blockNumber: bigint; readonly to: Address; readonly value: bigint }
  /** Used by this transaction, but no Transfer from the payer followed the AuthorizationUsed event. */
  | { readonly kind: 'used-without-transfer'; readonly txHash: Hex }
  /**
   * Used up, but no AuthorizationUsed event in any block where it was valid: the payer canceled it
   * (`cancelAuthorization`); `txHash` of the AuthorizationCanceled event when it was found.
   */
  | { readonly kind: 'canceled'; readonly txHash?: Hex; readonly searched: { readonly fromBlock: bigint; readonly toBlock: bigint } };

/** What the chain says about a metered (`upto`) row's Permit2 nonce. */
export type PermitFinding =
  /** The nonce's bit is not set at the head block. */
  | { readonly kind: 'unused' }
  /** Used by this transaction to the x402 upto proxy, which transferred `value` from the payer to `to`. */
  | { readonly kind: 'transfer'; readonly txHash: Hex; readonly blockNumber: bigint; readonly to: Address; readonly value: bigint }
  /**
   * Used, but by no `settle` call to the upto proxy for this nonce that moved the payer's tokens in
   * [fromBlock, toBlock] (another spender, a nonce invalidation, a settlement batched behind
   * another contract): only a person can tell what it paid.
   */
  | { readonly kind: 'used-elsewhere'; readonly searched: { readonly fromBlock: bigint; readonly toBlock: bigint } };

/** getLogs is asked for at most this many blocks at a time (many RPC providers cap the range). */
const LOG_CHUNK_BLOCKS = 1_000n;
/** The transaction is searched from this long before the row was created (clock skew, margin). */
const LOOKBACK_SECONDS = 3_600;
/** A cancellation is looked for at most this far (blocks) past the authorization's window. */
const CANCEL_LOOKAHEAD_BLOCKS = 20_000n;

export class ChainReader {
  private readonly timestamps = new Map<bigint, number>();

  private constructor(
    private readonly client: PublicClient,
    /** The RPC URL without path, query or credentials (API keys often live there). */
    readonly endpoint: string,
    readonly chainId: number,
    readonly head: ChainHead,
  ) {
    this.timestamps.set(head.number, head.timestamp);
  }

  /** Connects, reads `eth_chainId` and pins the head block. */
  static async connect(rpcUrl: string): Promise<ChainReader> {
    const endpoint = redactRpcUrl(rpcUrl);
    const client = createPublicClient({ transport: http(rpcUrl, { timeout: 15_000, retryCount: 2 }) }) as PublicClient;
    const chainId = await rpc(endpoint, 'eth_chainId', () => client.getChainId());
    const block = await rpc(endpoint, 'eth_getBlockByNumber (latest)', () => client.getBlock({ blockTag: 'latest' }));
    if (block.number === null) throw new CliError(`the chain RPC ${endpoint} returned a pending block as the latest one`, ExitCode.rpc);
    return new ChainReader(client, endpoint, chainId, { number: block.number, timestamp: Number(block.timestamp) });
  }

  /** What the chain says about one authorization, as of the head block. */
  async find(auth: AuthorizationRef): Promise<AuthorizationFinding> {
    const token = getAddress(auth.asset);
    const payer = getAddress(auth.payer);
    const nonce = auth.nonce as Hex;
    const used = await rpc(this.endpoint, `authorizationState(${payer}, ${nonce}) on token ${token}`, () =>
      this.client.readContract({ address: token, abi: eip3009ReconcileAbi, functionName: 'authorizationState', args: [payer, nonce], blockNumber: this.head.number }),
    );
    if (!used) return { kind: 'unused' };

    if (auth.txHash && /^0x[0-9a-fA-F]{64}$/.test(auth.txHash)) {
      const known = await this.inTransaction(auth.txHash as Hex, token, payer, nonce);
      if (known) return known;
    }
    // Where it could have been used: from (a margin before) the reservation to the last block before validBefore.
    const created = Date.parse(auth.createdAt);
    const fromBlock = Number.isFinite(created) ? await this.firstBlockAtOrAfter(Math.floor(created / 1000) - LOOKBACK_SECONDS) : 0n;
    const validUntil = (await this.firstBlockAtOrAfter(auth.expiresAt)) - 1n;
    const toBlock = validUntil < this.head.number ? validUntil : this.head.number;
    const usedLog = await this.firstLog('AuthorizationUsed', token, payer, nonce, fromBlock, toBlock);
    if (usedLog) {
      const found = await this.inTransaction(usedLog, token, payer, nonce);
      if (found) return found;
    }
    const cancelUntil = toBlock + CANCEL_LOOKAHEAD_BLOCKS < this.head.number ? toBlock + CANCEL_LOOKAHEAD_BLOCKS : this.head.number;
    const canceled = await this.firstLog('AuthorizationCanceled', token, payer, nonce, fromBlock, cancelUntil);
    return { kind: 'canceled', ...(canceled ? { txHash: canceled } : {}), searched: { fromBlock, toBlock } };
  }

  /**
   * What the chain says about a metered row's Permit2 nonce: `nonceBitmap` at the head block, and
   * when it is used, the upto proxy `settle` call that used it (the facilitator's reported
   * transaction first, else among the transactions with a Transfer of the token from the payer
   * while the permit was valid), with the amount it transferred. Permit2 emits no event of its own
   * for a witness transfer, so the transaction is recognized by its calldata: owner and nonce.
   */
  async findPermit(auth: AuthorizationRef): Promise<PermitFinding> {
    const token = getAddress(auth.asset);
    const payer = getAddress(auth.payer);
    const nonce = BigInt(auth.nonce);
    const word = await rpc(this.endpoint, `nonceBitmap(${payer}, ${nonce >> 8n}) on Permit2 ${PERMIT2_ADDRESS}`, () =>
      this.client.readContract({ address: PERMIT2_ADDRESS, abi: permit2NonceAbi, functionName: 'nonceBitmap', args: [payer, nonce >> 8n], blockNumber: this.head.number }),
    );
    if (((word >> (nonce & 0xffn)) & 1n) === 0n) return { kind: 'unused' };

    if (auth.txHash && /^0x[0-9a-fA-F]{64}$/.test(auth.txHash)) {
      const known = await this.uptoSettlement(auth.txHash as Hex, token, payer, nonce);
      if (known) return known;
    }
    // Permit2 takes a permit up to and including its deadline (block.timestamp <= deadline).
    const created = Date.parse(auth.createdAt);
    const fromBlock = Number.isFinite(created) ? await this.firstBlockAtOrAfter(Math.floor(created / 1000) - LOOKBACK_SECONDS) : 0n;
    const validUntil = (await this.firstBlockAtOrAfter(auth.expiresAt + 1)) - 1n;
    const toBlock = validUntil < this.head.number ? validUntil : this.head.number;
    const seen = new Set<Hex>();
    for (let start = fromBlock; start <= toBlock; start += LOG_CHUNK_BLOCKS) {
      const end = start + LOG_CHUNK_BLOCKS - 1n < toBlock ? start + LOG_CHUNK_BLOCKS - 1n : toBlock;
      const logs = await rpc(this.endpoint, `eth_getLogs(Transfer from ${payer}, blocks ${start}..${end})`, () =>
        this.client.getLogs({ address: token, event: eip3009ReconcileAbi[3], args: { from: payer }, fromBlock: start, toBlock: end, strict: true }),
      );
      for (const log of logs) {
        if (!log.transactionHash || seen.has(log.transactionHash)) continue;
        seen.add(log.transactionHash);
        const found = await this.uptoSettlement(log.transactionHash, token, payer, nonce);
        if (found) return found;
      }
    }
    return { kind: 'used-elsewhere', searched: { fromBlock, toBlock } };
  }

  /** A successful upto proxy `settle` (or `settleWithPermit`) of (payer, nonce) in a transaction, and its Transfer from the payer. */
  private async uptoSettlement(hash: Hex, token: Address, payer: Address, nonce: bigint): Promise<PermitFinding | undefined> {
    let transaction;
    try {
      transaction = await this.client.getTransaction({ hash });
    } catch (error) {
      if (error instanceof BaseError && error.walk((e) => e instanceof TransactionNotFoundError)) return undefined;
      throw explainRpcError(error, this.endpoint, `eth_getTransactionByHash(${hash})`);
    }
    if (!transaction.to || transaction.to.toLowerCase() !== x402UptoPermit2ProxyAddress.toLowerCase()) return undefined;
    let call;
    try {
      call = decodeFunctionData({ abi: x402UptoPermit2ProxyABI, data: transaction.input });
    } catch {
      return undefined;
    }
    if (call.functionName !== 'settle' && call.functionName !== 'settleWithPermit') return undefined;
    // settleWithPermit takes an EIP-2612 permit first, then the same arguments as settle.
    const [permit, amount, owner] = call.functionName === 'settle' ? call.args : [call.args[1], call.args[2], call.args[3]] as const;
    if (owner.toLowerCase() !== payer.toLowerCase() || permit.nonce !== nonce || permit.permitted.token.toLowerCase() !== token.toLowerCase()) return undefined;
    const receipt = await rpc(this.endpoint, `eth_getTransactionReceipt(${hash})`, () => this.client.getTransactionReceipt({ hash }));
    if (receipt.status !== 'success' || receipt.blockNumber > this.head.number) return undefined;
    const transfer = parseEventLogs({ abi: eip3009ReconcileAbi, eventName: 'Transfer', logs: receipt.logs.filter((l) => l.address.toLowerCase() === token.toLowerCase()) })
      .find((e) => e.args.from.toLowerCase() === payer.toLowerCase() && e.args.value === amount);
    if (!transfer) return undefined;
    return { kind: 'transfer', txHash: hash, blockNumber: receipt.blockNumber, to: getAddress(transfer.args.to), value: transfer.args.value };
  }

  /** The AuthorizationUsed event of (payer, nonce) in a transaction, and the Transfer after it. */
  private async inTransaction(hash: Hex, token: Address, payer: Address, nonce: Hex): Promise<AuthorizationFinding | undefined> {
    let receipt;
    try {
      receipt = await this.client.getTransactionReceipt({ hash });
    } catch (error) {
      if (error instanceof BaseError && error.walk((e) => e instanceof TransactionReceiptNotFoundError)) return undefined;
      throw explainRpcError(error, this.endpoint, `eth_getTransactionReceipt(${hash})`);
    }
    if (receipt.status !== 'success' || receipt.blockNumber > this.head.number) return undefined;
    const events = parseEventLogs({ abi: eip3009ReconcileAbi, logs: receipt.logs.filter((l) => l.address.toLowerCase() === token.toLowerCase()) });
    const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    const used = events.findIndex((e) => e.eventName === 'AuthorizationUsed' && same(e.args.authorizer, payer) && same(e.args.nonce, nonce));
    if (used < 0) return undefined;
    // The token transfers right after marking the authorization used (FiatToken, LocalUSDC); in a
    // batch of settlements in one transaction, the first Transfer from the payer after it is its own.
    const transfer = events.slice(used + 1).find((e) => e.eventName === 'Transfer' && same(e.args.from, payer));
    if (!transfer || transfer.eventName !== 'Transfer') return { kind: 'used-without-transfer', txHash: hash };
    return { kind: 'transfer', txHash: hash, blockNumber: receipt.blockNumber, to: getAddress(transfer.args.to), value: transfer.args.value };
  }

  /** The transaction of the first `event` for (payer, nonce) in [fromBlock, toBlock], in chunks. */
  private async firstLog(event: 'AuthorizationUsed' | 'AuthorizationCanceled', token: Address, payer: Address, nonce: Hex, fromBlock: bigint, toBlock: bigint): Promise<Hex | undefined> {
    // Both events have the same indexed arguments (authorizer, nonce).
    const abiEvent = (event === 'AuthorizationUsed' ? eip3009ReconcileAbi[1] : eip3009ReconcileAbi[2]) as (typeof eip3009ReconcileAbi)[1];
    for (let start = fromBlock; start <= toBlock; start += LOG_CHUNK_BLOCKS) {
      const end = start + LOG_CHUNK_BLOCKS - 1n < toBlock ? start + LOG_CHUNK_BLOCKS - 1n : toBlock;
      const logs = await rpc(this.endpoint, `eth_getLogs(${event}, blocks ${start}..${end})`, () =>
        this.client.getLogs({ address: token, event: abiEvent, args: { authorizer: payer, nonce }, fromBlock: start, toBlock: end, strict: true }),
      );
      const hit = logs.find((log) => log.transactionHash);
      if (hit?.transactionHash) return hit.transactionHash;
    }
    return undefined;
  }

  /** The first block whose timestamp is at or after `t` (epoch s); head + 1 when none is yet. */
  async firstBlockAtOrAfter(t: number): Promise<bigint> {
    let lo = 0n;
    let hi = this.head.number + 1n;
    while (lo < hi) {
      const mid = (lo + hi) / 2n;
      if ((await this.timestampOf(mid)) >= t) hi = mid;
      else lo = mid + 1n;
    }
    return lo;
  }

  private async timestampOf(blockNumber: bigint): Promise<number> {
    const cached = this.timestamps.get(blockNumber);
    if (cached !== undefined) return cached;
    const block = await rpc(this.endpoint, `eth_getBlockByNumber(${blockNumber})`, () => this.client.getBlock({ blockNumber }));
    const timestamp = Number(block.timestamp);
    this.timestamps.set(blockNumber, timestamp);
    return timestamp;
  }
}

/** `https://base-mainnet.example.com/v2/<key>` → `https://base-mainnet.example.com/…`. */
export function redactRpcUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname !== '/' || u.search ? '/…' : ''}`;
  } catch {
    return '(invalid URL)';
  }
}

async function rpc<T>(endpoint: string, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw explainRpcError(error, endpoint, what);
  }
}

/** A viem error as a CliError that says which call failed on which endpoint, and what to check. */
export function explainRpcError(error: unknown, endpoint: string, what: string): CliError {
  if (error instanceof CliError) return error;
  const base = error instanceof BaseError ? error : undefined;
  const details = { rpc: endpoint, call: what };
  if (base?.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError)) {
    const cause = base.walk((e) => e instanceof HttpRequestError || e instanceof TimeoutError) as BaseError;
    return new CliError(
      `cannot reach the chain RPC ${endpoint} (${what}): ${cause.shortMessage}${cause.details ? ` (${cause.details})` : ''}`,
      ExitCode.rpc,
      'check --rpc-url: a JSON-RPC endpoint (http or https) of the network the receipts are on, reachable from here',
      details,
    );
  }
  if (base?.walk((e) => e instanceof ContractFunctionZeroDataError)) {
    return new CliError(
      `${what} returned no data on the chain behind ${endpoint}: there is no EIP-3009 token at that address on this chain`,
      ExitCode.refused,
      'check that --rpc-url is a node of the network the receipts were paid on',
      details,
    );
  }
  const message = base?.shortMessage ?? (error as Error)?.message ?? String(error);
  return new CliError(`the chain RPC ${endpoint} failed ${what}: ${message}`, ExitCode.rpc, 'check --rpc-url and the node\'s health (and its eth_getLogs range limit), then run again', details);
}
