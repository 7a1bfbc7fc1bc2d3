/** The agent's choice between paying per request and buying a pass, from what a 402 offers (cli/pass-plan.ts). */
import { offeredPasses, perRequestPrice, planReads, type OfferedPass, type OfferedPrice } from '../../cli/pass-plan';

const USDC = '0x036CbD53842c5426634e7929541eC2318f3dCF7e';
const NETWORK = 'eip155:84532';
const PER_READ: OfferedPrice = { scheme: 'exact', network: NETWORK, asset: USDC, amount: '1000' }; // $0.001
const pass = (name: string, amount: string, durationSeconds: number, extra: Partial<OfferedPass> = {}): OfferedPass => ({
  name, amount, asset: USDC, network: NETWORK, durationSeconds, scope: ['/articles/*'], url: `https://example.com/.well-known/x402/pass/${name}`, ...extra,
});
const DAY = pass('day', '500000', 86_400); // $0.50
const WEEK = pass('week', '2000000', 7 * 86_400); // $2

it('pays per request for few reads, and buys the pass once it is cheaper', () => {
  expect(planReads({ reads: 100 }, PER_READ, [DAY]).best).toEqual({ way: 'per-request', total: '100000', asset: USDC, network: NETWORK, payments: 100 });
  expect(planReads({ reads: 501 }, PER_READ, [DAY]).best).toMatchObject({ way: 'pass', pass: 'day', passes: 1, total: '500000', payments: 1, url: DAY.url });
});

it('prefers fewer payments at equal cost: 500 reads at $0.001 cost what the day pass costs', () => {
  const plan = planReads({ reads: 500 }, PER_READ, [DAY]);
  expect(plan.options.map((o) => [o.way, o.total, o.payments])).toEqual([['pass', '500000', 1], ['per-request', '500000', 500]]);
});

it('counts a pass shorter than the reading period as often as it must be bought', () => {
  const plan = planReads({ reads: 3000, periodSeconds: 7 * 86_400 }, PER_READ, [DAY, WEEK]);
  expect(plan.options.map((o) => [o.way, o.pass, o.passes, o.total])).toEqual([
    ['pass', 'week', 1, '2000000'],
    ['per-request', undefined, undefined, '3000000'],
    ['pass', 'day', 7, '3500000'],
  ]);
  expect(plan.best).toMatchObject({ pass: 'week', passes: 1 });
  // Over a single day the day pass wins.
  expect(planReads({ reads: 3000, periodSeconds: 86_400 }, PER_READ, [DAY, WEEK]).best).toMatchObject({ pass: 'day', passes: 1 });
  // A period just over a day needs two day passes.
  expect(planReads({ reads: 3000, periodSeconds: 86_401 }, PER_READ, [DAY]).best).toMatchObject({ pass: 'day', passes: 2, total: '1000000' });
});

it('does not compare a pass priced in another asset or on another network, and says so', () => {
  const plan = planReads({ reads: 10_000 }, PER_READ, [pass('euro', '1', 86_400, { asset: '0x0000000000000000000000000000000000000001' })]);
  expect(plan.best.way).toBe('per-request');
  expect(plan.skipped).toEqual([{ pass: 'euro', reason: expect.stringContaining('not in the per-request asset') }]);
});

it('plans with passes alone when no exact price is offered, and refuses an empty offer or nonsense', () => {
  expect(planReads({ reads: 1 }, undefined, [DAY]).best).toMatchObject({ way: 'pass', pass: 'day' });
  expect(() => planReads({ reads: 1 }, undefined, [])).toThrow('neither an exact price nor a pass');
  expect(() => planReads({ reads: 0 }, PER_READ, [DAY])).toThrow('reads must be a positive integer');
  expect(() => planReads({ reads: 1, periodSeconds: -5 }, PER_READ, [DAY])).toThrow('period');
});

it('reads the per-request price and the passes from a 402, ignoring malformed pass entries', () => {
  expect(perRequestPrice([{ scheme: 'upto', network: NETWORK, asset: USDC, amount: '5' }, PER_READ])).toBe(PER_READ);
  expect(perRequestPrice([])).toBeUndefined();
  expect(offeredPasses({ 'x402-pass': { header: 'Authorization: Bearer <pass>', passes: [DAY, { name: 'broken', amount: '$1' }, null] } })).toEqual([DAY]);
  expect(offeredPasses(undefined)).toEqual([]);
  expect(offeredPasses({ other: {} })).toEqual([]);
});
