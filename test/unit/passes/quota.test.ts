/**
 * Pass quotas counted per container and flushed in the background (lambda/core/passes/quota.ts):
 * a fake clock and the counter rows in memory, with the table's semantics (each container's flush
 * sequence applied once) and flushes the test lands, loses or fails when it chooses.
 */
import { decodePaymentRequiredHeader } from '@x402/core/http';
import type { EdgeConfig } from '../../../lambda/core/config';
import { flushEvery, PassQuotas, QUOTA_FLUSH_SECONDS, QUOTA_FLUSH_TIMEOUT_SECONDS, QUOTA_FLUSH_USES } from '../../../lambda/core/passes/quota';
import { PassScheme } from '../../../lambda/core/passes/scheme';
import { Paywall, type PaywallRequest } from '../../../lambda/core/paywall';
import { passSigner } from '../../../lambda/edge/pass-signer';
import { newPassKeyPair } from '../../../local/pass-key';
import { testEdgeConfig } from '../../support/config';
import { MemoryPassUsage } from '../../support/memory-pass-usage';
import { MemoryReceipts } from '../../support/memory-receipts';

const EXP = 2_000_000_000;
/** Lets the background flushes' promise callbacks run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

function containers(count: number, usage = new MemoryPassUsage()) {
  let now = 1_000_000;
  const log: Array<Record<string, unknown>> = [];
  const clock = {
    now: () => now,
    advance: (seconds: number) => {
      now += seconds * 1000;
    },
  };
  const list = Array.from({ length: count }, () => new PassQuotas(usage, clock.now, (line) => log.push(line)));
  return { usage, clock, log, list };
}

/** Uses until refused (bounded), letting answers arrive between uses: how many were admitted. */
async function useUntilRefused(quotas: PassQuotas, passId: string, quota: number, max = quota * 10): Promise<number> {
  let admitted = 0;
  while (admitted < max && quotas.admit(passId, quota, EXP)) {
    admitted++;
    await settle();
  }
  return admitted;
}

describe('flush cadence', () => {
  it('flushes every 2% of the quota, between 1 and 50 uses', () => {
    expect(flushEvery(5)).toBe(1);
    expect(flushEvery(1000)).toBe(20);
    expect(flushEvery(1_000_000)).toBe(QUOTA_FLUSH_USES);
  });

  it('writes once on the first use, then once per flushEvery uses, and once after the flush interval for fewer', async () => {
    const { usage, clock, list } = containers(1);
    const [quotas] = list;
    expect(quotas.admit('p', 1000, EXP)).toBe(true);
    await settle();
    expect(usage.writes).toBe(1);
    for (let i = 0; i < 40; i++) {
      quotas.admit('p', 1000, EXP);
      await settle();
    }
    expect(usage.writes).toBe(3);
    expect(usage.uses('p')).toBe(41);
    quotas.admit('p', 1000, EXP);
    await settle();
    expect(usage.writes).toBe(3);
    clock.advance(QUOTA_FLUSH_SECONDS);
    quotas.admit('p', 1000, EXP);
    await settle();
    expect(usage.writes).toBe(4);
    expect(usage.uses('p')).toBe(43);
  });
});

describe('one container', () => {
  it('admits exactly the quota and refuses the next use, with the table answering', async () => {
    const { usage, list } = containers(1);
    expect(await useUntilRefused(list[0], 'p', 5)).toBe(5);
    expect(list[0].admit('p', 5, EXP)).toBe(false);
    expect(usage.uses('p')).toBe(5);
  });

  it('admits exactly the quota while no flush has answered (a frozen container, a slow table)', async () => {
    const usage = new MemoryPassUsage();
    usage.held = true;
    const { list } = containers(1, usage);
    expect(await useUntilRefused(list[0], 'p', 1000)).toBe(1000);
    // Answers arriving later (the next invocation) change nothing: the count stays the quota.
    expect(usage.pending).toHaveLength(1);
    usage.pending[0].land();
    await settle();
    usage.held = false;
    await list[0].flushAll();
    expect(usage.uses('p')).toBe(1000);
    expect(list[0].admit('p', 1000, EXP)).toBe(false);
  });

  it('counts each pass id on its own', async () => {
    const { list } = containers(1);
    expect(await useUntilRefused(list[0], 'a', 3)).toBe(3);
    expect(await useUntilRefused(list[0], 'b', 3)).toBe(3);
  });
});

describe('several containers', () => {
  it('two containers using one pass in turn overshoot the quota by at most 2 × flushEvery, never under it', async () => {
    const quota = 1000;
    const { usage, list } = containers(2);
    const admitted = [0, 0];
    for (let turn = 0; turn < 10 * quota; turn++) {
      const i = turn % 2;
      if (list[i].admit('p', quota, EXP)) admitted[i]++;
      await settle();
      if (!list[0].admit('p', quota, EXP) && !list[1].admit('p', quota, EXP)) break;
    }
    // The probing admits above count too: read the total from the table after a last flush.
    await Promise.all(list.map((q) => q.flushAll()));
    const total = usage.uses('p');
    expect(total).toBeGreaterThanOrEqual(quota);
    expect(total).toBeLessThanOrEqual(quota + 2 * flushEvery(quota));
  });

  /**
   * `count` containers use one pass in turn until all refuse; each flush answers after `latency`
   * further uses (of all containers): the round trip, in uses. The admitted total.
   */
  async function inTurn(count: number, quota: number, latency: number) {
    const usage = new MemoryPassUsage();
    usage.held = latency > 0;
    const { list } = containers(count, usage);
    const waited = new Map<object, number>();
    let admitted = 0;
    for (let turn = 0, refusals = 0; refusals < 3 * count; turn++) {
      if (list[turn % count].admit('p', quota, EXP)) (admitted++, (refusals = 0));
      else refusals++;
      for (const flush of [...usage.pending]) {
        waited.set(flush, (waited.get(flush) ?? 0) + 1);
        if (waited.get(flush)! >= latency) flush.land();
      }
      await settle();
    }
    return admitted;
  }

  it.each([
    [10, 1000, 0],
    [10, 1000, 50],
    [100, 1000, 0],
    [10, 100_000, 100],
    [3, 20, 5],
  ])('%i containers on a quota of %i, answers %i uses late: over by at most containers × flushEvery + the uses during one round trip', async (count, quota, latency) => {
    const admitted = await inTurn(count, quota, latency);
    expect(admitted).toBeGreaterThanOrEqual(quota);
    expect(admitted - quota).toBeLessThanOrEqual(count * flushEvery(quota) + latency);
  });

  it('flushes each use near the end, so ten containers answered at once overshoot by at most one use each', async () => {
    expect((await inTurn(10, 1000, 0)) - 1000).toBeLessThanOrEqual(10);
  });

  it('shares the endgame among the containers the table reports: a hundred overshoot a third as much as with a fixed share', async () => {
    // 1,719 over with each container keeping a 25th of what it thinks is left, whatever the others do.
    expect((await inTurn(100, 1000, 0)) - 1000).toBeLessThan(700);
  });

  it("a new container for a used-up pass admits only its first use before the table's count reaches it", async () => {
    const { usage, list } = containers(2);
    expect(await useUntilRefused(list[0], 'p', 50)).toBe(50);
    await list[0].flushAll();
    expect(list[1].admit('p', 50, EXP)).toBe(true);
    await settle();
    expect(list[1].admit('p', 50, EXP)).toBe(false);
    expect(usage.uses('p')).toBe(51);
  });
});

describe('flushes that fail or lose their answer', () => {
  it('retries a failed flush after the pause and loses no use', async () => {
    const { usage, clock, log, list } = containers(1);
    const [quotas] = list;
    usage.failing = true;
    for (let i = 0; i < 30; i++) {
      expect(quotas.admit('p', 1000, EXP)).toBe(true);
      await settle();
    }
    // One attempt per pause, not one per use, while the table is down.
    expect(usage.writes).toBe(1);
    expect(log.filter((line) => line.event === 'x402.pass_quota_flush_error')).toHaveLength(1);
    usage.failing = false;
    clock.advance(QUOTA_FLUSH_SECONDS);
    quotas.admit('p', 1000, EXP);
    await settle();
    await quotas.flushAll();
    expect(usage.uses('p')).toBe(31);
  });

  it('sends a flush whose answer was lost again, and the table counts it once', async () => {
    const usage = new MemoryPassUsage();
    usage.held = true;
    const { clock, list } = containers(1, usage);
    const [quotas] = list;
    quotas.admit('p', 1000, EXP);
    expect(usage.pending).toHaveLength(1);
    usage.pending[0].landSilently();
    clock.advance(QUOTA_FLUSH_TIMEOUT_SECONDS);
    quotas.admit('p', 1000, EXP);
    expect(usage.pending.map((flush) => [flush.sequence, flush.uses])).toEqual([[1, 1]]);
    usage.pending[0].land();
    await settle();
    usage.held = false;
    await quotas.flushAll();
    expect(usage.uses('p')).toBe(2);
  });

  it('takes the late answer of a first attempt and the duplicate of its retry as one flush', async () => {
    const usage = new MemoryPassUsage();
    usage.held = true;
    const { clock, list } = containers(1, usage);
    const [quotas] = list;
    quotas.admit('p', 10, EXP);
    clock.advance(QUOTA_FLUSH_TIMEOUT_SECONDS);
    quotas.admit('p', 10, EXP);
    expect(usage.pending).toHaveLength(2);
    usage.pending[0].land();
    usage.pending[0].land();
    await settle();
    usage.held = false;
    await quotas.flushAll();
    expect(usage.uses('p')).toBe(2);
    expect(await useUntilRefused(quotas, 'p', 10)).toBe(8);
  });

  it('keeps a pass working on its own count when the table is down, up to the quota in this container', async () => {
    const { usage, list } = containers(1);
    usage.failing = true;
    expect(await useUntilRefused(list[0], 'p', 100)).toBe(100);
    expect(list[0].admit('p', 100, EXP)).toBe(false);
  });
});

it('flushes the uses of the least recently used pass when it forgets it', async () => {
  const usage = new MemoryPassUsage();
  const quotas = new PassQuotas(usage, () => 0, () => {}, 2);
  for (const passId of ['a', 'b']) quotas.admit(passId, 1000, EXP);
  await settle();
  quotas.admit('a', 1000, EXP);
  quotas.admit('a', 1000, EXP);
  quotas.admit('b', 1000, EXP);
  quotas.admit('c', 1000, EXP);
  await settle();
  expect(usage.uses('a')).toBe(3);
  expect(usage.uses('b')).toBe(1);
});

describe('through the paywall', () => {
  const KEY = newPassKeyPair();
  const passes: NonNullable<EdgeConfig['passes']> = {
    siteId: `0x${'12'.repeat(20)}/0123456789abcdef`,
    offers: [{ name: 'five', price: '$0.01', durationSeconds: 3600, scope: ['/articles/*'], quota: 5 }],
    verifyKeys: [{ kid: 'k1', jwk: KEY.jwk }],
    signingKey: { kid: 'k1', kind: 'local', privateKeyPem: KEY.privateKeyPem },
  };
  const config = testEdgeConfig({ passes });
  const request = (uri: string, token: string): PaywallRequest => ({ method: 'GET', uri, host: 'example.com', header: (name) => (name === 'authorization' ? `Bearer ${token}` : undefined) });

  it('signs the quota into the pass and refuses its 6th request with pass_quota_exhausted, the terms and the pass offer', async () => {
    const receipts = new MemoryReceipts();
    const paywall = new Paywall(config, { facilitator: { verify: jest.fn(), settle: jest.fn() }, receipts, passRecords: receipts, passSigner: passSigner(passes.signingKey!), clock: Date.now, log: () => {} });
    const issued = await new PassScheme(passes, config).issue(passes.offers[0], passSigner(passes.signingKey!), `0x${'ab'.repeat(20)}`, 'payment-1', Math.floor(Date.now() / 1000));
    expect(issued.claims.quota).toBe(5);
    expect(issued.record.passQuota).toBe(5);
    for (let i = 0; i < 5; i++) {
      expect((await paywall.onViewerRequest(request(`/articles/${i}`, issued.token))).kind).toBe('forward');
      await settle();
    }
    const refused = await paywall.onViewerRequest(request('/articles/6', issued.token));
    if (refused.kind !== 'respond') throw new Error('expected a refusal');
    expect(refused.response.status).toBe(402);
    expect(JSON.parse(refused.response.body).error).toBe('pass_quota_exhausted');
    const required = decodePaymentRequiredHeader(refused.response.headers['payment-required']);
    expect(required.accepts).toHaveLength(1);
    expect(required.extensions?.['x402-pass']).toMatchObject({ passes: [{ name: 'five' }] });
    expect(receipts.usage.uses(issued.claims.jti)).toBe(5);
  });

  it('does not count a request the pass does not open', async () => {
    const receipts = new MemoryReceipts();
    const paywall = new Paywall(config, { facilitator: { verify: jest.fn(), settle: jest.fn() }, receipts, passRecords: receipts, passSigner: passSigner(passes.signingKey!), clock: Date.now, log: () => {} });
    const { token, claims } = await new PassScheme(passes, config).issue(passes.offers[0], passSigner(passes.signingKey!), `0x${'ab'.repeat(20)}`, 'payment-2', Math.floor(Date.now() / 1000));
    expect((await paywall.onViewerRequest(request('/api/premium-report', token))).kind).toBe('respond');
    await settle();
    expect(receipts.usage.uses(claims.jti)).toBe(0);
  });
});
