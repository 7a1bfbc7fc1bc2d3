/**
 * Web Bot Auth (RFC 9421 HTTP message signatures, ed25519): is this request signed by the agent
 * its `Signature-Agent` names, with a key from that agent's published directory? A refusal is a
 * reason, never an exception: an unverified agent is simply not trusted (it still has to pay).
 */
import { helpers, jwkToKeyID, verify, type Verify } from 'web-bot-auth';
import { verifierFromJWK } from 'web-bot-auth/crypto';
import { type DirectoryUrlOptions, keyDirectoryUrl } from './directory-url';
import type { DirectoryKeys } from './key-directories';

export type AgentRefusal =
  | 'malformed'
  | 'expired'
  | 'not_yet_valid'
  | 'not_covered'
  | 'unknown_key'
  | 'directory_unavailable'
  | 'bad_signature';

export type AgentVerdict =
  | { readonly verified: true; readonly agent: string }
  | { readonly verified: false; readonly reason: AgentRefusal }
  /** The request carries no Web Bot Auth signature at all: nothing to count. */
  | { readonly verified: false; readonly reason: 'unsigned' };

export interface SignedRequest {
  readonly method: string;
  readonly url: string;
  /** A `Headers` or anything that reads a header by name the same way. */
  readonly headers: Pick<Headers, 'get'>;
}

/** A directory's ed25519 keys by key id (JWK thumbprint), each with its verifier: made once per fetched directory. */
export type PreparedDirectory = ReadonlyMap<string, Verify<void>>;

/** The caller's key directory lookup (a KeyDirectoryCache's `keys`, with {@link prepareDirectory}). */
export type KeysFor = (directoryUrl: string) => Promise<DirectoryKeys<PreparedDirectory>>;

/** A directory's keys made ready for verification (other key types are left out: Web Bot Auth signs with ed25519). */
export async function prepareDirectory(keys: readonly JsonWebKey[]): Promise<PreparedDirectory> {
  const ed25519 = keys.filter((key) => key.kty === 'OKP' && key.crv === 'Ed25519' && typeof key.x === 'string');
  const prepared = await Promise.all(
    ed25519.map(async (key) => [await jwkToKeyID(key, helpers.WEBCRYPTO_SHA256, helpers.BASE64URL_DECODE), await verifierFromJWK(key)] as const),
  );
  return new Map(prepared);
}

class Refused extends Error {
  constructor(readonly reason: AgentRefusal) {
    super(reason);
  }
}

/** Covered components of the first signature, e.g. `("@authority" "signature-agent")`. */
function coveredComponents(signatureInput: string): readonly string[] | undefined {
  const match = /=\s*\(([^)]*)\)/.exec(signatureInput);
  if (match === null) return undefined;
  return [...match[1].matchAll(/"([^"]+)"/g)].map((m) => m[1].toLowerCase());
}

/** The library reports its own time and tag checks as plain errors; map them to reasons. */
function refusalOf(error: unknown): AgentRefusal {
  if (error instanceof Refused) return error.reason;
  const message = error instanceof Error ? error.message : '';
  if (/expired/i.test(message)) return 'expired';
  if (/future/i.test(message)) return 'not_yet_valid';
  return 'malformed';
}

export async function verifyWebBotAuth(
  request: SignedRequest,
  keysFor: KeysFor,
  options: DirectoryUrlOptions = {},
): Promise<AgentVerdict> {
  const signature = request.headers.get('signature');
  const signatureInput = request.headers.get('signature-input');
  const signatureAgent = request.headers.get('signature-agent');
  if (signature === null && signatureInput === null) return { verified: false, reason: 'unsigned' };
  if (signature === null || signatureInput === null || signatureAgent === null) return { verified: false, reason: 'malformed' };
  const covered = coveredComponents(signatureInput);
  if (covered === undefined) return { verified: false, reason: 'malformed' };
  // The agent header must be signed too, or anyone could re-point a valid signature elsewhere.
  if (!covered.includes('@authority') || !covered.includes('signature-agent')) return { verified: false, reason: 'not_covered' };
  const directory = keyDirectoryUrl(signatureAgent, options);
  if (!directory.ok) return { verified: false, reason: 'malformed' };
  const keys = await keysFor(directory.url);
  if (!keys.ok) return { verified: false, reason: 'directory_unavailable' };
  try {
    // The library reads headers through `get` only (a `Headers` in its types).
    await verify(request as Parameters<typeof verify>[0], async (data, signatureBytes, params) => {
      const verifier = keys.keys.get(params.keyid);
      if (verifier === undefined) throw new Refused('unknown_key');
      try {
        await verifier(data, signatureBytes, params);
      } catch {
        throw new Refused('bad_signature');
      }
    });
  } catch (error) {
    return { verified: false, reason: refusalOf(error) };
  }
  return { verified: true, agent: directory.agent };
}
