/**
 * Where a Web Bot Auth agent publishes its keys: the `Signature-Agent` header names an origin, and
 * its key directory lives at a fixed well-known path on it. An agent's header is client input, so
 * an unknown agent may only point the edge at a public https host (no IP literal, no loopback or
 * private name) — otherwise a request could make the edge fetch from inside a network.
 */
export const KEY_DIRECTORY_PATH = '/.well-known/http-message-signatures-directory';

export type DirectoryUrlResult =
  | { readonly ok: true; readonly url: string; readonly agent: string }
  | { readonly ok: false; readonly reason: 'malformed' | 'not_https' | 'private_host' };

export interface DirectoryUrlOptions {
  /** Tests serve a key directory on 127.0.0.1 over http; never set in a deployment. */
  readonly allowLoopback?: boolean;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The header value is a quoted string (RFC 8941 sf-string) or, in older drafts, a bare URL. */
function unquote(value: string): string | undefined {
  const trimmed = value.trim();
  if (trimmed.startsWith('"')) {
    return trimmed.length >= 2 && trimmed.endsWith('"') ? trimmed.slice(1, -1) : undefined;
  }
  return trimmed;
}

function isIpLiteral(hostname: string): boolean {
  return hostname.startsWith('[') || /^[0-9.]+$/.test(hostname) || /^0x/i.test(hostname);
}

function isPrivateName(hostname: string): boolean {
  return hostname === 'localhost' || hostname.endsWith('.localhost') || hostname.endsWith('.local')
    || hostname.endsWith('.internal') || !hostname.includes('.');
}

/** `Signature-Agent` value → the agent's origin (its identifier) and its key directory URL. */
export function keyDirectoryUrl(signatureAgent: string, options: DirectoryUrlOptions = {}): DirectoryUrlResult {
  const raw = unquote(signatureAgent);
  if (raw === undefined || raw.length === 0 || raw.length > 2048) return { ok: false, reason: 'malformed' };
  let parsed: URL;
  try {
    parsed = new URL(raw.includes('://') ? raw : `https://${raw}`);
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (parsed.username !== '' || parsed.password !== '') return { ok: false, reason: 'malformed' };
  const loopbackAllowed = options.allowLoopback === true && LOOPBACK_HOSTS.has(parsed.hostname);
  if (!loopbackAllowed) {
    if (parsed.protocol !== 'https:') return { ok: false, reason: 'not_https' };
    if (isIpLiteral(parsed.hostname) || isPrivateName(parsed.hostname)) return { ok: false, reason: 'private_host' };
  } else if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return { ok: false, reason: 'not_https' };
  }
  return { ok: true, agent: parsed.host, url: `${parsed.origin}${KEY_DIRECTORY_PATH}` };
}
