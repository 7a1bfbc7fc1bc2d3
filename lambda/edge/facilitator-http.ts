import type { FacilitatorConfig } from '@x402/core/http';
import { FacilitatorResponseError, FacilitatorTimeoutError, SettleError, VerifyError } from '@x402/core/types';
import type { PaymentPayload, PaymentRequirements, SettleResponse, SupportedResponse, VerifyResponse } from '@x402/core/types';
import type { FacilitatorPort } from '../core/ports';
import { keptAliveHttp, NoAnswerByDeadline, type HttpAnswer } from './kept-alive-http';

type AuthHeaders = Awaited<ReturnType<NonNullable<FacilitatorConfig['createAuthHeaders']>>>;
type Operation = 'verify' | 'settle' | 'supported';

/** `/supported` answered 429 is asked again (as HTTPFacilitatorClient does), at most this often in all. */
const SUPPORTED_ATTEMPTS = 3;
const SUPPORTED_RETRY_BASE_MS = 1_000;

/**
 * The facilitator port over HTTP on kept-alive connections (lambda/edge/kept-alive-http.ts):
 * what @x402/core's `HTTPFacilitatorClient` sends and how it reads the answers (same bodies, same
 * auth hook, same errors: `VerifyError`/`SettleError` for a non-2xx answer shaped as a verdict,
 * `FacilitatorResponseError` for a 2xx answer that is not JSON or not the expected shape,
 * `FacilitatorTimeoutError` at the deadline), without `fetch`, whose CPU per call is about three
 * times node:http's. Each call's deadline covers the auth-header lookup too (a slow Secrets
 * Manager must not outlive the trigger). Redirects are not followed: a facilitator URL is
 * configured as served. Only verify and /supported are sent again on a kept-alive connection the
 * server closed as it was reused; a settle is never sent twice.
 */
export function httpFacilitator(url: string, createAuthHeaders?: FacilitatorConfig['createAuthHeaders']): Required<FacilitatorPort> {
  const base = url.replace(/\/+$/, '');
  const endpoints = { verify: new URL(`${base}/verify`), settle: new URL(`${base}/settle`), supported: new URL(`${base}/supported`) };
  const send = keptAliveHttp();

  /** One exchange, by `deadline`, with the operation's auth headers; the deadline bounds both. */
  async function exchange(operation: Operation, deadline: number, timeoutMs: number, body?: string): Promise<HttpAnswer> {
    try {
      const auth = createAuthHeaders ? await byDeadline(createAuthHeaders(), deadline) : undefined;
      return await send(endpoints[operation], {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json', ...authHeadersFor(auth, operation) },
        body,
        deadline,
        resendOnStaleConnection: operation !== 'settle',
      });
    } catch (error) {
      throw error instanceof NoAnswerByDeadline ? new FacilitatorTimeoutError(operation, Math.round(timeoutMs)) : error;
    }
  }

  const paymentBody = (payload: PaymentPayload, requirements: PaymentRequirements) =>
    JSON.stringify({ x402Version: payload.x402Version, paymentPayload: payload, paymentRequirements: requirements }, (_, value: unknown) =>
      typeof value === 'bigint' ? value.toString() : value,
    );

  return {
    async verify(payload, requirements, timeoutMs) {
      const answer = await exchange('verify', Date.now() + timeoutMs, timeoutMs, paymentBody(payload, requirements));
      if (!isSuccess(answer)) throw failure('verify', answer, 'isValid', (data) => new VerifyError(answer.status, data as VerifyResponse));
      return withExtensionResponses(parsed('verify', answer, verifyResponse), answer);
    },
    async settle(payload, requirements, timeoutMs) {
      const answer = await exchange('settle', Date.now() + timeoutMs, timeoutMs, paymentBody(payload, requirements));
      if (!isSuccess(answer)) throw failure('settle', answer, 'success', (data) => new SettleError(answer.status, data as SettleResponse));
      return withExtensionResponses(parsed('settle', answer, settleResponse), answer);
    },
    async supported(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (let attempt = 0; ; attempt++) {
        const answer = await exchange('supported', deadline, timeoutMs);
        if (isSuccess(answer)) return parsed('supported', answer, supportedResponse);
        const error = new Error(`Facilitator getSupported failed (${answer.status}): ${excerpt(answer.body)}`);
        const delay = retryDelay(answer.headers['retry-after'], attempt);
        // Asked again only when the wait and another answer can fit in the deadline.
        if (answer.status !== 429 || attempt >= SUPPORTED_ATTEMPTS - 1 || Date.now() + delay >= deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    },
  };
}

/** `promise`, or a NoAnswerByDeadline rejection when it has not settled by `deadline` (epoch ms). */
function byDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NoAnswerByDeadline('no auth headers by the deadline')), Math.max(1, deadline - Date.now()));
  });
  return Promise.race([promise, expiry]).finally(() => clearTimeout(timer));
}

/**
 * The headers `createAuthHeaders` gives for one path. As HTTPFacilitatorClient does, a flat headers
 * object (not keyed by path) is refused rather than silently sending no auth.
 */
function authHeadersFor(auth: AuthHeaders | undefined, operation: Operation): Record<string, string> {
  if (!auth) return {};
  const byPath = auth as Record<string, unknown>;
  const hasPathKey = ['verify', 'settle', 'supported', 'bazaar'].some((key) => isRecord(byPath[key]));
  if (!hasPathKey && Object.values(byPath).some((value) => !isRecord(value))) {
    throw new Error('createAuthHeaders must return an object keyed by facilitator path, e.g. { verify: { Authorization: "..." }, settle: { ... }, supported: { ... } }, but received a flat headers object');
  }
  const headers = byPath[operation];
  return isRecord(headers) ? (headers as Record<string, string>) : {};
}

const isSuccess = (answer: HttpAnswer) => answer.status >= 200 && answer.status <= 299;

/** A non-2xx answer: the facilitator's verdict when its JSON is one (it has `verdictKey`), else a plain error. */
function failure(operation: Operation, answer: HttpAnswer, verdictKey: string, verdict: (data: object) => Error): Error {
  let data: unknown;
  try {
    data = JSON.parse(answer.body);
  } catch {
    return new Error(`Facilitator ${operation} failed (${answer.status}): ${excerpt(answer.body)}`);
  }
  if (typeof data === 'object' && data !== null && verdictKey in data) return verdict(data);
  return new Error(`Facilitator ${operation} failed (${answer.status}): ${excerpt(JSON.stringify(data))}`);
}

/** A 2xx answer's body, checked for its shape; only the shape's fields are kept (as zod's object parse does). */
function parsed<T>(operation: Operation, answer: HttpAnswer, shape: (data: unknown) => T | undefined): T {
  let data: unknown;
  try {
    data = JSON.parse(answer.body);
  } catch {
    throw new FacilitatorResponseError(`Facilitator ${operation} returned invalid JSON: ${excerpt(answer.body)}`);
  }
  const value = shape(data);
  if (value === undefined) throw new FacilitatorResponseError(`Facilitator ${operation} returned invalid data: ${excerpt(answer.body)}`);
  return value;
}

/** The facilitator's EXTENSION-RESPONSES header (base64 JSON), attached as `extensionResponses` as HTTPFacilitatorClient does. */
function withExtensionResponses<T extends { extensionResponses?: Record<string, unknown> }>(result: T, answer: HttpAnswer): T {
  const header = answer.headers['extension-responses'];
  if (typeof header !== 'string' || !header) return result;
  try {
    const decoded: unknown = JSON.parse(Buffer.from(header, 'base64').toString('utf8'));
    if (isRecord(decoded)) result.extensionResponses = decoded;
  } catch {
    // A malformed header is ignored, as HTTPFacilitatorClient does.
  }
  return result;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Marks a field that failed its check. */
const INVALID = Symbol('invalid');
type Checked<T> = T | undefined | typeof INVALID;

/** An optional string (null or absent: undefined). */
const optionalString = (value: unknown): Checked<string> => (value == null ? undefined : typeof value === 'string' ? value : INVALID);
/** An optional record (null or absent: undefined). */
const optionalRecord = (value: unknown): Checked<Record<string, unknown>> => (value == null ? undefined : isRecord(value) ? value : INVALID);

/** `fields` without the undefined ones, or undefined when one failed its check. */
function shaped<T>(fields: Record<string, unknown>): T | undefined {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === INVALID) return undefined;
    if (value !== undefined) result[key] = value;
  }
  return result as T;
}

function verifyResponse(data: unknown): VerifyResponse | undefined {
  if (!isRecord(data) || typeof data.isValid !== 'boolean') return undefined;
  return shaped<VerifyResponse>({
    isValid: data.isValid,
    invalidReason: optionalString(data.invalidReason),
    invalidMessage: optionalString(data.invalidMessage),
    payer: optionalString(data.payer),
    extensions: optionalRecord(data.extensions),
    extra: optionalRecord(data.extra),
  });
}

function settleResponse(data: unknown): SettleResponse | undefined {
  if (!isRecord(data) || typeof data.success !== 'boolean' || typeof data.transaction !== 'string' || typeof data.network !== 'string') return undefined;
  return shaped<SettleResponse>({
    success: data.success,
    errorReason: optionalString(data.errorReason),
    errorMessage: optionalString(data.errorMessage),
    payer: optionalString(data.payer),
    transaction: data.transaction,
    network: data.network,
    amount: optionalString(data.amount),
    extensions: optionalRecord(data.extensions),
    extra: optionalRecord(data.extra),
  });
}

function supportedResponse(data: unknown): SupportedResponse | undefined {
  if (!isRecord(data) || !Array.isArray(data.kinds)) return undefined;
  const kinds: SupportedResponse['kinds'] = [];
  for (const kind of data.kinds) {
    if (!isRecord(kind) || typeof kind.x402Version !== 'number' || typeof kind.scheme !== 'string' || typeof kind.network !== 'string') return undefined;
    const checked = shaped<SupportedResponse['kinds'][number]>({ x402Version: kind.x402Version, scheme: kind.scheme, network: kind.network, extra: optionalRecord(kind.extra) });
    if (!checked) return undefined;
    kinds.push(checked);
  }
  const extensions = data.extensions ?? [];
  if (!Array.isArray(extensions) || !extensions.every((name) => typeof name === 'string')) return undefined;
  const signers = data.signers ?? {};
  if (!isRecord(signers) || !Object.values(signers).every((list) => Array.isArray(list) && list.every((address) => typeof address === 'string'))) return undefined;
  return { kinds, extensions, signers: signers as SupportedResponse['signers'] };
}

/** A compact excerpt of a body for error messages. */
function excerpt(text: string, limit = 200): string {
  const compact = text.trim().replace(/\s+/g, ' ');
  if (!compact) return '<empty response>';
  return compact.length <= limit ? compact : `${compact.slice(0, limit - 3)}...`;
}

/** Retry-After (seconds or an HTTP date), else exponential backoff; at most 30 s. */
function retryDelay(retryAfter: string | undefined, attempt: number): number {
  let delay: number | undefined;
  if (retryAfter !== undefined) {
    const trimmed = retryAfter.trim();
    delay = /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : Date.parse(trimmed) - Date.now();
  }
  if (delay === undefined || !(delay > 0)) delay = SUPPORTED_RETRY_BASE_MS * 2 ** attempt;
  return Math.min(delay, 30_000);
}
