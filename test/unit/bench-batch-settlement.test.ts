/** The batch-settlement bench line's arithmetic: splitting requests among agents, the load result of timed exchanges, and the settlement totals. */
import { offPathTotals, type BillingLine, type BillingRun } from '../../bench/base-like';
import { loadResultOf, servedAtomic, shares, type PaidExchange } from '../../bench/batch-agents';

describe('shares', () => {
  it('splits the requests among the agents, the first ones taking the remainder', () => {
    expect(shares(600, 10)).toEqual(Array(10).fill(60));
    expect(shares(7, 3)).toEqual([3, 2, 2]);
    expect(shares(2, 4)).toEqual([1, 1, 0, 0]);
  });

  it('refuses a split that loses requests', () => {
    expect(() => shares(10, 0)).toThrow('cannot split 10 requests among 0 agents');
    expect(() => shares(1.5, 2)).toThrow();
  });
});

describe('loadResultOf', () => {
  const exchange = (sentMs: number, receivedMs: number, status?: number): PaidExchange => ({ sentMs, receivedMs, ...(status !== undefined ? { status, amountAtomic: 1000n } : {}) });

  it('takes latency per exchange and throughput from the first sent to the last received', () => {
    const result = loadResultOf([exchange(0, 10, 200), exchange(5, 25, 200), exchange(30, 40, 200), exchange(40, 1000, 200)], 200);
    expect(result).toMatchObject({ requests: 4, seconds: 1, rps: 4, p50: 10, p99: 960, mean: (10 + 20 + 10 + 960) / 4, statuses: { '200': 4 }, unexpected: 0, errors: 0 });
  });

  it('counts other statuses as unexpected and calls without a response as errors', () => {
    const result = loadResultOf([exchange(0, 10, 200), exchange(0, 10, 402), exchange(0, 10, 503), exchange(0, 10)], 200);
    expect(result).toMatchObject({ requests: 4, statuses: { '200': 1, '402': 1, '503': 1 }, unexpected: 2, errors: 1 });
  });
});

describe('servedAtomic', () => {
  it('adds the prices of the served exchanges only', () => {
    expect(servedAtomic([{ sentMs: 0, receivedMs: 1, status: 200, amountAtomic: 1000n }, { sentMs: 0, receivedMs: 1, status: 402, amountAtomic: 1000n }, { sentMs: 0, receivedMs: 1, status: 200, amountAtomic: 2000n }])).toBe(3000n);
  });
});

describe('offPathTotals', () => {
  const run = (paid: number, served: bigint, settled: bigint): BillingRun => ({
    load: { requests: paid, seconds: 1, rps: paid, wallSeconds: 1, p50: 1, p99: 1, mean: 1, statuses: { '200': paid }, unexpected: 0, errors: 0 },
    chain: { facilitatorTransactions: 3, allTransactions: 3, blocks: 3 },
    settlement: { paid, servedAtomic: served.toString(), settledAtomic: settled.toString(), claimTransactions: 1 },
  });

  it('sums the warm-up and both runs per side, so a run whose settle moved less shows as a difference', () => {
    const line: BillingLine = {
      model: 'batch',
      description: '',
      sides: {
        ours: { sequential: run(300, 300_000n, 300_000n), loaded: run(600, 600_000n, 600_000n), warmupPaid: 100, warmupSettlement: run(100, 100_000n, 100_000n).settlement },
        peer: { sequential: run(300, 300_000n, 300_000n), loaded: run(600, 600_000n, 599_000n), warmupPaid: 100 },
      },
    };
    expect(offPathTotals(line)).toEqual([
      { side: 'ours', paid: 1000, servedAtomic: '1000000', settledAtomic: '1000000' },
      { side: 'peer', paid: 900, servedAtomic: '900000', settledAtomic: '899000' },
    ]);
  });

  it('is empty for a line that settles on the request path', () => {
    const { settlement: _, ...exact } = run(8, 0n, 0n);
    expect(offPathTotals({ model: 'exact', description: '', sides: { ours: { sequential: exact, loaded: exact, warmupPaid: 1 } } })).toEqual([]);
  });
});
