/**
 * The reliability suite's books. Every file counts the cases it tried and every violation of the
 * money invariants it saw, asserts its own zeros, and leaves its tally in the run's directory
 * (X402_RELIABILITY_DIR, made by test/reliability/summary.ts), which prints one summary line for
 * the whole run and fails it unless the violations are zero.
 *
 * - content served unpaid: a response released the origin's content without a settled payment;
 * - payment lost: money moved on chain without a receipt that accounts for it, or a payer was
 *   charged for a request whose content was not served (except the flagged case below);
 * - double charge: more than one transfer (or a larger balance delta) for one paid request;
 * - flagged: money moved but its record is not a settled receipt, and reconciliation against the
 *   chain must resolve it. Either the facilitator settled and its answer was lost (x402 gives the
 *   edge no way to confirm it: the content is withheld, the receipt is `failed` with a reason that
 *   says so), or DynamoDB failed after settlement (content released, the receipt kept in the log
 *   fallback), or the origin-response was killed after the facilitator settled (content withheld,
 *   the row still reserved with the claim it made, `settleStartedAt`). Reported, not hidden; `cdk-x402 reconcile` then closes them from the chain, and the
 *   suite counts those it closed as reconciled.
 * - charged but not delivered: a payer was charged and the content withheld (a flagged case with
 *   the content withheld), and presenting the same payment again after reconciliation still did not
 *   deliver it (redelivery). Must be zero.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export type Violation = 'servedUnpaid' | 'paymentLost' | 'doubleCharge';

export interface Tally {
  readonly suite: string;
  cases: number;
  servedUnpaid: number;
  paymentsLost: number;
  doubleCharges: number;
  flagged: number;
  /** Flagged cases that `cdk-x402 reconcile` closed: a settled receipt with the chain's transaction. */
  reconciled: number;
  /** Charged, withheld, and still not delivered when the same payment was presented again. */
  chargedUndelivered?: number;
  readonly details: string[];
}

export const SUMMARY_PREFIX = 'cdk-x402-reliability-';

export class Ledger {
  readonly tally: Tally;

  constructor(suite: string) {
    this.tally = { suite, cases: 0, servedUnpaid: 0, paymentsLost: 0, doubleCharges: 0, flagged: 0, reconciled: 0, details: [] };
  }

  tried(count = 1): void {
    this.tally.cases += count;
  }

  violation(kind: Violation, detail: string): void {
    if (kind === 'servedUnpaid') this.tally.servedUnpaid++;
    else if (kind === 'paymentLost') this.tally.paymentsLost++;
    else this.tally.doubleCharges++;
    this.tally.details.push(`${kind}: ${detail}`);
  }

  flag(detail: string): void {
    this.tally.flagged++;
    this.tally.details.push(`flagged: ${detail}`);
  }

  reconciled(count: number): void {
    this.tally.reconciled += count;
  }

  chargedUndelivered(detail: string): void {
    this.tally.chargedUndelivered = (this.tally.chargedUndelivered ?? 0) + 1;
    this.tally.details.push(`chargedUndelivered: ${detail}`);
  }

  /** Writes the tally for the run's summary; returns the violations (expected: none). */
  close(): string[] {
    const dir = process.env.X402_RELIABILITY_DIR ?? path.join(tmpdir(), `${SUMMARY_PREFIX}standalone`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, `${this.tally.suite}.json`), JSON.stringify(this.tally));
    return this.tally.details.filter((d) => !d.startsWith('flagged:'));
  }
}
