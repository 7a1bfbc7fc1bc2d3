import { generateKeyPairSync } from 'node:crypto';
import type { PassPublicJwk } from '../lambda/core/config';

/**
 * A fresh P-256 key pair for passes: the public JWK for `x402:passKeys`, the PKCS#8 PEM the signer
 * reads (a deploy keeps it in Secrets Manager; the local edge and tests hold it themselves).
 */
export function newPassKeyPair(): { readonly jwk: PassPublicJwk; readonly privateKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { x, y } = publicKey.export({ format: 'jwk' });
  return { jwk: { kty: 'EC', crv: 'P-256', x: x!, y: y! }, privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
}
