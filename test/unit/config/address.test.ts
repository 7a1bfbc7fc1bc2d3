import { keccak_256 } from '@noble/hashes/sha3';
import fc from 'fast-check';
import { getAddress } from 'viem';
import { addressProblem, toChecksumAddress } from '../../../lib/config/address';
import { keccak256 } from '../../../lib/config/keccak';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

describe('keccak256', () => {
  it('hashes the empty input to the known Keccak-256 digest (not SHA3-256\'s)', () => {
    expect(hex(keccak256(new Uint8Array()))).toBe('c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470');
  });

  it('agrees with @noble/hashes on every input, across the block boundaries (135, 136, 137 bytes and beyond)', () => {
    const lengths = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.constantFrom(135, 136, 137, 271, 272, 273));
    fc.assert(
      fc.property(lengths.chain((n) => fc.uint8Array({ minLength: n, maxLength: n })), (data) => {
        expect(hex(keccak256(data))).toBe(hex(keccak_256(data)));
      }),
      { numRuns: 400 },
    );
  });
});

describe('EIP-55 addresses', () => {
  it('computes the checksum of known addresses (EIP-55 test vectors)', () => {
    for (const address of ['0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed', '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359', '0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB']) {
      expect(toChecksumAddress(address.toLowerCase())).toBe(address);
      expect(addressProblem(address)).toBeUndefined();
    }
  });

  it('checksums every address as viem does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), (bytes) => {
        expect(toChecksumAddress(`0x${hex(bytes)}`)).toBe(getAddress(`0x${hex(bytes)}`));
      }),
      { numRuns: 300 },
    );
  });
});
