import { formatReport } from '../../cli/report';
import { revenueFromReceipts, type ReceiptLike } from '../../cli/revenue';

const base = { engine: 'edge', network: 'eip155:84532', payer: '0x1111111111111111111111111111111111111111', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', route: '/api/**', createdAt: '2026-12-01T10:00:00.000Z' };
const metered = (status: string, amount: string, maxAmount = '5000'): ReceiptLike => ({ ...base, status, amount, scheme: 'upto', maxAmount });
const window = [new Date('2026-12-01T00:00:00Z'), new Date('2026-12-02T00:00:00Z')] as const;

describe('cdk-x402 report: metered (upto) payments', () => {
  it('sums revenue against the authorized maxima, averages the fill ratio per payment and counts refusals', () => {
    const rows = [metered('settled', '1000'), metered('settled', '5000'), metered('released', '0'), metered('failed', '5000'), metered('reserved', '5000'), { ...base, status: 'settled', amount: '1000' }];
    const report = revenueFromReceipts(rows, ...window);
    expect(report.metered).toEqual({ payments: 3, revenueAtomic: '6000', maximumAtomic: '15000', averageFillRatio: 0.4, refusals: 1 });
    // The zero-usage row is not revenue; the exact payment is revenue but not metered.
    expect(report.totals.payments).toBe(3);
    expect(formatReport(report, 'table t')).toContain('3 payment(s): 6000 of 15000 atomic units authorized, average fill ratio 40.0%, 1 refused');
  });

  it('has no metered section without metered rows', () => {
    expect(revenueFromReceipts([{ ...base, status: 'settled', amount: '1000' }], ...window).metered).toBeUndefined();
  });
});
