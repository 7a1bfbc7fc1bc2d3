/**
 * A Web Bot Auth agent for tests: an ed25519 key pair, its key directory body, and the signature
 * headers (Signature, Signature-Input, Signature-Agent) of a request, signed with the official
 * web-bot-auth package; a forger signs under the agent's key id with another key.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { helpers, jwkToKeyID, signatureHeaders } from 'web-bot-auth';

export interface SigningOptions {
  /** @default now */
  readonly created?: Date;
  /** @default 60 s */
  readonly ttlMs?: number;
  /** Sign with this private key instead of the agent's (a forgery under the agent's key id). */
  readonly privateKey?: KeyObject;
}

export interface TestAgent {
  /** The Signature-Agent origin, e.g. `https://agent.example.com` or `http://127.0.0.1:4100`. */
  readonly origin: string;
  readonly publicJwk: JsonWebKey;
  /** The key directory as the agent publishes it. */
  directory(): { keys: JsonWebKey[] };
  /** Signature headers for `method url` (lower-case names). */
  sign(method: string, url: string, options?: SigningOptions): Promise<Record<string, string>>;
}

export function newTestAgent(origin: string): TestAgent {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const publicJwk = publicKey.export({ format: 'jwk' }) as JsonWebKey;
  return {
    origin,
    publicJwk,
    directory: () => ({ keys: [publicJwk] }),
    async sign(method, url, options = {}) {
      const created = options.created ?? new Date();
      const signatureAgent = `"${origin}"`;
      const keyid = await jwkToKeyID(publicJwk, helpers.WEBCRYPTO_SHA256, helpers.BASE64URL_DECODE);
      const key = options.privateKey ?? privateKey;
      const signer = { alg: 'ed25519' as const, keyid, sign: async (data: string) => new Uint8Array(sign(null, Buffer.from(data), key)) };
      const signed = await signatureHeaders({ method, url, headers: new Headers({ 'signature-agent': signatureAgent }) }, signer, {
        created,
        expires: new Date(created.getTime() + (options.ttlMs ?? 60_000)),
      });
      return { signature: signed.Signature, 'signature-input': signed['Signature-Input'], 'signature-agent': signatureAgent };
    },
  };
}

/** Another key pair's private key: what a forger signs with. */
export function forgerKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}
