import {
  DIRECTORY_CACHE_ENTRIES,
  DIRECTORY_FAILURE_TTL_MS,
  DIRECTORY_TTL_DEFAULT_MS,
  DIRECTORY_TTL_MAX_MS,
  DIRECTORY_TTL_MIN_MS,
  KeyDirectoryCache,
  directoryTtlMs,
  type FetchedDirectory,
} from '../../../lambda/core/identity/key-directories';

const KEY = { kty: 'OKP', crv: 'Ed25519', x: 'JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs' };

function harness(respond: (url: string) => Promise<FetchedDirectory>) {
  let now = 1_000_000;
  const calls: string[] = [];
  const cache = new KeyDirectoryCache(
    (url) => {
      calls.push(url);
      return respond(url);
    },
    () => now,
  );
  return { cache, calls, advance: (ms: number) => { now += ms; } };
}

describe('directoryTtlMs', () => {
  it('reads max-age and clamps it to 5 minutes .. 24 hours', () => {
    expect(directoryTtlMs('public, max-age=7200')).toBe(7_200_000);
    expect(directoryTtlMs('max-age=1')).toBe(DIRECTORY_TTL_MIN_MS);
    expect(directoryTtlMs('max-age=99999999')).toBe(DIRECTORY_TTL_MAX_MS);
  });

  it('defaults to one hour without a max-age', () => {
    expect(directoryTtlMs(undefined)).toBe(DIRECTORY_TTL_DEFAULT_MS);
    expect(directoryTtlMs('no-store')).toBe(DIRECTORY_TTL_DEFAULT_MS);
  });
});

describe('KeyDirectoryCache', () => {
  it('fetches a directory once and serves it from cache until its TTL ends', async () => {
    const h = harness(async () => ({ body: { keys: [KEY] }, cacheControl: 'max-age=600' }));
    expect(await h.cache.keys('https://a/x')).toEqual({ ok: true, keys: [KEY] });
    h.advance(599_000);
    await h.cache.keys('https://a/x');
    expect(h.calls).toHaveLength(1);
    h.advance(2_000);
    await h.cache.keys('https://a/x');
    expect(h.calls).toHaveLength(2);
  });

  it('shares one in-flight fetch between concurrent requests', async () => {
    const h = harness(async () => ({ body: { keys: [KEY] } }));
    const results = await Promise.all([h.cache.keys('https://a/x'), h.cache.keys('https://a/x'), h.cache.keys('https://a/x')]);
    expect(results.every((r) => r.ok)).toBe(true);
    expect(h.calls).toHaveLength(1);
  });

  it('remembers a failure for a minute, then tries again', async () => {
    let fail = true;
    const h = harness(async () => {
      if (fail) throw new Error('timeout');
      return { body: { keys: [KEY] } };
    });
    expect(await h.cache.keys('https://a/x')).toEqual({ ok: false });
    fail = false;
    h.advance(DIRECTORY_FAILURE_TTL_MS - 1);
    expect(await h.cache.keys('https://a/x')).toEqual({ ok: false });
    h.advance(2);
    expect(await h.cache.keys('https://a/x')).toEqual({ ok: true, keys: [KEY] });
    expect(h.calls).toHaveLength(2);
  });

  it('treats a body without a keys array as unavailable', async () => {
    const h = harness(async () => ({ body: { nope: 1 } }));
    expect(await h.cache.keys('https://a/x')).toEqual({ ok: false });
  });

  it('holds at most 64 directories, evicting the least recently used', async () => {
    const h = harness(async () => ({ body: { keys: [KEY] } }));
    for (let i = 0; i < DIRECTORY_CACHE_ENTRIES; i++) await h.cache.keys(`https://a${i}/x`);
    await h.cache.keys('https://a0/x'); // a0 becomes the most recent
    await h.cache.keys('https://new/x'); // evicts a1
    const before = h.calls.length;
    await h.cache.keys('https://a0/x');
    expect(h.calls.length).toBe(before);
    await h.cache.keys('https://a1/x');
    expect(h.calls.length).toBe(before + 1);
  });
});
