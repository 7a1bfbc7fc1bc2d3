/**
 * Keccak-256 (the original Keccak padding, as Ethereum uses it; not NIST SHA3-256, which is what
 * Node's `sha3-256` computes), written from the Keccak reference: the construct library hashes
 * only EIP-55 address checksums at synth, so this small BigInt version spares it a runtime
 * dependency. test/unit/config/address.test.ts checks it against @noble/hashes on random inputs.
 */

const MASK = (1n << 64n) - 1n;
/** Bytes absorbed per permutation: 1600 - 2 × 256 bits of capacity. */
const RATE = 136;

/** Rotation offsets of the rho step, indexed x + 5y. */
const RHO = [
  0, 1, 62, 28, 27,
  36, 44, 6, 55, 20,
  3, 10, 43, 25, 39,
  41, 45, 15, 21, 8,
  18, 2, 61, 56, 14,
];

/** rc(t): the output bit of the LFSR x^8 + x^6 + x^5 + x^4 + 1 after t steps. */
function rc(t: number): bigint {
  let r = 1;
  for (let i = 0; i < t % 255; i++) {
    r <<= 1;
    if (r & 0x100) r ^= 0x171;
  }
  return BigInt(r & 1);
}

/** The iota step's round constants: bit 2^j - 1 of round i is rc(j + 7i). */
const ROUND_CONSTANTS = Array.from({ length: 24 }, (_, round) => {
  let constant = 0n;
  for (let j = 0; j <= 6; j++) constant |= rc(j + 7 * round) << BigInt(2 ** j - 1);
  return constant;
});

function rotl(lane: bigint, n: number): bigint {
  return n === 0 ? lane : ((lane << BigInt(n)) | (lane >> BigInt(64 - n))) & MASK;
}

/** Keccak-f[1600] on 25 lanes, in place. */
function permute(a: bigint[]): void {
  for (const constant of ROUND_CONSTANTS) {
    const c = [0, 1, 2, 3, 4].map((x) => a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20]);
    for (let x = 0; x < 5; x++) {
      const d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1);
      for (let y = 0; y < 25; y += 5) a[x + y] ^= d;
    }
    const b = new Array<bigint>(25);
    for (let x = 0; x < 5; x++) {
      for (let y = 0; y < 5; y++) b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(a[x + 5 * y], RHO[x + 5 * y]);
    }
    for (let y = 0; y < 25; y += 5) {
      for (let x = 0; x < 5; x++) a[x + y] = b[x + y] ^ (~b[((x + 1) % 5) + y] & MASK & b[((x + 2) % 5) + y]);
    }
    a[0] ^= constant;
  }
}

/** The 32-byte Keccak-256 digest of `data`. */
export function keccak256(data: Uint8Array): Uint8Array {
  const padded = new Uint8Array((Math.floor(data.length / RATE) + 1) * RATE);
  padded.set(data);
  padded[data.length] ^= 0x01;
  padded[padded.length - 1] ^= 0x80;
  const state = new Array<bigint>(25).fill(0n);
  for (let block = 0; block < padded.length; block += RATE) {
    for (let lane = 0; lane < RATE / 8; lane++) {
      let value = 0n;
      for (let i = 7; i >= 0; i--) value = (value << 8n) | BigInt(padded[block + lane * 8 + i]);
      state[lane] ^= value;
    }
    permute(state);
  }
  const digest = new Uint8Array(32);
  for (let i = 0; i < 32; i++) digest[i] = Number((state[i >> 3] >> BigInt(8 * (i & 7))) & 0xffn);
  return digest;
}
