/** Injecting the configuration into a prebuilt edge bundle: exact, and safe for any string. */
import fc from 'fast-check';
import { EDGE_CONFIG_PLACEHOLDER } from '../../lambda/edge/baked-config';
import { EDGE_BUNDLES, injectConfig, PLACEHOLDER_LITERAL, readPrebuiltBundle } from '../../lib/prebuilt-bundle';

/** A bundle reduced to what matters: code around the one placeholder literal the configuration replaces. */
const stub = Buffer.from(`"use strict";/* before */module.exports=JSON.parse(${PLACEHOLDER_LITERAL});/* after: "quoted" \\ é */`);

/** Runs a CommonJS bundle and returns its exports. */
function evaluate(code: Buffer): unknown {
  const module = { exports: {} as unknown };
  new Function('module', code.toString('utf8'))(module);
  return module.exports;
}

/** Any UTF-16 code unit (lone surrogates included), and often one of the characters that break string literals. */
const anyCodeUnit = fc.oneof(
  fc.constantFrom('"', "'", '`', '\\', '\u2028', '\u2029', '\u0000', '\n', '\ud800', '\udfff', '</script>', '<!--', '*/', '$&', "$'", '$`', '${', EDGE_CONFIG_PLACEHOLDER),
  fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)),
);

describe('injectConfig', () => {
  it('carries any configuration into the bundle exactly, whatever its strings hold', () => {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit: anyCodeUnit }), (config) => {
        expect(evaluate(injectConfig('viewer-request', stub, config))).toEqual(JSON.parse(JSON.stringify(config)));
      }),
      { numRuns: 300 },
    );
  });

  it('writes the configuration as printable ASCII and changes no other byte of the bundle', () => {
    const config = { payTo: '0xAbC', description: 'Ünïcödé "quoted" \\ \u2028\u2029 </script> 🙂 \ud800' };
    const injected = injectConfig('viewer-request', stub, config);
    const at = stub.indexOf(PLACEHOLDER_LITERAL);
    const tail = stub.length - at - PLACEHOLDER_LITERAL.length;
    expect(injected.subarray(0, at)).toEqual(stub.subarray(0, at));
    expect(injected.subarray(injected.length - tail)).toEqual(stub.subarray(stub.length - tail));
    expect(injected.subarray(at, injected.length - tail).toString('latin1')).toMatch(/^"[\x20-\x7e]*"$/);
    expect(evaluate(injected)).toEqual(config);
  });

  it('refuses a bundle without the placeholder, naming the fix', () => {
    expect(() => injectConfig('origin-response', Buffer.from('module.exports=JSON.parse("{}")'), {})).toThrow(
      /the origin-response bundle holds its configuration placeholder nowhere.*npm run build:bundles/,
    );
  });

  it('refuses a bundle holding the placeholder twice, so a configuration is never half applied', () => {
    const twice = Buffer.concat([stub, Buffer.from(`;var again=${PLACEHOLDER_LITERAL};`)]);
    expect(() => injectConfig('viewer-request', twice, {})).toThrow(/holds its configuration placeholder more than once/);
  });

  it.each(EDGE_BUNDLES)('replaces the one placeholder of the prebuilt %s bundle with the configuration', (name) => {
    const prebuilt = readPrebuiltBundle(name);
    const config = { marker: 'injected "here"' };
    const injected = injectConfig(name, prebuilt, config);
    expect(injected.indexOf(PLACEHOLDER_LITERAL)).toBe(-1);
    const at = prebuilt.indexOf(PLACEHOLDER_LITERAL);
    const end = at + injected.length - prebuilt.length + PLACEHOLDER_LITERAL.length;
    // The literal written there is also a JSON string: the configuration's JSON text.
    expect(JSON.parse(JSON.parse(injected.subarray(at, end).toString('latin1')))).toEqual(config);
    // Buffer#equals: jest's toEqual compares 190 KB byte by byte for seconds.
    expect(Buffer.concat([injected.subarray(0, at), PLACEHOLDER_LITERAL, injected.subarray(end)]).equals(prebuilt)).toBe(true);
  });
});
