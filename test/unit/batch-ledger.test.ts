/** lambda/core/batch/ledger.ts: when a voucher pays a request, and what a claim may submit. */
import { admitIncrement, claimableNow, COMMIT_MARKER_SECONDS, commitOutcome, LedgerReasons, MAX_LEDGER_AMOUNT, reservationBound, staleCommits, type ChannelLedger } from '../../lambda/core/batch/ledger';

const PRICE = 1000n;
const ledger: ChannelLedger = { charged: 3000n, reservedTo: 4000n, signedMax: 4000n, balance: 10_000n, withdrawalPending: false };

describe('admitIncrement', () => {
  it.each([
    ['the next voucher (reservedTo + price)', 5000n],
    ['a voucher signed ahead, up to the balance', 10_000n],
  ])('admits %s', (_case, max) => expect(admitIncrement(ledger, max, PRICE)).toEqual({ ok: true }));

  it.each([
    ['a reused voucher (the last one, already reserved)', 4000n, LedgerReasons.cumulativeTooLow],
    ['a lower cumulative amount', 3000n, LedgerReasons.cumulativeTooLow],
    ['a voucher one unit short', 4999n, LedgerReasons.cumulativeTooLow],
    ['a voucher over the deposit', 10_001n, LedgerReasons.cumulativeExceedsBalance],
  ])('refuses %s', (_case, max, reason) => expect(admitIncrement(ledger, max, PRICE)).toEqual({ ok: false, reason }));

  it('refuses anything while the payer withdraws or the channel closes for a refund, and a zero, negative or oversized price', () => {
    expect(admitIncrement({ ...ledger, withdrawalPending: true }, 5000n, PRICE)).toEqual({ ok: false, reason: LedgerReasons.withdrawalPending });
    expect(admitIncrement({ ...ledger, closing: true }, 5000n, PRICE)).toEqual({ ok: false, reason: LedgerReasons.channelClosing });
    for (const price of [0n, -1n, MAX_LEDGER_AMOUNT + 1n]) expect(admitIncrement(ledger, 5000n, price)).toEqual({ ok: false, reason: LedgerReasons.invalidPrice });
  });

  it('agrees with the bound the store checks: admitted exactly when reservedTo ≤ voucher − price', () => {
    for (let max = 3000n; max <= 6000n; max += 250n) {
      expect(admitIncrement(ledger, max, PRICE).ok).toBe(ledger.reservedTo <= reservationBound(max, PRICE));
    }
  });
});

describe('claimableNow', () => {
  it('claims what was served, never more than signed or deposited, never less than already claimed', () => {
    expect(claimableNow(ledger, 0n)).toBe(3000n);
    expect(claimableNow({ ...ledger, signedMax: 2000n }, 0n)).toBe(2000n);
    expect(claimableNow({ ...ledger, balance: 2500n }, 0n)).toBe(2500n);
    expect(claimableNow(ledger, 3500n)).toBe(3500n);
  });
});

describe('commitOutcome: a commit whose answer was lost, decided from the row', () => {
  const marker = { amount: PRICE, chargedTo: 7000n, committedAt: 1_700_000_000, route: '/feed/**', resource: 'https://example.com/feed/1' };
  const none = new Map();

  it('committed when its marker is there (with the charged cumulative the commit produced)', () => {
    expect(commitOutcome({ pending: none, committed: new Map([['r1', marker]]) }, 'r1', PRICE)).toEqual({ kind: 'committed', charged: 7000n });
  });

  it('pending when its reservation is still there, gone when neither is (released or swept) or the row is gone', () => {
    expect(commitOutcome({ pending: new Map([['r1', { amount: PRICE }]]), committed: none }, 'r1', PRICE)).toEqual({ kind: 'pending' });
    expect(commitOutcome({ pending: none, committed: new Map([['r2', marker]]) }, 'r1', PRICE)).toEqual({ kind: 'gone' });
    expect(commitOutcome(undefined, 'r1', PRICE)).toEqual({ kind: 'gone' });
  });

  it('a hand-off naming another amount matches neither the marker nor the reservation', () => {
    expect(commitOutcome({ pending: new Map([['r1', { amount: PRICE }]]), committed: new Map([['r1', marker]]) }, 'r1', 2n * PRICE)).toEqual({ kind: 'gone' });
  });
});

describe('staleCommits', () => {
  it('names the markers whose origin-response has ended (older than COMMIT_MARKER_SECONDS), not the ones still writing their receipt', () => {
    const at = 1_700_000_000;
    const committed = new Map([
      ['old', { amount: PRICE, chargedTo: 1000n, committedAt: at, route: '/feed/**', resource: 'https://example.com/feed/1' }],
      ['fresh', { amount: PRICE, chargedTo: 2000n, committedAt: at + 1, route: '/feed/**', resource: 'https://example.com/feed/2' }],
    ]);
    expect(staleCommits(committed, at + COMMIT_MARKER_SECONDS).map(([id]) => id)).toEqual(['old']);
    expect(staleCommits(committed, at + COMMIT_MARKER_SECONDS - 1)).toEqual([]);
  });
});
