/**
 * The EIP-712 digest of an EIP-3009 `TransferWithAuthorization`, computed for this one fixed shape:
 * the words are laid out directly, no generic typed-data encoder, so one payment costs three
 * keccak-256 calls on 224 + 66 bytes (the domain separator is computed once per configuration).
 * keccak is @noble/hashes', the implementation viem itself bundles.
 */
import { keccak_256 } from '@noble/hashes/sha3';

const utf8 = new TextEncoder();
const DOMAIN_TYPE_HASH = keccak_256(utf8.encode('EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)'));
const TRANSFER_TYPE_HASH = keccak_256(
  utf8.encode('TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)'),
);
const WORD = 32;
const MAX_UINT256 = (1n << 256n) - 1n;

/** The token's EIP-712 domain (USDC: name, version, chain id, contract address). */
export interface TransferDomain {
  readonly name: string;
  readonly version: string;
  readonly chainId: number | bigint;
  readonly verifyingContract: string;
}

/** The signed fields; addresses and the nonce as 0x-hex. */
export interface TransferAuthorization {
  readonly from: string;
  readonly to: string;
  readonly value: bigint;
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  readonly nonce: string;
}

export function domainSeparator(domain: TransferDomain): Uint8Array {
  const words = new Uint8Array(5 * WORD);
  words.set(DOMAIN_TYPE_HASH, 0);
  words.set(keccak_256(utf8.encode(domain.name)), WORD);
  words.set(keccak_256(utf8.encode(domain.version)), 2 * WORD);
  putUint(words, 3 * WORD, BigInt(domain.chainId));
  putHex(words, 4 * WORD, domain.verifyingContract, 20);
  return keccak_256(words);
}

/** keccak256(0x1901 ‖ domainSeparator ‖ hashStruct(authorization)): what the payer's key signed. */
export function transferDigest(separator: Uint8Array, authorization: TransferAuthorization): Uint8Array {
  const struct = new Uint8Array(7 * WORD);
  struct.set(TRANSFER_TYPE_HASH, 0);
  putHex(struct, WORD, authorization.from, 20);
  putHex(struct, 2 * WORD, authorization.to, 20);
  putUint(struct, 3 * WORD, authorization.value);
  putUint(struct, 4 * WORD, authorization.validAfter);
  putUint(struct, 5 * WORD, authorization.validBefore);
  putHex(struct, 6 * WORD, authorization.nonce, 32);
  return typedDataDigest(separator, struct);
}

/** EIP-712's keccak256(0x1901 ‖ domainSeparator ‖ keccak256(encoded struct)). */
export function typedDataDigest(separator: Uint8Array, struct: Uint8Array): Uint8Array {
  const message = new Uint8Array(2 + 2 * WORD);
  message[0] = 0x19;
  message[1] = 0x01;
  message.set(separator, 2);
  message.set(keccak_256(struct), 2 + WORD);
  return keccak_256(message);
}

const TRANSFER_WITH_AUTHORIZATION_SELECTOR = keccak_256(
  utf8.encode('transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)'),
).subarray(0, 4);

/**
 * Calldata of the token's `transferWithAuthorization(from, to, value, validAfter, validBefore,
 * nonce, v, r, s)` for a 65-byte `r ‖ s ‖ v` signature: what a facilitator sends on chain, and
 * what an `eth_call` simulates without sending it.
 */
export function transferWithAuthorizationCalldata(authorization: TransferAuthorization, signature: string): string {
  if (signature.length !== 2 + 65 * 2) throw new RangeError(`expected a 65-byte signature, got ${(signature.length - 2) / 2} bytes`);
  const words = new Uint8Array(4 + 9 * WORD);
  words.set(TRANSFER_WITH_AUTHORIZATION_SELECTOR, 0);
  putHex(words, 4, authorization.from, 20);
  putHex(words, 4 + WORD, authorization.to, 20);
  putUint(words, 4 + 2 * WORD, authorization.value);
  putUint(words, 4 + 3 * WORD, authorization.validAfter);
  putUint(words, 4 + 4 * WORD, authorization.validBefore);
  putHex(words, 4 + 5 * WORD, authorization.nonce, 32);
  putUint(words, 4 + 6 * WORD, BigInt(`0x${signature.slice(130, 132)}`));
  putHex(words, 4 + 7 * WORD, `0x${signature.slice(2, 66)}`, 32);
  putHex(words, 4 + 8 * WORD, `0x${signature.slice(66, 130)}`, 32);
  return `0x${Buffer.from(words).toString('hex')}`;
}

/** A `bytes` value of `size` bytes (address: 20, bytes32: 32), right-aligned in its word like abi.encode. */
export function putHex(words: Uint8Array, offset: number, hex: string, size: number): void {
  if (hex.length !== 2 + 2 * size || !/^0x[0-9a-fA-F]*$/.test(hex)) throw new RangeError(`expected ${size} bytes of 0x-hex, got "${hex}"`);
  words.set(Buffer.from(hex.slice(2), 'hex'), offset + WORD - size);
}

/** A uint256 word at `offset`, big-endian like abi.encode. */
export function putUint(words: Uint8Array, offset: number, value: bigint): void {
  if (value < 0n || value > MAX_UINT256) throw new RangeError(`${value} is not a uint256`);
  words.set(Buffer.from(value.toString(16).padStart(2 * WORD, '0'), 'hex'), offset);
}
