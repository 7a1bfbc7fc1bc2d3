/**
 * The batch-settlement line: official clients (bench/batch-agents-process.ts), one channel per agent
 * with a fresh salt per run, so every run's channels deposit anew; after the requests, one claims
 * run of the side claims and settles them. The official client signs `charged + price`, so one
 * channel serves one request at a time: concurrency comes from many agents, one channel each.
 */
import { fork } from 'node:child_process';
import * as path from 'node:path';
import { erc20Abi, parseEventLogs, type Hex } from 'viem';
import { LOCAL_BATCH_SETTLEMENT_ADDRESS, LOCAL_NETWORK } from '../local/chain';
import type { BillingRunResult } from './base-like';
import type { BatchAgentsJob } from './batch-agents-process';
import { AGENT_HEADERS, BATCH_PATH, type Bench, type Side } from './harness';
import { percentile, type LoadResult } from './load-worker';

/** What a run's claims run moved, against what its requests were served for. */
export interface OffPathSettlement {
  /** Paid requests served (200). */
  readonly paid: number;
  /** The sum of their prices (each payment's `accepted.amount`), atomic units. */
  readonly servedAtomic: string;
  /** What the settle moved from the batch-settlement contract to payTo, atomic units. */
  readonly settledAtomic: string;
  readonly claimTransactions: number;
  readonly settleTransaction?: Hex;
}

/** One HTTP exchange that carried a payment (or a call that ended without sending one). */
export interface PaidExchange {
  /** performance.now() when sent and when the whole body was received. */
  readonly sentMs: number;
  readonly receivedMs: number;
  /** Undefined when the call threw (no response). */
  readonly status?: number;
  /** The payment's `accepted.amount`, atomic units; absent when no payment was sent. */
  readonly amountAtomic?: bigint;
  /** The payment opened its channel (`type: "deposit"`). */
  readonly deposit?: boolean;
}

/** `requests` split among `agents` as evenly as whole requests allow (the first ones take the remainder). */
export function shares(requests: number, agents: number): number[] {
  if (!(Number.isInteger(requests) && Number.isInteger(agents) && requests >= 0 && agents > 0)) throw new Error(`cannot split ${requests} requests among ${agents} agents`);
  return Array.from({ length: agents }, (_, i) => Math.floor(requests / agents) + (i < requests % agents ? 1 : 0));
}

/** The exchanges as a load result: latency per exchange, throughput over first sent to last received. */
export function loadResultOf(exchanges: readonly PaidExchange[], expectStatus: number): LoadResult {
  const latencies = exchanges.map((e) => e.receivedMs - e.sentMs).sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const e of exchanges) if (e.status !== undefined) statuses[String(e.status)] = (statuses[String(e.status)] ?? 0) + 1;
  const seconds = exchanges.length === 0 ? 0 : (Math.max(...exchanges.map((e) => e.receivedMs)) - Math.min(...exchanges.map((e) => e.sentMs))) / 1000;
  return {
    requests: exchanges.length,
    seconds,
    rps: seconds > 0 ? exchanges.length / seconds : 0,
    wallSeconds: seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    mean: latencies.length === 0 ? NaN : latencies.reduce((a, b) => a + b, 0) / latencies.length,
    statuses,
    unexpected: exchanges.filter((e) => e.status !== undefined && e.status !== expectStatus).length,
    errors: exchanges.filter((e) => e.status === undefined).length,
  };
}

/** The sum of the served exchanges' prices. */
export const servedAtomic = (exchanges: readonly PaidExchange[]): bigint =>
  exchanges.reduce((sum, e) => (e.status === 200 ? sum + (e.amountAtomic ?? 0n) : sum), 0n);

/**
 * `requests` paid requests to {@link BATCH_PATH} on `side` by `agents` official clients (in a
 * process of their own, bench/batch-agents-process.ts), each paying its share one request after
 * another on its own channel; then the side's claims run.
 */
export async function payWithBatchAgents(bench: Bench, side: Side, requests: number, agents: number): Promise<BillingRunResult & { readonly settlement: OffPathSettlement }> {
  const wallets = bench.payers.wallets;
  if (agents > wallets.length) throw new Error(`${agents} batch-settlement agents need as many payer wallets; the bench has ${wallets.length}`);
  const exchanges = await inAgentsProcess({
    url: `${side.url}${BATCH_PATH}`,
    headers: AGENT_HEADERS,
    network: LOCAL_NETWORK,
    rpcUrl: bench.services.rpcUrl,
    agents: shares(requests, agents).map((count, i) => ({ privateKey: bench.services.privateKeyOf(wallets[i]!), requests: count })),
  });
  const load = loadResultOf(exchanges, 200);
  const claims = await bench.claimBatches(side);
  const settled = claims.settleTransaction ? await movedFromBatchContract(bench, claims.settleTransaction, side.payTo) : 0n;
  return {
    ...load,
    depositLatencyMs: exchanges.filter((e) => e.deposit).map((e) => e.receivedMs - e.sentMs),
    settlement: {
      paid: load.statuses['200'] ?? 0,
      servedAtomic: servedAtomic(exchanges).toString(),
      settledAtomic: settled.toString(),
      claimTransactions: new Set(claims.claimTransactions).size,
      ...(claims.settleTransaction ? { settleTransaction: claims.settleTransaction } : {}),
    },
  };
}

/** Runs the job in a fresh agents process (`advanced` serialization carries the amounts' bigints). */
function inAgentsProcess(job: BatchAgentsJob): Promise<PaidExchange[]> {
  const child = fork(path.join(__dirname, 'batch-agents-process.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
  return new Promise<PaidExchange[]>((resolve, reject) => {
    child.once('message', (message: { exchanges?: PaidExchange[]; error?: string }) => (message.exchanges ? resolve(message.exchanges) : reject(new Error(`batch-settlement agents: ${message.error}`))));
    child.once('exit', (code) => reject(new Error(`batch-settlement agents process exited (${code})`)));
    child.send(job);
  }).finally(() => child.connected && child.disconnect());
}

/** USDC the transaction moved from the batch-settlement contract to `payTo`. */
async function movedFromBatchContract(bench: Bench, transaction: Hex, payTo: string): Promise<bigint> {
  const { logs } = await bench.services.publicClient.getTransactionReceipt({ hash: transaction });
  return parseEventLogs({ abi: erc20Abi, eventName: 'Transfer', logs })
    .filter((l) => l.args.from.toLowerCase() === LOCAL_BATCH_SETTLEMENT_ADDRESS.toLowerCase() && l.args.to.toLowerCase() === payTo.toLowerCase())
    .reduce((sum, l) => sum + l.args.value, 0n);
}
