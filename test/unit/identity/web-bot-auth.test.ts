import { type KeyObject, generateKeyPairSync, sign } from 'node:crypto';
import { helpers, jwkToKeyID, signatureHeaders } from 'web-bot-auth';
import { KEY_DIRECTORY_PATH } from '../../../lambda/core/identity/directory-url';
import type { DirectoryKeys } from '../../../lambda/core/identity/key-directories';
import { prepareDirectory, verifyWebBotAuth, type PreparedDirectory } from '../../../lambda/core/identity/web-bot-auth';

const AGENT = 'agent.example.com';
const DIRECTORY = `https://${AGENT}${KEY_DIRECTORY_PATH}`;

function ed25519Jwk() {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicJwk: publicKey.export({ format: 'jwk' }) as JsonWebKey };
}

const agentKey = ed25519Jwk();
const otherKey = ed25519Jwk();

/** Signs with `privateKey` under the key id (JWK thumbprint) of `publicJwk`: they differ for a forgery. */
async function signedRequest(
  privateKey: KeyObject,
  publicJwk: JsonWebKey,
  { created = new Date(), ttlMs = 60_000, components }: { created?: Date; ttlMs?: number; components?: string[] } = {},
) {
  const url = 'https://paid.example.com/articles/1';
  const headers = new Headers(components === undefined ? { 'signature-agent': `"https://${AGENT}"` } : {});
  const keyid = await jwkToKeyID(publicJwk, helpers.WEBCRYPTO_SHA256, helpers.BASE64URL_DECODE);
  const signer = { alg: 'ed25519' as const, keyid, sign: async (data: string) => new Uint8Array(sign(null, Buffer.from(data), privateKey)) };
  const signed = await signatureHeaders({ method: 'GET', url, headers }, signer, {
    created,
    expires: new Date(created.getTime() + ttlMs),
    ...(components === undefined ? {} : { components }),
  });
  headers.set('signature', signed.Signature);
  headers.set('signature-input', signed['Signature-Input']);
  // Added after signing when the signature leaves it out.
  headers.set('signature-agent', `"https://${AGENT}"`);
  return { method: 'GET', url, headers };
}

function directoryOf(...keys: JsonWebKey[]) {
  const asked: string[] = [];
  const prepared = prepareDirectory(keys);
  const keysFor = async (url: string): Promise<DirectoryKeys<PreparedDirectory>> => {
    asked.push(url);
    return url === DIRECTORY ? { ok: true, keys: await prepared } : { ok: false };
  };
  return { keysFor, asked };
}

describe('verifyWebBotAuth', () => {
  it('verifies a request signed with a key from the agent directory', async () => {
    const { keysFor, asked } = directoryOf(otherKey.publicJwk, agentKey.publicJwk);
    const request = await signedRequest(agentKey.privateKey, agentKey.publicJwk);
    expect(await verifyWebBotAuth(request, keysFor)).toEqual({ verified: true, agent: AGENT });
    expect(asked).toEqual([DIRECTORY]);
  });

  it('says unsigned when there is no signature, without asking for a directory', async () => {
    const { keysFor, asked } = directoryOf(agentKey.publicJwk);
    const request = { method: 'GET', url: 'https://paid.example.com/', headers: new Headers() };
    expect(await verifyWebBotAuth(request, keysFor)).toEqual({ verified: false, reason: 'unsigned' });
    expect(asked).toEqual([]);
  });

  it('refuses a forged signature: signed by a key whose id the directory holds, but not its private key', async () => {
    const { keysFor } = directoryOf(agentKey.publicJwk);
    // The forger claims the agent's key id but signs with its own private key.
    const request = await signedRequest(otherKey.privateKey, agentKey.publicJwk);
    expect(await verifyWebBotAuth(request, keysFor)).toEqual({ verified: false, reason: 'bad_signature' });
  });

  it('refuses a signature by a key the directory does not publish', async () => {
    const { keysFor } = directoryOf(agentKey.publicJwk);
    const request = await signedRequest(otherKey.privateKey, otherKey.publicJwk);
    expect(await verifyWebBotAuth(request, keysFor)).toEqual({ verified: false, reason: 'unknown_key' });
  });

  it('refuses an expired signature', async () => {
    const { keysFor } = directoryOf(agentKey.publicJwk);
    const request = await signedRequest(agentKey.privateKey, agentKey.publicJwk, { created: new Date(Date.now() - 600_000) });
    expect(await verifyWebBotAuth(request, keysFor)).toEqual({ verified: false, reason: 'expired' });
  });

  it('refuses a signature created in the future', async () => {
    const { keysFor } = directoryOf(agentKey.publicJwk);
    const request = await signedRequest(agentKey.privateKey, agentKey.publicJwk, { created: new Date(Date.now() + 600_000) });
    expect(await verifyWebBotAuth(request, keysFor)).toEqual({ verified: false, reason: 'not_yet_valid' });
  });

  it('refuses a signature that does not cover the Signature-Agent header', async () => {
    const { keysFor } = directoryOf(agentKey.publicJwk);
    const request = await signedRequest(agentKey.privateKey, agentKey.publicJwk, { components: ['@authority'] });
    expect(await verifyWebBotAuth(request, keysFor)).toEqual({ verified: false, reason: 'not_covered' });
  });

  it('refuses a request whose signature was tampered with after signing', async () => {
    const { keysFor } = directoryOf(agentKey.publicJwk);
    const request = await signedRequest(agentKey.privateKey, agentKey.publicJwk);
    const tampered = { ...request, url: 'https://other.example.com/articles/1' };
    expect(await verifyWebBotAuth(tampered, keysFor)).toEqual({ verified: false, reason: 'bad_signature' });
  });

  it('prepares only the ed25519 keys of a directory, under their thumbprints', async () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const prepared = await prepareDirectory([publicKey.export({ format: 'jwk' }) as JsonWebKey, agentKey.publicJwk]);
    expect([...prepared.keys()]).toEqual([await jwkToKeyID(agentKey.publicJwk, helpers.WEBCRYPTO_SHA256, helpers.BASE64URL_DECODE)]);
  });

  it('says directory_unavailable when the directory cannot be read', async () => {
    const request = await signedRequest(agentKey.privateKey, agentKey.publicJwk);
    expect(await verifyWebBotAuth(request, async () => ({ ok: false }))).toEqual({ verified: false, reason: 'directory_unavailable' });
  });
});
