import type { PaymentPayload, PaymentRequirements, SettleResponse, VerifyResponse } from '@x402/core/types';
import type { Receipt } from './receipt';
import type { SupportedKinds } from './upto';

/**
 * What the paywall needs from the outside world. The edge wires HTTP and DynamoDB in; tests and
 * the local edge wire loopback services in. (`@x402/core/http`'s HTTPFacilitatorClient fits.)
 */
export interface FacilitatorPort {
  /** `timeoutMs`: how long the caller can wait, credential lookup included. */
  verify(payload: PaymentPayload, requirements: PaymentRequirements, timeoutMs: number): Promise<VerifyResponse>;
  settle(payload: PaymentPayload, requirements: PaymentRequirements, timeoutMs: number): Promise<SettleResponse>;
  /** The facilitator's `/supported`: `upto` routes read its address there. Without it, they answer 503. */
  supported?(timeoutMs: number): Promise<SupportedKinds>;
}

/** Receipt rows; every transition is a conditional write so it happens at most once. */
export interface ReceiptStorePort {
  /**
   * `{ held }` when the payment id is already held (reserved, settled or failed), with the row as
   * stored (a strongly consistent read: a payment presented again is decided on it; undefined if it
   * vanished meanwhile); 'exhausted'
   * when it was released and reserved `MAX_RESERVATIONS` (receipt.ts) times in all.
   */
  reserve(receipt: Receipt): Promise<'reserved' | 'exhausted' | { readonly held: Receipt | undefined }>;
  /** Drops a reservation the facilitator refused to verify: no payment ever existed. */
  forget(paymentId: string): Promise<void>;
  /**
   * Marks a reserved row as being settled and returns its stored payment (the signed
   * authorization never travels in the hand-off); undefined when the row is not a reservation
   * waiting for settlement (settled, released, or claimed by another invocation).
   */
  claimForSettlement(paymentId: string, at: string): Promise<string | undefined>;
  /** `amount`: an `upto` payment's actual charge (the row holds its maximum until then). */
  markSettled(paymentId: string, txHash: string, at: string, amount?: string): Promise<void>;
  /** `txHash` when a transaction was sent whose outcome is unknown (for reconciliation). */
  markFailed(paymentId: string, errorReason: string, at: string, txHash?: string): Promise<void>;
  /** The origin failed: nothing was charged and the authorization may be presented again. */
  /** `amount`: `"0"` for an `upto` payment whose origin reported no usage charge. */
  release(paymentId: string, at: string, amount?: string): Promise<void>;
  /** Counts one more delivery of a settled payment; false when `max` redeliveries were made. */
  claimRedelivery(paymentId: string, max: number, at: string): Promise<boolean>;
  /** The redelivery did not happen (the origin failed): gives the count back. */
  returnRedelivery(paymentId: string, at: string): Promise<void>;
  /**
   * The hand-off sealing key (HANDOFF_KEY_ID's row); with `create`, a random one is written first
   * when there is none (a conditional put: of concurrent creators one wins, all read its key).
   */
  handoffKey(options: { readonly create: boolean }): Promise<Uint8Array>;
}

/** The chain itself, over JSON-RPC: only wired when `chainRpc` is configured. */
export interface ChainPort {
  /** Whether `address` has code at the latest block (a contract, or an EIP-7702-delegated EOA). */
  hasCode(address: string, timeoutMs: number): Promise<boolean>;
  /**
   * `eth_call` of `data` to `to` at the latest block: whether it would return or revert (with the
   * node's revert message). Throws when the node gave no such verdict (unreachable, slow, refusing).
   */
  call(to: string, data: string, timeoutMs: number): Promise<ContractCall>;
}

export type ContractCall = { readonly kind: 'returned' } | { readonly kind: 'reverted'; readonly message: string };

/** Milliseconds since the epoch. */
export type Clock = () => number;

/** One structured log line (JSON); EMF metric records go through it too. */
export type LogSink = (line: Record<string, unknown>) => void;
