import type { PaymentPayload } from '@x402/core/types';
import type { PaymentPayloadV1 } from '@x402/core/types/v1';
import { parsePaymentPayload } from '@x402/core/schemas';
import { Base64EncodedRegex } from '@x402/core/utils';
import { PaymentHeaders } from './header-names';
import { reject, Reasons, type Rejection } from './rejection';


/** A real payment header is ~1 KB; anything far larger is refused before decoding. */
export const MAX_PAYMENT_HEADER_BYTES = 8 * 1024;

/** A uint256 as EVM payloads carry it: a decimal string without leading zeros. */
export const DECIMAL_UINT256 = /^(0|[1-9]\d{0,77})$/;
/** The shortest signature a payload may carry: an EOA's 65 bytes as 0x-hex (smart wallets sign longer). */
export const EOA_SIGNATURE_HEX_LENGTH = 2 + 65 * 2;

export type DecodedPayment =
  | { readonly x402Version: 2; readonly payload: PaymentPayload }
  | { readonly x402Version: 1; readonly payload: PaymentPayloadV1 };

/** The raw payment header of a request and the protocol version its name implies. */
export function findPaymentHeader(
  header: (name: string) => string | undefined,
): { version: 1 | 2; value: string } | Rejection | undefined {
  const v2 = header(PaymentHeaders.signatureV2);
  const v1 = header(PaymentHeaders.signatureV1);
  if (v2 !== undefined && v1 !== undefined) {
    return reject(400, Reasons.invalidPayload, 'send one payment header: PAYMENT-SIGNATURE (v2) or X-PAYMENT (v1), not both');
  }
  if (v2 !== undefined) return { version: 2, value: v2 };
  if (v1 !== undefined) return { version: 1, value: v1 };
  return undefined;
}

/** base64 → JSON → schema-checked payload. Malformed input is a 400 naming the problem. */
export function decodePaymentHeader(version: 1 | 2, value: string): DecodedPayment | Rejection {
  const name = version === 2 ? 'PAYMENT-SIGNATURE' : 'X-PAYMENT';
  const trimmed = value.trim();
  if (trimmed.length > MAX_PAYMENT_HEADER_BYTES) {
    return reject(400, Reasons.headerTooLarge, `${name} is ${trimmed.length} bytes; the limit is ${MAX_PAYMENT_HEADER_BYTES}`);
  }
  if (trimmed === '' || !Base64EncodedRegex.test(trimmed)) {
    return reject(400, Reasons.invalidPayload, `${name} is not base64`);
  }
  let json: unknown;
  try {
    json = JSON.parse(decodeBase64Text(trimmed));
  } catch {
    return reject(400, Reasons.invalidPayload, `${name} is not base64-encoded JSON`);
  }
  const wellFormed = wellFormedV2Payload(json);
  if (wellFormed) return version === 2 ? { x402Version: 2, payload: wellFormed } : reject(400, Reasons.invalidVersion, `${name} carries x402Version 2; it expects ${version}`);
  const parsed = parsePaymentPayload(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at "${issue.path.join('.')}"` : '';
    return reject(400, Reasons.invalidPayload, `${name} is not an x402 payment payload${where}: ${issue?.message ?? 'invalid'}`);
  }
  if (parsed.data.x402Version !== version) {
    return reject(
      400,
      Reasons.invalidVersion,
      `${name} carries x402Version ${parsed.data.x402Version}; it expects ${version}`,
    );
  }
  return parsed.data.x402Version === 2
    ? { x402Version: 2, payload: parsed.data as PaymentPayload }
    : { x402Version: 1, payload: parsed.data as PaymentPayloadV1 };
}

/**
 * What @x402/core's safeBase64Decode makes of base64 (atob, then UTF-8), through Buffer instead of
 * its per-character loop. Buffer skips what atob refuses, so atob's rules come first: the base64
 * alphabet, padding only on a multiple of 4 characters, and never 4n+1 characters of data. Throws
 * where atob throws, and on whitespace too (which atob would strip: the payment headers'
 * Base64EncodedRegex refuses it).
 */
export function decodeBase64Text(base64: string): string {
  const data = base64.replace(/={1,2}$/, '');
  if (!Base64EncodedRegex.test(base64) || (data.length !== base64.length && base64.length % 4 !== 0) || data.length % 4 === 1) {
    throw new Error('not valid base64');
  }
  return Buffer.from(data, 'base64').toString('utf8');
}

/** `value` as base64 JSON: what @x402/core's encode*Header functions write, through Buffer instead of their per-byte btoa path. */
export function base64Json(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64');
}

const V2_PAYLOAD_KEYS = new Set(['x402Version', 'resource', 'accepted', 'payload', 'extensions']);
const V2_RESOURCE_KEYS = new Set(['url', 'description', 'mimeType']);
const V2_REQUIREMENTS_KEYS = new Set(['scheme', 'network', 'amount', 'asset', 'payTo', 'maxTimeoutSeconds', 'extra']);

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
const nonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
/** Only the keys `allowed` names, none of them "__proto__" (which the schema would drop). */
const onlyKeys = (value: Record<string, unknown>, allowed: ReadonlySet<string>) => Object.keys(value).every((key) => allowed.has(key));
/** A record the schema would copy as it is: a plain object without a "__proto__" key. */
const plainRecord = (value: unknown) => isPlainObject(value) && !Object.prototype.hasOwnProperty.call(value, '__proto__');

/**
 * The common case of @x402/core's PaymentPayload schema, checked directly: a v2 payload as official
 * clients write it (no null fields, no keys the schema would strip), for which the schema's result
 * equals the input. Anything else is undefined and goes to the schema, which also words the
 * errors. The schema (zod) costs ~60 µs a payment: a tenth of a refused payment's CPU.
 */
function wellFormedV2Payload(json: unknown): PaymentPayload | undefined {
  if (!isPlainObject(json) || json.x402Version !== 2 || !onlyKeys(json, V2_PAYLOAD_KEYS)) return undefined;
  const { resource, accepted, payload, extensions } = json;
  if (resource !== undefined) {
    if (!isPlainObject(resource) || !onlyKeys(resource, V2_RESOURCE_KEYS) || !nonEmptyString(resource.url)) return undefined;
    if ((resource.description !== undefined && typeof resource.description !== 'string') || (resource.mimeType !== undefined && typeof resource.mimeType !== 'string')) return undefined;
  }
  if (!isPlainObject(accepted) || !onlyKeys(accepted, V2_REQUIREMENTS_KEYS)) return undefined;
  const { scheme, network, amount, asset, payTo, maxTimeoutSeconds, extra } = accepted;
  if (![scheme, amount, asset, payTo].every(nonEmptyString)) return undefined;
  if (typeof network !== 'string' || network.length < 3 || !network.includes(':')) return undefined;
  if (typeof maxTimeoutSeconds !== 'number' || !(maxTimeoutSeconds > 0) || !Number.isFinite(maxTimeoutSeconds)) return undefined;
  if (extra !== undefined && !plainRecord(extra)) return undefined;
  if (!plainRecord(payload)) return undefined;
  if (extensions !== undefined && !plainRecord(extensions)) return undefined;
  return json as unknown as PaymentPayload;
}

/** The decoded payment as the receipt row keeps it until settlement. */
export function serializePayment(payment: DecodedPayment): string {
  return JSON.stringify(payment);
}

/** Reads back what {@link serializePayment} wrote; undefined for anything else. */
export function parseStoredPayment(stored: string): DecodedPayment | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stored);
  } catch {
    return undefined;
  }
  const payment = parsed as Partial<DecodedPayment> | null;
  const wellFormed =
    typeof payment === 'object' &&
    payment !== null &&
    (payment.x402Version === 1 || payment.x402Version === 2) &&
    typeof payment.payload === 'object' &&
    payment.payload !== null;
  return wellFormed ? (payment as DecodedPayment) : undefined;
}
