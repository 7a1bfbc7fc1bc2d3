/**
 * One scheduled run of the batch-settlement claims: mirror every channel's chain state into its
 * row (so the edge stops charging a channel whose payer started a withdrawal), claim the channels
 * that are due (lambda/core/batch/claim-policy.ts) in `claimWithSignature` batches through the
 * facilitator, settle the claimed total to payTo, and record the claim and settle transactions on
 * the rows. Fails safe: a failed read, claim or write records nothing unconfirmed; the run fails
 * (logged, counted, the Lambda's error), and the next run starts again from the chain.
 */
import type { Hex } from 'viem';
import { claimDue, type ClaimReason } from '../core/batch/claim-policy';
import { claimAndSettle, type ClaimRun } from '../core/batch/claims';
import { staleCommits } from '../core/batch/ledger';
import { batchReceipt, RECEIPT_FROM_COMMIT_MARKER, UNKNOWN_ROUTE } from '../core/batch/served-receipt';
import { BatchClaimMetrics, emfRecord } from '../core/metrics';
import type { Clock, FacilitatorPort, LogSink } from '../core/ports';
import type { ChannelChainState, DynamoChannelStore } from '../edge/dynamo-channel-store';
import type { BatchClaimsSettings } from './settings';

export interface BatchClaimsPorts {
  readonly store: Pick<DynamoChannelStore, 'listChannelIds' | 'syncChain' | 'get' | 'claimTarget' | 'recordClaim' | 'recordSettlement' | 'recordMissingReceipt' | 'forgetCommit'>;
  readonly facilitator: FacilitatorPort;
  readonly readChain: (channelId: Hex) => Promise<ChannelChainState>;
  readonly clock: Clock;
  readonly log: LogSink;
}

export interface BatchClaimsRunResult extends ClaimRun {
  /** Channels whose rows were read and mirrored. */
  readonly channels: number;
  /** The channels claimed in this run, and why. */
  readonly due: ReadonlyArray<{ readonly channelId: Hex; readonly reason: ClaimReason }>;
  /** Receipts written from commits' markers because their origin-response wrote none. */
  readonly receiptsFromMarkers: number;
}

export async function runBatchClaims(settings: BatchClaimsSettings, ports: BatchClaimsPorts): Promise<BatchClaimsRunResult> {
  const { store, log, clock } = ports;
  const policy = { thresholdAtomic: BigInt(settings.thresholdAtomic), maxAgeSeconds: settings.maxAgeSeconds };
  try {
    const nowSeconds = Math.floor(clock() / 1000);
    const ids = await store.listChannelIds();
    const due: Array<{ channelId: Hex; reason: ClaimReason }> = [];
    // What each channel has claimed and not yet seen settled, after the mirror, and what it had seen settled.
    const unsettled = new Map<Hex, bigint>();
    const settledBefore = new Map<Hex, bigint>();
    let receiptsFromMarkers = 0;
    for (const channelId of ids) {
      await store.syncChain(channelId, await ports.readChain(channelId));
      const row = await store.get(channelId);
      if (!row) continue;
      // A commit's marker its origin-response left behind: the charge gets its receipt (written unless it exists), then the marker goes.
      for (const [reservationId, marker] of staleCommits(row.committed, nowSeconds)) {
        const receipt = {
          ...batchReceipt({
            network: settings.network,
            payTo: settings.payTo,
            asset: settings.asset,
            channelId,
            payer: row.config.payer,
            amount: marker.amount,
            chargedTo: marker.chargedTo,
            reservationId,
            resource: marker.resource,
            // An index key cannot be empty (a marker left by a commit that named no request).
            route: marker.route || UNKNOWN_ROUTE,
            at: marker.committedAt * 1000,
            withdrawDelay: row.config.withdrawDelay,
          }),
          errorReason: RECEIPT_FROM_COMMIT_MARKER,
        };
        if (await store.recordMissingReceipt(receipt)) {
          receiptsFromMarkers++;
          log({ event: 'x402.batch_receipt_from_marker', paymentId: receipt.paymentId, channelId, reservationId, amount: receipt.amount });
        }
        await store.forgetCommit(channelId, reservationId);
      }
      settledBefore.set(channelId, row.settledTo);
      const reason = claimDue(row, policy, nowSeconds);
      if (reason) due.push({ channelId, reason });
      if (row.settledTo < row.totalClaimed) unsettled.set(channelId, row.totalClaimed);
    }
    const run = await claimAndSettle(
      due.map((d) => d.channelId),
      {
        channels: store,
        facilitator: ports.facilitator,
        terms: { network: settings.network, payTo: settings.payTo, asset: settings.asset },
        timeoutMs: settings.facilitator.timeoutMs,
        clock,
        // A claim whose settle failed in an earlier run (or was claimed by it and not recorded) is swept now.
        settleOwed: unsettled.size > 0,
      },
    );
    if (run.settlement) {
      // `settle` sweeps the receiver's whole claimed total: every claim made so far is now paid out.
      for (const c of run.claimed) unsettled.set(c.channelId, c.totalClaimed);
      const settledAt = clock();
      for (const [channelId, settledTo] of unsettled) {
        await store.recordSettlement(channelId, { previousSettledTo: settledBefore.get(channelId) ?? 0n, settledTo, ...(run.settlement.transaction ? { transaction: run.settlement.transaction } : {}), settledAt });
      }
    }
    const result: BatchClaimsRunResult = { ...run, channels: ids.length, due, receiptsFromMarkers };
    log({
      event: 'x402.batch_claims_done',
      channels: ids.length,
      due: due.map((d) => `${d.channelId}:${d.reason}`),
      claimTransactions: [...new Set(run.claimed.map((c) => c.transaction))],
      settlement: run.settlement,
    });
    log(emfRecord({ [BatchClaimMetrics.channelsClaimed]: run.claimed.length, [BatchClaimMetrics.batchSettledAtomic]: Number(run.settlement?.amount || 0), [BatchClaimMetrics.batchClaimErrors]: 0 }, {}, clock()));
    return result;
  } catch (error) {
    log({ event: 'x402.batch_claims_error', error: error instanceof Error ? error.message : String(error) });
    log(emfRecord({ [BatchClaimMetrics.batchClaimErrors]: 1 }, {}, clock()));
    throw error;
  }
}
