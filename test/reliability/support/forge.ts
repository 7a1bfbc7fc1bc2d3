/**
 * Hand-made payments for hostile inputs: EIP-3009 authorizations signed with any key, domain and
 * fields, wrapped as x402 v2 or v1 payloads.
 */
import { encodePaymentSignatureHeader } from '@x402/core/http';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { authorizationTypes } from '@x402/evm';
import type { Address, Hex, PrivateKeyAccount } from 'viem';
import { generatePrivateKey } from 'viem/accounts';


export interface Authorization {
  from: Address;
  to: Address;
  value: string;
  validAfter: string;
  validBefore: string;
  nonce: Hex;
}

export interface ForgeOptions {
  /** Who signs (default: the `from` account). */
  signer?: PrivateKeyAccount;
  /** Domain overrides: another chain id or token. */
  chainId?: number;
  verifyingContract?: Address;
  name?: string;
  /** Field overrides applied before signing. */
  authorization?: Partial<Authorization>;
}

/** An authorization by `from` for these requirements, signed (by default correctly) as the official client would. */
export async function forgeExact(from: PrivateKeyAccount, requirements: PaymentRequirements, options: ForgeOptions = {}): Promise<{ authorization: Authorization; signature: Hex }> {
  const now = Math.floor(Date.now() / 1000);
  const authorization: Authorization = {
    from: from.address,
    to: requirements.payTo as Address,
    value: requirements.amount,
    validAfter: String(now - 600),
    validBefore: String(now + requirements.maxTimeoutSeconds),
    nonce: generatePrivateKey(),
    ...options.authorization,
  };
  const signature = await (options.signer ?? from).signTypedData({
    domain: {
      name: options.name ?? (requirements.extra?.name as string),
      version: requirements.extra?.version as string,
      chainId: options.chainId ?? Number(requirements.network.split(':')[1]),
      verifyingContract: options.verifyingContract ?? (requirements.asset as Address),
    },
    types: authorizationTypes,
    primaryType: 'TransferWithAuthorization',
    message: {
      ...authorization,
      value: BigInt(authorization.value),
      validAfter: BigInt(authorization.validAfter),
      validBefore: BigInt(authorization.validBefore),
    },
  });
  return { authorization, signature };
}

export function v2Payload(requirements: PaymentRequirements, exact: { authorization: Authorization; signature: Hex }): PaymentPayload {
  return { x402Version: 2, accepted: requirements, payload: { signature: exact.signature, authorization: { ...exact.authorization } } };
}

export function v1Payload(exact: { authorization: Authorization; signature: Hex }, network = 'base-sepolia') {
  return { x402Version: 1, scheme: 'exact', network, payload: { signature: exact.signature, authorization: { ...exact.authorization } } };
}

/** base64(JSON) of anything, as both header versions carry it. */
export function encodeHeader(payload: unknown): string {
  return encodePaymentSignatureHeader(payload as PaymentPayload);
}
