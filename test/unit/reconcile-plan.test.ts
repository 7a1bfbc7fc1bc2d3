import type { AuthorizationFinding, PermitFinding } from '../../cli/chain';
import { decide, decideMetered, type InDoubtRow } from '../../cli/reconcile-plan';

const PAY_TO = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';
const OTHER = '0x1111111111111111111111111111111111111111';
const TX = `0x${'ab'.repeat(32)}` as const;
const EXPIRES = 1_800_000_000;
const GRACE = 300;

const row = (over: Partial<InDoubtRow> = {}): InDoubtRow => ({
  paymentId: 'eip155:84532:0xusdc:0xpayer:0xnonce',
  status: 'failed',
  network: 'eip155:84532',
  payer: '0x4292000000000000000000000000000000000001',
  payTo: PAY_TO,
  amount: '1000',
  asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
  nonce: `0x${'01'.repeat(32)}`,
  route: '/articles/*',
  createdAt: '2027-01-15T08:00:00.000Z',
  updatedAt: '2027-01-15T08:00:01.000Z',
  expiresAt: EXPIRES,
  errorReason: 'unexpected_settle_error',
  ...over,
});
const head = (timestamp: number) => ({ number: 100n, timestamp });
const transfer = (to: string, value: bigint): AuthorizationFinding => ({ kind: 'transfer', txHash: TX, blockNumber: 42n, to: to as `0x${string}`, value });

describe('reconciliation decisions', () => {
  it('settles a failed row whose authorization paid the amount to payTo, with that transaction', () => {
    expect(decide(row(), transfer(PAY_TO.toLowerCase(), 1000n), head(EXPIRES - 60), GRACE)).toMatchObject({
      outcome: 'settled',
      write: { status: 'settled', txHash: TX },
      txHash: TX,
    });
  });

  it('settles a reserved row whose settlement happened but whose receipt write failed (the log-fallback case)', () => {
    expect(decide(row({ status: 'reserved', errorReason: undefined }), transfer(PAY_TO, 1000n), head(EXPIRES + GRACE), GRACE)).toMatchObject({ outcome: 'settled', write: { status: 'settled', txHash: TX } });
  });

  it('settles a reserved row still valid whose receipt write after the release never landed, without waiting for it to expire', () => {
    const young = row({ status: 'reserved', errorReason: undefined });
    expect(decide(young, transfer(PAY_TO, 1000n), head(EXPIRES - 90), GRACE)).toMatchObject({ outcome: 'settled', write: { status: 'settled', txHash: TX }, txHash: TX });
    // Not used yet: the settle may still be on its way, so nothing is written until it expired.
    const unused = decide(young, { kind: 'unused' } as AuthorizationFinding, head(EXPIRES - 90), GRACE);
    expect(unused).toMatchObject({ outcome: 'pending' });
    expect(unused.write).toBeUndefined();
  });

  it('says when the transaction found differs from the one the edge recorded', () => {
    const decision = decide(row({ txHash: `0x${'cd'.repeat(32)}` }), transfer(PAY_TO, 1000n), head(EXPIRES), GRACE);
    expect(decision.txHash).toBe(TX);
    expect(decision.detail).toContain(`the edge had recorded 0x${'cd'.repeat(32)}`);
  });

  it.each([
    ['another payee', transfer(OTHER, 1000n)],
    ['another value', transfer(PAY_TO, 999n)],
    ['no transfer at all', { kind: 'used-without-transfer', txHash: TX } as AuthorizationFinding],
  ])('leaves a row whose authorization was used for %s, and says so', (_what, finding) => {
    const decision = decide(row(), finding, head(EXPIRES + 10 * GRACE), GRACE);
    expect(decision).toMatchObject({ outcome: 'mismatch', txHash: TX, detail: expect.stringContaining('look at it') });
    expect(decision.write).toBeUndefined();
  });

  it('leaves a canceled authorization as it is: nothing was charged', () => {
    const decision = decide(row(), { kind: 'canceled', searched: { fromBlock: 1n, toBlock: 9n } }, head(EXPIRES + 10 * GRACE), GRACE);
    expect(decision).toMatchObject({ outcome: 'canceled', detail: expect.stringContaining('no AuthorizationUsed in blocks 1..9') });
    expect(decision.write).toBeUndefined();
  });

  it('releases an unused authorization once chain time is past validBefore plus the grace, not a second earlier', () => {
    expect(decide(row(), { kind: 'unused' }, head(EXPIRES + GRACE), GRACE)).toMatchObject({ outcome: 'released', write: { status: 'released' } });
    const early = decide(row(), { kind: 'unused' }, head(EXPIRES + GRACE - 1), GRACE);
    expect(early).toMatchObject({ outcome: 'pending', detail: expect.stringContaining('a transaction may still settle it') });
    expect(early.write).toBeUndefined();
  });

  it('releases an expired reservation the origin never answered', () => {
    expect(decide(row({ status: 'reserved', errorReason: undefined }), { kind: 'unused' }, head(EXPIRES + GRACE), GRACE)).toMatchObject({ outcome: 'released' });
  });

});

describe('reconciliation decisions for metered (upto) rows', () => {
  const metered = (over: Partial<InDoubtRow> = {}) => row({ scheme: 'upto', amount: '5000', maxAmount: '5000', status: 'reserved', errorReason: undefined, ...over });
  const settledFor = (to: string, value: bigint): PermitFinding => ({ kind: 'transfer', txHash: TX, blockNumber: 42n, to: to as `0x${string}`, value });

  it('settles a row whose Permit2 nonce the upto proxy used, at the amount that moved, not the reserved maximum', () => {
    expect(decideMetered(metered(), settledFor(PAY_TO.toLowerCase(), 1234n), head(EXPIRES + GRACE + 1), GRACE)).toEqual({
      outcome: 'settled',
      write: { status: 'settled', txHash: TX, amount: '1234' },
      txHash: TX,
      detail: expect.stringContaining('charged: 1234 of at most 5000'),
    });
    expect(decideMetered(metered(), settledFor(PAY_TO, 5000n), head(EXPIRES), GRACE).write).toEqual({ status: 'settled', txHash: TX, amount: '5000' });
  });

  it.each([
    ['above the signed maximum', settledFor(PAY_TO, 5001n)],
    ['to another payee', settledFor(OTHER, 1000n)],
    ['for nothing', settledFor(PAY_TO, 0n)],
    ['by no upto proxy settlement', { kind: 'used-elsewhere', searched: { fromBlock: 1n, toBlock: 9n } } as PermitFinding],
  ])('never releases a row whose nonce was used %s: left for a person', (_what, finding) => {
    for (const at of [EXPIRES - 60, EXPIRES + 10 * GRACE]) {
      const decision = decideMetered(metered(), finding, head(at), GRACE);
      expect(decision).toMatchObject({ outcome: 'mismatch', detail: expect.stringContaining('look at it') });
      expect(decision.write).toBeUndefined();
    }
  });

  it('releases an unused nonce only once chain time is past the deadline plus the grace (Permit2 still takes it at the deadline)', () => {
    expect(decideMetered(metered(), { kind: 'unused' }, head(EXPIRES + GRACE + 1), GRACE)).toMatchObject({ outcome: 'released', write: { status: 'released' } });
    const atDeadline = decideMetered(metered(), { kind: 'unused' }, head(EXPIRES), 0);
    expect(atDeadline).toMatchObject({ outcome: 'pending', detail: expect.stringContaining('a settlement may still land') });
    expect(atDeadline.write).toBeUndefined();
    expect(decideMetered(metered(), { kind: 'unused' }, head(EXPIRES + GRACE), GRACE).outcome).toBe('pending');
  });
});
