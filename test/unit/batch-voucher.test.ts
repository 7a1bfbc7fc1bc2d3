/** lambda/core/batch/voucher.ts against vouchers signed by the official batch-settlement client. */
import { BATCH_SETTLEMENT_ADDRESS, toClientEvmSigner, voucherTypes } from '@x402/evm';
import { computeChannelId, signVoucher } from '@x402/evm/batch-settlement/client';
import { bytesToHex, hashTypedData, zeroAddress, type Address, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { BATCH_SETTLEMENT_CONTRACT, channelIdOf, checkVoucher, parseVoucherPayload, voucherDigest, VoucherReasons, type ChannelConfig, type ChannelTerms } from '../../lambda/core/batch/voucher';
import { SECP256K1_ORDER } from '../../lambda/core/secp256k1';

const NETWORK = 'eip155:84532';
const payer = privateKeyToAccount(generatePrivateKey());
const terms: ChannelTerms = {
  chainId: 84532,
  payTo: '0x000000000000000000000000000000000000bEEF',
  asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
  receiverAuthorizer: privateKeyToAccount(generatePrivateKey()).address,
  withdrawDelay: 900,
};
const config: ChannelConfig = {
  payer: payer.address,
  payerAuthorizer: payer.address,
  receiver: terms.payTo,
  receiverAuthorizer: terms.receiverAuthorizer,
  token: terms.asset,
  withdrawDelay: 900,
  salt: `0x${'00'.repeat(31)}07`,
};
const channelId = channelIdOf(config, terms.chainId);

/** The official client's voucher, as it puts it in a payload (amount as a decimal string). */
async function officialVoucher(max: bigint, signer = payer) {
  return signVoucher(toClientEvmSigner(signer), channelId, max.toString(), NETWORK);
}
async function parsed(max: bigint, cfg: ChannelConfig = config) {
  const fields = await officialVoucher(max);
  return parseVoucherPayload({ type: 'voucher', channelConfig: cfg, voucher: fields })!;
}

it('uses the canonical contract address and computes the channel id as the official client does', () => {
  expect(BATCH_SETTLEMENT_CONTRACT).toBe(BATCH_SETTLEMENT_ADDRESS);
  expect(channelId).toBe(computeChannelId(config, NETWORK).toLowerCase());
  expect(channelIdOf({ ...config, salt: `0x${'00'.repeat(32)}` }, terms.chainId)).not.toBe(channelId);
  expect(channelIdOf(config, 8453)).not.toBe(channelId);
});

it('computes the voucher digest as EIP-712 over the official Voucher type', () => {
  const expected = hashTypedData({
    domain: { name: 'x402 Batch Settlement', version: '1', chainId: terms.chainId, verifyingContract: BATCH_SETTLEMENT_ADDRESS },
    types: voucherTypes,
    primaryType: 'Voucher',
    message: { channelId, maxClaimableAmount: 123_456_789n },
  });
  expect(bytesToHex(voucherDigest(channelId, 123_456_789n, terms.chainId))).toBe(expected);
});

it('accepts a voucher of the official client on our terms', async () => {
  const { config: c, voucher } = await parsed(5000n);
  expect(voucher).toMatchObject({ channelId, maxClaimableAmount: 5000n });
  expect(checkVoucher(c, voucher, terms)).toEqual({ ok: true });
});

it('refuses a voucher whose amount or signer was changed', async () => {
  const { config: c, voucher } = await parsed(5000n);
  expect(checkVoucher(c, { ...voucher, maxClaimableAmount: 5001n }, terms)).toEqual({ ok: false, reason: VoucherReasons.invalidSignature });
  const stranger = await officialVoucher(5000n, privateKeyToAccount(generatePrivateKey()));
  expect(checkVoucher(c, { ...voucher, signature: stranger.signature }, terms)).toEqual({ ok: false, reason: VoucherReasons.invalidSignature });
});

it('refuses the signature forms the contract would not claim: the high-s twin and v as the parity bit', async () => {
  const { config: c, voucher } = await parsed(5000n);
  const sig = voucher.signature;
  const s = BigInt(`0x${sig.slice(66, 130)}`);
  const v = parseInt(sig.slice(130, 132), 16);
  const twin = `${sig.slice(0, 66)}${(SECP256K1_ORDER - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}` as Hex;
  expect(checkVoucher(c, { ...voucher, signature: twin }, terms)).toEqual({ ok: false, reason: VoucherReasons.invalidSignature });
  const parity = `${sig.slice(0, 130)}${(v - 27).toString(16).padStart(2, '0')}` as Hex;
  expect(checkVoucher(c, { ...voucher, signature: parity }, terms)).toEqual({ ok: false, reason: VoucherReasons.invalidSignature });
});

it.each([
  ['receiver', { receiver: '0x000000000000000000000000000000000000dEaD' as Address }, VoucherReasons.receiverMismatch],
  ['receiverAuthorizer', { receiverAuthorizer: '0x000000000000000000000000000000000000dEaD' as Address }, VoucherReasons.receiverAuthorizerMismatch],
  ['token', { token: '0x000000000000000000000000000000000000dEaD' as Address }, VoucherReasons.tokenMismatch],
  ['withdrawDelay', { withdrawDelay: 3600 }, VoucherReasons.withdrawDelayMismatch],
])('refuses a channel opened with another %s than our terms', async (_field, change, reason) => {
  const other = { ...config, ...change };
  const fields = await signVoucher(toClientEvmSigner(payer), channelIdOf(other, terms.chainId), '5000', NETWORK);
  const { config: c, voucher } = parseVoucherPayload({ channelConfig: other, voucher: fields })!;
  expect(checkVoucher(c, voucher, terms)).toEqual({ ok: false, reason });
});

it('refuses a voucher naming another channel than its config, and leaves an ERC-1271 payer to the chain', async () => {
  const { voucher } = await parsed(5000n);
  expect(checkVoucher({ ...config, salt: `0x${'11'.repeat(32)}` }, voucher, terms)).toEqual({ ok: false, reason: VoucherReasons.channelIdMismatch });
  const smart = { ...config, payerAuthorizer: zeroAddress };
  const fields = await signVoucher(toClientEvmSigner(payer), channelIdOf(smart, terms.chainId), '5000', NETWORK);
  const p = parseVoucherPayload({ channelConfig: smart, voucher: fields })!;
  expect(checkVoucher(p.config, p.voucher, terms)).toEqual({ ok: false, reason: VoucherReasons.needsChainCheck });
});

it.each([
  ['no payload', undefined],
  ['no voucher', { channelConfig: config }],
  ['a bad address', { channelConfig: { ...config, payer: '0x1234' }, voucher: { channelId, maxClaimableAmount: '1', signature: '0x00' } }],
  ['a number amount', { channelConfig: config, voucher: { channelId, maxClaimableAmount: 1, signature: '0x00' } }],
  ['a negative amount', { channelConfig: config, voucher: { channelId, maxClaimableAmount: '-1', signature: '0x00' } }],
  ['an amount over uint128', { channelConfig: config, voucher: { channelId, maxClaimableAmount: (1n << 128n).toString(), signature: '0x00' } }],
  ['a short channel id', { channelConfig: config, voucher: { channelId: '0x1234', maxClaimableAmount: '1', signature: '0x00' } }],
  ['a fractional delay', { channelConfig: { ...config, withdrawDelay: 900.5 }, voucher: { channelId, maxClaimableAmount: '1', signature: '0x00' } }],
])('parses %s as malformed', (_case, payload) => expect(parseVoucherPayload(payload)).toBeUndefined());
