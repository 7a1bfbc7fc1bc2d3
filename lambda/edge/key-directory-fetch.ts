/**
 * The edge's fetch of one Web Bot Auth key directory, for KeyDirectoryCache. The URL comes from
 * a client header (checked by keyDirectoryUrl), so the fetch is tightly bounded: 1 s, no
 * redirects (a redirect could lead inside a network), and at most 64 KB of body.
 */
import type { FetchedDirectory } from '../core/identity/key-directories';

export const KEY_DIRECTORY_TIMEOUT_MS = 1_000;
export const KEY_DIRECTORY_MAX_BYTES = 64 * 1024;

export async function fetchKeyDirectory(url: string): Promise<FetchedDirectory> {
  const response = await fetch(url, {
    redirect: 'error',
    signal: AbortSignal.timeout(KEY_DIRECTORY_TIMEOUT_MS),
    headers: { accept: 'application/http-message-signatures-directory+json, application/json' },
  });
  if (response.status !== 200 || response.body === null) throw new Error(`key directory answered ${response.status}`);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > KEY_DIRECTORY_MAX_BYTES) {
      await reader.cancel();
      throw new Error('key directory too large');
    }
    chunks.push(value);
  }
  const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  return { body, cacheControl: response.headers.get('cache-control') ?? undefined };
}
