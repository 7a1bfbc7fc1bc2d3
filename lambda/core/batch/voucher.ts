/**
 * `batch-settlement` vouchers, checked locally (no I/O): the channel a voucher names must be the
 * one its config hashes to, opened with our terms (receiver = payTo, token, receiver authorizer,
 * withdraw delay), and the voucher signed by the config's payer authorizer in a form the
 * batch-settlement contract will accept when we claim it. See docs/batch-settlement.md.
 */
import { keccak_256 } from '@noble/hashes/sha3';
import { bytesToHex, getAddress, isAddress, isHex, type Address, type Hex } from 'viem';
import { recoverSigner } from '../secp256k1';
import { domainSeparator, putHex, putUint, typedDataDigest } from '../transfer-digest';

/** The x402 batch-settlement contract, at the same address on every chain (test/unit/batch-voucher.test.ts checks it against @x402/evm). */
export const BATCH_SETTLEMENT_CONTRACT: Address = '0x4020074e9dF2ce1deE5A9C1b5c3f541D02a10003';

const ZERO_ADDRESS = '0x0000000000000000000000000000000000000000';
const MAX_UINT128 = (1n << 128n) - 1n;

/** The official reasons (so official clients recognize them), plus ours for what only the edge refuses. */
export const VoucherReasons = {
  channelIdMismatch: 'invalid_batch_settlement_evm_channel_id_mismatch',
  receiverMismatch: 'invalid_batch_settlement_evm_receiver_mismatch',
  receiverAuthorizerMismatch: 'invalid_batch_settlement_evm_receiver_authorizer_mismatch',
  tokenMismatch: 'invalid_batch_settlement_evm_token_mismatch',
  withdrawDelayMismatch: 'invalid_batch_settlement_evm_withdraw_delay_mismatch',
  invalidSignature: 'invalid_batch_settlement_evm_voucher_signature',
  invalidPayload: 'invalid_batch_settlement_evm_voucher_payload',
  /** The payer authorizer is zero: the voucher is an ERC-1271 signature of the payer, which needs the chain to check. */
  needsChainCheck: 'batch_settlement_voucher_needs_chain_check',
} as const;
export type VoucherReason = (typeof VoucherReasons)[keyof typeof VoucherReasons];

/** The immutable channel config; its EIP-712 hash is the channel id. */
export interface ChannelConfig {
  readonly payer: Address;
  readonly payerAuthorizer: Address;
  readonly receiver: Address;
  readonly receiverAuthorizer: Address;
  readonly token: Address;
  readonly withdrawDelay: number;
  readonly salt: Hex;
}

export interface Voucher {
  readonly channelId: Hex;
  /** Cumulative: the most the receiver may ever claim from the channel with this voucher. */
  readonly maxClaimableAmount: bigint;
  readonly signature: Hex;
}

/** What our 402 offered: a channel must be opened with exactly these. */
export interface ChannelTerms {
  readonly chainId: number;
  readonly payTo: Address;
  readonly asset: Address;
  readonly receiverAuthorizer: Address;
  readonly withdrawDelay: number;
}

// The digests are laid out word by word (as lambda/core/transfer-digest.ts does for EIP-3009): a
// generic typed-data encoder costs ~0.6 ms per hash here, these a few keccak calls.
const utf8 = new TextEncoder();
const WORD = 32;
const CHANNEL_CONFIG_TYPE_HASH = keccak_256(
  utf8.encode('ChannelConfig(address payer,address payerAuthorizer,address receiver,address receiverAuthorizer,address token,uint40 withdrawDelay,bytes32 salt)'),
);
const VOUCHER_TYPE_HASH = keccak_256(utf8.encode('Voucher(bytes32 channelId,uint128 maxClaimableAmount)'));
const separators = new Map<number, Uint8Array>();

/** keccak256(0x1901 ‖ the contract's domain separator on `chainId` ‖ keccak256(struct)). */
function typedDigest(chainId: number, struct: Uint8Array): Uint8Array {
  let separator = separators.get(chainId);
  if (!separator) {
    separator = domainSeparator({ name: 'x402 Batch Settlement', version: '1', chainId, verifyingContract: BATCH_SETTLEMENT_CONTRACT });
    separators.set(chainId, separator);
  }
  return typedDataDigest(separator, struct);
}

/** The channel id: the EIP-712 hash of the config under the contract's domain (lower-case hex). */
export function channelIdOf(config: ChannelConfig, chainId: number): Hex {
  const struct = new Uint8Array(8 * WORD);
  struct.set(CHANNEL_CONFIG_TYPE_HASH, 0);
  putHex(struct, WORD, config.payer, 20);
  putHex(struct, 2 * WORD, config.payerAuthorizer, 20);
  putHex(struct, 3 * WORD, config.receiver, 20);
  putHex(struct, 4 * WORD, config.receiverAuthorizer, 20);
  putHex(struct, 5 * WORD, config.token, 20);
  putUint(struct, 6 * WORD, BigInt(config.withdrawDelay));
  putHex(struct, 7 * WORD, config.salt, 32);
  return bytesToHex(typedDigest(chainId, struct));
}

/** What the payer authorizer signs for a voucher. */
export function voucherDigest(channelId: Hex, maxClaimableAmount: bigint, chainId: number): Uint8Array {
  const struct = new Uint8Array(3 * WORD);
  struct.set(VOUCHER_TYPE_HASH, 0);
  putHex(struct, WORD, channelId, 32);
  putUint(struct, 2 * WORD, maxClaimableAmount);
  return typedDigest(chainId, struct);
}

/**
 * Reads a voucher payload's `channelConfig` and `voucher` (JSON as the client sent it), or
 * undefined when a field is missing or malformed.
 */
export function parseVoucherPayload(payload: unknown): { readonly config: ChannelConfig; readonly voucher: Voucher } | undefined {
  if (typeof payload !== 'object' || payload === null) return undefined;
  const { channelConfig: c, voucher: v } = payload as { channelConfig?: Record<string, unknown>; voucher?: Record<string, unknown> };
  if (typeof c !== 'object' || c === null || typeof v !== 'object' || v === null) return undefined;
  const addresses = ['payer', 'payerAuthorizer', 'receiver', 'receiverAuthorizer', 'token'] as const;
  if (addresses.some((k) => typeof c[k] !== 'string' || !isAddress(c[k] as string, { strict: false }))) return undefined;
  const delay = c.withdrawDelay;
  if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < 0 || delay >= 2 ** 40) return undefined;
  if (!isBytes32(c.salt) || !isBytes32(v.channelId) || typeof v.signature !== 'string' || !isHex(v.signature)) return undefined;
  if (typeof v.maxClaimableAmount !== 'string' || !/^\d{1,39}$/.test(v.maxClaimableAmount)) return undefined;
  const maxClaimableAmount = BigInt(v.maxClaimableAmount);
  if (maxClaimableAmount > MAX_UINT128) return undefined;
  const address = (k: (typeof addresses)[number]) => getAddress(c[k] as string);
  return {
    config: {
      payer: address('payer'),
      payerAuthorizer: address('payerAuthorizer'),
      receiver: address('receiver'),
      receiverAuthorizer: address('receiverAuthorizer'),
      token: address('token'),
      withdrawDelay: delay,
      salt: c.salt as Hex,
    },
    voucher: { channelId: (v.channelId as string).toLowerCase() as Hex, maxClaimableAmount, signature: v.signature as Hex },
  };
}

/**
 * Whether the voucher belongs to a channel opened on our terms and carries a signature the
 * contract will accept at claim time: an EOA signature (65 bytes, v 27/28, low s, as OpenZeppelin's
 * ECDSA requires) of the config's payer authorizer over the voucher digest.
 */
export function checkVoucher(config: ChannelConfig, voucher: Voucher, terms: ChannelTerms): { readonly ok: true } | { readonly ok: false; readonly reason: VoucherReason } {
  const refuse = (reason: VoucherReason) => ({ ok: false, reason }) as const;
  if (channelIdOf(config, terms.chainId) !== voucher.channelId.toLowerCase()) return refuse(VoucherReasons.channelIdMismatch);
  if (!sameAddress(config.receiver, terms.payTo)) return refuse(VoucherReasons.receiverMismatch);
  if (!sameAddress(config.receiverAuthorizer, terms.receiverAuthorizer)) return refuse(VoucherReasons.receiverAuthorizerMismatch);
  if (!sameAddress(config.token, terms.asset)) return refuse(VoucherReasons.tokenMismatch);
  if (config.withdrawDelay !== terms.withdrawDelay) return refuse(VoucherReasons.withdrawDelayMismatch);
  if (sameAddress(config.payerAuthorizer, ZERO_ADDRESS)) return refuse(VoucherReasons.needsChainCheck);
  const signer = recoverSigner(voucherDigest(voucher.channelId, voucher.maxClaimableAmount, terms.chainId), voucher.signature);
  if (!signer || signer.highS || signer.vIsParity || !sameAddress(signer.address, config.payerAuthorizer)) return refuse(VoucherReasons.invalidSignature);
  return { ok: true };
}

const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const isBytes32 = (v: unknown): v is Hex => typeof v === 'string' && /^0x[0-9a-fA-F]{64}$/.test(v);
