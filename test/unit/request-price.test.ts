/** Request-priced routes (priceBy): first matching rule, deterministic terms, refusals naming the feature. */
import fc from 'fast-check';
import type { PriceCondition, PriceRule } from '../../lambda/core/config';
import { priceToAtomicUnits } from '../../lambda/core/price';
import { priceTable, termsAt, termsFor, type PriceFeatures } from '../../lambda/core/request-price';
import { isRejection } from '../../lambda/core/rejection';
import { compileRoutes } from '../../lambda/core/routes';
import { testEdgeConfig } from '../support/config';

const config = testEdgeConfig();

function tableFor(pattern: string, price: string, priceBy: PriceRule[]) {
  const [route] = compileRoutes({ ...config, routes: [{ pattern, price }] });
  return priceTable(route, priceBy, config);
}

function request(fields: { method?: string; path?: string; querystring?: string; headers?: Record<string, string> }): PriceFeatures {
  const headers = fields.headers ?? {};
  return { method: fields.method ?? 'GET', path: fields.path ?? '/reports/one', querystring: fields.querystring ?? '', header: (name) => headers[name] };
}

const reportRules: PriceRule[] = [
  { price: '$0.05', tier: 'xl', when: [{ query: 'size', equalTo: 'xl' }] },
  { price: '$0.02', tier: 'pro', when: [{ header: 'x-model', oneOf: ['gpt', 'claude'] }] },
  { price: '$0.01', when: [{ query: 'rows', min: 1000, max: 9999 }, { segment: 0, equalTo: 'reports' }] },
];

describe('termsFor', () => {
  const table = tableFor('/reports/*', '$0.001', reportRules);
  const amountOf = (r: PriceFeatures) => {
    const terms = termsFor(table, r);
    if (isRejection(terms)) throw new Error(terms.message);
    return terms.requirements.amount;
  };

  it('prices by a query parameter, a header, a segment with a numeric range, else the route price', () => {
    expect(amountOf(request({ querystring: 'size=xl' }))).toBe('50000');
    expect(amountOf(request({ headers: { 'x-model': 'claude' } }))).toBe('20000');
    expect(amountOf(request({ querystring: 'rows=1000' }))).toBe('10000');
    expect(amountOf(request({ querystring: 'rows=10000' }))).toBe('1000');
    expect(amountOf(request({}))).toBe('1000');
  });

  it('takes the first matching rule when several hold', () => {
    expect(amountOf(request({ querystring: 'size=xl&rows=2000', headers: { 'x-model': 'gpt' } }))).toBe('50000');
  });

  it('records the rule and its tier in the terms, and the hand-off finds the same terms again', () => {
    const terms = termsFor(table, request({ headers: { 'x-model': 'gpt' } }));
    expect(isRejection(terms) ? terms : { rule: terms.priceRule, tier: terms.tier }).toEqual({ rule: 1, tier: 'pro' });
    expect(termsAt(table, 1)).toBe(terms);
    expect(termsAt(table, undefined)).toBe(table.base);
    expect(termsAt(table, 7)).toBeUndefined();
  });

  it('refuses a non-numeric value of a feature compared by min/max, naming the feature (400 invalid_price_feature)', () => {
    const refused = termsFor(table, request({ querystring: 'rows=lots' }));
    expect(refused).toMatchObject({ kind: 'rejection', status: 400, reason: 'invalid_price_feature' });
    expect(isRejection(refused) && refused.message).toMatch(/query parameter "rows"/);
  });

  it('refuses a priced query parameter given twice rather than pick one', () => {
    expect(termsFor(table, request({ querystring: 'size=s&size=xl' }))).toMatchObject({ status: 400, reason: 'invalid_price_feature' });
  });

  describe('body size', () => {
    const upload = tableFor('POST /upload', '$0.001', [{ price: '$0.01', tier: 'large', when: [{ contentLength: { min: 65537 } }] }]);
    it('prices a large body higher and a small one at the route price', () => {
      expect(termsFor(upload, request({ method: 'POST', headers: { 'content-length': '70000' } }))).toMatchObject({ tier: 'large', requirements: { amount: '10000' } });
      expect(termsFor(upload, request({ method: 'POST', headers: { 'content-length': '10' } }))).toBe(upload.base);
    });
    it('answers 411 length_required to a POST without Content-Length', () => {
      expect(termsFor(upload, request({ method: 'POST' }))).toMatchObject({ status: 411, reason: 'length_required' });
    });
    it('refuses a malformed Content-Length as 400 invalid_price_feature', () => {
      expect(termsFor(upload, request({ method: 'POST', headers: { 'content-length': '-1' } }))).toMatchObject({ status: 400, reason: 'invalid_price_feature' });
    });
  });
});

// ---- Properties over random rules and requests -------------------------------------------------

const names = ['a', 'b', 'c'];
const values = ['0', '1', '7', '42', '1000', 'x', 'large', ''];
const prices = ['$0.001', '$0.002', '$0.01', '1234', '99'];

const comparison = fc.oneof(
  fc.record({ equalTo: fc.constantFrom(...values) }),
  fc.record({ oneOf: fc.subarray(values, { minLength: 1 }) }),
  fc.record({ min: fc.constantFrom(0, 1, 7, 100) }),
  fc.record({ max: fc.constantFrom(1, 42, 1000) }),
);
const condition: fc.Arbitrary<PriceCondition> = fc.oneof(
  fc.tuple(fc.constantFrom(...names), comparison).map(([query, c]) => ({ query, ...c })),
  fc.tuple(fc.constantFrom(...names.map((n) => `x-${n}`)), comparison).map(([header, c]) => ({ header, ...c })),
  fc.tuple(fc.constantFrom(0, 1, 2), comparison).map(([segment, c]) => ({ segment, ...c })),
  fc.record({ contentLength: fc.record({ min: fc.constantFrom(0, 10, 1000) }, { requiredKeys: [] }) }),
);
const rules = fc.array(
  fc.record({ price: fc.constantFrom(...prices), tier: fc.option(fc.constantFrom('s', 'm', 'l'), { nil: undefined }), when: fc.array(condition, { minLength: 1, maxLength: 3 }) }),
  { minLength: 1, maxLength: 5 },
);
const features = fc.record({
  method: fc.constantFrom('GET', 'POST', 'PUT'),
  query: fc.dictionary(fc.constantFrom(...names), fc.constantFrom(...values), { maxKeys: 3 }),
  headers: fc.dictionary(fc.constantFrom('x-a', 'x-b', 'x-c', 'content-length'), fc.constantFrom(...values), { maxKeys: 4 }),
  segments: fc.array(fc.constantFrom(...values.filter((v) => v !== '')), { minLength: 1, maxLength: 3 }),
});

type Features = typeof features extends fc.Arbitrary<infer T> ? T : never;
const toRequest = (f: Features): PriceFeatures =>
  request({ method: f.method, path: `/${f.segments.join('/')}`, querystring: new URLSearchParams(f.query).toString(), headers: f.headers });

/** The reference: the rules read one at a time, as the documentation states them. */
function referencePrice(rulesList: readonly PriceRule[], f: Features, routePrice: string): string | number {
  const value = (c: PriceCondition): string | undefined => {
    if (c.query !== undefined) return f.query[c.query];
    if (c.header !== undefined) return f.headers[c.header]?.trim();
    if (c.segment !== undefined) return f.segments[c.segment];
    return ['POST', 'PUT', 'PATCH'].includes(f.method) ? f.headers['content-length'] : undefined;
  };
  // Every condition is read, in order, before any rule is matched: the first unreadable one refuses.
  for (const c of rulesList.flatMap((r) => r.when)) {
    if (c.contentLength && ['POST', 'PUT', 'PATCH'].includes(f.method) && f.headers['content-length'] === undefined) return 411;
    const numeric = c.contentLength || c.min !== undefined || c.max !== undefined;
    if (numeric && value(c) !== undefined && !/^\d+(\.\d+)?$/.test(value(c)!)) return 400;
  }
  const holds = (c: PriceCondition) => {
    const v = value(c);
    if (v === undefined) return false;
    const lo = c.contentLength?.min ?? c.min;
    const hi = c.contentLength?.max ?? c.max;
    return (lo === undefined || Number(v) >= lo) && (hi === undefined || Number(v) <= hi) && (c.equalTo === undefined || v === c.equalTo) && (c.oneOf === undefined || c.oneOf.includes(v));
  };
  const rule = rulesList.find((r) => r.when.every(holds));
  return (priceToAtomicUnits(rule?.price ?? routePrice, 6) as { amount: string }).amount;
}

describe('termsFor properties (1,000 random rule sets and requests each)', () => {
  it('matches the reference evaluation', () => {
    fc.assert(
      fc.property(rules, features, (ruleList, f) => {
        const table = tableFor('POST /**', '$0.003', ruleList);
        const terms = termsFor(table, toRequest(f));
        const got = isRejection(terms) ? terms.status : terms.requirements.amount;
        expect(got).toEqual(referencePrice(ruleList, f, '$0.003'));
      }),
      { numRuns: 1000, seed: 12 },
    );
  });

  it('gives equal requests the same terms object (the 402 and the paid retry compare equal), and a rebuilt table deep-equal terms', () => {
    fc.assert(
      fc.property(rules, features, (ruleList, f) => {
        const table = tableFor('POST /**', '$0.003', ruleList);
        const first = termsFor(table, toRequest(f));
        const again = termsFor(table, toRequest(structuredClone(f)));
        if (isRejection(first)) expect(again).toEqual(first);
        else {
          expect(again).toBe(first);
          // Another container builds the same table from the same baked config.
          const elsewhere = termsFor(tableFor('POST /**', '$0.003', structuredClone(ruleList)), toRequest(f));
          expect(isRejection(elsewhere) ? elsewhere : elsewhere.requirements).toEqual(first.requirements);
        }
      }),
      { numRuns: 1000, seed: 21 },
    );
  });
});

describe('upto routes', () => {
  it('take no priceBy: the edge offers their one maximum, so a table with rules is refused, not silently ignored', () => {
    const [route] = compileRoutes({ ...config, routes: [{ pattern: '/api/**', scheme: 'upto', maxPrice: '$0.05' }] });
    expect(() => priceTable(route, reportRules, config)).toThrow('route "/api/**": priceBy does not apply to an upto route');
    expect(priceTable(route, undefined, config).rules).toEqual([]);
  });
});
