import { x402Client } from '@x402/core/client';
import { encodePaymentSignatureHeader } from '@x402/core/http';
import type { PaymentPayload, PaymentRequired } from '@x402/core/types';
import type { PaymentRequiredV1 } from '@x402/core/types/v1';
import { toClientEvmSigner } from '@x402/evm';
import { registerExactEvmScheme } from '@x402/evm/exact/client';
import type { PrivateKeyAccount } from 'viem';

/** The official x402 client paying as `account` (v2 and v1 networks registered). */
export function officialClient(account: PrivateKeyAccount): x402Client {
  const client = new x402Client();
  registerExactEvmScheme(client, { signer: toClientEvmSigner(account) });
  return client;
}

/** A payment payload signed by the official client for these terms. */
export function signPayment(account: PrivateKeyAccount, terms: PaymentRequired | PaymentRequiredV1): Promise<PaymentPayload> {
  return officialClient(account).createPaymentPayload(terms as PaymentRequired);
}

export function encodePayment(payload: unknown): string {
  return encodePaymentSignatureHeader(payload as PaymentPayload);
}
