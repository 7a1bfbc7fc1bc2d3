import type { CloudFrontHeaders } from 'aws-lambda';
import { MANAGED_CACHE_POLICIES, type CachePolicyConfig } from '../../local/distribution';
import { EdgeCache, cacheKey, cacheTtlSeconds, normalizedAcceptEncoding, selectCookies, selectQuery } from '../../local/edge-cache';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const headers = (values: Record<string, string>): CloudFrontHeaders =>
  Object.fromEntries(Object.entries(values).map(([name, value]) => [name, [{ key: name, value }]]));
const ttl = (status: number, values: Record<string, string>, policy: Partial<CachePolicyConfig> = {}, errors: Record<number, number> = {}) =>
  cacheTtlSeconds({ status: String(status), headers: headers(values) }, { minTtl: 0, defaultTtl: 0, maxTtl: 3600, ...policy }, errors, NOW);

describe('how long CloudFront keeps a response (AWS docs: "Manage how long content stays in the cache")', () => {
  it.each<[string, number, Record<string, string>, Partial<CachePolicyConfig>, number]>([
    ['no header: the default TTL', 200, {}, { defaultTtl: 86_400, maxTtl: 31_536_000 }, 86_400],
    ['no header, default TTL 0: not stored', 200, {}, {}, 0],
    ['max-age within the TTLs', 200, { 'cache-control': 'max-age=60' }, {}, 60],
    ['max-age above the maximum TTL', 200, { 'cache-control': 'max-age=7200' }, {}, 3600],
    ['max-age below the minimum TTL', 200, { 'cache-control': 'max-age=5' }, { minTtl: 30, defaultTtl: 30 }, 30],
    ['s-maxage over max-age', 200, { 'cache-control': 'max-age=60, s-maxage=120' }, {}, 120],
    ['Expires', 200, { expires: new Date(NOW + 100_000).toUTCString() }, {}, 100],
    ['max-age over Expires', 200, { 'cache-control': 'max-age=60', expires: new Date(NOW + 100_000).toUTCString() }, {}, 60],
    ['an Expires in the past', 200, { expires: new Date(NOW - 1000).toUTCString() }, {}, 0],
    ['no-store with minimum TTL 0', 200, { 'cache-control': 'no-store' }, {}, 0],
    ['private with minimum TTL 0', 200, { 'cache-control': 'private, max-age=60' }, {}, 0],
    ['no-cache with a minimum TTL: the minimum', 200, { 'cache-control': 'no-cache' }, { minTtl: 30, defaultTtl: 30 }, 30],
    ['a redirect like a 200', 301, { 'cache-control': 'max-age=60' }, {}, 60],
    ['partial content is not stored', 206, { 'cache-control': 'max-age=60' }, {}, 0],
  ])('%s', (_, status, values, policy, expected) => {
    expect(ttl(status, values, policy)).toBe(expected);
  });
});

describe('how long CloudFront keeps an error (AWS docs: "Control how long CloudFront caches errors")', () => {
  it.each<[string, number, Record<string, string>, Record<number, number>, number]>([
    ['a 404 without headers: ErrorCachingMinTTL, 10 s by default', 404, {}, {}, 10],
    ['a 404 with ErrorCachingMinTTL 0', 404, {}, { 404: 0 }, 0],
    ['a 503 with ErrorCachingMinTTL 0 and max-age: the greater, max-age', 503, { 'cache-control': 'max-age=60' }, { 503: 0 }, 60],
    ['a 503 with no-store: ignored, ErrorCachingMinTTL', 503, { 'cache-control': 'no-store' }, {}, 10],
    ['a 503 with no-store and ErrorCachingMinTTL 0: not stored', 503, { 'cache-control': 'private, no-store' }, { 503: 0 }, 0],
    ['a 404 with no-store: not stored', 404, { 'cache-control': 'no-store' }, {}, 0],
    ['a 402 is not a cacheable error code, even with max-age', 402, { 'cache-control': 'max-age=60' }, {}, 0],
    ['a 416 is never cached', 416, {}, {}, 0],
    ['a 409 is not a cacheable error code', 409, {}, {}, 0],
  ])('%s', (_, status, values, errors, expected) => {
    expect(ttl(status, values, {}, errors)).toBe(expected);
  });
});

describe('the cache key (AWS docs: "Understand the cache key")', () => {
  const policy: CachePolicyConfig = {
    ...MANAGED_CACHE_POLICIES['4135ea2d-6df8-44a3-9df3-4b5a84be39ad']!,
    maxTtl: 3600,
    headers: { behavior: 'whitelist', names: ['payment-signature'] },
    queryStrings: { behavior: 'whitelist', names: ['page'] },
    cookies: { behavior: 'allExcept', names: ['session'] },
    acceptEncodingGzip: true,
  };
  const key = (over: Partial<{ method: string; uri: string; querystring: string; headers: CloudFrontHeaders }> = {}) =>
    cacheKey({ method: 'GET', uri: '/a', querystring: 'page=1&utm=x', headers: headers({ 'payment-signature': 'p1', 'user-agent': 'ua' }), ...over }, policy, 'd1.cloudfront.net');

  it('is made of the URI, the policy\'s headers, query strings and cookies, and the normalized Accept-Encoding', () => {
    expect(key()).toBe(key({ headers: headers({ 'payment-signature': 'p1', 'user-agent': 'other' }), querystring: 'page=1&utm=y' }));
    expect(key()).not.toBe(key({ headers: headers({ 'payment-signature': 'p2' }) }));
    expect(key()).not.toBe(key({ querystring: 'page=2' }));
    expect(key()).not.toBe(key({ uri: '/b' }));
    expect(key()).not.toBe(key({ headers: headers({ 'payment-signature': 'p1', 'accept-encoding': 'gzip' }) }));
    expect(key({ headers: headers({ 'payment-signature': 'p1', cookie: 'session=1; theme=dark' }) }))
      .toBe(key({ headers: headers({ 'payment-signature': 'p1', cookie: 'session=2; theme=dark' }) }));
  });

  it('keeps OPTIONS apart from GET and HEAD, which share entries', () => {
    expect(key({ method: 'HEAD' })).toBe(key());
    expect(key({ method: 'OPTIONS' })).not.toBe(key());
  });

  it('normalizes Accept-Encoding to what the policy caches compressed', () => {
    const both = { acceptEncodingGzip: true, acceptEncodingBrotli: true };
    expect(normalizedAcceptEncoding(headers({ 'accept-encoding': 'gzip, deflate, br;q=0.9' }), both)).toBe('br,gzip');
    expect(normalizedAcceptEncoding(headers({ 'accept-encoding': 'gzip, br' }), { acceptEncodingGzip: true, acceptEncodingBrotli: false })).toBe('gzip');
    expect(normalizedAcceptEncoding(headers({ 'accept-encoding': 'deflate' }), both)).toBe('identity');
    expect(normalizedAcceptEncoding(headers({ 'accept-encoding': 'gzip' }), { acceptEncodingGzip: false, acceptEncodingBrotli: false })).toBeUndefined();
  });

  it('selects query strings and cookies by name', () => {
    expect(selectQuery('a=1&b=2&a=3', { behavior: 'whitelist', names: ['a'] })).toBe('a=1&a=3');
    expect(selectQuery('a=1&b=2', { behavior: 'allExcept', names: ['a'] })).toBe('b=2');
    expect(selectQuery('a=1&b=2', { behavior: 'none', names: [] }, { behavior: 'all', names: [] })).toBe('a=1&b=2');
    expect(selectCookies(headers({ cookie: 'a=1; b=2' }), { behavior: 'whitelist', names: ['b'] })).toEqual(['b=2']);
  });
});

it('serves an entry until it expires', () => {
  const cache = new EdgeCache();
  cache.set('k', { status: '200', headers: {}, body: Buffer.from('x'), storedAt: NOW, expiresAt: NOW + 60_000 });
  expect(cache.get('k', NOW + 59_999)?.body.toString()).toBe('x');
  expect(cache.get('k', NOW + 60_000)).toBeUndefined();
  expect(cache.size).toBe(0);
});
