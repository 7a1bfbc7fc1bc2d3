/**
 * A bounded cache of agents' key directories, so the edge fetches a directory at most once per
 * TTL (never on every request), and prepares its keys (thumbprints, verifiers) once per fetch,
 * not per request. Pure: the fetch, the clock and the preparation are injected.
 */
export const DIRECTORY_TTL_MIN_MS = 5 * 60_000;
export const DIRECTORY_TTL_MAX_MS = 24 * 3_600_000;
export const DIRECTORY_TTL_DEFAULT_MS = 3_600_000;
/** A failed fetch is remembered briefly, so a down directory is not hammered by every request. */
export const DIRECTORY_FAILURE_TTL_MS = 60_000;
export const DIRECTORY_CACHE_ENTRIES = 64;

export interface FetchedDirectory {
  /** The JSON body of the directory (`{ keys: [JWK...] }`). */
  readonly body: unknown;
  /** The response's Cache-Control header, if any. */
  readonly cacheControl?: string;
}

/** Fetches one directory URL; rejects on any failure (timeout, status, size, JSON). */
export type DirectoryFetch = (url: string) => Promise<FetchedDirectory>;

/** A directory's keys as `prepare` made them (by default the JWKs themselves), or unavailable. */
export type DirectoryKeys<Keys = readonly JsonWebKey[]> = { readonly ok: true; readonly keys: Keys } | { readonly ok: false };

interface Entry<Keys> {
  readonly expiresAt: number;
  readonly value: Promise<DirectoryKeys<Keys>>;
}

/** TTL from `max-age`, clamped to 5 min–24 h; 1 h when absent or unreadable. */
export function directoryTtlMs(cacheControl: string | undefined): number {
  const match = cacheControl === undefined ? null : /(?:^|[,\s])max-age=(\d+)/i.exec(cacheControl);
  if (match === null) return DIRECTORY_TTL_DEFAULT_MS;
  const ms = Number(match[1]) * 1000;
  return Math.min(DIRECTORY_TTL_MAX_MS, Math.max(DIRECTORY_TTL_MIN_MS, ms));
}

function keysOf(body: unknown): readonly JsonWebKey[] | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const keys = (body as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) return undefined;
  return keys.filter((key): key is JsonWebKey => typeof key === 'object' && key !== null);
}

export class KeyDirectoryCache<Keys = readonly JsonWebKey[]> {
  /** Map order is insertion order: re-inserting on use makes the first key the least recent. */
  private readonly entries = new Map<string, Entry<Keys>>();

  /** `prepare`: turns a fetched directory's JWKs into what verification uses; a rejection makes the directory unavailable. */
  constructor(
    private readonly fetchDirectory: DirectoryFetch,
    private readonly now: () => number,
    private readonly prepare: (keys: readonly JsonWebKey[]) => Promise<Keys> = async (keys) => keys as Keys,
  ) {}

  /** The directory's keys; a fetch already in flight for the URL is shared, not repeated. */
  keys(url: string): Promise<DirectoryKeys<Keys>> {
    const now = this.now();
    const cached = this.entries.get(url);
    if (cached !== undefined && cached.expiresAt > now) {
      this.entries.delete(url);
      this.entries.set(url, cached);
      return cached.value;
    }
    const value = this.load(url);
    // While in flight the entry never expires; load() replaces it with the real TTL when settled.
    this.remember(url, { expiresAt: Number.POSITIVE_INFINITY, value });
    return value;
  }

  private async load(url: string): Promise<DirectoryKeys<Keys>> {
    let result: DirectoryKeys<Keys>;
    let ttl = DIRECTORY_FAILURE_TTL_MS;
    try {
      const fetched = await this.fetchDirectory(url);
      const keys = keysOf(fetched.body);
      if (keys === undefined) {
        result = { ok: false };
      } else {
        result = { ok: true, keys: await this.prepare(keys) };
        ttl = directoryTtlMs(fetched.cacheControl);
      }
    } catch {
      result = { ok: false };
    }
    this.remember(url, { expiresAt: this.now() + ttl, value: Promise.resolve(result) });
    return result;
  }

  private remember(url: string, entry: Entry<Keys>): void {
    this.entries.delete(url);
    this.entries.set(url, entry);
    while (this.entries.size > DIRECTORY_CACHE_ENTRIES) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
