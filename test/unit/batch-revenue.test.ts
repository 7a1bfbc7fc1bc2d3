import { batchRevenue, settlementOfReceipt, type BatchClaimLike, type BatchReceiptLike, type BatchSettleLike } from '../../cli/batch-revenue';
import { knownNetwork } from '../../lambda/core/networks';

const USDC = knownNetwork('eip155:84532')!.usdc.address.toLowerCase();
const A = `0x${'aa'.repeat(32)}`;
const B = `0x${'bb'.repeat(32)}`;
const tx = (n: number) => `0x${n.toString(16).padStart(64, '0')}`;

const claim = (channelId: string, from: number, to: number, n: number): BatchClaimLike => ({ channelId, previousTotalClaimed: String(from), totalClaimed: String(to), claimTx: tx(n), claimedAt: `2026-11-0${n}T00:00:00.000Z` });
const settle = (channelId: string, from: number, to: number, n?: number): BatchSettleLike => ({ channelId, previousSettledTo: String(from), settledTo: String(to), ...(n ? { settleTx: tx(n) } : {}), settledAt: '2026-11-09T00:00:00.000Z' });

describe('settlementOfReceipt', () => {
  const claims = [claim(A, 0, 3000, 1), claim(A, 3000, 5000, 2)];
  const settles = [settle(A, 0, 3000, 7)];
  const history = { claims, settles, books: { channelId: A, totalClaimed: '5000', settledTo: '3000' } };

  it('names the first claim whose total reaches the receipt\'s cumulative, and the settle that paid that claim out', () => {
    expect(settlementOfReceipt({ cumulative: '1000' }, history)).toEqual({ claimed: true, claimTx: tx(1), claimedAt: '2026-11-01T00:00:00.000Z', settled: true, settleTx: tx(7), settledAt: '2026-11-09T00:00:00.000Z' });
    expect(settlementOfReceipt({ cumulative: '3000' }, history)).toMatchObject({ claimTx: tx(1), settleTx: tx(7) });
    expect(settlementOfReceipt({ cumulative: '3001' }, history)).toEqual({ claimed: true, claimTx: tx(2), claimedAt: '2026-11-02T00:00:00.000Z', settled: false });
  });

  it('is unclaimed beyond every claim, and never settled before it is claimed', () => {
    expect(settlementOfReceipt({ cumulative: '5001' }, { ...history, settles: [settle(A, 0, 9000, 8)], books: { channelId: A, totalClaimed: '5000', settledTo: '9000' } })).toEqual({ claimed: false, settled: false });
  });

  it('trusts the channel row for a claim the mirror repaired, without naming a transaction it does not know', () => {
    // The chain says 2000 was claimed (mirrored onto the row), but the history has no row for that claim.
    const repaired = { claims: [claim(A, 2000, 4000, 3)], settles: [], books: { channelId: A, totalClaimed: '4000', settledTo: '0' } };
    expect(settlementOfReceipt({ cumulative: '1000' }, repaired)).toEqual({ claimed: true, settled: false });
    expect(settlementOfReceipt({ cumulative: '2500' }, repaired)).toMatchObject({ claimed: true, claimTx: tx(3) });
  });

  it('records a sweep by someone else as settled without a transaction', () => {
    expect(settlementOfReceipt({ cumulative: '1000' }, { claims, settles: [settle(A, 0, 3000)] })).toEqual({ claimed: true, claimTx: tx(1), claimedAt: '2026-11-01T00:00:00.000Z', settled: true, settledAt: '2026-11-09T00:00:00.000Z' });
  });

  it('matches nothing to a receipt without a positive cumulative', () => {
    expect(settlementOfReceipt({ cumulative: '' }, history)).toEqual({ claimed: false, settled: false });
    expect(settlementOfReceipt({ cumulative: '0' }, history)).toEqual({ claimed: false, settled: false });
  });
});

describe('batchRevenue', () => {
  const receipt = (paymentId: string, channelId: string, cumulative: number, route: string, createdAt: string, status = 'settled'): BatchReceiptLike => ({
    paymentId, status, network: 'eip155:84532', asset: USDC, route, createdAt, amount: '1000', channelId, cumulative: String(cumulative),
  });
  const receipts = [
    receipt('a1', A, 1000, 'GET /a', '2026-11-01T10:00:00.000Z'),
    receipt('a2', A, 2000, 'GET /a', '2026-11-01T11:00:00.000Z'),
    receipt('a3', A, 3000, 'GET /b', '2026-11-02T10:00:00.000Z'),
    receipt('b1', B, 1000, 'GET /b', '2026-11-02T12:00:00.000Z'),
    // Not served (the origin failed), and outside the window: neither counts.
    receipt('b2', B, 2000, 'GET /b', '2026-11-02T13:00:00.000Z', 'released'),
    receipt('a4', A, 4000, 'GET /a', '2026-11-05T10:00:00.000Z'),
  ];
  const rows = {
    claims: [claim(A, 0, 2000, 1), claim(A.toUpperCase().replace('0X', '0x'), 2000, 3000, 2)],
    settles: [settle(A, 0, 2000, 7)],
    channels: [{ channelId: A, totalClaimed: '3000', settledTo: '2000' }, { channelId: B, totalClaimed: '0', settledTo: '0' }],
  };
  const report = batchRevenue(receipts, rows, new Date('2026-11-01T00:00:00Z'), new Date('2026-11-03T00:00:00Z'));

  it('sums served, claimed and settled per route and per day', () => {
    expect(report.byRoute).toEqual([
      { key: 'GET /a', network: 'eip155:84532', asset: USDC, label: 'USDC (Base Sepolia)', requests: 2, servedAtomic: '2000', claimedAtomic: '2000', settledAtomic: '2000', usd: { served: '0.002', claimed: '0.002', settled: '0.002' } },
      { key: 'GET /b', network: 'eip155:84532', asset: USDC, label: 'USDC (Base Sepolia)', requests: 2, servedAtomic: '2000', claimedAtomic: '1000', settledAtomic: '0', usd: { served: '0.002', claimed: '0.001', settled: '0' } },
    ]);
    expect(report.byDay.map((l) => [l.key, l.servedAtomic, l.claimedAtomic, l.settledAtomic])).toEqual([
      ['2026-11-01', '2000', '2000', '2000'],
      ['2026-11-02', '2000', '1000', '0'],
    ]);
  });

  it('lists each served receipt of the window with its claim and settle transactions', () => {
    expect(report.receipts.map((r) => [r.paymentId, r.claimTx, r.settleTx])).toEqual([
      ['a1', tx(1), tx(7)],
      ['a2', tx(1), tx(7)],
      ['a3', tx(2), undefined],
      ['b1', undefined, undefined],
    ]);
  });
});
