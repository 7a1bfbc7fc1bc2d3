import { encodePaymentSignatureHeader } from '@x402/core/http';
import type { PaymentPayload, PaymentRequired } from '@x402/core/types';
import type { PaymentRequiredV1 } from '@x402/core/types/v1';
import type { PrivateKeyAccount } from 'viem';
import { officialClientFor } from '../../local/agent';

export { officialClientFor as officialClient } from '../../local/agent';

/** A payment payload signed by the official client for these terms. */
export function signPayment(account: PrivateKeyAccount, terms: PaymentRequired | PaymentRequiredV1): Promise<PaymentPayload> {
  return officialClientFor(account).createPaymentPayload(terms as PaymentRequired);
}

export function encodePayment(payload: unknown): string {
  return encodePaymentSignatureHeader(payload as PaymentPayload);
}
