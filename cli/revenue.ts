/**
 * Revenue from receipt rows (both engines write the same rows): settled payments summed by route,
 * by payer and by day, in atomic units of each asset and in USD for USDC. Pure: cli/report.ts reads
 * the rows. Money is summed as bigint atomic units and formatted, never as floating point.
 */
import type { BatchRevenue } from './batch-revenue';
import { KNOWN_NETWORKS, knownNetwork } from '../lambda/core/networks';
import { PASS_SALE_PREFIX } from '../lambda/core/passes/offers';
import { formatAtomicUnits } from '../lambda/core/price';

/** The receipt fields a report reads. */
export interface ReceiptLike {
  readonly status: string;
  readonly engine?: string;
  readonly network: string;
  readonly payer: string;
  /** Atomic units. */
  readonly amount: string;
  readonly asset: string;
  readonly route: string;
  readonly createdAt: string;
  /** `pass` once a sold pass was issued (docs/passes.md). */
  readonly kind?: string;
  readonly passName?: string;
  /** `upto`: a metered payment (docs/metering.md), with the maximum its payer authorized. */
  readonly scheme?: string;
  readonly maxAmount?: string;
  /** The paying agent and its declared intent, on receipts that record them (reports group by them when present). */
  readonly agent?: string;
  readonly intent?: string;
  /** The category and organization of the bot AWS Bot Control verified, on receipts that record them (docs/identity.md). */
  readonly botCategory?: string;
  readonly botOrganization?: string;
}

/** Metered (`upto`) payments: what was charged against what was authorized. */
export interface MeteredSummary {
  /** Settled metered payments, and the zero-usage ones (released with amount 0). */
  readonly payments: number;
  /** Atomic units charged, and authorized (the sum of the signed maxima of the same payments). */
  readonly revenueAtomic: string;
  readonly maximumAtomic: string;
  /** Average over payments of actual / maximum, 0..1, to 4 decimals. */
  readonly averageFillRatio: number;
  /** Metered payments whose settlement was refused or failed (content withheld, nothing charged). */
  readonly refusals: number;
}

export interface AssetAmount {
  readonly network: string;
  readonly asset: string;
  /** e.g. USDC (Base Sepolia). */
  readonly label: string;
  readonly atomic: string;
  /** Decimal USD when the asset is a known USDC. */
  readonly usd?: string;
}

export interface RevenueLine {
  readonly key: string;
  /** Settled payments. */
  readonly payments: number;
  /** Sum over the USDC amounts of the line (undefined when it has none). */
  readonly usd?: string;
  readonly amounts: readonly AssetAmount[];
}

export interface RevenueSummary {
  readonly payments: number;
  readonly usd?: string;
  readonly amounts: readonly AssetAmount[];
  /** Rows by receipt status (settled, reserved = pending, failed, released). */
  readonly byStatus: Readonly<Record<string, number>>;
  /** Settled payments by engine. */
  readonly byEngine: Readonly<Record<string, number>>;
}

export interface RevenueReport {
  readonly source: 'table' | 'waf';
  readonly since: string;
  readonly until: string;
  readonly totals: RevenueSummary;
  readonly byRoute: readonly RevenueLine[];
  readonly byPayer: readonly RevenueLine[];
  readonly byDay: readonly RevenueLine[];
  /** table source: passes sold, by pass name (their payments are in the other groups too). */
  readonly byPass?: readonly RevenueLine[];
  /** table source, when any payment in the window was metered (`upto`). */
  readonly metered?: MeteredSummary;
  /** table source, when any settled receipt in the window records its agent / intent. */
  readonly byAgent?: readonly RevenueLine[];
  readonly byIntent?: readonly RevenueLine[];
  /** table source, when any settled receipt in the window records its verified bot's category / organization. */
  readonly byBotCategory?: readonly RevenueLine[];
  readonly byBotOrganization?: readonly RevenueLine[];
  /** waf source only: revenue by bot (WAF's SourceName). */
  readonly bySource?: readonly RevenueLine[];
  /** table source, whole table, when it holds batch-settlement channels: their lifetime totals (not limited to the window). */
  readonly channels?: ChannelRevenue;
  /** table source, whole table, when the window has served batch-settlement requests: served, claimed and settled per route and day, and each receipt's claim and settle transactions (cli/batch-revenue.ts). */
  readonly batch?: BatchRevenue;
  readonly notes: readonly string[];
}

const USD_DECIMALS = 6;

/** A batch-settlement channel row's money (docs/batch-settlement.md), atomic units as decimal strings. */
export interface ChannelRowLike {
  /** The channel's token (its config). */
  readonly token: string;
  /** Served requests, cumulative. */
  readonly charged: string;
  /** Claimed on chain. */
  readonly totalClaimed: string;
  /** Of the claimed, moved to payTo by a recorded settle. */
  readonly settledTo: string;
}

export interface ChannelAmounts {
  readonly network: string;
  readonly asset: string;
  readonly label: string;
  readonly channels: number;
  /** Served (charged) in all. */
  readonly servedAtomic: string;
  readonly claimedAtomic: string;
  readonly settledAtomic: string;
  /** Served and not yet claimed: the payer could still withdraw it. */
  readonly outstandingAtomic: string;
  /** Decimal USD of served, claimed, settled and outstanding when the token is a known USDC. */
  readonly usd?: { readonly served: string; readonly claimed: string; readonly settled: string; readonly outstanding: string };
}

export interface ChannelRevenue {
  readonly channels: number;
  readonly amounts: readonly ChannelAmounts[];
}

/** Lifetime totals of batch-settlement channels, by token (the known USDC's network is named). */
export function channelRevenue(rows: readonly ChannelRowLike[]): ChannelRevenue {
  const byToken = new Map<string, { channels: number; served: bigint; claimed: bigint; settled: bigint }>();
  for (const row of rows) {
    const key = row.token.toLowerCase();
    const acc = byToken.get(key) ?? { channels: 0, served: 0n, claimed: 0n, settled: 0n };
    acc.channels++;
    acc.served += safeBigInt(row.charged);
    acc.claimed += safeBigInt(row.totalClaimed);
    acc.settled += safeBigInt(row.settledTo);
    byToken.set(key, acc);
  }
  const amounts = [...byToken.entries()].map(([asset, acc]): ChannelAmounts => {
    const network = KNOWN_NETWORKS.find((n) => n.usdc.address.toLowerCase() === asset);
    const outstanding = acc.served > acc.claimed ? acc.served - acc.claimed : 0n;
    const usd = (v: bigint) => formatAtomicUnits(v.toString(), network!.usdc.decimals);
    return {
      network: network?.caip2 ?? '',
      asset,
      label: network ? `USDC (${network.displayName})` : `${asset || 'unknown asset'}`,
      channels: acc.channels,
      servedAtomic: acc.served.toString(),
      claimedAtomic: acc.claimed.toString(),
      settledAtomic: acc.settled.toString(),
      outstandingAtomic: outstanding.toString(),
      ...(network ? { usd: { served: usd(acc.served), claimed: usd(acc.claimed), settled: usd(acc.settled), outstanding: usd(outstanding) } } : {}),
    };
  });
  return { channels: rows.length, amounts };
}

/** USDC of a known network, by lower-case address. */
export function usdcOf(network: string, asset: string): { decimals: number; label: string } | undefined {
  const known = knownNetwork(network);
  if (known && known.usdc.address.toLowerCase() === asset.toLowerCase()) return { decimals: known.usdc.decimals, label: `USDC (${known.displayName})` };
  return undefined;
}

class Accumulator {
  payments = 0;
  private readonly atomic = new Map<string, bigint>();

  add(row: ReceiptLike): void {
    this.payments++;
    const key = `${row.network}|${row.asset.toLowerCase()}`;
    this.atomic.set(key, (this.atomic.get(key) ?? 0n) + safeBigInt(row.amount));
  }

  amounts(): AssetAmount[] {
    return [...this.atomic.entries()].map(([key, atomic]) => {
      const [network, asset] = key.split('|');
      const usdc = usdcOf(network, asset);
      return {
        network,
        asset,
        label: usdc?.label ?? `${asset || 'unknown asset'} (${network})`,
        atomic: atomic.toString(),
        ...(usdc ? { usd: formatAtomicUnits(atomic.toString(), usdc.decimals) } : {}),
      };
    });
  }

  /** USD over the USDC amounts (all USDC have 6 decimals). */
  usd(): string | undefined {
    let total: bigint | undefined;
    for (const [key, atomic] of this.atomic) {
      const [network, asset] = key.split('|');
      if (usdcOf(network, asset)) total = (total ?? 0n) + atomic;
    }
    return total === undefined ? undefined : formatAtomicUnits(total.toString(), USD_DECIMALS);
  }

  /** For sorting: USD-equivalent atomic units, else the first amount. */
  weight(): bigint {
    let total = 0n;
    for (const atomic of this.atomic.values()) total += atomic;
    return total;
  }
}

/** Atomic units from a decimal string; 0 for anything else. */
export function safeBigInt(text: string): bigint {
  return /^\d+$/.test(text ?? '') ? BigInt(text) : 0n;
}

function lines(groups: Map<string, Accumulator>, order: 'revenue' | 'key'): RevenueLine[] {
  const entries = [...groups.entries()];
  entries.sort(order === 'key'
    ? ([a], [b]) => a.localeCompare(b)
    : ([ka, a], [kb, b]) => (a.weight() === b.weight() ? b.payments - a.payments || ka.localeCompare(kb) : a.weight() > b.weight() ? -1 : 1));
  return entries.map(([key, acc]) => {
    const usd = acc.usd();
    return { key, payments: acc.payments, ...(usd !== undefined ? { usd } : {}), amounts: acc.amounts() };
  });
}

/** Aggregates rows whose `createdAt` lies in [since, until). */
export function revenueFromReceipts(rows: readonly ReceiptLike[], since: Date, until: Date): RevenueReport {
  const byRoute = new Map<string, Accumulator>();
  const byPayer = new Map<string, Accumulator>();
  const byDay = new Map<string, Accumulator>();
  const byPass = new Map<string, Accumulator>();
  const byAgent = new Map<string, Accumulator>();
  const byIntent = new Map<string, Accumulator>();
  const byBotCategory = new Map<string, Accumulator>();
  const byBotOrganization = new Map<string, Accumulator>();
  const total = new Accumulator();
  const byStatus: Record<string, number> = {};
  let voucherServed = 0;
  const byEngine: Record<string, number> = {};
  const [from, to] = [since.toISOString(), until.toISOString()];
  const metered = { payments: 0, revenue: 0n, maximum: 0n, fillSum: 0, refusals: 0 };
  for (const row of rows) {
    if (!(row.createdAt >= from && row.createdAt < to)) continue;
    byStatus[row.status] = (byStatus[row.status] ?? 0) + 1;
    if (row.scheme === 'upto') {
      const maximum = safeBigInt(row.maxAmount ?? '');
      const charged = row.status === 'settled' || (row.status === 'released' && row.amount === '0');
      if (row.status === 'failed') metered.refusals++;
      if (charged && maximum > 0n) {
        const amount = row.status === 'settled' ? safeBigInt(row.amount) : 0n;
        metered.payments++;
        metered.revenue += amount;
        metered.maximum += maximum;
        metered.fillSum += Number((amount * 10_000n) / maximum) / 10_000;
      }
    }
    if (row.status !== 'settled') continue;
    if (row.scheme === 'batch-settlement') voucherServed++;
    byEngine[row.engine ?? 'edge'] = (byEngine[row.engine ?? 'edge'] ?? 0) + 1;
    total.add(row);
    const add = (groups: Map<string, Accumulator>, key: string) => {
      const acc = groups.get(key) ?? new Accumulator();
      acc.add(row);
      groups.set(key, acc);
    };
    add(byRoute, row.route);
    add(byPayer, row.payer);
    add(byDay, row.createdAt.slice(0, 10));
    const pass = passSold(row);
    if (pass) add(byPass, pass);
    if (row.agent) add(byAgent, row.agent);
    if (row.intent) add(byIntent, row.intent);
    if (row.botCategory) add(byBotCategory, row.botCategory);
    if (row.botOrganization) add(byBotOrganization, row.botOrganization);
  }
  const amounts = total.amounts();
  const notes: string[] = [];
  const testnets = KNOWN_NETWORKS.filter((n) => n.caip2 !== 'eip155:8453' && amounts.some((a) => a.network === n.caip2));
  if (testnets.length > 0) notes.push(`includes testnet USDC (${testnets.map((n) => n.displayName).join(', ')}): test money, not real revenue`);
  if (voucherServed > 0) notes.push(`includes ${voucherServed} batch-settlement request(s) paid by voucher: earned, but on chain only once claimed and settled (see the batch lines)`);
  if ((byStatus.reserved ?? 0) > 0) notes.push(`${byStatus.reserved} payment(s) still pending (reserved): not counted until settled`);
  const usd = total.usd();
  return {
    source: 'table',
    since: from,
    until: to,
    totals: { payments: total.payments, ...(usd !== undefined ? { usd } : {}), amounts, byStatus, byEngine },
    byRoute: lines(byRoute, 'revenue'),
    byPayer: lines(byPayer, 'revenue'),
    byDay: lines(byDay, 'key'),
    ...(byPass.size > 0 ? { byPass: lines(byPass, 'revenue') } : {}),
    ...(byAgent.size > 0 ? { byAgent: lines(byAgent, 'revenue') } : {}),
    ...(byIntent.size > 0 ? { byIntent: lines(byIntent, 'revenue') } : {}),
    ...(byBotCategory.size > 0 ? { byBotCategory: lines(byBotCategory, 'revenue') } : {}),
    ...(byBotOrganization.size > 0 ? { byBotOrganization: lines(byBotOrganization, 'revenue') } : {}),
    ...(metered.payments + metered.refusals > 0
      ? {
          metered: {
            payments: metered.payments,
            revenueAtomic: metered.revenue.toString(),
            maximumAtomic: metered.maximum.toString(),
            averageFillRatio: metered.payments === 0 ? 0 : Math.round((metered.fillSum / metered.payments) * 10_000) / 10_000,
            refusals: metered.refusals,
          },
        }
      : {}),
    notes: byPass.size > 0 ? [...notes, 'pass use is not in the table (it writes nothing): see the PassRequests metric on the dashboard'] : notes,
  };
}

/** The pass a settled row bought: its recorded name, or the sale route's (a pass whose issue is still pending). */
function passSold(row: ReceiptLike): string | undefined {
  if (row.kind === 'pass' && row.passName) return row.passName;
  const sale = `GET ${PASS_SALE_PREFIX}`;
  return row.route.startsWith(sale) ? `${row.route.slice(sale.length)} (not issued yet)` : undefined;
}

/** WAF's decimal USDC amounts ("0.011") as atomic units. */
export function usdcAtomic(amount: string | undefined): string {
  const match = /^(\d+)(?:\.(\d+))?$/.exec(amount?.trim() ?? '');
  if (!match) return '0';
  return BigInt(match[1] + (match[2] ?? '').slice(0, USD_DECIMALS).padEnd(USD_DECIMALS, '0')).toString();
}

/** One line of a WAF statistic (amounts in decimal USDC). */
export function wafLine(key: string, amount: string | undefined, count: number | undefined, network: string): RevenueLine {
  const known = knownNetwork(network);
  const atomic = usdcAtomic(amount);
  const usd = formatAtomicUnits(atomic, USD_DECIMALS);
  return {
    key,
    payments: count ?? 0,
    usd,
    amounts: [{ network, asset: known?.usdc.address ?? '', label: known ? `USDC (${known.displayName})` : `USDC (${network})`, atomic, usd }],
  };
}
