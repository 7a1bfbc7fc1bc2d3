import type { Hex } from 'viem';
import { SECP256K1_ORDER } from '../../lambda/core/secp256k1';

/** The malleable twin of a 65-byte `r ‖ s ‖ v` signature: s' = n - s with the other v; it recovers the same key. */
export function highSTwin(signature: Hex): Hex {
  const s = BigInt(`0x${signature.slice(66, 130)}`);
  const v = parseInt(signature.slice(130), 16);
  const otherV = v === 27 || v === 28 ? 55 - v : 1 - v;
  return `${signature.slice(0, 66)}${(SECP256K1_ORDER - s).toString(16).padStart(64, '0')}${otherV.toString(16).padStart(2, '0')}` as Hex;
}
