/**
 * The Base-like section: the local chain mines a block every 2 s (configurable), as Base does, so
 * a settlement waits for its block. For each billing model, on each side that offers it: latency
 * at c=1 and c=10, on-chain transactions per paid request, and what the CDP facilitator would
 * charge for them per 1,000 requests.
 *
 * A billing model (passes, upto, batch settlement, ...) adds its line by appending a
 * {@link BillingModel} to {@link BILLING_MODELS}: it says how one side serves `requests` paid
 * requests at a concurrency; the section measures the rest the same way for every line.
 */
import type { Address, Hex } from 'viem';
import { payWithBatchAgents, type OffPathSettlement } from './batch-agents';
import { percentile, type LoadResult } from './load-worker';
import type { BenchServices } from './services-process';
import { AGENT_HEADERS, BENCH_BATCH_ROUTE, BENCH_METERED_ACTUAL, BENCH_METERED_ROUTE, BENCH_PASS, BROWSER_HEADERS, PRICED_PATH, type Bench, type Side } from './harness';

/**
 * CDP facilitator pricing as published (docs.cdp.coinbase.com/x402/seller/facilitator, read
 * 2026-12): the first 1,000 on-chain facilitator transactions each month are free, then $0.001 per
 * on-chain transaction; fees depend on on-chain activity, not on payment amounts.
 */
export const CDP_FACILITATOR_PRICING = {
  usdPerTransaction: 0.001,
  freeTransactionsPerMonth: 1000,
  source: 'https://docs.cdp.coinbase.com/x402/seller/facilitator',
} as const;

export type BillingSide = 'ours' | 'peer';

export interface BillingModel {
  /** The line's name, e.g. `exact, one payment per request`. */
  readonly name: string;
  /** How a paid request is paid under this model, for the report's notes. */
  readonly description: string;
  readonly sides: readonly BillingSide[];
  /** What one paid request earns in USD when not the route's price (a metered request earns its actual charge). */
  readonly revenuePerRequestUsd?: number;
  /**
   * Requests per run instead of the section's (sequential, loaded): a model that never waits for a
   * block measures many more in the same time, so its medians are not those of 8 requests.
   */
  readonly requests?: { readonly sequential: number; readonly loaded: number; readonly warmup: number };
  /**
   * Serves `requests` paid requests at `connections` on `side`; every response must be a 200. A
   * model that settles off the request path settles within the run too and says what moved.
   */
  run(bench: Bench, side: Side, requests: number, connections: number): Promise<BillingRunResult>;
}

/** A model's run: the load; a model that settles off the request path adds what its claims run moved and how long its channels' deposits took. */
export type BillingRunResult = LoadResult & { readonly settlement?: OffPathSettlement; readonly depositLatencyMs?: readonly number[] };

export const EXACT_PER_REQUEST: BillingModel = {
  name: 'exact, one payment per request',
  description: 'each request carries its own EIP-3009 authorization; the facilitator settles each in its own transaction',
  sides: ['ours', 'peer'],
  run: (bench, side, requests, connections) => bench.paid(side, requests, connections),
};

export const PASS_HOLDER: BillingModel = {
  name: `pass (${BENCH_PASS.duration} for ${BENCH_PASS.price}), then Authorization: Bearer`,
  description: 'one exact payment buys the pass (before the measured runs); every request then carries it and is verified offline at the edge: no facilitator, no DynamoDB, no transaction',
  sides: ['ours'],
  requests: { sequential: 300, loaded: 600, warmup: 200 },
  run: async (bench, side, requests, connections) =>
    bench.loader.run({ connections, headers: { ...AGENT_HEADERS, authorization: `Bearer ${await bench.pass(side)}` }, url: side.url, path: PRICED_PATH, distinctPaths: true, amount: requests, expectStatus: 200 }),
};

export const UPTO_METERED: BillingModel = {
  name: `upto (metered), ${BENCH_METERED_ROUTE.maxPrice} maximum, actual ${BENCH_METERED_ACTUAL} atomic units`,
  description: 'each request carries its own Permit2 witness transfer for the maximum; the origin reports the actual charge in Settlement-Overrides and the facilitator settles that in one transaction (an actual of 0 settles nothing: no transaction)',
  sides: ['ours'],
  revenuePerRequestUsd: Number(BENCH_METERED_ACTUAL) / 1e6,
  run: (bench, side, requests, connections) => bench.metered(side, requests, connections),
};

export const BATCH_SETTLEMENT: BillingModel = {
  name: `batch-settlement (${BENCH_BATCH_ROUTE.minDeposit} deposit, then a voucher per request), claimed and settled after the load`,
  description:
    `each agent (the official @x402/fetch client with the batch-settlement scheme) deposits ${BENCH_BATCH_ROUTE.minDeposit} once (one facilitator transaction, which waits for its block), then pays every request with a cumulative voucher checked without a facilitator call or a transaction; ` +
    'after the load one claims run claims every channel in one claimWithSignature transaction and settles to payTo in one more. The official client signs charged + price, so one channel serves one request at a time: ' +
    'c=10 is 10 agents with a channel each, in a process of their own (like autocannon). Latency is that of each request carrying a payment; the official fetch wrapper first sends the request unpaid and reads the 402 (a loopback round trip before each, not in the figures, as the pre-signed lines have none). ' +
    'Ours books every voucher in DynamoDB (the reservation in viewer-request; the commit, the receipt and the removal of the commit marker in origin-response, one after another), so that several edges and regions share one channel and every charge has a receipt; ' +
    'the official server keeps its channel books in its own memory (one process, no receipts)',
  sides: ['ours', 'peer'],
  requests: { sequential: 300, loaded: 600, warmup: 100 },
  run: payWithBatchAgents,
};

/** Not a billing model: the free pass-through of a browser on the same route, the pass holder's baseline. */
export const FREE_PASS_THROUGH: BillingModel = {
  name: 'free pass-through (a browser, the baseline)',
  description: 'not payment-eligible: the viewer-request forwards it without any payment work (like the pass line, each request a different article: a cache miss, so both lines make the origin hop)',
  sides: ['ours'],
  requests: { sequential: 300, loaded: 600, warmup: 200 },
  run: (bench, side, requests, connections) => bench.loader.run({ connections, headers: BROWSER_HEADERS, url: side.url, path: PRICED_PATH, distinctPaths: true, amount: requests, expectStatus: 200 }),
};

export const BILLING_MODELS: readonly BillingModel[] = [EXACT_PER_REQUEST, UPTO_METERED, BATCH_SETTLEMENT, PASS_HOLDER, FREE_PASS_THROUGH];

export interface ChainActivity {
  /** Transactions the facilitator account sent (what CDP bills). */
  readonly facilitatorTransactions: number;
  /** Every transaction mined meanwhile, whoever sent it. */
  readonly allTransactions: number;
  readonly blocks: number;
}

export interface BillingRun {
  readonly load: LoadResult;
  readonly chain: ChainActivity;
  /** Models that settle off the request path: what the run's claims run moved. */
  readonly settlement?: OffPathSettlement;
  /** Models with deposits: the latency of each request that carried one (it waits for its block). */
  readonly depositLatencyMs?: readonly number[];
}

export interface BillingLineSide {
  readonly sequential: BillingRun;
  readonly loaded: BillingRun;
  /** Paid 200s of the warm-up before the measured runs: they settle too, so the settlement check counts them. */
  readonly warmupPaid: number;
  /** Models that settle off the request path: what the warm-up's claims run moved. */
  readonly warmupSettlement?: OffPathSettlement;
  /** Ours only: median time inside the facilitator's settle per paid request (the wait for the block). */
  readonly settleMedianMs?: number;
}

export interface BillingLine {
  readonly model: string;
  readonly description: string;
  readonly revenuePerRequestUsd?: number;
  readonly sides: Partial<Record<BillingSide, BillingLineSide>>;
}

export interface BaseLikeReport {
  readonly blockTimeMs: number;
  readonly pricing: typeof CDP_FACILITATOR_PRICING;
  /** The route's price in USD (the revenue per paid request). */
  readonly priceUsd: number;
  readonly lines: BillingLine[];
}

export interface BaseLikeSettings {
  readonly blockTimeMs: number;
  readonly sequentialRequests: number;
  readonly loadedRequests: number;
  readonly connections: number;
}

export async function runBaseLikeSection(bench: Bench, sides: Record<BillingSide, Side>, priceUsd: number, settings: BaseLikeSettings): Promise<BaseLikeReport> {
  const chain = bench.services;
  const lines: BillingLine[] = [];
  await chain.setBlockTime(settings.blockTimeMs);
  try {
    for (const model of BILLING_MODELS) {
      const line: BillingLine = { model: model.name, description: model.description, ...(model.revenuePerRequestUsd !== undefined ? { revenuePerRequestUsd: model.revenuePerRequestUsd } : {}), sides: {} };
      for (const name of model.sides) {
        const side = sides[name];
        // Warm-up first: connections and caches warm at this block time (the fast lines warm their
        // code path too, or the first of two otherwise equal lines pays for it).
        const warmup = await model.run(bench, side, model.requests?.warmup ?? 1, 1);
        bench.timer.reset();
        const counts = model.requests ?? { sequential: settings.sequentialRequests, loaded: settings.loadedRequests };
        const sequential = await measureChain(chain, chain.facilitatorAddress, () => model.run(bench, side, counts.sequential, 1));
        const loaded = await measureChain(chain, chain.facilitatorAddress, () => model.run(bench, side, counts.loaded, settings.connections));
        const settles = bench.timer.paidRequests().map((r) => r.settleMs).sort((a, b) => a - b);
        line.sides[name] = { sequential, loaded, warmupPaid: warmup.statuses['200'] ?? 0, ...(warmup.settlement ? { warmupSettlement: warmup.settlement } : {}), ...(name === 'ours' && settles.length > 0 ? { settleMedianMs: percentile(settles, 50) } : {}) };
        bench.say(`  ${model.name} / ${name}: c=1 p50 ${sequential.load.p50.toFixed(0)} ms, c=${settings.connections} p50 ${loaded.load.p50.toFixed(0)} ms, ${sequential.chain.facilitatorTransactions + loaded.chain.facilitatorTransactions} facilitator transactions for ${paidCount(sequential) + paidCount(loaded)} paid requests`);
      }
      lines.push(line);
    }
  } finally {
    await chain.setBlockTime(undefined);
  }
  return { blockTimeMs: settings.blockTimeMs, pricing: CDP_FACILITATOR_PRICING, priceUsd, lines };
}

export const paidCount = (run: BillingRun): number => run.load.statuses['200'] ?? 0;

/** On-chain transactions per paid request, over both runs of a side. */
export function transactionsPerPaidRequest(side: BillingLineSide): { facilitator: number; all: number } {
  const paid = paidCount(side.sequential) + paidCount(side.loaded);
  return {
    facilitator: (side.sequential.chain.facilitatorTransactions + side.loaded.chain.facilitatorTransactions) / paid,
    all: (side.sequential.chain.allTransactions + side.loaded.chain.allTransactions) / paid,
  };
}

/** What one side of a line that settles off the request path served and settled, over its warm-up and both runs. */
export interface OffPathTotals {
  readonly side: BillingSide;
  readonly paid: number;
  readonly servedAtomic: string;
  readonly settledAtomic: string;
}

/** The line's off-path settlements per side (none for a line that settles on the request path). */
export function offPathTotals(line: BillingLine): OffPathTotals[] {
  return (Object.entries(line.sides) as Array<[BillingSide, BillingLineSide | undefined]>).flatMap(([side, s]) => {
    const runs = [s?.warmupSettlement, s?.sequential.settlement, s?.loaded.settlement].filter((r): r is OffPathSettlement => r !== undefined);
    if (runs.length === 0) return [];
    const sum = (pick: (r: OffPathSettlement) => string) => runs.reduce((total, r) => total + BigInt(pick(r)), 0n).toString();
    return [{ side, paid: runs.reduce((total, r) => total + r.paid, 0), servedAtomic: sum((r) => r.servedAtomic), settledAtomic: sum((r) => r.settledAtomic) }];
  });
}

/** CDP's fees for 1,000 paid requests beyond the monthly free tier. */
export const feesPer1000Usd = (facilitatorTransactionsPerRequest: number, pricing = CDP_FACILITATOR_PRICING): number =>
  1000 * facilitatorTransactionsPerRequest * pricing.usdPerTransaction;

/** Runs `work` and counts what reached the chain meanwhile (after waiting for the mempool to be mined). */
async function measureChain(chain: BenchServices, facilitator: Address, work: () => Promise<BillingRunResult>): Promise<BillingRun> {
  const rpc = <T>(method: string, params: unknown[] = []) => chain.rpc<T>(method, params);
  const nonce = async () => Number(await rpc<Hex>('eth_getTransactionCount', [facilitator, 'latest']));
  const block = async () => Number(await rpc<Hex>('eth_blockNumber'));
  const [firstBlock, firstNonce] = [await block(), await nonce()];
  const { settlement, depositLatencyMs, ...load } = await work();
  const graceMs = 3 * (chain.blockTimeMs ?? 0) + 5000;
  const deadline = Date.now() + graceMs;
  for (;;) {
    const pending = await rpc<{ transactions: unknown[] } | null>('eth_getBlockByNumber', ['pending', false]);
    if (!pending || pending.transactions.length === 0) break;
    if (Date.now() > deadline) throw new Error(`transactions still waiting to be mined ${graceMs} ms after the run`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const [lastBlock, lastNonce] = [await block(), await nonce()];
  let allTransactions = 0;
  for (let n = firstBlock + 1; n <= lastBlock; n++) allTransactions += Number(await rpc<Hex>('eth_getBlockTransactionCountByNumber', [`0x${n.toString(16)}`]));
  return { load, chain: { facilitatorTransactions: lastNonce - firstNonce, allTransactions, blocks: lastBlock - firstBlock }, ...(settlement ? { settlement } : {}), ...(depositLatencyMs ? { depositLatencyMs } : {}) };
}
