import { jsonCopy } from '../../local/lambda-container';

/** What crossing Lambda's JSON boundary makes of a value. */
const throughJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value) ?? 'null');

describe('jsonCopy (in-process handlers: events and results as Lambda serializes them)', () => {
  const event = {
    Records: [{ cf: { config: { eventType: 'viewer-request', requestId: 'abc' }, request: { clientIp: '127.0.0.1', method: 'GET', uri: '/a', querystring: '', headers: { host: [{ key: 'Host', value: 'x' }] } } } }],
  };

  it.each<[string, unknown]>([
    ['a CloudFront event', event],
    ['undefined, functions and symbols in objects (dropped) and arrays (null)', { a: undefined, b: () => 1, c: Symbol('s'), d: [undefined, () => 1, Symbol('t'), 1] }],
    ['non-finite numbers and -0', { nan: NaN, inf: Infinity, negInf: -Infinity, negZero: -0, list: [NaN, -0] }],
    ['a Date and an object with toJSON', { at: new Date(0), custom: { toJSON: () => ({ replaced: true }) } }],
    ['a Buffer (its toJSON shape)', { body: Buffer.from('hi') }],
    ['a class instance, a Map and a boxed string', { instance: new (class { field = 1; method() { return 2; } })(), map: new Map([[1, 2]]), boxed: new String('s') }],
    ['an object without prototype', Object.assign(Object.create(null) as object, { a: 1 })],
    ['a sparse array', [1, , 3]], // eslint-disable-line no-sparse-arrays
    ['top-level undefined, a function, null and primitives', [undefined, () => 1, null, 'x', 2, true].map((v) => ({ v }))],
  ])('copies %s exactly as a JSON round trip does', (_, value) => {
    expect(jsonCopy(value)).toStrictEqual(throughJson(value));
  });

  it('answers null for a top-level undefined or function, as a handler returning nothing gets', () => {
    expect(jsonCopy(undefined)).toBeNull();
    expect(jsonCopy(() => 1)).toBeNull();
  });

  it('keeps an own "__proto__" key a property, as JSON.parse does', () => {
    const value = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as object;
    const copy = jsonCopy(value) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'a']);
    expect(copy).toStrictEqual(throughJson(value));
  });

  it('returns a copy: changing it leaves the original as it was', () => {
    const copy = jsonCopy(event) as typeof event;
    copy.Records[0]!.cf.request.headers.host[0]!.value = 'changed';
    expect(event.Records[0]!.cf.request.headers.host[0]!.value).toBe('x');
  });

  it('refuses what JSON refuses: cycles and bigints', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    expect(() => jsonCopy(cyclic)).toThrow(TypeError);
    expect(() => jsonCopy({ amount: 1n })).toThrow(TypeError);
  });
});
