/**
 * The batch-settlement line's agents: the official client (`@x402/fetch`'s wrapFetchWithPayment
 * with @x402/evm's batch-settlement client scheme), one channel per agent with a fresh salt per
 * run, so every run's channels deposit anew; after the requests, one claims run of the side claims
 * and settles them. The official client signs `charged + price`, so one channel serves one request
 * at a time: concurrency comes from many agents, one channel each.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { x402Client } from '@x402/core/client';
import type { PaymentPayload } from '@x402/core/types';
import { toClientEvmSigner } from '@x402/evm';
import { BatchSettlementEvmScheme as BatchSettlementClientScheme } from '@x402/evm/batch-settlement/client';
import { wrapFetchWithPayment } from '@x402/fetch';
import { erc20Abi, parseEventLogs, type Hex, type PrivateKeyAccount } from 'viem';
import { LOCAL_BATCH_SETTLEMENT_ADDRESS, LOCAL_NETWORK } from '../local/chain';
import type { BillingRunResult } from './base-like';
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
 * `requests` paid requests to {@link BATCH_PATH} on `side` by `agents` official clients, each paying
 * its share one request after another on its own channel; then the side's claims run.
 */
export async function payWithBatchAgents(bench: Bench, side: Side, requests: number, agents: number): Promise<BillingRunResult & { readonly settlement: OffPathSettlement }> {
  const wallets = bench.payers.wallets;
  if (agents > wallets.length) throw new Error(`${agents} batch-settlement agents need as many payer wallets; the bench has ${wallets.length}`);
  const exchanges: PaidExchange[] = [];
  await Promise.all(
    shares(requests, agents).map(async (count, i) => {
      const agent = officialBatchAgent(bench, wallets[i]!, exchanges);
      for (let n = 0; n < count; n++) {
        const sentMs = performance.now();
        const paymentsBefore = agent.paymentsSent();
        try {
          const response = await agent.pay(`${side.url}${BATCH_PATH}`, { headers: AGENT_HEADERS });
          // A call that ended before sending a payment (its unpaid first request was not answered 402) counts with the status it got.
          if (agent.paymentsSent() === paymentsBefore) exchanges.push({ sentMs, receivedMs: performance.now(), status: response.status });
        } catch {
          exchanges.push({ sentMs, receivedMs: performance.now() });
        }
      }
    }),
  );
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

/** One agent: the official batch-settlement client on a new channel, timing each request that carries its payment. */
function officialBatchAgent(bench: Bench, wallet: PrivateKeyAccount, exchanges: PaidExchange[]): { pay: ReturnType<typeof wrapFetchWithPayment>; paymentsSent(): number } {
  let paymentsSent = 0;
  const salt = `0x${randomBytes(32).toString('hex')}` as Hex;
  const client = new x402Client().register(LOCAL_NETWORK, new BatchSettlementClientScheme(toClientEvmSigner(wallet, bench.services.publicClient), { salt }));
  const timed: typeof fetch = async (input, init) => {
    const request = input instanceof Request ? input : new Request(input, init);
    const header = request.headers.get('payment-signature');
    const sentMs = performance.now();
    const response = await fetch(request);
    const body = await response.arrayBuffer();
    if (header) {
      paymentsSent++;
      const payment = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as PaymentPayload;
      const deposit = (payment.payload as { type?: string }).type === 'deposit';
      exchanges.push({ sentMs, receivedMs: performance.now(), status: response.status, amountAtomic: BigInt(payment.accepted.amount), ...(deposit ? { deposit } : {}) });
    }
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  return { pay: wrapFetchWithPayment(timed, client), paymentsSent: () => paymentsSent };
}

/** USDC the transaction moved from the batch-settlement contract to `payTo`. */
async function movedFromBatchContract(bench: Bench, transaction: Hex, payTo: string): Promise<bigint> {
  const { logs } = await bench.services.publicClient.getTransactionReceipt({ hash: transaction });
  return parseEventLogs({ abi: erc20Abi, eventName: 'Transfer', logs })
    .filter((l) => l.args.from.toLowerCase() === LOCAL_BATCH_SETTLEMENT_ADDRESS.toLowerCase() && l.args.to.toLowerCase() === payTo.toLowerCase())
    .reduce((sum, l) => sum + l.args.value, 0n);
}
