/**
 * Batch-settlement revenue of a window, per route and per day: served (the requests' receipts),
 * claimed and settled (the channels' claim and settle history, docs/batch-settlement.md), and for
 * each receipt the claim and settle transactions that paid it. Pure: cli/report.ts reads the rows.
 *
 * The join: a receipt with `batchCumulative` = X is claimed by its channel's first claim whose
 * totalClaimed ≥ X, and that claim is paid out by the channel's first settle whose settledTo ≥ its
 * totalClaimed. The channel row's own `totalClaimed` and `settledTo` are the authority for
 * "claimed" and "settled" (a claim repaired by the mirror has no history row); the history only
 * names the transactions, and a transaction is named only when that history row is the one that
 * crossed X (its previous total below X).
 */
import { formatAtomicUnits } from '../lambda/core/price';
import { safeBigInt as atomic, usdcOf } from './revenue';

/** A served batch-settlement request's receipt (scheme `batch-settlement`). */
export interface BatchReceiptLike {
  readonly paymentId: string;
  readonly status: string;
  readonly network: string;
  readonly asset: string;
  readonly route: string;
  readonly createdAt: string;
  /** The request's increment, atomic units. */
  readonly amount: string;
  /** Lower-case hex. */
  readonly channelId: string;
  /** The channel's charged cumulative after the request, atomic units. */
  readonly cumulative: string;
}

/** One `#batch-claim:` row. */
export interface BatchClaimLike {
  readonly channelId: string;
  readonly previousTotalClaimed: string;
  readonly totalClaimed: string;
  readonly claimTx: string;
  readonly claimedAt: string;
}

/** One `#batch-settle:` row. */
export interface BatchSettleLike {
  readonly channelId: string;
  readonly previousSettledTo: string;
  readonly settledTo: string;
  readonly settleTx?: string;
  readonly settledAt: string;
}

/** What a channel row says was claimed and settled. */
export interface BatchChannelBooks {
  readonly channelId: string;
  readonly totalClaimed: string;
  readonly settledTo: string;
}

/** Where a receipt's money is. */
export interface BatchReceiptSettlement {
  readonly paymentId: string;
  readonly route: string;
  readonly createdAt: string;
  readonly amount: string;
  readonly channelId: string;
  readonly cumulative: string;
  readonly claimed: boolean;
  /** The claim that covered it, when its history row names it. */
  readonly claimTx?: string;
  readonly claimedAt?: string;
  readonly settled: boolean;
  /** The settle that paid it out, when its history row names one (absent also when someone else swept it). */
  readonly settleTx?: string;
  readonly settledAt?: string;
}

export interface BatchRevenueLine {
  readonly key: string;
  readonly network: string;
  readonly asset: string;
  /** e.g. USDC (Base Sepolia). */
  readonly label: string;
  readonly requests: number;
  readonly servedAtomic: string;
  readonly claimedAtomic: string;
  readonly settledAtomic: string;
  /** Decimal USD when the asset is a known USDC. */
  readonly usd?: { readonly served: string; readonly claimed: string; readonly settled: string };
}

export interface BatchRevenue {
  readonly byRoute: readonly BatchRevenueLine[];
  readonly byDay: readonly BatchRevenueLine[];
  readonly receipts: readonly BatchReceiptSettlement[];
}

/** Statuses of a receipt whose request was not served (nothing charged on the channel). */
const NOT_SERVED = new Set(['reserved', 'failed', 'released']);

/** Where the money of one receipt is: claimed and settled, and by which transactions. */
export function settlementOfReceipt(
  receipt: Pick<BatchReceiptLike, 'cumulative'>,
  history: { readonly claims: readonly BatchClaimLike[]; readonly settles: readonly BatchSettleLike[]; readonly books?: BatchChannelBooks },
): Pick<BatchReceiptSettlement, 'claimed' | 'claimTx' | 'claimedAt' | 'settled' | 'settleTx' | 'settledAt'> {
  const x = atomic(receipt.cumulative);
  // A served request's cumulative is positive; anything else cannot be matched to a claim.
  if (x <= 0n) return { claimed: false, settled: false };
  const claim = firstReaching(history.claims, (c) => atomic(c.totalClaimed), x);
  const claimNamed = claim && atomic(claim.previousTotalClaimed) < x ? claim : undefined;
  const claimed = claim !== undefined || atomic(history.books?.totalClaimed ?? '') >= x;
  // A settle pays out claims, so it reaches the receipt once it reaches the claim's total (≥ X).
  const settle = claimed ? firstReaching(history.settles, (s) => atomic(s.settledTo), x) : undefined;
  const settleNamed = settle && atomic(settle.previousSettledTo) < x ? settle : undefined;
  const settled = claimed && (settle !== undefined || atomic(history.books?.settledTo ?? '') >= x);
  return {
    claimed,
    ...(claimNamed ? { claimTx: claimNamed.claimTx, claimedAt: claimNamed.claimedAt } : {}),
    settled,
    ...(settleNamed?.settleTx ? { settleTx: settleNamed.settleTx } : {}),
    ...(settleNamed ? { settledAt: settleNamed.settledAt } : {}),
  };
}

/** Served, claimed and settled batch-settlement revenue of the receipts created in [since, until). */
export function batchRevenue(
  receipts: readonly BatchReceiptLike[],
  rows: { readonly claims: readonly BatchClaimLike[]; readonly settles: readonly BatchSettleLike[]; readonly channels: readonly BatchChannelBooks[] },
  since: Date,
  until: Date,
): BatchRevenue {
  const [from, to] = [since.toISOString(), until.toISOString()];
  const claims = groupBy(rows.claims, (c) => c.channelId.toLowerCase());
  const settles = groupBy(rows.settles, (s) => s.channelId.toLowerCase());
  const books = new Map(rows.channels.map((c) => [c.channelId.toLowerCase(), c]));
  const byRoute = new Map<string, Totals>();
  const byDay = new Map<string, Totals>();
  const settlements: BatchReceiptSettlement[] = [];
  for (const r of receipts) {
    if (!(r.createdAt >= from && r.createdAt < to) || NOT_SERVED.has(r.status)) continue;
    const channelId = r.channelId.toLowerCase();
    const where = settlementOfReceipt(r, { claims: claims.get(channelId) ?? [], settles: settles.get(channelId) ?? [], books: books.get(channelId) });
    settlements.push({ paymentId: r.paymentId, route: r.route, createdAt: r.createdAt, amount: r.amount, channelId, cumulative: r.cumulative, ...where });
    const amount = atomic(r.amount);
    for (const [groups, key] of [[byRoute, r.route], [byDay, r.createdAt.slice(0, 10)]] as const) {
      const id = `${key}|${r.network}|${r.asset.toLowerCase()}`;
      const t = groups.get(id) ?? { key, network: r.network, asset: r.asset.toLowerCase(), requests: 0, served: 0n, claimed: 0n, settled: 0n };
      t.requests++;
      t.served += amount;
      if (where.claimed) t.claimed += amount;
      if (where.settled) t.settled += amount;
      groups.set(id, t);
    }
  }
  settlements.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.paymentId.localeCompare(b.paymentId));
  return { byRoute: lines(byRoute), byDay: lines(byDay), receipts: settlements };
}

interface Totals {
  key: string;
  network: string;
  asset: string;
  requests: number;
  served: bigint;
  claimed: bigint;
  settled: bigint;
}

function lines(groups: Map<string, Totals>): BatchRevenueLine[] {
  return [...groups.values()]
    .sort((a, b) => a.key.localeCompare(b.key) || a.asset.localeCompare(b.asset))
    .map((t) => {
      const usdc = usdcOf(t.network, t.asset);
      const usd = (v: bigint) => formatAtomicUnits(v.toString(), usdc!.decimals);
      return {
        key: t.key,
        network: t.network,
        asset: t.asset,
        label: usdc?.label ?? `${t.asset || 'unknown asset'} (${t.network})`,
        requests: t.requests,
        servedAtomic: t.served.toString(),
        claimedAtomic: t.claimed.toString(),
        settledAtomic: t.settled.toString(),
        ...(usdc ? { usd: { served: usd(t.served), claimed: usd(t.claimed), settled: usd(t.settled) } } : {}),
      };
    });
}

/** The row with the smallest amount ≥ x. */
function firstReaching<T>(rows: readonly T[], amount: (row: T) => bigint, x: bigint): T | undefined {
  let best: T | undefined;
  for (const row of rows) if (amount(row) >= x && (best === undefined || amount(row) < amount(best))) best = row;
  return best;
}

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const group = groups.get(key(row));
    if (group) group.push(row);
    else groups.set(key(row), [row]);
  }
  return groups;
}
