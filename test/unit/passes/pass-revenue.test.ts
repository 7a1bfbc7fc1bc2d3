/** `cdk-x402 report` over pass receipts: pass revenue by pass, next to the usual groups. */
import { formatReport } from '../../../cli/report';
import { revenueFromReceipts, type ReceiptLike } from '../../../cli/revenue';
import { knownNetwork } from '../../../lambda/core/networks';

const USDC = knownNetwork('eip155:84532')!.usdc.address;
const row = (over: Partial<ReceiptLike>): ReceiptLike => ({
  status: 'settled', engine: 'edge', network: 'eip155:84532', payer: `0x${'ab'.repeat(20)}`, amount: '1000', asset: USDC, route: '/articles/*', createdAt: '2026-12-01T10:00:00.000Z', ...over,
});
const SALE = 'GET /.well-known/x402/pass/day';

it('sums passes sold by pass name, counting a sale whose pass is not issued yet by its route', () => {
  const rows = [
    row({}),
    row({ route: SALE, amount: '500000', kind: 'pass', passName: 'day' }),
    row({ route: SALE, amount: '500000', kind: 'pass', passName: 'day' }),
    row({ route: SALE, amount: '500000' }),
    row({ route: SALE, amount: '500000', status: 'failed' }),
  ];
  const report = revenueFromReceipts(rows, new Date('2026-12-01T00:00:00Z'), new Date('2026-12-02T00:00:00Z'));
  expect(report.totals).toMatchObject({ payments: 4, usd: '1.501' });
  expect(report.byPass?.map(({ key, payments, usd }) => ({ key, payments, usd }))).toEqual([
    { key: 'day', payments: 2, usd: '1' },
    { key: 'day (not issued yet)', payments: 1, usd: '0.5' },
  ]);
  const text = formatReport(report, 'receipt table t, us-east-1');
  expect(text).toMatch(/Passes sold\nPASS +PAYMENTS +USD/);
  expect(text).toMatch(/PassRequests metric/);
});

it('has no pass section without pass sales', () => {
  const report = revenueFromReceipts([row({})], new Date('2026-12-01T00:00:00Z'), new Date('2026-12-02T00:00:00Z'));
  expect(report.byPass).toBeUndefined();
  expect(formatReport(report, 't')).not.toMatch(/Passes sold/);
});
