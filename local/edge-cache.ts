/**
 * CloudFront's edge cache, as AWS documents it ("Manage how long content stays in the cache",
 * "Control how long CloudFront caches errors", "Understand the cache key"): what the key is made
 * of, how long a response stays, which responses are never stored. One edge location, one tier.
 */
import type { CloudFrontHeaders } from 'aws-lambda';
import { DEFAULT_ERROR_CACHING_MIN_TTL, type CachePolicyConfig, type NameSelection } from './distribution';

/** 4xx/5xx codes CloudFront caches (for ErrorCachingMinTTL); 402 is not one of them, 416 is never cached. */
export const CACHEABLE_ERROR_CODES: ReadonlySet<number> = new Set([400, 403, 404, 405, 414, 500, 501, 502, 503, 504]);
/** Error codes for which the origin's no-store, no-cache or private prevents caching; for the others they are ignored. */
const ERRORS_HONOURING_NO_STORE: ReadonlySet<number> = new Set([404, 410, 414, 501]);

export interface CachedResponse {
  readonly status: string;
  readonly statusDescription?: string;
  readonly headers: CloudFrontHeaders;
  readonly body: Buffer;
  readonly storedAt: number;
  readonly expiresAt: number;
}

export class EdgeCache {
  private readonly entries = new Map<string, CachedResponse>();

  /** The fresh entry for `key`, if any (an expired one is dropped). */
  get(key: string, now = Date.now()): CachedResponse | undefined {
    const entry = this.entries.get(key);
    if (entry && now >= entry.expiresAt) this.entries.delete(key);
    return entry && now < entry.expiresAt ? entry : undefined;
  }

  set(key: string, entry: CachedResponse): void {
    this.entries.set(key, entry);
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * Seconds CloudFront keeps `response` for `policy`; 0 means it is not stored. The origin's
 * `Cache-Control` (`s-maxage` over `max-age`; `no-store`, `no-cache`, `private`) and `Expires` work
 * with the policy's minimum, default and maximum TTL; errors use ErrorCachingMinTTL per code.
 */
export function cacheTtlSeconds(
  response: { readonly status: string | number; readonly headers?: CloudFrontHeaders },
  policy: Pick<CachePolicyConfig, 'minTtl' | 'defaultTtl' | 'maxTtl'>,
  errorCachingMinTtl: Readonly<Record<number, number>>,
  now = Date.now(),
): number {
  const status = Number(response.status);
  const directives = cacheControl(response.headers);
  const uncacheable = directives.has('no-store') || directives.has('no-cache') || directives.has('private');
  const headerTtl = freshnessFromHeaders(directives, response.headers, now);
  if (status >= 400) {
    if (!CACHEABLE_ERROR_CODES.has(status)) return 0;
    if (uncacheable && ERRORS_HONOURING_NO_STORE.has(status)) return 0;
    const errorTtl = errorCachingMinTtl[status] ?? DEFAULT_ERROR_CACHING_MIN_TTL;
    return headerTtl === undefined ? errorTtl : Math.max(Math.min(headerTtl, policy.maxTtl), errorTtl);
  }
  // Partial content and revalidation answers are not stored (range requests are not emulated).
  if (status < 200 || status === 206 || status === 304) return 0;
  if (uncacheable) return policy.minTtl;
  if (headerTtl !== undefined) return Math.min(Math.max(headerTtl, policy.minTtl), policy.maxTtl);
  return Math.max(policy.minTtl, policy.defaultTtl);
}

/** `s-maxage`, else `max-age`, else what `Expires` leaves; undefined when the origin says nothing. */
function freshnessFromHeaders(directives: ReadonlyMap<string, string | undefined>, headers: CloudFrontHeaders | undefined, now: number): number | undefined {
  for (const name of ['s-maxage', 'max-age']) {
    const value = Number(directives.get(name));
    if (directives.has(name) && Number.isFinite(value) && value >= 0) return Math.floor(value);
  }
  const expires = headers?.expires?.[0]?.value;
  if (expires === undefined) return undefined;
  const at = Date.parse(expires);
  return Number.isNaN(at) ? 0 : Math.max(0, Math.floor((at - now) / 1000));
}

function cacheControl(headers: CloudFrontHeaders | undefined): Map<string, string | undefined> {
  const directives = new Map<string, string | undefined>();
  for (const { value } of headers?.['cache-control'] ?? []) {
    for (const part of value.split(',')) {
      const [name, arg] = part.split('=', 2).map((s) => s.trim());
      if (name) directives.set(name.toLowerCase(), arg?.replace(/^"|"$/g, ''));
    }
  }
  return directives;
}

/** Whether CloudFront may answer `method` from the cache (GET and HEAD always, OPTIONS if the behavior caches it). */
export function isCachedMethod(method: string, cachedMethods: readonly string[]): boolean {
  return method === 'GET' || method === 'HEAD' || (method === 'OPTIONS' && cachedMethods.includes('OPTIONS'));
}

/**
 * The cache key: the distribution's domain name, the URI, the query strings, headers and cookies
 * the cache policy names, the normalized Accept-Encoding when compressed objects are cached, and
 * the method for OPTIONS (cached apart from GET and HEAD).
 */
export function cacheKey(
  request: { readonly method: string; readonly uri: string; readonly querystring: string; readonly headers: CloudFrontHeaders },
  policy: CachePolicyConfig,
  distributionDomainName: string,
): string {
  const headers = policy.headers.behavior === 'whitelist'
    ? policy.headers.names.map((name) => [name, (request.headers[name] ?? []).map((e) => e.value)])
    : [];
  return JSON.stringify({
    method: request.method === 'OPTIONS' ? 'OPTIONS' : 'GET/HEAD',
    host: distributionDomainName,
    uri: request.uri,
    query: selectQuery(request.querystring, policy.queryStrings),
    headers,
    cookies: selectCookies(request.headers, policy.cookies),
    acceptEncoding: normalizedAcceptEncoding(request.headers, policy),
  });
}

/**
 * `br,gzip`, `gzip` or `br` when the policy caches compressed objects and the viewer accepts them;
 * `identity` when it caches them but the viewer accepts neither; undefined when it caches none.
 */
export function normalizedAcceptEncoding(headers: CloudFrontHeaders, policy: Pick<CachePolicyConfig, 'acceptEncodingGzip' | 'acceptEncodingBrotli'>): string | undefined {
  if (!policy.acceptEncodingGzip && !policy.acceptEncodingBrotli) return undefined;
  const accepted = new Set((headers['accept-encoding'] ?? []).flatMap((e) => e.value.split(',')).map((v) => v.split(';')[0]!.trim().toLowerCase()));
  const formats = [policy.acceptEncodingBrotli && accepted.has('br') && 'br', policy.acceptEncodingGzip && accepted.has('gzip') && 'gzip'].filter(Boolean);
  return formats.length ? formats.join(',') : 'identity';
}

/** The query string with the parameters a selection keeps, in their order (`none` → ''). */
export function selectQuery(querystring: string, ...selections: ReadonlyArray<NameSelection | undefined>): string {
  if (querystring === '') return '';
  return querystring.split('&').filter((pair) => {
    const name = decodeQueryName(pair.split('=', 1)[0]!);
    return selections.some((s) => s !== undefined && selects(s, name));
  }).join('&');
}

/** `name=value` cookies from the Cookie headers that a selection keeps. */
export function selectCookies(headers: CloudFrontHeaders, ...selections: ReadonlyArray<NameSelection | undefined>): string[] {
  return (headers.cookie ?? [])
    .flatMap((e) => e.value.split(';'))
    .map((c) => c.trim())
    .filter((c) => c !== '' && selections.some((s) => s !== undefined && selects(s, c.split('=', 1)[0]!)));
}

/** Whether a policy's selection includes `name` (exact names; header names lower case). */
export function selects(selection: NameSelection, name: string): boolean {
  switch (selection.behavior) {
    case 'none': return false;
    case 'whitelist': return selection.names.includes(name);
    case 'allExcept': return !selection.names.includes(name);
    default: return true;
  }
}

function decodeQueryName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}
