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

/** The hand-off, or undefined for anything our viewer-request could not have written. */
export function decodePendingSettlement(value: string): PendingSettlement | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { paymentId, routeIndex, resource, payer, payment } = parsed as Record<string, unknown>;
  const decoded = payment as Record<string, unknown> | null | undefined;
  const wellFormed =
    typeof paymentId === 'string' &&
    Number.isInteger(routeIndex) &&
    (routeIndex as number) >= 0 &&
    typeof resource === 'string' &&
    typeof payer === 'string' &&
    typeof decoded === 'object' &&
    decoded !== null &&
    (decoded.x402Version === 1 || decoded.x402Version === 2) &&
    typeof decoded.payload === 'object' &&
    decoded.payload !== null;
  return wellFormed ? (parsed as PendingSettlement) : undefined;
}
