/** transferWithAuthorizationCalldata against viem's ABI encoder, over random authorizations. */
import { encodeFunctionData, parseAbi, parseSignature, toHex, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { transferWithAuthorizationCalldata } from '../../lambda/core/transfer-digest';

const abi = parseAbi(['function transferWithAuthorization(address from, address to, uint256 value, uint256 validAfter, uint256 validBefore, bytes32 nonce, uint8 v, bytes32 r, bytes32 s)']);
const address = () => privateKeyToAccount(generatePrivateKey()).address;
const random32 = (): Hex => toHex(crypto.getRandomValues(new Uint8Array(32)));

it('encodes exactly what viem encodes, v as 27 or 28', async () => {
  for (let i = 0; i < 50; i++) {
    const account = privateKeyToAccount(generatePrivateKey());
    const authorization = { from: account.address, to: address(), value: BigInt(i * 1_000_003), validAfter: BigInt(i), validBefore: BigInt(1_900_000_000 + i), nonce: random32() };
    const signature = await account.signMessage({ message: `payment ${i}` });
    const { r, s, v } = parseSignature(signature);
    const expected = encodeFunctionData({
      abi,
      functionName: 'transferWithAuthorization',
      args: [authorization.from, authorization.to, authorization.value, authorization.validAfter, authorization.validBefore, authorization.nonce, Number(v), r, s],
    });
    expect(transferWithAuthorizationCalldata(authorization, signature)).toBe(expected);
  }
});

it('refuses a signature that is not 65 bytes', () => {
  const authorization = { from: address(), to: address(), value: 1n, validAfter: 0n, validBefore: 1n, nonce: random32() };
  expect(() => transferWithAuthorizationCalldata(authorization, `0x${'11'.repeat(64)}`)).toThrow(/65-byte/);
});
