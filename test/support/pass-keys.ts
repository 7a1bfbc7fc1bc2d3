import { generateKeyPairSync } from 'node:crypto';
import type { PassPublicJwk } from '../../lambda/core/config';

/** A fresh P-256 key pair as cdk-x402 uses it: the public JWK for the config, the PKCS#8 PEM for the signer. */
export function passKeyPair(): { readonly jwk: PassPublicJwk; readonly privateKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { x, y } = publicKey.export({ format: 'jwk' });
  return { jwk: { kty: 'EC', crv: 'P-256', x: x!, y: y! }, privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
}
