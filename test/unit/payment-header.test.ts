import { encodePaymentRequiredHeader, encodePaymentResponseHeader } from '@x402/core/http';
import { parsePaymentPayload } from '@x402/core/schemas';
import { safeBase64Decode } from '@x402/core/utils';
import { base64Json, decodeBase64Text, decodePaymentHeader, findPaymentHeader, MAX_PAYMENT_HEADER_BYTES } from '../../lambda/core/payment-header';
import { isRejection } from '../../lambda/core/rejection';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64');

const v2Payload = {
  x402Version: 2,
  accepted: { scheme: 'exact', network: 'eip155:84532', amount: '1000', asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', payTo: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C', maxTimeoutSeconds: 60, extra: {} },
  payload: { signature: '0x00' },
};
const v1Payload = { x402Version: 1, scheme: 'exact', network: 'base-sepolia', payload: { signature: '0x00' } };

describe('findPaymentHeader', () => {
  const headers = (h: Record<string, string>) => (name: string) => h[name];

  it('finds the v2 header, the v1 header, or none', () => {
    expect(findPaymentHeader(headers({ 'payment-signature': 'a' }))).toEqual({ version: 2, value: 'a' });
    expect(findPaymentHeader(headers({ 'x-payment': 'b' }))).toEqual({ version: 1, value: 'b' });
    expect(findPaymentHeader(headers({}))).toBeUndefined();
  });

  it('refuses a request carrying both headers as ambiguous', () => {
    const result = findPaymentHeader(headers({ 'payment-signature': 'a', 'x-payment': 'b' }));
    expect(result).toMatchObject({ status: 400, reason: 'invalid_payload' });
  });
});

describe('decodePaymentHeader', () => {
  it('decodes a v2 and a v1 payload', () => {
    expect(decodePaymentHeader(2, b64(v2Payload))).toMatchObject({ x402Version: 2, payload: { accepted: { amount: '1000' } } });
    expect(decodePaymentHeader(1, b64(v1Payload))).toMatchObject({ x402Version: 1, payload: { network: 'base-sepolia' } });
  });

  it.each([
    ['empty', ''],
    ['not base64', '!!!not-base64!!!'],
    ['base64 of non-JSON', b64('hello world')],
    ['base64 of a JSON number', b64('42')],
    ['JSON without x402Version', b64({ payload: {} })],
    ['unknown x402Version', b64({ ...v2Payload, x402Version: 3 })],
    ['v2 without accepted', b64({ x402Version: 2, payload: {} })],
    ['v2 with a non-CAIP network', b64({ ...v2Payload, accepted: { ...v2Payload.accepted, network: 'base' } })],
    ['truncated', b64(v2Payload).slice(0, 40)],
  ])('answers 400 invalid_payload for %s', (_, value) => {
    const result = decodePaymentHeader(2, value);
    expect(isRejection(result) && result).toMatchObject({ status: 400, reason: 'invalid_payload' });
  });

  it('refuses an oversized header before decoding it', () => {
    const result = decodePaymentHeader(2, 'A'.repeat(MAX_PAYMENT_HEADER_BYTES + 4));
    expect(result).toMatchObject({ status: 400, reason: 'payment_header_too_large' });
  });

  it('refuses a v1 payload in the v2 header and the reverse', () => {
    expect(decodePaymentHeader(2, b64(v1Payload))).toMatchObject({ status: 400, reason: 'invalid_x402_version' });
    expect(decodePaymentHeader(1, b64(v2Payload))).toMatchObject({ status: 400, reason: 'invalid_x402_version' });
  });

  it('names the field that failed the schema', () => {
    const result = decodePaymentHeader(2, b64({ ...v2Payload, accepted: { ...v2Payload.accepted, amount: 5 } }));
    expect(isRejection(result) && result.message).toMatch(/accepted\.amount/);
  });
});

describe('base64 through Buffer, as @x402/core writes and reads it', () => {
  const texts = ['', 'a', 'ab', 'abc', '{"x402Version":2}', 'Prix: 0,01 € — «article» 日本語 🚀', '\u0000\u007f\u0080\u07ff\u0800\uffff', '\ud800 lone surrogate'];

  it.each(texts)('encodes %j as encodePaymentRequiredHeader and encodePaymentResponseHeader do', (text) => {
    const value = { x402Version: 2, error: text, resource: { url: `https://example.com/${text}` }, accepts: [] };
    expect(base64Json(value)).toBe(encodePaymentRequiredHeader(value as never));
    expect(base64Json(value)).toBe(encodePaymentResponseHeader(value as never));
  });

  it.each(texts)('decodes the base64 of %j as safeBase64Decode does', (text) => {
    const encoded = Buffer.from(text, 'utf8').toString('base64');
    expect(decodeBase64Text(encoded)).toBe(safeBase64Decode(encoded));
    expect(decodeBase64Text(encoded.replace(/=+$/, ''))).toBe(safeBase64Decode(encoded.replace(/=+$/, '')));
  });

  it.each(['A', 'AAAAA', 'AB=', 'ABC==', 'A===', 'AB=C', 'AB-_', 'AAAA='])('refuses %j, as atob does', (bad) => {
    expect(() => safeBase64Decode(bad)).toThrow();
    expect(() => decodeBase64Text(bad)).toThrow();
  });

  it('still decodes, as atob does, base64 whose last character carries unused bits', () => {
    for (const loose of ['AB', 'AB==', 'ABC', 'ABC=', 'QR==']) expect(decodeBase64Text(loose)).toBe(safeBase64Decode(loose));
  });
});

describe('decodePaymentHeader agrees with @x402/core\'s schema on every variant of a v2 payload', () => {
  const official = {
    x402Version: 2,
    resource: { url: 'https://example.com/articles/one', description: 'One article', mimeType: 'text/html' },
    accepted: { ...v2Payload.accepted, extra: { name: 'USDC', version: '2' } },
    payload: { signature: `0x${'11'.repeat(65)}`, authorization: { from: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C', nonce: `0x${'22'.repeat(32)}` } },
  };
  const set = (value: unknown, path: string[], to: unknown): unknown => {
    if (path.length === 0) return to;
    const copy = { ...(value as Record<string, unknown>) };
    const [head, ...rest] = path as [string, ...string[]];
    if (rest.length === 0 && to === DROP) delete copy[head];
    else copy[head] = set(copy[head], rest, to);
    return copy;
  };
  const DROP = Symbol('drop');
  const paths = [[], ['x402Version'], ['resource'], ['resource', 'url'], ['resource', 'description'], ['resource', 'mimeType'], ['resource', 'serviceName'], ['resource', 'iconUrl'],
    ['accepted'], ...['scheme', 'network', 'amount', 'asset', 'payTo', 'maxTimeoutSeconds', 'extra', 'surplus'].map((k) => ['accepted', k]), ['payload'], ['payload', 'signature'], ['extensions'], ['surplus']];
  const values: unknown[] = [DROP, null, '', 'x', 'eip155', 'eip155:1', 0, -1, 60, 2, 1, true, [], {}, { a: 1 }, JSON.parse('{"__proto__":{"a":1}}')];
  const variants: unknown[] = [official, { ...official, resource: undefined }, JSON.parse('{"x402Version":2,"__proto__":{}}')];
  for (const path of paths) for (const value of values) variants.push(set(official, path, value));

  it.each(variants.map((variant, i) => [i, variant]))('variant %i: the same verdict and payload', (_, variant) => {
    const json = JSON.parse(JSON.stringify(variant) ?? 'null') as unknown;
    const decoded = decodePaymentHeader(2, b64(json));
    const schema = parsePaymentPayload(json);
    if (!schema.success || schema.data.x402Version !== 2) {
      expect(isRejection(decoded)).toBe(true);
      return;
    }
    expect(decoded).toEqual({ x402Version: 2, payload: schema.data });
    expect(JSON.parse(JSON.stringify(isRejection(decoded) ? undefined : decoded.payload))).toEqual(JSON.parse(JSON.stringify(schema.data)));
  });

  it('refuses a well-formed v2 payload in the v1 header, as for any other', () => {
    const decoded = decodePaymentHeader(1, b64(official));
    expect(isRejection(decoded) && decoded.reason).toBe('invalid_x402_version');
  });
});
