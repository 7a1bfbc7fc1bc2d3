import type { DecodedPayment } from './payment-header';

/**
 * Headers under this prefix carry state from viewer-request to origin-response. The viewer-request
 * handler deletes every one a client sends before anything else, so none can be injected.
 */
export const INTERNAL_HEADER_PREFIX = 'x-x402-';
export const PENDING_SETTLEMENT_HEADER = 'x-x402-pending-settlement';

/** A verified, reserved payment waiting for the origin's answer. */
export interface PendingSettlement {
  readonly paymentId: string;
  /** Index into the configured routes: terms are rebuilt from configuration, never from the wire. */
  readonly routeIndex: number;
  readonly resource: string;
  readonly payer: string;
  readonly payment: DecodedPayment;
}

export function encodePendingSettlement(pending: PendingSettlement): string {
  return Buffer.from(JSON.stringify(pending), 'utf8').toString('base64url');
}

export function decodePendingSettlement(value: string): PendingSettlement | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as PendingSettlement;
    return typeof parsed.paymentId === 'string' && Number.isInteger(parsed.routeIndex) ? parsed : undefined;
  } catch {
    return undefined;
  }
}
