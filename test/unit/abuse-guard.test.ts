import { AbuseGuard, clientKey, DEFAULT_ABUSE_LIMITS, FailureBackoff, LruMap, WindowBudget, type PaymentAdmission } from '../../lambda/core/abuse-guard';
import type { AbuseLimits } from '../../lambda/core/config';
import { isRejection, type Rejection } from '../../lambda/core/rejection';

const LIMITS: AbuseLimits = { ...DEFAULT_ABUSE_LIMITS, failuresBeforeBackoff: 3, failureWindowSeconds: 60, firstBackoffSeconds: 10, maxBackoffSeconds: 40, smartWalletChecksPerMinute: 100 };
const TWO_CHECKS_PER_MINUTE: AbuseLimits = { ...LIMITS, smartWalletChecksPerMinute: 2 };
const PAYER = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';
const OTHER_PAYER = '0x4292a7b8f0C3f5E3a1D6a6F0f5F6b2e2d1c0a763';

function guardAt(limits: AbuseLimits = LIMITS) {
  let now = 1_000_000;
  const guard = new AbuseGuard(limits, () => now);
  return { guard, advance: (seconds: number) => (now += seconds * 1000) };
}

function admitted(result: PaymentAdmission | Rejection): PaymentAdmission {
  if (isRejection(result)) throw new Error(`refused: ${result.reason}`);
  return result;
}

function failTimes(guard: AbuseGuard, times: number, clientIp: string, payer = PAYER, signatureRecovered = true): void {
  for (let i = 0; i < times; i++) admitted(guard.admit({ clientIp, payer }, signatureRecovered)).failed();
}

describe('AbuseGuard: clients and payers that keep failing back off', () => {
  it('answers 429 too_many_failed_payments with Retry-After once a client failed K times within the window', () => {
    const { guard } = guardAt();
    failTimes(guard, 3, '198.51.100.7');
    expect(guard.admit({ clientIp: '198.51.100.7', payer: OTHER_PAYER }, true)).toMatchObject({ status: 429, reason: 'too_many_failed_payments', retryAfterSeconds: 10 });
    expect(isRejection(guard.admit({ clientIp: '198.51.100.8', payer: OTHER_PAYER }, true))).toBe(false);
  });

  it('backs off a proven payer from every client', () => {
    const { guard } = guardAt();
    failTimes(guard, 3, '198.51.100.7');
    expect(guard.admit({ clientIp: '203.0.113.1', payer: PAYER.toLowerCase() }, true)).toMatchObject({ status: 429, reason: 'too_many_failed_payments' });
  });

  it('never backs off a payer whose signature was not proven: anyone can write its address in "from"', () => {
    const { guard } = guardAt();
    failTimes(guard, 3, '198.51.100.7', PAYER, false);
    expect(guard.admit({ clientIp: '198.51.100.7', payer: PAYER }, true)).toMatchObject({ status: 429 });
    expect(isRejection(guard.admit({ clientIp: '203.0.113.1', payer: PAYER }, true))).toBe(false);
  });

  it('holds a payer the facilitator accepted responsible for its later failures (e.g. a replay)', () => {
    const { guard } = guardAt();
    for (let i = 0; i < 3; i++) {
      const admission = admitted(guard.admit({ clientIp: `198.51.100.${i}`, payer: PAYER }, false));
      admission.verified();
      admission.failed();
    }
    expect(guard.admit({ clientIp: '203.0.113.1', payer: PAYER }, true)).toMatchObject({ status: 429 });
  });

  it('doubles the backoff each time, up to the cap, and forgives a key that stays quiet', () => {
    const { guard, advance } = guardAt();
    const waits: number[] = [];
    for (let round = 0; round < 4; round++) {
      failTimes(guard, 3, '198.51.100.7');
      const refused = guard.admit({ clientIp: '198.51.100.7', payer: OTHER_PAYER }, true) as Rejection;
      waits.push(refused.retryAfterSeconds!);
      advance(refused.retryAfterSeconds!);
    }
    expect(waits).toEqual([10, 20, 40, 40]);
    advance(LIMITS.maxBackoffSeconds);
    failTimes(guard, 3, '198.51.100.7');
    expect(guard.admit({ clientIp: '198.51.100.7', payer: OTHER_PAYER }, true)).toMatchObject({ retryAfterSeconds: 10 });
  });

  it('does not count failures spread wider than the window', () => {
    const { guard, advance } = guardAt();
    for (let i = 0; i < 6; i++) {
      failTimes(guard, 1, '198.51.100.7');
      advance(LIMITS.failureWindowSeconds / 2);
    }
    expect(isRejection(guard.admit({ clientIp: '198.51.100.7', payer: PAYER }, true))).toBe(false);
  });

  it('backs off an IPv6 client by its /64, so rotating the interface id does not help', () => {
    const { guard } = guardAt();
    failTimes(guard, 1, '2001:db8:85a3:12::1', OTHER_PAYER, false);
    failTimes(guard, 1, '2001:0db8:85a3:0012:ffff::2', OTHER_PAYER, false);
    failTimes(guard, 1, '2001:db8:85a3:12:abcd:1:2:3', OTHER_PAYER, false);
    expect(guard.admit({ clientIp: '2001:db8:85a3:12::99', payer: PAYER }, true)).toMatchObject({ status: 429 });
    expect(isRejection(guard.admit({ clientIp: '2001:db8:85a3:13::1', payer: PAYER }, true))).toBe(false);
  });
});

describe('AbuseGuard: refused batch-settlement payments count like failed payments', () => {
  const channelFailures = (guard: AbuseGuard, times: number, clientIp: string, payerProven: boolean) => {
    for (let i = 0; i < times; i++) {
      const admission = guard.admitChannelPayment({ clientIp, payer: PAYER });
      if (isRejection(admission)) throw new Error(`refused: ${admission.reason}`);
      admission.failed(payerProven);
    }
  };

  it('a client whose vouchers keep being refused backs off, for vouchers and exact payments alike; its unproven payer does not', () => {
    const { guard } = guardAt();
    channelFailures(guard, 3, '198.51.100.7', false);
    expect(guard.admitChannelPayment({ clientIp: '198.51.100.7', payer: OTHER_PAYER })).toMatchObject({ status: 429, reason: 'too_many_failed_payments', retryAfterSeconds: 10 });
    expect(guard.admit({ clientIp: '198.51.100.7', payer: OTHER_PAYER }, true)).toMatchObject({ status: 429 });
    expect(isRejection(guard.admitChannelPayment({ clientIp: '203.0.113.1', payer: PAYER }))).toBe(false);
  });

  it('a payer whose signed vouchers keep being refused backs off from every client', () => {
    const { guard } = guardAt();
    for (let i = 0; i < 3; i++) channelFailures(guard, 1, `198.51.100.${i}`, true);
    expect(guard.admitChannelPayment({ clientIp: '203.0.113.1', payer: PAYER.toLowerCase() })).toMatchObject({ status: 429 });
  });
});

describe('AbuseGuard: signatures only the chain can check (possible smart wallets)', () => {
  it('lets N per minute per client reach the facilitator, then answers 429 too_many_smart_wallet_checks until the minute is over', () => {
    const { guard, advance } = guardAt(TWO_CHECKS_PER_MINUTE);
    for (const payer of [PAYER, OTHER_PAYER]) admitted(guard.admit({ clientIp: '198.51.100.7', payer }, false));
    advance(15);
    const refused = guard.admit({ clientIp: '198.51.100.7', payer: '0x000000000000000000000000000000000000dEaD' }, false);
    expect(refused).toMatchObject({ status: 429, reason: 'too_many_smart_wallet_checks', retryAfterSeconds: 45 });
    advance(45);
    expect(isRejection(guard.admit({ clientIp: '198.51.100.7', payer: PAYER }, false))).toBe(false);
  });

  it('bounds the checks per payer across clients too', () => {
    const { guard } = guardAt(TWO_CHECKS_PER_MINUTE);
    admitted(guard.admit({ clientIp: '198.51.100.1', payer: PAYER }, false));
    admitted(guard.admit({ clientIp: '198.51.100.2', payer: PAYER }, false));
    expect(guard.admit({ clientIp: '198.51.100.3', payer: PAYER }, false)).toMatchObject({ status: 429, reason: 'too_many_smart_wallet_checks' });
  });

  it('gives back the checks the facilitator accepted, so a real smart wallet is never throttled', () => {
    const { guard } = guardAt(TWO_CHECKS_PER_MINUTE);
    for (let i = 0; i < 10; i++) admitted(guard.admit({ clientIp: '198.51.100.7', payer: PAYER }, false)).verified();
  });

  it('never counts signatures that recover to the payer', () => {
    const { guard } = guardAt(TWO_CHECKS_PER_MINUTE);
    for (let i = 0; i < 10; i++) admitted(guard.admit({ clientIp: '198.51.100.7', payer: PAYER }, true));
  });
});

describe('bounded memory and the building blocks', () => {
  it('LruMap forgets the least recently used entry beyond its capacity', () => {
    const map = new LruMap<number>(2);
    map.set('a', 1);
    map.set('b', 2);
    map.get('a');
    map.set('c', 3);
    expect([map.get('a'), map.get('b'), map.get('c'), map.size]).toEqual([1, undefined, 3, 2]);
  });

  it('forgets the least recently seen clients when full, whatever keys a flood invents', () => {
    const { guard } = guardAt({ ...LIMITS, trackedKeys: 50 });
    failTimes(guard, 3, '198.51.100.7');
    for (let i = 0; i < 200; i++) failTimes(guard, 1, `10.0.${i >> 8}.${i & 255}`, `0x${i.toString(16).padStart(40, '0')}`);
    expect(isRejection(guard.admit({ clientIp: '198.51.100.7', payer: OTHER_PAYER }, true))).toBe(false);
  });

  it('WindowBudget gives back a unit only within the window it was taken in', () => {
    const budget = new WindowBudget(1, 60_000, 10);
    expect(budget.take(['k'], 0)).toEqual({ taken: true });
    expect(budget.take(['k'], 1)).toEqual({ taken: false, waitMs: 59_999 });
    budget.giveBack(['k'], 0);
    expect(budget.take(['k'], 2)).toEqual({ taken: true });
    expect(budget.take(['k'], 60_000)).toEqual({ taken: true });
    budget.giveBack(['k'], 2);
    expect(budget.take(['k'], 60_001)).toEqual({ taken: false, waitMs: 59_999 });
  });

  it('FailureBackoff waits for the longest of the keys', () => {
    const backoff = new FailureBackoff({ ...LIMITS, failuresBeforeBackoff: 1 }, 10);
    backoff.recordFailure(['a'], 0);
    backoff.recordFailure(['b'], 0);
    backoff.recordFailure(['b'], 10_000);
    expect(backoff.waitMs(['a', 'b'], 10_000)).toBe(20_000);
    expect(backoff.waitMs(['c'], 10_000)).toBe(0);
  });

  it.each([
    ['203.0.113.9', 'client:203.0.113.9'],
    ['::ffff:203.0.113.9', 'client:203.0.113.9'],
    ['2001:DB8::1', 'client:2001:db8:0:0::/64'],
    ['2001:0db8:0000:0042:0000:8a2e:0370:7334', 'client:2001:db8:0:42::/64'],
    ['::1', 'client:0:0:0:0::/64'],
  ])('clientKey(%p) is %p', (ip, key) => {
    expect(clientKey(ip)).toBe(key);
  });
});
