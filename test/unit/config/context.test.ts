/** CDK context values (command-line strings, cdk.json JSON) → settings. */
import { settingsFromContext } from '../../../lib/config/context';
import { resolveX402Config } from '../../../lib/config/resolve';
import { CONTEXT_KEYS } from '../../../lib/config/context-keys';
import { PAY_TO } from '../../constructs/helpers';

describe('settingsFromContext', () => {
  it('parses command-line strings: JSON routes, comma lists, integers', () => {
    const settings = settingsFromContext({
      'x402:payTo': PAY_TO,
      'x402:routes': '{"/a/*":"$0.002","GET /b":{"price":"3000"}}',
      'x402:eligibleBotCategories': 'ai, scraping_framework',
      'x402:freeBots': '["googlebot"]',
      'x402:rateLimit': '500',
      'aws:cdk:something': 'ignored',
    });
    expect(settings).toEqual({
      payTo: PAY_TO,
      routes: [{ pattern: '/a/*', price: '$0.002' }, { pattern: 'GET /b', price: '3000' }],
      eligibleBotCategories: ['ai', 'scraping_framework'],
      freeBots: ['googlebot'],
      rateLimit: 500,
    });
  });

  it('takes cdk.json values as they are', () => {
    expect(settingsFromContext({ 'x402:routes': { '/a': '$1' }, 'x402:rateLimit': 100 })).toEqual({ routes: [{ pattern: '/a', price: '$1' }], rateLimit: 100 });
  });

  it('refuses an unknown x402 key and suggests the near one', () => {
    expect(() => settingsFromContext({ 'x402:payto': PAY_TO })).toThrow(/x402:payto = "0x2096.*is not a cdk-x402 setting[\s\S]*did you mean x402:payTo\?/);
  });

  it('refuses malformed JSON with a quoting hint', () => {
    expect(() => settingsFromContext({ 'x402:routes': "{'/a': '$1'}" })).toThrow(/x402:routes = .*is not valid JSON[\s\S]*Fix: quote the whole value/);
  });

  it('refuses a non-integer number', () => {
    expect(() => settingsFromContext({ 'x402:rateLimit': 'lots' })).toThrow(/x402:rateLimit = "lots": must be an integer/);
  });

  it('lists every documented key exactly once', () => {
    const keys = CONTEXT_KEYS.map((k) => k.key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const spec of CONTEXT_KEYS) expect(spec.key).toBe(`x402:${spec.prop}`);
  });
});

describe('x402:routes in its object form', () => {
  it('becomes the list of routes in the object\'s order, the key as the pattern', () => {
    expect(settingsFromContext({ 'x402:routes': '{"GET /b":{"price":"$1","mimeType":"text/html"},"/a/*":"$0.002"}' }).routes).toEqual([
      { pattern: 'GET /b', price: '$1', mimeType: 'text/html' },
      { pattern: '/a/*', price: '$0.002' },
    ]);
  });

  it.each([
    ['a number', '{"/a":5}', '5'],
    ['null', '{"/a":null}', 'null'],
    ['an object without a price', '{"/a":{"description":"x"}}', '{"description":"x"}'],
  ])('keeps the message of a route priced with %s: the value as written', (_what, routes, shown) => {
    const settings = settingsFromContext({ 'x402:payTo': PAY_TO, 'x402:routes': routes });
    expect(() => resolveX402Config(settings)).toThrow(`x402:routes["/a"] = ${shown}: needs a price.\n    Fix: write "$0.001" or {"price":"$0.001","description":"…"}.`);
  });
});
