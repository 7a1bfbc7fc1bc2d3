/**
 * What a batch-settlement channel row's books say against the contract's `channels(id)`. Pure:
 * cli/reconcile.ts reads the rows and the chain and writes the repair.
 *
 * | chain says                                            | outcome                                   |
 * |-------------------------------------------------------|-------------------------------------------|
 * | totalClaimed = the row's                               | ok                                        |
 * | totalClaimed above the row's (a claim confirmed, not recorded) | repaired: the row mirrors the chain, as the claims run's mirror does |
 * | totalClaimed below the row's (recorded, not on chain)  | mismatch: look at it                      |
 * | balance below what the row charged, or the row charged more than its highest voucher | mismatch: look at it |
 * | served and unclaimed for a withdraw delay, or a withdrawal pending with served vouchers unclaimed | at-risk: the payer can take it back |
 *
 * The worst finding names the outcome (mismatch, then at-risk, then repaired); the repair is
 * written whatever else is found, since it only copies the chain.
 */
import type { ChannelChainState, ChannelRow } from '../lambda/edge/dynamo-channel-store';

export type ChannelOutcome = 'ok' | 'repaired' | 'mismatch' | 'at-risk';

/** The channel row fields the decision reads. */
export type ChannelBooks = Pick<ChannelRow, 'channelId' | 'charged' | 'signedMax' | 'totalClaimed' | 'unclaimedSince'> & { readonly withdrawDelay: number };

export interface ChannelDecision {
  readonly outcome: ChannelOutcome;
  /** The chain state to mirror onto the row (a claim the chain has and the row does not). */
  readonly write?: ChannelChainState;
  /** Served and not claimed on chain, atomic units. */
  readonly unclaimed: bigint;
  /** One line per finding, for a person. */
  readonly findings: readonly string[];
}

export function decideChannel(row: ChannelBooks, chain: ChannelChainState, chainTimeSeconds: number): ChannelDecision {
  const mismatches: string[] = [];
  const risks: string[] = [];
  let repair: string | undefined;
  if (chain.totalClaimed < row.totalClaimed) {
    mismatches.push(`the row records ${row.totalClaimed} claimed, the chain only ${chain.totalClaimed}: a claim recorded that is not on chain`);
  } else if (chain.totalClaimed > row.totalClaimed) {
    repair = `claimed on chain up to ${chain.totalClaimed}, recorded ${row.totalClaimed}: the row now mirrors the chain`;
  }
  if (row.charged > row.signedMax) mismatches.push(`charged ${row.charged} is more than the highest voucher, ${row.signedMax}: the excess can never be claimed`);
  if (row.charged > chain.balance) mismatches.push(`charged ${row.charged} is more than the deposit on chain, ${chain.balance}`);
  const unclaimed = row.charged > chain.totalClaimed ? row.charged - chain.totalClaimed : 0n;
  if (unclaimed > 0n) {
    if (chain.withdrawRequestedAt !== 0) {
      const finalizable = new Date((chain.withdrawRequestedAt + row.withdrawDelay) * 1000).toISOString();
      risks.push(`${unclaimed} served and unclaimed while the payer withdraws: lost to payTo unless claimed before ${finalizable}`);
    } else if (row.unclaimedSince !== undefined && chainTimeSeconds - row.unclaimedSince >= row.withdrawDelay) {
      risks.push(`${unclaimed} served and unclaimed since ${new Date(row.unclaimedSince * 1000).toISOString()}, longer than the channel's withdraw delay (${row.withdrawDelay} s): the claims are not keeping up, and a payer's withdrawal could take it back`);
    }
  }
  const outcome: ChannelOutcome = mismatches.length > 0 ? 'mismatch' : risks.length > 0 ? 'at-risk' : repair ? 'repaired' : 'ok';
  return {
    outcome,
    ...(repair ? { write: chain } : {}),
    unclaimed,
    findings: [...mismatches, ...risks, ...(repair ? [repair] : [])],
  };
}
