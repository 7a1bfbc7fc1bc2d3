/**
 * What to do with a receipt row the edge left in doubt, given what the chain says about its
 * authorization. Pure: cli/reconcile.ts reads the rows and the chain and writes the outcome.
 *
 * | chain says                                   | row becomes                         |
 * |----------------------------------------------|-------------------------------------|
 * | used, Transfer of `amount` to `payTo`        | settled (txHash of that transaction) |
 * | used, Transfer elsewhere or of another value | unchanged: mismatch, look at it     |
 * | used up without a transfer (canceled)        | unchanged: canceled, nothing charged |
 * | unused, chain time ≥ validBefore + grace     | released: nothing charged, and never can be |
 * | unused, still valid                          | unchanged: pending (a transaction may still land) |
 *
 * Whether the row expired matters only for an unused authorization: a `reserved` row whose receipt
 * write was lost (x402:settledReceipt=after-release, the container reclaimed first) is settled as
 * soon as reconcile reads it (cli/reconcile.ts reads reservations older than an origin function runs).
 *
 * Metered (`upto`) rows hold a Permit2 nonce, not an EIP-3009 one: {@link decideMetered} reads
 * what Permit2's nonce bitmap and the upto proxy's settlement say instead (cli/chain.ts findPermit).
 *
 * | chain says                                   | row becomes                         |
 * |----------------------------------------------|-------------------------------------|
 * | used, settled through the upto proxy: 1..max to `payTo` | settled with that amount and transaction |
 * | used, any other way, or above the maximum    | unchanged: mismatch, look at it     |
 * | unused, chain time > deadline + grace        | released: nothing charged, and never can be |
 * | unused, still valid                          | unchanged: pending                  |
 */
import type { Receipt } from '../lambda/core/receipt';
import type { ReconciledStatus } from '../lambda/edge/dynamo-receipt-store';
import type { AuthorizationFinding, ChainHead, PermitFinding } from './chain';

/** The receipt fields reconciliation reads, of a row the edge left `failed` or `reserved`. */
export type InDoubtRow = Pick<
  Receipt,
  'paymentId' | 'network' | 'payer' | 'payTo' | 'amount' | 'asset' | 'nonce' | 'route' | 'createdAt' | 'updatedAt' | 'expiresAt' | 'errorReason' | 'txHash' | 'scheme' | 'maxAmount'
> & { readonly status: 'failed' | 'reserved' };

export type Outcome = 'settled' | 'released' | 'pending' | 'canceled' | 'mismatch';

export interface Decision {
  readonly outcome: Outcome;
  /** The write that closes the row (settled, released); none when the row stays as it is. */
  readonly write?: ReconciledStatus;
  /** The transaction that used the authorization (settled, mismatch) or canceled it. */
  readonly txHash?: string;
  /** One line for a person. */
  readonly detail: string;
}

const iso = (epochSeconds: number) => new Date(epochSeconds * 1000).toISOString();

export function decide(row: InDoubtRow, finding: AuthorizationFinding, head: ChainHead, graceSeconds: number): Decision {
  switch (finding.kind) {
    case 'transfer': {
      if (finding.to.toLowerCase() === row.payTo.toLowerCase() && finding.value === BigInt(row.amount)) {
        const recorded = row.txHash && row.txHash.toLowerCase() !== finding.txHash.toLowerCase() ? ` (the edge had recorded ${row.txHash})` : '';
        return {
          outcome: 'settled',
          write: { status: 'settled', txHash: finding.txHash },
          txHash: finding.txHash,
          detail: `charged: ${row.amount} to ${row.payTo} in block ${finding.blockNumber}${recorded}`,
        };
      }
      return {
        outcome: 'mismatch',
        txHash: finding.txHash,
        detail: `the authorization was used to move ${finding.value} to ${finding.to}, not ${row.amount} to ${row.payTo}: left ${row.status}, look at it`,
      };
    }
    case 'used-without-transfer':
      return { outcome: 'mismatch', txHash: finding.txHash, detail: `the authorization was used without a transfer from the payer: left ${row.status}, look at it` };
    case 'canceled':
      return {
        outcome: 'canceled',
        ...(finding.txHash ? { txHash: finding.txHash } : {}),
        detail: `canceled by the payer${finding.txHash ? '' : ` (no AuthorizationUsed in blocks ${finding.searched.fromBlock}..${finding.searched.toBlock}, where it was valid)`}: nothing charged; left ${row.status}`,
      };
    case 'unused': {
      if (head.timestamp >= row.expiresAt + graceSeconds) {
        return { outcome: 'released', write: { status: 'released' }, detail: `never used, expired at ${iso(row.expiresAt)}: nothing charged, and it can no longer be` };
      }
      return { outcome: 'pending', detail: `not used yet, valid until ${iso(row.expiresAt)}: a transaction may still settle it; run again after ${iso(row.expiresAt + graceSeconds)}` };
    }
  }
}

/**
 * A metered (`upto`) row: its charge is whatever the upto proxy transferred (at most the signed
 * maximum), so a settlement closes it with that amount. A used nonce is never released: Permit2
 * spends it only with a transfer, or when the payer invalidates it (then a person looks).
 */
export function decideMetered(row: InDoubtRow, finding: PermitFinding, head: ChainHead, graceSeconds: number): Decision {
  const maximum = BigInt(row.maxAmount ?? row.amount);
  switch (finding.kind) {
    case 'transfer': {
      if (finding.to.toLowerCase() === row.payTo.toLowerCase() && finding.value > 0n && finding.value <= maximum) {
        const recorded = row.txHash && row.txHash.toLowerCase() !== finding.txHash.toLowerCase() ? ` (the edge had recorded ${row.txHash})` : '';
        return {
          outcome: 'settled',
          write: { status: 'settled', txHash: finding.txHash, amount: finding.value.toString() },
          txHash: finding.txHash,
          detail: `charged: ${finding.value} of at most ${maximum} to ${row.payTo} in block ${finding.blockNumber}${recorded}`,
        };
      }
      return {
        outcome: 'mismatch',
        txHash: finding.txHash,
        detail: `the Permit2 authorization was settled for ${finding.value} to ${finding.to}, not at most ${maximum} to ${row.payTo}: left ${row.status}, look at it`,
      };
    }
    case 'used-elsewhere':
      return {
        outcome: 'mismatch',
        detail: `the Permit2 nonce is used, but by no upto proxy settlement that moved the payer's tokens in blocks ${finding.searched.fromBlock}..${finding.searched.toBlock}: left ${row.status}, look at it`,
      };
    case 'unused': {
      // Permit2 still takes a permit at its deadline (block.timestamp <= deadline).
      if (head.timestamp > row.expiresAt + graceSeconds) {
        return { outcome: 'released', write: { status: 'released' }, detail: `Permit2 nonce never used, deadline ${iso(row.expiresAt)} passed: nothing charged, and it can no longer be` };
      }
      return { outcome: 'pending', detail: `Permit2 nonce not used yet, valid until ${iso(row.expiresAt)}: a settlement may still land; run again after ${iso(row.expiresAt + graceSeconds + 1)}` };
    }
  }
}
