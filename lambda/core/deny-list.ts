/**
 * Payers the publisher will not take money from (x402:deniedPayers, x402:deniedPayersFile, e.g.
 * addresses on the OFAC SDN list). Checked on the payer the payment claims, before any signature
 * check, facilitator, RPC or table call: a denied payer costs the edge nothing and leaves no trace
 * but a log line and a metric. Refusing on the claim alone is safe: it only ever refuses.
 */
import type { DecodedPayment } from './payment-header';
import { reject, Reasons, type Rejection } from './rejection';

/** Addresses compare case-insensitively: the set holds them in lower case. */
export class PayerDenyList {
  private readonly denied: ReadonlySet<string>;

  constructor(addresses: readonly string[]) {
    this.denied = new Set(addresses.map((address) => address.toLowerCase()));
  }

  get size(): number {
    return this.denied.size;
  }

  /** The refusal for a denied payer, or undefined. */
  refusal(payer: string | undefined): Rejection | undefined {
    if (payer === undefined || !this.denied.has(payer.toLowerCase())) return undefined;
    return reject(403, Reasons.payerDenied, `payments from ${payer} are not accepted by this site`);
  }
}

/** The `authorization.from` a decoded exact/EVM payment claims (v1 and v2 carry it alike), unverified. */
export function claimedPayer(payment: DecodedPayment): string | undefined {
  const from = (payment.payload.payload as { authorization?: { from?: unknown } } | undefined)?.authorization?.from;
  return typeof from === 'string' ? from : undefined;
}
