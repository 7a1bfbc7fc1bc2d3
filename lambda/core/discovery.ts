/**
 * Bazaar discovery metadata (the x402 `bazaar` extension) for the 402 of a route that declares it.
 * Built from plain configuration data in the shape `@x402/extensions/bazaar`'s
 * `declareDiscoveryExtension` declares, with the method filled in as its server extension does:
 * the viewer bundle stays free of the extension package (ajv, siwe, ...); tests check the result
 * with the package's own validator.
 */
import type { RouteDiscovery } from './config';

/** Where the edge serves the catalogue of what it sells (catalog.ts): the x402 draft's canonical location (RFC 8615). */
export const CATALOG_PATH = '/.well-known/x402.json';

/** Intermediaries may drop larger headers, so synth refuses routes whose PAYMENT-REQUIRED would exceed it. */
export const MAX_PAYMENT_REQUIRED_HEADER_BYTES = 2048;

const BODY_METHODS = ['POST', 'PUT', 'PATCH'];

/** `{ bazaar: {info, schema} }` for the 402's `extensions`; `method` is the route's (GET when it prices every method). */
export function bazaarExtension(discovery: RouteDiscovery, method: string | undefined): Record<string, unknown> {
  const verb = method === undefined || method === 'HEAD' || method === 'OPTIONS' ? 'GET' : method;
  const withBody = BODY_METHODS.includes(verb);
  const bodyType = discovery.bodyType ?? 'json';
  const input = withBody
    ? { type: 'http', method: verb, bodyType, body: discovery.input ?? {} }
    : { type: 'http', method: verb, ...(discovery.input ? { queryParams: discovery.input } : {}) };
  const inputProperties: Record<string, unknown> = {
    type: { type: 'string', const: 'http' },
    method: { type: 'string', enum: [verb] },
    ...(withBody ? { bodyType: { type: 'string', enum: [bodyType] }, body: discovery.inputSchema ?? { type: 'object' } } : {}),
    ...(!withBody && discovery.inputSchema ? { queryParams: discovery.inputSchema } : {}),
  };
  const output = discovery.output;
  const info: Record<string, unknown> = {
    input,
    ...(output ? { output: { type: 'json', ...(output.example !== undefined ? { example: output.example } : {}) } } : {}),
  };
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: {
      input: { type: 'object', properties: inputProperties, required: withBody ? ['type', 'method', 'bodyType', 'body'] : ['type', 'method'], additionalProperties: false },
      ...(output
        ? { output: { type: 'object', properties: { type: { type: 'string' }, ...(output.schema ? { example: output.schema } : {}) }, required: ['type'] } }
        : {}),
    },
    required: ['input'],
  };
  return { bazaar: { info, schema } };
}

/** Bytes of the base64 PAYMENT-REQUIRED header that carries `paymentRequired` (what encodePaymentRequiredHeader writes). */
export function paymentRequiredHeaderBytes(paymentRequired: object): number {
  return 4 * Math.ceil(new TextEncoder().encode(JSON.stringify(paymentRequired)).length / 3);
}
