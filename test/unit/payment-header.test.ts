import { encodePaymentRequiredHeader, encodePaymentResponseHeader } from '@x402/core/http';
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
