/**
 * `cdk-x402 reconcile`: closes the edge engine's receipts whose outcome the edge could not know,
 * from what the chain shows, so that settled receipts equal on-chain transfers again.
 *
 * chain (eth_chainId, head block) → scan the table for rows in doubt → per row: the chain's answer
 * (cli/chain.ts) → the decision (cli/reconcile-plan.ts) → a conditional write (DynamoReceiptStore).
 *
 * In doubt: `failed` with an {@link IN_DOUBT_REASONS} reason (the facilitator's answer was lost;
 * the payer may have been charged), and `reserved` past validBefore + grace (the origin timed out,
 * so CloudFront never ran origin-response; or the receipt write after a settlement failed), or
 * older than an origin-facing function can run (its receipt write after the release, with
 * x402:settledReceipt=after-release, never landed): a used authorization settles it at once, an
 * unused one is left pending until it expires.
 */
import { ScanCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Hex } from 'viem';
import { evmChainId, knownNetwork } from '../lambda/core/networks';
import { IN_DOUBT_REASONS, RECEIPT_PARTITION_KEY, RESERVED_PAYMENT_ID_PREFIX, type Engine, type ReceiptStatus } from '../lambda/core/receipt';
import { channelChainReader, receiverChainReader } from '../lambda/batch-claims/chain-state';
import { DynamoChannelStore } from '../lambda/edge/dynamo-channel-store';
import { DynamoReceiptStore } from '../lambda/edge/dynamo-receipt-store';
import { ChainReader, explainRpcError } from './chain';
import { decideChannel, type ChannelOutcome } from './channel-reconcile-plan';
import type { Session, TargetOptions } from './context';
import { CliError, ExitCode } from './errors';
import { table } from './format';
import { decide, decideMetered, type InDoubtRow, type Outcome } from './reconcile-plan';

export interface ReconcileOptions extends TargetOptions {
  readonly rpcUrl: string;
  /** Seconds past validBefore (chain time) before an unused authorization counts as expired. */
  readonly graceSeconds: number;
  /** Only rows of this CAIP-2 network. */
  readonly network?: string;
  readonly dryRun?: boolean;
}

/** What happened to the row in this run. */
export type WriteResult =
  /** Written (settled or released). */
  | 'applied'
  /** --dry-run: it would have been written. */
  | 'dry-run'
  /** Nothing to write: the row stays as it is (pending, canceled, mismatch). */
  | 'none'
  /** The row changed between the read and the write (the edge, or another run): left as it is now. */
  | 'changed-meanwhile';

export interface ReconciledRow {
  readonly paymentId: string;
  readonly network: string;
  readonly payer: string;
  readonly payTo: string;
  readonly asset: string;
  readonly amount: string;
  readonly nonce: string;
  readonly route: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly was: { readonly status: string; readonly errorReason?: string; readonly txHash?: string };
  readonly outcome: Outcome;
  readonly write: WriteResult;
  readonly txHash?: string;
  readonly detail: string;
}

/** A batch-settlement channel row checked against the contract's `channels(id)` (cli/channel-reconcile-plan.ts); amounts in atomic units. */
export interface ReconciledChannel {
  readonly channelId: string;
  readonly payer: string;
  readonly receiver: string;
  readonly token: string;
  readonly charged: string;
  readonly signedMax: string;
  /** What the row recorded as claimed before this run. */
  readonly recordedClaimed: string;
  readonly chain: { readonly balance: string; readonly totalClaimed: string; readonly withdrawRequestedAt: number };
  /** Served and not claimed on chain. */
  readonly unclaimed: string;
  readonly outcome: ChannelOutcome;
  /** `applied`: the row now mirrors the chain (a claim it had not recorded). */
  readonly write: 'applied' | 'dry-run' | 'none';
  readonly findings: readonly string[];
}

/** The contract's `receivers(receiver, token)`: claimed from all the receiver's channels, and swept to it. */
export interface ReconciledReceiver {
  readonly receiver: string;
  readonly token: string;
  readonly totalClaimed: string;
  readonly totalSettled: string;
  /** Claimed and not yet swept to the receiver (the next claims run settles it; `settle` is permissionless). */
  readonly unsettled: string;
}

export interface ReconcileResult {
  readonly table: string;
  readonly region: string;
  readonly chain: { readonly rpc: string; readonly chainId: number; readonly network: string; readonly name?: string; readonly head: { readonly number: string; readonly time: string } };
  readonly dryRun: boolean;
  readonly graceSeconds: number;
  /** Rows `reserved` with validBefore at or before this time were read (chain time − grace). */
  readonly reservedExpiredBefore: string;
  readonly rows: readonly ReconciledRow[];
  /** Rows by outcome (what the chain says), and how many this run wrote. */
  readonly totals: Readonly<Record<Outcome, number>> & { readonly written: number; readonly changedMeanwhile: number };
  /** When the table holds batch-settlement channels: each checked against the chain, and their receivers' totals. */
  readonly channels?: {
    readonly rows: readonly ReconciledChannel[];
    readonly receivers: readonly ReconciledReceiver[];
    readonly totals: Readonly<Record<ChannelOutcome, number>> & { readonly written: number };
  };
  readonly notes: readonly string[];
}

/** Bounds each contract read of a channel. */
const CHANNEL_READ_TIMEOUT_MS = 15_000;

/** The chain's head more than this far from the clock is worth a note (a lagging node). */
const HEAD_LAG_NOTE_SECONDS = 600;

export async function reconcile(session: Session, options: ReconcileOptions): Promise<ReconcileResult> {
  if (!/^https?:\/\/[^\s]+$/i.test(options.rpcUrl) || !URL.canParse(options.rpcUrl)) {
    throw new CliError(`--rpc-url ${JSON.stringify(options.rpcUrl)} is not an http(s) URL`, ExitCode.usage, 'pass the JSON-RPC endpoint of a node of the receipts\' network, e.g. https://sepolia.base.org');
  }
  const wantedChainId = options.network === undefined ? undefined : evmChainId(options.network);
  if (options.network !== undefined && wantedChainId === undefined) {
    throw new CliError(`--network ${JSON.stringify(options.network)} is not an EVM CAIP-2 network`, ExitCode.usage, 'use eip155:<chain id>, e.g. eip155:8453 (Base) or eip155:84532 (Base Sepolia)');
  }

  const chain = await ChainReader.connect(options.rpcUrl);
  const network = `eip155:${chain.chainId}`;
  const name = knownNetwork(network)?.displayName;
  const headTime = new Date(chain.head.timestamp * 1000).toISOString();
  session.progress(`Chain ${network}${name ? ` (${name})` : ''} via ${chain.endpoint}: head block ${chain.head.number} at ${headTime}`);
  if (wantedChainId !== undefined && wantedChainId !== chain.chainId) {
    throw wrongChain(chain.endpoint, chain.chainId, [`${options.network} (--network)`]);
  }
  const notes: string[] = [];
  const lag = Math.round(session.deps.now() / 1000) - chain.head.timestamp;
  if (Math.abs(lag) > HEAD_LAG_NOTE_SECONDS) {
    notes.push(`the chain's head block is ${Math.round(Math.abs(lag) / 60)} min ${lag > 0 ? 'behind' : 'ahead of'} this machine's clock; expiry is judged by chain time (${headTime})`);
  }

  const target = await session.target({ table: true });
  const tableName = target.tableName!;
  const cutoff = chain.head.timestamp - options.graceSeconds;
  const rows = await readRowsInDoubt(session, tableName, cutoff, options.network);

  // Refuse before writing anything when a row is on another chain than the RPC's.
  const elsewhere = new Map<string, number>();
  for (const row of rows) if (evmChainId(row.network) !== chain.chainId) elsewhere.set(row.network, (elsewhere.get(row.network) ?? 0) + 1);
  if (elsewhere.size > 0) throw wrongChain(chain.endpoint, chain.chainId, [...elsewhere].map(([n, count]) => `${n} (${count} row(s) in doubt)`));

  const store = new DynamoReceiptStore(session.deps.clients.dynamo(session.region), tableName);
  const results: ReconciledRow[] = [];
  for (const [i, row] of rows.entries()) {
    session.progress(`  [${i + 1}/${rows.length}] payer ${row.payer} nonce ${short(row.nonce)} (${row.status}${row.errorReason ? ` ${row.errorReason}` : ''})…`);
    const decision = row.scheme === 'upto'
      ? decideMetered(row, await chain.findPermit(row), chain.head, options.graceSeconds)
      : decide(row, await chain.find(row), chain.head, options.graceSeconds);
    let write: WriteResult = 'none';
    if (decision.write) {
      if (options.dryRun) write = 'dry-run';
      else {
        const at = new Date(session.deps.now()).toISOString();
        const done = await session.aws({ operation: 'UpdateItem', resource: `receipt table ${tableName}` }, () => store.reconcile(row.paymentId, row, decision.write!, at));
        write = done === 'applied' ? 'applied' : 'changed-meanwhile';
      }
    }
    results.push({
      paymentId: row.paymentId,
      network: row.network,
      payer: row.payer,
      payTo: row.payTo,
      asset: row.asset,
      // A metered row settles at the amount the chain shows, not the maximum it was reserved at.
      amount: decision.write?.status === 'settled' && decision.write.amount !== undefined ? decision.write.amount : row.amount,
      nonce: row.nonce,
      route: row.route,
      createdAt: row.createdAt,
      expiresAt: new Date(row.expiresAt * 1000).toISOString(),
      was: { status: row.status, ...(row.errorReason ? { errorReason: row.errorReason } : {}), ...(row.txHash ? { txHash: row.txHash } : {}) },
      outcome: decision.outcome,
      write,
      ...(decision.txHash ? { txHash: decision.txHash } : {}),
      detail: write === 'changed-meanwhile' ? `${decision.detail} (not written: the row changed since it was read; run again)` : decision.detail,
    });
  }
  const channels = await reconcileChannels(session, tableName, chain.endpoint, options, chain.head.timestamp);
  if (options.dryRun) session.progress('Dry run: nothing was changed.');

  const count = (outcome: Outcome) => results.filter((r) => r.outcome === outcome).length;
  return {
    table: tableName,
    region: session.region,
    chain: { rpc: chain.endpoint, chainId: chain.chainId, network, ...(name ? { name } : {}), head: { number: String(chain.head.number), time: headTime } },
    dryRun: Boolean(options.dryRun),
    graceSeconds: options.graceSeconds,
    reservedExpiredBefore: new Date(cutoff * 1000).toISOString(),
    rows: results,
    totals: {
      settled: count('settled'),
      released: count('released'),
      pending: count('pending'),
      canceled: count('canceled'),
      mismatch: count('mismatch'),
      written: results.filter((r) => r.write === 'applied').length,
      changedMeanwhile: results.filter((r) => r.write === 'changed-meanwhile').length,
    },
    ...(channels ? { channels } : {}),
    notes,
  };
}

/**
 * Every `#batch-channel:` row against the contract: `channels(id)` and the pending withdrawal,
 * then `receivers(receiver, token)` once per receiver and token. A claim the chain has and the row
 * does not is mirrored onto the row (what the claims run's mirror does); everything else is reported.
 */
async function reconcileChannels(session: Session, tableName: string, endpoint: string, options: ReconcileOptions, chainTimeSeconds: number): Promise<ReconcileResult['channels']> {
  const store = new DynamoChannelStore(session.deps.clients.dynamo(session.region), tableName);
  const ids = await session.aws({ operation: 'Scan', resource: `receipt table ${tableName}` }, () => store.listChannelIds());
  if (ids.length === 0) return undefined;
  session.progress(`Checking ${ids.length} batch-settlement channel(s) against the contract…`);
  const readChannel = channelChainReader(options.rpcUrl, CHANNEL_READ_TIMEOUT_MS);
  const readReceiver = receiverChainReader(options.rpcUrl, CHANNEL_READ_TIMEOUT_MS);
  const rows: ReconciledChannel[] = [];
  const receivers = new Map<string, { receiver: Hex; token: Hex }>();
  for (const id of ids.sort()) {
    const row = await session.aws({ operation: 'GetItem', resource: `receipt table ${tableName}` }, () => store.get(id));
    if (!row) continue;
    const onChain = await readChannel(id).catch((error: unknown) => {
      throw explainRpcError(error, endpoint, `channels(${id}) of the batch-settlement contract`);
    });
    const decision = decideChannel({ ...row, withdrawDelay: Number(row.config.withdrawDelay) }, onChain, chainTimeSeconds);
    let write: ReconciledChannel['write'] = 'none';
    if (decision.write) {
      if (options.dryRun) write = 'dry-run';
      else {
        await session.aws({ operation: 'UpdateItem', resource: `receipt table ${tableName}` }, () => store.syncChain(id, decision.write!));
        write = 'applied';
      }
    }
    const receiver = row.config.receiver.toLowerCase() as Hex;
    const token = row.config.token.toLowerCase() as Hex;
    receivers.set(`${receiver}:${token}`, { receiver, token });
    rows.push({
      channelId: id,
      payer: row.config.payer,
      receiver,
      token,
      charged: row.charged.toString(),
      signedMax: row.signedMax.toString(),
      recordedClaimed: row.totalClaimed.toString(),
      chain: { balance: onChain.balance.toString(), totalClaimed: onChain.totalClaimed.toString(), withdrawRequestedAt: onChain.withdrawRequestedAt },
      unclaimed: decision.unclaimed.toString(),
      outcome: decision.outcome,
      write,
      findings: decision.findings,
    });
  }
  const receiverTotals: ReconciledReceiver[] = [];
  for (const { receiver, token } of receivers.values()) {
    const state = await readReceiver(receiver, token).catch((error: unknown) => {
      throw explainRpcError(error, endpoint, `receivers(${receiver}, ${token}) of the batch-settlement contract`);
    });
    receiverTotals.push({ receiver, token, totalClaimed: state.totalClaimed.toString(), totalSettled: state.totalSettled.toString(), unsettled: (state.totalClaimed - state.totalSettled).toString() });
  }
  const count = (outcome: ChannelOutcome) => rows.filter((r) => r.outcome === outcome).length;
  return {
    rows,
    receivers: receiverTotals,
    totals: { ok: count('ok'), repaired: count('repaired'), mismatch: count('mismatch'), 'at-risk': count('at-risk'), written: rows.filter((r) => r.write === 'applied').length },
  };
}

function wrongChain(endpoint: string, chainId: number, networks: readonly string[]): CliError {
  return new CliError(
    `the chain RPC ${endpoint} serves chain id ${chainId} (eip155:${chainId}), not ${networks.join(', ')}: nothing was changed`,
    ExitCode.refused,
    'pass --rpc-url of a node of the receipts\' network (or --network <caip2> to reconcile only the rows of the RPC\'s network)',
    { chainId, networks },
  );
}

/**
 * An origin-facing function finishes within its 30 s: a claim, or a reservation, older than this
 * was cut off or its receipt write lost, and whether it settled only the chain can say. (A row
 * still being settled meanwhile is safe too: only a transfer on chain settles it before it expires.)
 */
const ABANDONED_CLAIM_MS = 60_000;

/**
 * Edge receipts `failed` in doubt, `reserved` ones whose authorization expired by `cutoff` (epoch
 * s), and `reserved` ones older than an origin-facing function runs (settlement abandoned, or the
 * receipt write after the release lost).
 */
async function readRowsInDoubt(session: Session, tableName: string, cutoff: number, network: string | undefined): Promise<InDoubtRow[]> {
  const dynamo = session.deps.clients.dynamo(session.region);
  const names: Record<string, string> = {
    '#pk': RECEIPT_PARTITION_KEY, '#engine': 'engine', '#status': 'status', '#errorReason': 'errorReason', '#expiresAt': 'expiresAt', '#settleStartedAt': 'settleStartedAt', '#createdAt': 'createdAt',
  };
  const values: Record<string, AttributeValue> = {
    ':edge': { S: 'edge' satisfies Engine },
    ':failed': { S: 'failed' satisfies ReceiptStatus },
    ':reserved': { S: 'reserved' satisfies ReceiptStatus },
    ':cutoff': { N: String(cutoff) },
    ':abandoned': { S: new Date(session.deps.now() - ABANDONED_CLAIM_MS).toISOString() },
    ':bookkeeping': { S: RESERVED_PAYMENT_ID_PREFIX },
  };
  IN_DOUBT_REASONS.forEach((reason, i) => (values[`:r${i}`] = { S: reason }));
  const reasons = IN_DOUBT_REASONS.map((_, i) => `:r${i}`).join(', ');
  let filter = `#engine = :edge AND NOT begins_with(#pk, :bookkeeping) AND ((#status = :failed AND #errorReason IN (${reasons})) OR (#status = :reserved AND (#expiresAt <= :cutoff OR #settleStartedAt <= :abandoned OR #createdAt <= :abandoned)))`;
  if (network !== undefined) {
    names['#network'] = 'network';
    values[':network'] = { S: network };
    filter += ' AND #network = :network';
  }
  session.progress(`Reading receipts in doubt (scanning table ${tableName}, ${session.region}): failed with ${IN_DOUBT_REASONS.join(' / ')}, or reserved and expired before ${new Date(cutoff * 1000).toISOString()} or older than ${ABANDONED_CLAIM_MS / 1000} s…`);
  const rows: InDoubtRow[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  let pages = 0;
  let read = 0;
  do {
    const page = await session.aws({ operation: 'Scan', resource: `receipt table ${tableName}` }, () =>
      dynamo.send(new ScanCommand({ TableName: tableName, FilterExpression: filter, ExpressionAttributeNames: names, ExpressionAttributeValues: values, ExclusiveStartKey: startKey, ConsistentRead: true })),
    );
    pages++;
    read += page.ScannedCount ?? 0;
    for (const item of page.Items ?? []) rows.push(rowOf(item));
    startKey = page.LastEvaluatedKey;
    if (startKey || pages > 1) session.progress(`  ${pages} page(s), ${read} row(s) read, ${rows.length} in doubt…`);
  } while (startKey);
  session.progress(`${rows.length} row(s) in doubt.`);
  return rows.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.paymentId.localeCompare(b.paymentId));
}

function rowOf(item: Record<string, AttributeValue>): InDoubtRow {
  const text = (name: string) => item[name]?.S ?? '';
  const optional = (name: string) => item[name]?.S || undefined;
  return {
    paymentId: text(RECEIPT_PARTITION_KEY),
    status: text('status') as InDoubtRow['status'],
    network: text('network'),
    payer: text('payer'),
    payTo: text('payTo'),
    amount: text('amount'),
    asset: text('asset'),
    nonce: text('nonce'),
    route: text('route'),
    createdAt: text('createdAt'),
    updatedAt: text('updatedAt'),
    expiresAt: Number(item.expiresAt?.N ?? 0),
    ...(optional('errorReason') ? { errorReason: optional('errorReason') } : {}),
    ...(optional('txHash') ? { txHash: optional('txHash') } : {}),
    ...(text('scheme') === 'upto' ? { scheme: 'upto' as const } : {}),
    ...(optional('maxAmount') ? { maxAmount: optional('maxAmount') } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Text output

const short = (hex: string) => (hex.length > 14 ? `${hex.slice(0, 8)}…${hex.slice(-4)}` : hex);

const ACTION: Record<Outcome, Record<WriteResult, string>> = {
  settled: { applied: 'settled', 'dry-run': 'would settle', none: 'settled', 'changed-meanwhile': 'changed meanwhile' },
  released: { applied: 'released', 'dry-run': 'would release', none: 'released', 'changed-meanwhile': 'changed meanwhile' },
  pending: { applied: '', 'dry-run': '', none: 'left: pending', 'changed-meanwhile': '' },
  canceled: { applied: '', 'dry-run': '', none: 'left: canceled', 'changed-meanwhile': '' },
  mismatch: { applied: '', 'dry-run': '', none: 'left: LOOK AT IT', 'changed-meanwhile': '' },
};

export function formatReconcile(result: ReconcileResult): string {
  const out: string[] = [];
  const c = result.chain;
  out.push(`Reconciling receipt table ${result.table} (${result.region}) with ${c.network}${c.name ? ` (${c.name})` : ''} at block ${c.head.number} (${c.head.time}) via ${c.rpc}`);
  const t = result.totals;
  if (result.rows.length === 0) {
    out.push(`Nothing in doubt: no failed receipt with ${IN_DOUBT_REASONS.join(' / ')}, no reservation expired before ${result.reservedExpiredBefore}.`);
  } else {
    const parts = (['settled', 'released', 'pending', 'canceled', 'mismatch'] as const).filter((o) => t[o] > 0).map((o) => `${t[o]} ${o}`);
    out.push(`${result.rows.length} row(s) in doubt: ${parts.join(', ')}; ${result.dryRun ? 'dry run, nothing written' : `${t.written} written`}${t.changedMeanwhile > 0 ? `, ${t.changedMeanwhile} changed meanwhile (run again)` : ''}`);
    out.push('');
    out.push(
      table(
        ['PAYER', 'NONCE', 'ROUTE', 'AMOUNT', 'WAS', 'NOW', 'TRANSACTION'],
        result.rows.map((r) => [short(r.payer), short(r.nonce), r.route, r.amount, `${r.was.status}${r.was.errorReason ? ` (${r.was.errorReason})` : ''}`, ACTION[r.outcome][r.write], r.txHash ? short(r.txHash) : '']),
        [3],
      ),
    );
    out.push('', ...result.rows.map((r) => `${short(r.payer)} ${short(r.nonce)}: ${r.detail}`));
  }
  if (result.channels) out.push('', ...formatChannels(result.channels, result.dryRun));
  if (result.notes.length > 0) out.push('', ...result.notes.map((n) => `Note: ${n}`));
  return out.join('\n');
}

const CHANNEL_ACTION: Record<ChannelOutcome, string> = { ok: 'ok', repaired: 'repaired', mismatch: 'LOOK AT IT', 'at-risk': 'MONEY AT RISK' };

function formatChannels(channels: NonNullable<ReconcileResult['channels']>, dryRun: boolean): string[] {
  const t = channels.totals;
  const parts = (['ok', 'repaired', 'mismatch', 'at-risk'] as const).filter((o) => t[o] > 0).map((o) => `${t[o]} ${o}`);
  const out = [`${channels.rows.length} batch-settlement channel(s): ${parts.join(', ')}; ${dryRun ? 'dry run, nothing written' : `${t.written} repaired from the chain`}`, ''];
  out.push(
    table(
      ['CHANNEL', 'CHARGED', 'CLAIMED (ROW)', 'CLAIMED (CHAIN)', 'BALANCE', 'UNCLAIMED', 'NOW'],
      channels.rows.map((r) => [short(r.channelId), r.charged, r.recordedClaimed, r.chain.totalClaimed, r.chain.balance, r.unclaimed, r.write === 'dry-run' ? 'would repair' : CHANNEL_ACTION[r.outcome]]),
      [1, 2, 3, 4, 5],
    ),
  );
  const findings = channels.rows.flatMap((r) => r.findings.map((f) => `${short(r.channelId)}: ${f}`));
  if (findings.length > 0) out.push('', ...findings);
  out.push('', ...channels.receivers.map((r) => `receiver ${r.receiver}, token ${short(r.token)}: ${r.totalClaimed} claimed on chain, ${r.totalSettled} settled${r.unsettled !== '0' ? `, ${r.unsettled} awaiting settle` : ''}`));
  return out;
}
