/**
 * jest globalSetup/globalTeardown: gives the reliability suites a fresh directory for their tallies
 * and, after the run, prints one summary line over all of them and fails the run unless content
 * served unpaid, payments lost and double charges are all zero. Silent when no reliability suite ran.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SUMMARY_PREFIX, type Tally } from './support/ledger';

export async function setup(): Promise<void> {
  process.env.X402_RELIABILITY_DIR = mkdtempSync(path.join(tmpdir(), SUMMARY_PREFIX));
}

export async function teardown(): Promise<void> {
  const dir = process.env.X402_RELIABILITY_DIR;
  if (!dir) return;
  const tallies: Tally[] = readdirSync(dir).map((file) => JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
  rmSync(dir, { recursive: true, force: true });
  if (tallies.length === 0) return;
  const sum = (field: 'cases' | 'servedUnpaid' | 'paymentsLost' | 'doubleCharges' | 'flagged' | 'reconciled' | 'chargedUndelivered') =>
    tallies.reduce((n, t) => n + (t[field] ?? 0), 0);
  const suites = tallies.map((t) => `${t.suite} ${t.cases}`).join(', ');
  const line =
    `reliability: ${sum('cases')} cases tried (${suites}); content served unpaid: ${sum('servedUnpaid')}, ` +
    `payments lost: ${sum('paymentsLost')}, double charges: ${sum('doubleCharges')}; ` +
    `flagged for reconciliation (charged, outcome kept on a failed receipt, a reservation abandoned after settling, or in the log fallback): ${sum('flagged')}, ` +
    `reconciled by cdk-x402 reconcile: ${sum('reconciled')}; charged but not delivered (after redelivery): ${sum('chargedUndelivered')}`;
  process.stdout.write(`\n${line}\n`);
  const violations = tallies.flatMap((t) => t.details.filter((d) => !d.startsWith('flagged:')).map((d) => `${t.suite}: ${d}`));
  if (violations.length > 0) throw new Error(`reliability invariants violated:\n${violations.join('\n')}`);
}
