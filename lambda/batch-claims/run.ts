/**
 * One scheduled run of the batch-settlement claims: mirror every channel's chain state into its
 * row (so the edge stops charging a channel whose payer started a withdrawal), close and refund
 * the idle channels (lambda/core/batch/refunds.ts), claim the channels that are due
 * (lambda/core/batch/claim-policy.ts) in `claimWithSignature` batches through the facilitator,
 * settle the claimed total to payTo, and record the refund, claim and settle transactions on the
 * rows. Fails safe: a failed read, claim or write records nothing unconfirmed; the run fails
 * (logged, counted, the Lambda's error), and the next run starts again from the chain.
 */
import type { Hex } from 'viem';
import { claimDue, type ClaimReason } from '../core/batch/claim-policy';
import { claimAndSettle, type ClaimRun } from '../core/batch/claims';
import { refundChannel, refundStep, type ConfirmedRefund } from '../core/batch/refunds';
import { staleCommits } from '../core/batch/ledger';
import { batchReceipt, RECEIPT_FROM_COMMIT_MARKER, UNKNOWN_ROUTE } from '../core/batch/served-receipt';
import { BatchClaimMetrics, emfRecord } from '../core/metrics';
import type { Clock, FacilitatorPort, LogSink } from '../core/ports';
import type { ChannelChainState, ChannelRow, DynamoChannelStore } from '../edge/dynamo-channel-store';
import type { BatchClaimsSettings } from './settings';

export interface BatchClaimsPorts {
  readonly store: Pick<
    DynamoChannelStore,
    | 'listChannelIds' | 'syncChain' | 'get' | 'claimTarget' | 'recordClaim' | 'recordSettlement' | 'recordMissingReceipt' | 'forgetCommit'
    | 'releaseExpired' | 'noteQuiet' | 'beginClosing' | 'recordRefund'
  >;
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
  /** The idle channels refunded in this run (their claims are in `claimed` too). */
  readonly refunded: ReadonlyArray<{ readonly channelId: Hex; readonly refund: ConfirmedRefund }>;
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
    const closing: ChannelRow[] = [];
    let receiptsFromMarkers = 0;
    for (const channelId of ids) {
      await store.syncChain(channelId, await ports.readChain(channelId));
      let row = await store.get(channelId);
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
      if (row.settledTo < row.totalClaimed) unsettled.set(channelId, row.totalClaimed);
      // Reservations whose origin-response never ran would keep an idle channel from closing.
      if (row.pending.size > 0 && settings.refundIdleAfterSeconds > 0 && (await store.releaseExpired(channelId, nowSeconds)) > 0) row = (await store.get(channelId))!;
      const step = refundStep(row, settings.refundIdleAfterSeconds, nowSeconds);
      // Marked closing only if nothing was reserved or charged since the read: the refund then claims all that was served.
      if (step === 'refund' || (step === 'close' && (await store.beginClosing(channelId, row.charged, nowSeconds)))) closing.push(row);
      // A closing channel is claimed by its refund; should the refund fail, by the claims below (they read the row again).
      if (row.quietCharged !== row.charged) await store.noteQuiet(channelId, row.charged, nowSeconds);
      const reason = claimDue(row, policy, nowSeconds);
      if (reason) due.push({ channelId, reason });
    }
    const terms = { network: settings.network, payTo: settings.payTo, asset: settings.asset };
    // Refunds first (each claims its channel's served total in the same transaction), then the claims; one failed refund does not hold up the claims, it fails the run after them.
    const refunded: Array<{ channelId: Hex; refund: ConfirmedRefund }> = [];
    const refundErrors: string[] = [];
    for (const row of closing) {
      try {
        const refund = await refundChannel(row, { facilitator: ports.facilitator, terms, timeoutMs: settings.facilitator.timeoutMs, clock });
        if (refund.claimedTo > refund.previousTotalClaimed) {
          await store.recordClaim(row.channelId, { previousTotalClaimed: refund.previousTotalClaimed, totalClaimed: refund.claimedTo, transaction: refund.transaction, claimedAt: refund.refundedAt });
          unsettled.set(row.channelId, refund.claimedTo);
        }
        await store.recordRefund(row.channelId, refund);
        await store.syncChain(row.channelId, await ports.readChain(row.channelId));
        refunded.push({ channelId: row.channelId, refund });
      } catch (error) {
        refundErrors.push(error instanceof Error ? error.message : String(error));
      }
    }
    const run = await claimAndSettle(
      due.map((d) => d.channelId),
      {
        channels: store,
        facilitator: ports.facilitator,
        terms,
        timeoutMs: settings.facilitator.timeoutMs,
        clock,
        // A claim whose settle failed in an earlier run (or was claimed by it and not recorded), or a refund's claim, is swept now.
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
    const refundClaims = refunded.filter((r) => r.refund.claimedTo > r.refund.previousTotalClaimed).map((r) => ({ channelId: r.channelId, totalClaimed: r.refund.claimedTo, transaction: r.refund.transaction }));
    const result: BatchClaimsRunResult = { ...run, claimed: [...refundClaims, ...run.claimed], channels: ids.length, due, refunded, receiptsFromMarkers };
    log({
      event: 'x402.batch_claims_done',
      channels: ids.length,
      due: due.map((d) => `${d.channelId}:${d.reason}`),
      claimTransactions: [...new Set(result.claimed.map((c) => c.transaction))],
      refunds: refunded.map((r) => ({ channelId: r.channelId, amount: r.refund.amount, transaction: r.refund.transaction })),
      settlement: run.settlement,
    });
    const failures = [
      ...run.failed.map((f) => `claim of ${f.channelId} refused: ${f.reason}`),
      ...refundErrors.map((e) => `${e} (the channel stays closed, the next run retries)`),
    ];
    if (failures.length > 0) throw new Error(`claims and settlement done for the others, ${failures.length} failed: ${failures.join('; ')}`);
    log(emfRecord({ [BatchClaimMetrics.channelsClaimed]: result.claimed.length, [BatchClaimMetrics.batchSettledAtomic]: Number(run.settlement?.amount || 0), [BatchClaimMetrics.batchClaimErrors]: 0 }, {}, clock()));
    return result;
  } catch (error) {
    log({ event: 'x402.batch_claims_error', error: error instanceof Error ? error.message : String(error) });
    log(emfRecord({ [BatchClaimMetrics.batchClaimErrors]: 1 }, {}, clock()));
    throw error;
  }
}
