/** CDK context values (command-line strings, cdk.json JSON) → settings. */
import { settingsFromContext } from '../../../lib/config/context';
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
      routes: { '/a/*': '$0.002', 'GET /b': { price: '3000' } },
      eligibleBotCategories: ['ai', 'scraping_framework'],
      freeBots: ['googlebot'],
      rateLimit: 500,
    });
  });

  it('takes cdk.json values as they are', () => {
    expect(settingsFromContext({ 'x402:routes': { '/a': '$1' }, 'x402:rateLimit': 100 })).toEqual({ routes: { '/a': '$1' }, rateLimit: 100 });
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
