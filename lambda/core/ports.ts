import type { PaymentPayload, PaymentRequirements, SettleResponse, VerifyResponse } from '@x402/core/types';
import type { Receipt } from './receipt';

/**
 * What the paywall needs from the outside world. The edge wires HTTP and DynamoDB in; tests and
 * the local edge wire loopback services in. (`@x402/core/http`'s HTTPFacilitatorClient fits.)
 */
export interface FacilitatorPort {
  verify(payload: PaymentPayload, requirements: PaymentRequirements): Promise<VerifyResponse>;
  settle(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResponse>;
}

/** Receipt rows; every transition is a conditional write so it happens at most once. */
export interface ReceiptStorePort {
  /**
   * 'duplicate' when the payment id is already held (reserved, settled or failed); 'exhausted'
   * when it was released and reserved `MAX_RESERVATIONS` (receipt.ts) times in all.
   */
  reserve(receipt: Receipt): Promise<'reserved' | 'duplicate' | 'exhausted'>;
  markSettled(paymentId: string, txHash: string, at: string): Promise<void>;
  /** `txHash` when a transaction was sent whose outcome is unknown (for reconciliation). */
  markFailed(paymentId: string, errorReason: string, at: string, txHash?: string): Promise<void>;
  /** The origin failed: nothing was charged and the authorization may be presented again. */
  release(paymentId: string, at: string): Promise<void>;
}

/** Milliseconds since the epoch. */
export type Clock = () => number;

/** One structured log line (JSON); EMF metric records go through it too. */
export type LogSink = (line: Record<string, unknown>) => void;
