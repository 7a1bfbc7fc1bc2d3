/**
 * The agent's side of per-request payments: {@link payingFetch} is `fetch` paying 402s with the
 * official x402 client (@x402/fetch) under a {@link SpendingPolicy}: a per-request maximum, a
 * budget per UTC day kept in a ledger file, and allowed networks and assets. A payment the policy
 * refuses throws {@link SpendingRefused} before anything is signed. `cdk-x402 pay` and the demo use it.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { PaymentRequirements } from '@x402/core/types';
import { wrapFetchWithPayment } from '@x402/fetch';
import type { PrivateKeyAccount } from 'viem';
import { officialClientFor } from './agent';
import { formatAtomicUnits } from '../lambda/core/price';

/** The policy's amounts are USDC atomic units (6 decimals); every allowed asset is counted as USDC. */
export const USDC_DECIMALS = 6;

export interface SpendingPolicy {
  /** The most one request may cost, in USDC atomic units. */
  readonly maxPerRequest: bigint;
  /** The most all payments of one UTC day may cost, in USDC atomic units (with {@link ledger}). */
  readonly dailyBudget?: bigint;
  /** Where the day's spending is counted; required with {@link dailyBudget}. */
  readonly ledger?: SpendingLedger;
  /** CAIP-2 networks it may pay on, e.g. `eip155:8453`. */
  readonly networks: readonly string[];
  /** Token contracts it may pay with (compared case-insensitively). */
  readonly assets: readonly string[];
  /** The clock of the ledger's UTC day (tests); default Date.now. */
  readonly now?: () => number;
}

/** Why a payment was not made: one reason per offered payment option, naming the option of the policy. */
export class SpendingRefused extends Error {
  constructor(readonly url: string, readonly reasons: readonly string[]) {
    super(`refused to pay ${url}: ${reasons.join('; ')}`);
    this.name = 'SpendingRefused';
  }
}

export const usdc = (atomic: bigint | string) => `${formatAtomicUnits(atomic.toString(), USDC_DECIMALS)} USDC`;

/** The UTC day of `ms` as YYYY-MM-DD, the ledger's key. */
export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * A JSON file of USDC atomic units spent per UTC day (`{"2026-12-02": "3000"}`). It counts a
 * payment when it is signed, not when it settles: a signed authorization may be settled by the
 * site whatever the answer, so the budget never underestimates. One process at a time.
 */
export class SpendingLedger {
  constructor(readonly file: string) {}

  spentOn(day: string): bigint {
    return BigInt(this.read()[day] ?? '0');
  }

  add(day: string, atomic: bigint): void {
    const days = this.read();
    days[day] = (BigInt(days[day] ?? '0') + atomic).toString();
    mkdirSync(path.dirname(this.file), { recursive: true });
    // Written aside and renamed: a crash mid-write leaves the previous ledger, not a torn one.
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(days, null, 2)}\n`, { mode: 0o600 });
    renameSync(temporary, this.file);
  }

  private read(): Record<string, string> {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    const days = JSON.parse(text) as unknown;
    if (!days || typeof days !== 'object' || Object.values(days).some((v) => typeof v !== 'string' || !/^\d+$/.test(v))) {
      throw new Error(`the spending ledger ${this.file} is not {"YYYY-MM-DD": "<atomic units>"}: fix or remove it`);
    }
    return days as Record<string, string>;
  }
}

/** Why the policy refuses `requirement`, or undefined when it may be paid. Signs nothing. */
export function refusalOf(requirement: PaymentRequirements, policy: SpendingPolicy): string | undefined {
  const terms = `${requirement.scheme} ${usdc(requirement.amount)} on ${requirement.network}`;
  if (!policy.networks.includes(requirement.network)) return `${terms}: network ${requirement.network} is not allowed (--network ${policy.networks.join(',')})`;
  if (!policy.assets.some((asset) => asset.toLowerCase() === requirement.asset.toLowerCase())) return `${terms}: asset ${requirement.asset} is not allowed (--asset)`;
  const amount = BigInt(requirement.amount);
  if (amount > policy.maxPerRequest) return `${terms}: over the per-request maximum of ${usdc(policy.maxPerRequest)} (--max)`;
  if (policy.dailyBudget !== undefined) {
    const day = utcDay((policy.now ?? Date.now)());
    const spent = policy.ledger!.spentOn(day);
    if (spent + amount > policy.dailyBudget) return `${terms}: ${usdc(spent)} spent on ${day} (UTC), ${usdc(policy.dailyBudget)} budget for the day (--budget)`;
  }
  return undefined;
}

/**
 * `fetchImpl` paying 402 answers as `account` with the official x402 client, only within `policy`.
 * Throws {@link SpendingRefused} (nothing signed, nothing paid) when no offered option fits it.
 */
export function payingFetch(fetchImpl: typeof fetch, account: PrivateKeyAccount, policy: SpendingPolicy): typeof fetch {
  if (policy.dailyBudget !== undefined && !policy.ledger) throw new Error('a daily budget needs a spending ledger');
  let refusedFor: string[] | undefined;
  const client = officialClientFor(account)
    // The policy below caps each payment and allows only its assets, with reasons naming its options;
    // the client's own spend controls would refuse first, with a generic message.
    .setSpendControls(false)
    .registerPolicy((version, requirements) => {
      // v1 terms name their amount differently (maxAmountRequired); the edge and the policy speak v2.
      const reasonOf = (requirement: PaymentRequirements) => (version === 2 ? refusalOf(requirement, policy) : `x402 v${version} terms: only v2 terms are paid`);
      const allowed = requirements.filter((requirement) => reasonOf(requirement) === undefined);
      if (allowed.length === 0) {
        refusedFor = requirements.map((requirement) => reasonOf(requirement)!);
        throw new Error(refusedFor.join('; '));
      }
      return allowed;
    })
    .onAfterPaymentCreation(async ({ selectedRequirements }) => {
      policy.ledger?.add(utcDay((policy.now ?? Date.now)()), BigInt(selectedRequirements.amount));
    });
  const paying = wrapFetchWithPayment(fetchImpl, client);
  return async (input, init) => {
    refusedFor = undefined;
    try {
      return await paying(input, init);
    } catch (error) {
      // @x402/fetch rewraps the policy's error in a generic one; the refusal is the news.
      if (refusedFor) throw new SpendingRefused(input instanceof Request ? input.url : String(input), refusedFor);
      throw error;
    }
  };
}
