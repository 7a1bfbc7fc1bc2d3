/** The shape of bench/results/latest.json and its markdown rendering. */
import { BATCH_SETTLEMENT, EXACT_PER_REQUEST, FREE_PASS_THROUGH, feesPer1000Usd, paidCount, PASS_HOLDER, transactionsPerPaidRequest, type BaseLikeReport, type BillingLineSide, type BillingRun } from './base-like';
import type { ColdStartResult } from './cold-start';
import { MB_PER_VCPU } from './cpu-quota';
import type { SizingReport } from './edge-sizing';
import type { FarReport, FarRun } from './far-from-home';
import type { SideName } from './harness';
import type { RequestTiming } from './instrument';
import type { PhaseName, PhaseRun, PhaseRuns } from './load-phases';
import { percentile } from './load-worker';
import { PHASES, SECTIONS, SETTINGS, type BenchSettings, type SectionName } from './settings';
import type { SignatureCost } from './signature-cost';
import { costPerMillion, LAMBDA_EDGE_PRICING, medianOf, p99Of, recommendMemory, scaledMedianMs, VIEWER_TRIGGER_MAX_MB } from './sizing-cost';

export interface EdgeAdded {
  readonly requests: number;
  /** Handler time minus the time a facilitator or DynamoDB call was in flight, per paid request. */
  readonly medianMs: number;
  readonly p99Ms: number;
  readonly handlerMedianMs: number;
  readonly facilitatorMedianMs: number;
  readonly settleMedianMs: number;
  readonly storeMedianMs: number;
  readonly chainMedianMs: number;
  readonly multipleOfSignature: number;
}

export interface BenchReport {
  generatedAt: string;
  machine: { cpu: string; cores: number; memoryGiB: number; node: string; platform: string; loadAverage: number[] };
  settings: BenchSettings;
  sections: SectionName[];
  phases?: PhaseRuns;
  coldStart?: Record<'oursBundled' | 'oursUnbundled' | 'peerBundled' | 'peerUnbundled', ColdStartResult>;
  signature?: SignatureCost;
  edgeAdded?: { sequential: EdgeAdded; loaded: EdgeAdded };
  baseLike?: BaseLikeReport;
  far?: FarReport;
  sizing?: SizingReport;
  /** Paid 200s (warm-ups included) against on-chain transfers, per payTo. */
  settlements?: {
    byPayTo: Array<{ side: string; payTo: string; paid: number; onChain: number }>;
    oursReceipts: number;
    /** Our metered (upto) requests: settled receipts, each checked against its one Transfer to payTo on chain. */
    metered?: { paid: number; settledReceipts: number; onChainTransfers: number; /** Settled receipts whose transaction is not one Transfer of their amount from their payer to payTo. */ unmatchedReceipts?: number; actualAtomic: string; maximumAtomic: string; fillRatio: number };
    /** Batch-settlement per side: what the claims runs' settles moved to payTo against what was served (ours: and the receipts). */
    batch?: Array<{ side: string; paid: number; servedAtomic: string; settledAtomic: string; receipts?: number; receiptsAtomic?: string }>;
  };
  wallSeconds: number;
}

export function edgeAdded(records: RequestTiming[], signatureMedianMs: number): EdgeAdded {
  const sorted = (values: number[]) => [...values].sort((a, b) => a - b);
  const added = sorted(records.map((r) => r.handlerMs - r.waitingMs));
  const median = (values: number[]) => percentile(sorted(values), 50);
  return {
    requests: records.length,
    medianMs: percentile(added, 50),
    p99Ms: percentile(added, 99),
    handlerMedianMs: median(records.map((r) => r.handlerMs)),
    facilitatorMedianMs: median(records.map((r) => r.facilitatorMs)),
    settleMedianMs: median(records.map((r) => r.settleMs)),
    storeMedianMs: median(records.map((r) => r.storeMs)),
    chainMedianMs: median(records.map((r) => r.chainMs)),
    multipleOfSignature: percentile(added, 50) / signatureMedianMs,
  };
}

const ms = (v: number) => (!Number.isFinite(v) ? 'n/a' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
const ratio = (ours: number, theirs: number) => (theirs > 0 && Number.isFinite(ours / theirs) ? `${(ours / theirs).toFixed(2)}×` : 'n/a');
const usd = (v: number) => `$${v < 0.1 ? v.toFixed(4) : v.toFixed(2)}`;
/** A price as published: `$0.60`, `$0.00005001`. */
const price = (v: number) => `$${v >= 0.01 ? v.toFixed(2) : String(v)}`;

/** Median and range over repetitions, e.g. `43 (40–47)`. */
function spread(values: number[], format: (v: number) => string): { median: number; text: string } {
  const sorted = [...values].sort((a, b) => a - b);
  const median = percentile(sorted, 50);
  const [lo, hi] = [sorted[0], sorted[sorted.length - 1]];
  return { median, text: `${format(median)} (${format(lo)}–${format(hi)})` };
}

export function renderMarkdown(r: BenchReport): string {
  const parts = [
    `# cdk-x402 benchmark: our edge vs the official @x402/express middleware

Generated ${r.generatedAt} by \`npm run bench\`${r.sections.length < SECTIONS.length ? ` --only=${r.sections.join(',')}` : ''}${r.settings.phases.length < PHASES.length ? ` --phases=${r.settings.phases.join(',')}` : ''}${r.settings.repetitions !== SETTINGS.repetitions ? ` --repetitions=${r.settings.repetitions}` : ''} in ${r.wallSeconds.toFixed(0)} s.
Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}, ${r.machine.platform}; load average at the end ${r.machine.loadAverage.join(' / ')} (1 / 5 / 15 min: anything above about 1 means other work shared the cores).`,
  ];
  if (r.phases && r.signature && r.edgeAdded) parts.push(renderSideBySide(r, r.phases, r.coldStart, r.signature, r.edgeAdded));
  else if (r.coldStart) parts.push(renderColdStart(r.coldStart));
  if (r.baseLike) parts.push(renderBaseLike(r.baseLike));
  if (r.far) parts.push(renderFar(r.far));
  if (r.sizing) parts.push(renderSizing(r.sizing, r));
  // A run without paid requests (e.g. --only=cold) has nothing to reconcile.
  if (r.settlements && r.settlements.byPayTo.length > 0) {
    parts.push(`## Settlements

Every paid 200 of the run (warm-ups and every section included) against the transfers on chain:
${r.settlements.byPayTo.map((s) => `${s.side} ${s.paid} paid, ${s.onChain} on chain`).join('; ')}; our settled receipts: ${r.settlements.oursReceipts}.${meteredSettlements(r.settlements.metered)}${batchSettlements(r.settlements.batch)}`);
  }
  parts.push(METHOD(r));
  return parts.join('\n\n') + '\n';
}

function batchSettlements(batch: NonNullable<BenchReport['settlements']>['batch']): string {
  if (!batch?.length) return '';
  return ` Batch settlement, after each run's claims run: ${batch.map((b) => `${b.side} ${b.paid} paid for ${b.servedAtomic} atomic units, ${b.settledAtomic} settled to payTo${b.receipts !== undefined ? ` (${b.receipts} receipts of ${b.receiptsAtomic})` : ''}`).join('; ')}.`;
}

function meteredSettlements(m: NonNullable<BenchReport['settlements']>['metered']): string {
  if (!m) return '';
  return ` Metered (upto): ${m.paid} paid, ${m.settledReceipts} settled receipts, ${m.onChainTransfers} Permit2 transfers on chain of their actual amount; ` +
    `${m.actualAtomic} settled of ${m.maximumAtomic} signed as maxima (fill ratio ${m.fillRatio.toFixed(2)}).`;
}

interface ColdStartLine {
  readonly label: string;
  readonly ours: number;
  readonly peer: number;
  readonly format: (v: number) => string;
}

function coldStartLines(c: NonNullable<BenchReport['coldStart']>): ColdStartLine[] {
  const kb = (v: number) => `${(v / 1024).toFixed(1)} KB`;
  return [
    { label: 'handler bundle, zipped (same esbuild settings)', ours: c.oursBundled.zippedBytes, peer: c.peerBundled.zippedBytes, format: kb },
    { label: 'cold-start module init, bundled: ms (median)', ours: c.oursBundled.initMs.median, peer: c.peerBundled.initMs.median, format: ms },
    {
      label: 'cold start of a paid request, bundled: init + the AWS SDK its first paid request loads: ms (median)',
      ours: c.oursBundled.initMs.median + (c.oursBundled.initMs.deferredMedian ?? 0),
      peer: c.peerBundled.initMs.median,
      format: ms,
    },
    { label: 'cold-start module init, from node_modules: ms (median)', ours: c.oursUnbundled.initMs.median, peer: c.peerUnbundled.initMs.median, format: ms },
  ];
}

/** The cold-start lines alone, when the load phases did not run (\`--only=cold\`). */
function renderColdStart(c: NonNullable<BenchReport['coldStart']>): string {
  const range = (r: ColdStartResult) => `${ms(r.initMs.min)}–${ms(r.initMs.max)}`;
  return `## Bundles and cold start

| line | ours: viewer-request | @x402/express | ratio ours/theirs |
|---|---|---|---|
${coldStartLines(c).map((l) => `| ${l.label} | ${l.format(l.ours)} | ${l.format(l.peer)} | ${ratio(l.ours, l.peer)} |`).join('\n')}

Ranges of init (ms), bundled: ours ${range(c.oursBundled)}, peer ${range(c.peerBundled)}; from node_modules: ours ${range(c.oursUnbundled)}, peer ${range(c.peerUnbundled)}.
For size and init time a ratio below 1 favours ours.`;
}

function renderSideBySide(r: BenchReport, phases: PhaseRuns, c: BenchReport['coldStart'], s: SignatureCost, edge: NonNullable<BenchReport['edgeAdded']>): string {
  const rows: string[] = [];
  const titles: Record<PhaseName, string> = {
    free: 'free pass-through',
    challenge: '402 challenge',
    badPayment: 'bad payment rejected (bad signature)',
    paid: `valid paid request, end to end (c=${r.settings.connections})`,
    paidSequential: 'valid paid request, end to end (c=1)',
  };
  const measures: Array<[string, (l: PhaseRun) => number, (v: number) => string]> = [
    ['req/s', (l) => l.rps, (v) => v.toFixed(0)],
    ['p50 ms', (l) => l.p50, ms],
    ['p99 ms', (l) => l.p99, ms],
    ['CPU ms per response, all serving processes', (l) => cpuTotal(l), ms],
  ];
  // Facilitator calls per response show what each side asks the facilitator for (e.g. a refused
  // signature that could be a smart wallet's goes to /verify on both sides).
  const callsPerResponse = (l: PhaseRun) => (l.facilitatorCalls.verify + l.facilitatorCalls.settle) / Math.max(1, l.requests);
  // `--phases` may have run only some of them.
  for (const phase of (Object.keys(titles) as PhaseName[]).filter((p) => Object.keys(phases[p]).length > 0)) {
    const withCalls: Array<[string, (l: PhaseRun) => number, (v: number) => string]> =
      phase === 'free' || phase === 'challenge' ? measures : [...measures, ['facilitator calls per response (/verify + /settle)', callsPerResponse, (v) => v.toFixed(2)]];
    // A paid phase has our after-release side too, as rows of its own against the same peers.
    const ourSides: Array<[SideName, string]> = [['ours', titles[phase]], ['oursAfterRelease', `${titles[phase]}, ours with x402:settledReceipt=after-release`]];
    for (const [ourSide, title] of ourSides.filter(([side]) => (phases[phase][side] ?? []).length > 0)) {
      for (const [label, pick, format] of withCalls) {
        const cells = ([ourSide, 'peerOrigin', 'peerMemory'] as SideName[]).map((side) => spread((phases[phase][side] ?? []).map(pick), format));
        rows.push(`| ${title}: ${label} | ${cells[0].text} | ${cells[1].text} | ${ratio(cells[0].median, cells[1].median)} | ${cells[2].text} | ${ratio(cells[0].median, cells[2].median)} |`);
      }
    }
  }
  // The peer's bundle does not depend on where its content comes from: the same in both columns.
  for (const l of c ? coldStartLines(c) : []) {
    rows.push(`| ${l.label} | ${l.format(l.ours)} | ${l.format(l.peer)} | ${ratio(l.ours, l.peer)} | ${l.format(l.peer)} | ${ratio(l.ours, l.peer)} |`);
  }
  const reps = r.settings.repetitions;
  const cpuSplit = (Object.keys(titles) as PhaseName[])
    .filter((p) => (p === 'paid' || p === 'paidSequential') && Object.keys(phases[p]).length > 0)
    .map((p) => `- ${titles[p]}: ${(['ours', 'oursAfterRelease', 'peerOrigin'] as SideName[]).filter((side) => (phases[p][side] ?? []).length > 0).map((side) => `${SIDE_LABELS[side]} ${cpuByProcess(phases[p][side] ?? [])}`).join('; ')}`);
  return `## Side by side

Each load line: the median of ${reps} runs per side (the sides interleaved, in alternating order), with the lowest and highest in
brackets; the ratio is of the medians. Throughput is responses ÷ the time from the first request sent
to the last response received. Every run's raw figures (requests, that window, autocannon's own
duration, percentiles, statuses) are in \`latest.json\` under \`phases\`.

| line | ours: local edge (CloudFront emulation + our λ@Edge handlers + origin hop) | @x402/express + origin hop | ratio ours/theirs | @x402/express, content in-process | ratio ours/theirs |
|---|---|---|---|---|---|
${rows.join('\n')}

For req/s a ratio above 1 favours ours; for latency, size, init time and CPU a ratio below 1 does.

**Where each side runs.** The chain and the facilitator run in a process of their own, dynalite in
another; the servers under test (the local edge with our handlers, each Express app) share the bench
process with the origin. Every remote service is equally remote for both sides, and each side's
own CPU is in the bench process. The CPU line is the user + system time of those three processes
during a run, per response (the load generator's excluded): unlike latency and throughput it holds
when other work shares the cores. By process, per paid response (medians of the runs):
${cpuSplit.join('\n')}

**Floor of a local check.** One EIP-712 TransferWithAuthorization signature verification with viem
(\`verifyTypedData\`, ${s.runs} runs after ${s.warmup} warm-up): median **${ms(s.medianMs)} ms**, p99 ${ms(s.p99Ms)} ms.

**Edge-added time of a paid request** (time inside our viewer-request + origin-response handlers
minus the time during which a facilitator, DynamoDB or chain RPC call was in flight (their union: verify and
the reservation overlap); it includes our own local signature check, decoding, receipts and headers),
over the ${reps} runs of each paid phase:
- sequential (c=1, ${edge.sequential.requests} requests): median **${ms(edge.sequential.medianMs)} ms = ${edge.sequential.multipleOfSignature.toFixed(2)}× one signature verification**, p99 ${ms(edge.sequential.p99Ms)} ms
  (handlers ${ms(edge.sequential.handlerMedianMs)} ms, of which facilitator ${ms(edge.sequential.facilitatorMedianMs)} ms (settle ${ms(edge.sequential.settleMedianMs)} ms), DynamoDB ${ms(edge.sequential.storeMedianMs)} ms and chain RPC ${ms(edge.sequential.chainMedianMs)} ms, medians);
- under load (c=${r.settings.connections}, ${edge.loaded.requests} requests): median ${ms(edge.loaded.medianMs)} ms = ${edge.loaded.multipleOfSignature.toFixed(2)}×, p99 ${ms(edge.loaded.p99Ms)} ms
  (includes event-loop queueing behind other requests in the same process).

**What the paid path keeps, and what it costs.** Two DynamoDB calls the peer does not make: the
reservation (a conditional PutItem, so that a nonce is admitted once, before the origin is asked; it
runs alongside the local check's \`eth_call\`) and the receipt write (an UpdateItem with the
settlement's transaction, after settle and before the content is released: one round trip after
settle that nothing may overlap, unless x402:settledReceipt=after-release: then its request is sent
before the release and its answer awaited by the function's next invocation, so the paid path
waits for one DynamoDB round trip, the reservation's, as in the rows "ours with
x402:settledReceipt=after-release"). Together ${ms(edge.sequential.storeMedianMs)} ms of a sequential request here (median),
and in CPU the AWS SDK client's work in the bench process plus dynalite's in its own (the split
above). The peer spends its extra instead at the facilitator: /verify, then /settle verifies again.
At c=${r.settings.connections} each side is bound by its busiest process when the cores are free, and by its total
CPU when other work shares them.`;
}

const SIDE_LABELS: Record<SideName, string> = { ours: 'ours', oursAfterRelease: 'ours with after-release', peerOrigin: '@x402/express + origin hop', peerMemory: '@x402/express, content in-process' };

/** A run's CPU time per response over every serving process. */
function cpuTotal(run: PhaseRun): number {
  return Object.values(run.cpuMsPerResponse).reduce((a, b) => a + b, 0);
}

/** Each process's median CPU ms per response over `runs`, e.g. "bench 9.1 + dynalite 4.2 + chain + facilitator 12.0 ms". */
function cpuByProcess(runs: readonly PhaseRun[]): string {
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.cpuMsPerResponse)))];
  return names.map((name) => `${name} ${ms(percentile(runs.map((r) => r.cpuMsPerResponse[name] ?? 0).sort((a, b) => a - b), 50))}`).join(' + ') + ' ms';
}

function renderBaseLike(b: BaseLikeReport): string {
  const rows: string[] = [];
  for (const line of b.lines) {
    for (const [side, s] of Object.entries(line.sides)) {
      if (!s) continue;
      const tx = transactionsPerPaidRequest(s);
      const fees = feesPer1000Usd(tx.facilitator, b.pricing);
      const revenue = 1000 * (line.revenuePerRequestUsd ?? b.priceUsd);
      rows.push(
        `| ${line.model} | ${side === 'ours' ? 'ours' : '@x402/express + origin hop'} | ${ms(s.sequential.load.p50)} / ${ms(s.sequential.load.p99)} | ${ms(s.loaded.load.p50)} / ${ms(s.loaded.load.p99)} | ${s.loaded.load.rps.toFixed(1)} | ${perThousand(tx.facilitator)} (${perThousand(tx.all)}) | ${usd(fees)} (${((100 * fees) / revenue).toFixed(0)}% of ${usd(revenue)}) |`,
      );
    }
  }
  const first = b.lines[0]?.sides;
  const settle = first?.ours?.settleMedianMs;
  const lineOf = (model: string) => b.lines.find((l) => l.model === model)?.sides.ours;
  const [exact, pass, free] = [lineOf(EXACT_PER_REQUEST.name), lineOf(PASS_HOLDER.name), lineOf(FREE_PASS_THROUGH.name)];
  const batch = b.lines.find((l) => l.model === BATCH_SETTLEMENT.name);
  const batchNote = batch
    ? `\n\n**Batch settlement.** ${BATCH_SETTLEMENT.description[0]!.toUpperCase()}${BATCH_SETTLEMENT.description.slice(1)}. The line's transactions are per channel and per claims run, not per request, so per 1,000 requests they ` +
      `depend on how many requests a channel serves before its claim: ${Object.entries(batch.sides).map(([side, s]) => `${side === 'ours' ? 'ours' : '@x402/express'} ${batchRuns(s!)}`).join('; ')}. ` +
      'A deployed claims run claims every due channel in batches of 100 and settles once: the more requests between runs, the fewer transactions per request.'
    : '';
  const passes =
    exact && pass && free
      ? `\n\n**A pass holder's request** (${paidCount(pass.sequential)} at c=1, same run): p50 ${ms(pass.sequential.load.p50)} ms against ${ms(free.sequential.load.p50)} ms for the ` +
        `free pass-through, **${ms(pass.sequential.load.p50 - free.sequential.load.p50)} ms added** (${(pass.sequential.load.p50 / free.sequential.load.p50).toFixed(2)}×), and ` +
        `**${(exact.sequential.load.p50 / pass.sequential.load.p50).toFixed(0)}× faster** than exact per request (${ms(exact.sequential.load.p50)} ms). Per 1,000 reads: 1,000 on-chain ` +
        `transactions and ${usd(feesPer1000Usd(1, b.pricing))} of CDP fees with exact per request; with passes, one transaction and ${usd(b.pricing.usdPerTransaction)} per pass bought ` +
        `(its purchase is an exact payment, made before the measured runs).`
      : '';
  const requests = first?.ours ? `${paidCount(first.ours.sequential)} requests at c=1 and ${paidCount(first.ours.loaded)} at c=10` : '';
  const ownCounts = b.lines
    .filter((l) => l.sides.ours && paidCount(l.sides.ours.sequential) !== paidCount(first!.ours!.sequential))
    .map((l) => `${l.model.split(' (')[0]} ${paidCount(l.sides.ours!.sequential)} and ${paidCount(l.sides.ours!.loaded)}`);
  return `## Base-like chain: a block every ${(b.blockTimeMs / 1000).toFixed(1)} s

The local chain mines a block every ${b.blockTimeMs} ms (\`--block-time-ms\` changes it), as Base does, so
a settlement waits in the mempool for the next block; everything else is as above. Per side and billing
model: ${requests} (after one warm-up request${ownCounts.length ? `; lines that never wait for a block per request send more, after a warm-up of their own: ${ownCounts.join('; ')}` : ''}), the facilitator's transactions counted from its
account nonce and all transactions from the blocks mined meanwhile.

| billing model | side | c=1: p50 / p99 ms | c=10: p50 / p99 ms | c=10: req/s | on-chain transactions per 1,000 paid requests: facilitator's (all) | CDP facilitator fees per 1,000 paid requests (share of the revenue at the route's price) |
|---|---|---|---|---|---|---|
${rows.join('\n')}

${settle !== undefined ? `Our median wait inside the facilitator's settle: ${ms(settle)} ms. ` : ''}Requests sent back to back at c=1 each wait
about a whole block: the next request's settlement is sent just after the previous block was mined.
Fees at CDP's published price (${b.pricing.source}): the first ${b.pricing.freeTransactionsPerMonth.toLocaleString('en-US')} on-chain facilitator
transactions a month are free, then $${b.pricing.usdPerTransaction} per on-chain transaction whatever the amount; the
column counts fees beyond the free tier. Billing models that settle less often (passes, \`upto\`,
batch settlement) add their lines to this table (\`BILLING_MODELS\` in bench/base-like.ts).${batchNote}${passes}`;
}

/** Transactions per 1,000 paid requests, from a per-request rate. */
const perThousand = (perRequest: number) => {
  const v = 1000 * perRequest;
  return v >= 100 || v === 0 ? v.toFixed(0) : v.toFixed(1);
};

/** A batch-settlement side's runs: what one claims run after each cost in transactions. */
function batchRuns(s: BillingLineSide): string {
  const run = (label: string, r: BillingRun) => {
    const claims = r.settlement?.claimTransactions ?? 0;
    const settles = r.settlement?.settleTransaction ? 1 : 0;
    const deposits = r.chain.facilitatorTransactions - claims - settles;
    const deposited = r.depositLatencyMs ?? [];
    // More than 1% of the requests carry a deposit: the p99 is a deposit's wait for its block.
    const inP99 = deposited.length * 100 > paidCount(r) ? ', so the p99 is theirs' : '';
    const waits = deposited.length ? `, its ${deposited.length} deposit request${deposited.length === 1 ? '' : 's'} ${ms(percentile([...deposited].sort((x, y) => x - y), 50))} ms at the median (${deposited.length === 1 ? 'it waits' : 'each waits'} for its block${inP99})` : '';
    return `${label} ${paidCount(r)} requests, ${r.chain.facilitatorTransactions} transactions (${deposits} deposit${deposits === 1 ? '' : 's'}, ${claims} claim, ${settles} settle) = ${perThousand(r.chain.facilitatorTransactions / Math.max(1, paidCount(r)))} per 1,000${waits}`;
  };
  return `${run('c=1:', s.sequential)}; ${run('c=10:', s.loaded)}`;
}

function renderFar(f: FarReport): string {
  const trips = (run: FarRun, pick: (t: FarRun['warmTrips'][number]) => number) => {
    const values = run.warmTrips.map(pick).sort((a, b) => a - b);
    const [lo, mid, hi] = [values[0], percentile(values, 50), values[values.length - 1]];
    return lo === hi ? `${mid}` : `${mid} (${lo}–${hi})`;
  };
  const rows = f.runs.map((run) => {
    const cold = run.coldTrips.map((t) => t.serialRoundTrips);
    return `| ${run.roundTripMs} ms | ${run.side === 'peer' ? '@x402/express + origin hop' : run.side} | ${ms(run.warm.p50)} / ${ms(run.warm.p99)} | **${trips(run, (t) => t.serialRoundTrips)}** | ${trips(run, (t) => t.exchanges.dynamodb)} + ${trips(run, (t) => t.exchanges.facilitator)} + ${trips(run, (t) => t.exchanges.rpc)} | ${ms(medianOf(run.coldLatencyMs))} | ${medianOf(cold)} (${medianOf(run.coldTrips.map((t) => t.newConnections))} new connections) |`;
  });
  const ours = f.runs.filter((r) => r.side === 'ours' && r.roundTripMs > 0);
  const serial = ours.length > 0 ? medianOf(ours.flatMap((r) => r.warmTrips.map((t) => t.serialRoundTrips))) : NaN;
  // The most frequent path of each side at the longest round trip, as the proxies saw it.
  const longest = Math.max(...f.runs.map((r) => r.roundTripMs));
  const paths = (['ours', 'ours, receipt after release', 'peer'] as const).map((side) => {
    const run = f.runs.find((r) => r.side === side && r.roundTripMs === longest);
    const counts = new Map<string, number>();
    for (const t of run?.warmTrips ?? []) counts.set(t.path, (counts.get(t.path) ?? 0) + 1);
    const [path = 'n/a'] = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([p]) => p);
    return `- ${side === 'peer' ? '@x402/express' : side}: ${path}`;
  });
  return `## Far from home: round trips to DynamoDB, the facilitator and the chain RPC

Lambda@Edge runs at the regional edge cache nearest the viewer; the receipt table, the facilitator
and (taken as the worst case) the chain's RPC endpoint stay in one region. Loopback TCP proxies (local/delay-proxy.ts) hold every byte for half the round-trip
time each way, and a new connection for ${f.handshakeRoundTrips} round trips more (TCP, then TLS 1.3) before its first byte:
80 ms is about Europe to us-east-1, 200 ms Asia to us-east-1. The peer gets the same delay to its
facilitator (it has no table). Paid requests one at a time; every exchange the proxies log inside a
request's span in the server (ours: from our viewer-request's start to our origin-response's end)
counts for it. "Serial" is the heaviest chain of exchanges no two of which overlap in time (calls in
flight together count once; a new connection weighs its handshake too).

| round trip | side | p50 / p99 ms (connections kept) | serial round trips per request (range) | exchanges per request: DynamoDB + facilitator + chain RPC | p50 ms on new connections | serial round trips on new connections |
|---|---|---|---|---|---|---|
${rows.join('\n')}

${Number.isFinite(serial) ? `Our paid path waits for **${serial} round trips one after another** with connections kept alive; each
adds a full round trip to the payer's latency (the rows above: latency grows by about that many round trips).` : ''}
The paid path as the proxies saw it (${longest} ms, connections kept; ∥ = in flight together, → = one after the other):
${paths.join('\n')}

**What a multi-region (global) table could and could not change.** A DynamoDB global table replica in the
edge's region would make the receipt writes local (a few ms instead of a round trip to us-east-1).
But with the default multi-Region eventual consistency, a conditional write is checked against the
local replica only and replication takes up to about a second, last writer wins: the same payment
presented at two edges in two regions at once could be reserved in both. The chain still lets the
authorization settle once (the second settle fails with the nonce already used, and our
origin-response then withholds the content: fail closed), but the table's single-use guarantee and
the redelivery count become per-region. Multi-Region Strong Consistency makes conditional writes
consistent across regions, but only within one region set of three replicas (e.g. all in the US),
and it makes each write wait for another region: it cannot make an Asian edge's write local.
Neither helps the facilitator's round trip (settle), which stays with wherever the facilitator
runs. What the paid path cannot lose: the reservation (a nonce admitted once before the origin is
asked), the settle (after the origin answered, for a GET) and the receipt (before the content is
released): 3, each one round trip; the verification rides along with the reservation. With
x402:settledReceipt=after-release the receipt's write is only sent before the release (its answer
comes after the response, outside the request's span): 2; the reservation, written before the
settle, is the durable record meanwhile, and \`cdk-x402 reconcile\` closes it from the chain if the write is lost.
As deployed, our viewer-request and origin-facing handlers run as functions of their own here, each
with its own DynamoDB client and kept connections (so a cold request opens one connection per function).`;
}

function renderSizing(z: SizingReport, r: BenchReport): string {
  const walls = (t: Array<{ wallMs: number }>) => t.map((x) => x.wallMs);
  const cpus = (t: Array<{ cpuMs: number }>) => t.map((x) => x.cpuMs);
  const full = z.runs.find((run) => run.memoryMb === MB_PER_VCPU);
  const localSettle = r.edgeAdded?.sequential.settleMedianMs;
  const baseSettle = r.baseLike?.lines[0]?.sides.ours?.settleMedianMs;
  // What settling on Base adds to the origin-response's loopback duration (the loopback settle itself, when measured, is already in it).
  const settleExtra = baseSettle !== undefined ? Math.max(0, baseSettle - (localSettle ?? 0)) : undefined;
  const latencyRows = z.runs.map((run) => {
    const cell = (calls: Array<{ wallMs: number; cpuMs: number }>) => `${ms(medianOf(walls(calls)))} / ${ms(p99Of(walls(calls)))} (${ms(medianOf(cpus(calls)))})`;
    const estimate = full && run !== full ? ms(scaledMedianMs(full.calls.viewerRequestPaid, run.memoryMb, MB_PER_VCPU)) : '–';
    const init = (entry: 'viewerRequest' | 'originResponse') => ms(run.init[entry]?.wallMs ?? NaN);
    return `| ${run.memoryMb} MB (${(100 * run.cpuShare).toFixed(1)}% of a CPU${run.enforced ? '' : ', not enforced'}) | ${cell(run.calls.viewerRequestPaid)} | ${estimate} | ${cell(run.calls.viewerRequestRefused)} | ${cell(run.calls.originResponsePaid)} | ${init('viewerRequest')} / ${init('originResponse')} | ${run.peakRssMb.viewerRequest.toFixed(0)} / ${run.peakRssMb.originResponse.toFixed(0)} |`;
  });
  const costRows = z.runs.map((run) => {
    const cost = (calls: Array<{ wallMs: number }>, extra = 0) => usd(costPerMillion(walls(calls), run.memoryMb, extra));
    const viewer = (calls: Array<{ wallMs: number }>) => (run.memoryMb > VIEWER_TRIGGER_MAX_MB ? `(${cost(calls)})` : cost(calls));
    return `| ${run.memoryMb} MB | ${viewer(run.calls.viewerRequestPaid)} | ${viewer(run.calls.viewerRequestRefused)} | ${cost(run.calls.originResponsePaid)} | ${settleExtra !== undefined ? cost(run.calls.originResponsePaid, settleExtra) : 'n/a'} |`;
  });
  // Origin-response: the smallest size that adds at most 5% of what a payer waits on Base anyway.
  const basePaidP50 = r.baseLike?.lines[0]?.sides.ours?.sequential.load.p50;
  const budgetMs = basePaidP50 !== undefined ? 0.05 * basePaidP50 : 10;
  const originMedians = z.runs.map((run) => ({ memoryMb: run.memoryMb, medianMs: medianOf(walls(run.calls.originResponsePaid)) }));
  const originPick = recommendMemory(originMedians, budgetMs);
  const at = (mb: number) => z.runs.find((run) => run.memoryMb === mb);
  const viewer128 = at(VIEWER_TRIGGER_MAX_MB);
  const originAt = (mb: number) => at(mb) && ms(medianOf(walls(at(mb)!.calls.originResponsePaid)));
  const originCost = (mb: number) => at(mb) && usd(costPerMillion(walls(at(mb)!.calls.originResponsePaid), mb, settleExtra ?? 0));
  return `## Edge CPU sizing: Lambda's CPU share per memory size

The deployed viewer-request and origin-response bundles run, each in a process of its own, held to
Lambda's CPU share for each memory size (1,769 MB = one vCPU, so 128 MB ≈ 7.2% of a CPU) by a CPU
quota (${z.cgroup}; ${z.runs[0]?.quota ?? ''} at 128 MB: a 20 ms period, as measured on Lambda),
while the local edge sends them paid requests (${r.settings.sizing.paidRequests} per size after 3 warm-ups)
and refused ones (${r.settings.sizing.refusedRequests}, bad signature) one at a time. DynamoDB and the facilitator run
outside the quota, as remote services do. Wall time per invocation is what Lambda@Edge bills; CPU is
the process's CPU time for it. Each function has a process (and a quota) of its own, as each has
its own execution environment on Lambda. Cold init = loading the function's bundle in its fresh
process under the quota (the AWS SDK from node_modules, as the Lambda runtime provides it;
viewer-request's libsecp256k1 WASM included, instantiated synchronously while it loads); Lambda
may give the init phase more CPU than this (not documented), so read it as the worst case.

| memory (CPU share) | viewer-request, paid: p50 / p99 ms (CPU ms) | its p50 estimated from the 1 vCPU run's CPU time × 1,769 / MB | viewer-request, refused: p50 / p99 ms (CPU ms) | origin-response, paid: p50 / p99 ms (CPU ms) | cold init ms: viewer-request / origin-response | peak RSS MB: viewer-request / origin-response |
|---|---|---|---|---|---|---|
${latencyRows.join('\n')}

Cost per million invocations at the Lambda@Edge list price (${LAMBDA_EDGE_PRICING.source}: ${price(LAMBDA_EDGE_PRICING.usdPerMillionRequests)} per million
requests + ${price(LAMBDA_EDGE_PRICING.usdPerGbSecond)} per GB-second, billed per ${LAMBDA_EDGE_PRICING.billedIncrementMs} ms of wall time), from the mean billed duration above.
Viewer triggers cannot have more than ${VIEWER_TRIGGER_MAX_MB} MB: their costs in brackets only show what the same work would cost there.

| memory | viewer-request, paid | viewer-request, refused | origin-response, paid (loopback settle) | origin-response, paid, with Base's settle wait${settleExtra !== undefined ? ` (+${ms(settleExtra)} ms, Base-like section)` : ''} |
|---|---|---|---|---|
${costRows.join('\n')}

**Recommendation.** viewer-request: **${VIEWER_TRIGGER_MAX_MB} MB**, the only size CloudFront allows for viewer triggers
(their maximum${viewer128 ? `; at it a paid request's pre-check, reservation and verify take ${ms(medianOf(walls(viewer128.calls.viewerRequestPaid)))} ms at the median and a refused one ${ms(medianOf(walls(viewer128.calls.viewerRequestRefused)))} ms` : ''}):
its CPU work is the thing to make cheaper, not its memory. origin-response: **${originPick} MB**, the smallest size
whose median adds at most ${ms(budgetMs)} ms (${basePaidP50 !== undefined ? `5% of our paid p50 at c=1 on the Base-like chain, ${ms(basePaidP50)} ms` : 'no Base-like run: a fixed 10 ms'}) to the fastest size's:
its median is ${originAt(originPick)} ms there (${originAt(256) ?? 'n/a'} ms at 256 MB), and with Base's settle wait its duration is
mostly waiting, billed per GB: ${originCost(originPick)} per million at ${originPick} MB against ${originCost(256) ?? 'n/a'} at 256 MB.${memoryNote(at(originPick))}`;
}

/** Whether the picked size holds what the process used. */
function memoryNote(run: SizingReport['runs'][number] | undefined): string {
  if (!run) return '';
  const rss = run.peakRssMb.originResponse;
  return ` Its process peaked at ${rss.toFixed(0)} MB resident there, ${rss <= run.memoryMb ? 'within' : '**more than**'} the ${run.memoryMb} MB.`;
}

const METHOD = (r: BenchReport) => `## Method
- **Same everything but the middleware.** The local chain (Hardhat, chain id 84532, USDC at Base
  Sepolia's address) and the official x402 facilitator (@x402/core + @x402/evm, HTTP on 127.0.0.1)
  run in a process of their own, and dynalite (our receipt table) in another: a facilitator, a chain
  RPC endpoint and DynamoDB are remote services for Lambda@Edge and for an Express server alike. The
  bench process hosts the sample origin and the servers under test. Both sides price
  \`/articles/*\` at the same amount of the same asset with the same \`maxTimeoutSeconds\` (the run
  checks that their 402 terms are identical except \`payTo\`) and call the same facilitator.
  Payments are made by the same official client (\`x402Client\` + \`ExactEvmScheme\`), pre-signed
  from ${r.settings.payerWallets} funded wallets right before each paid run, one fresh authorization per request.
- **Same load generator, one thing at a time.** autocannon (programmatic API) runs in a separate
  process; phases run sequentially; within a phase every side is warmed up (${r.settings.warmupSeconds} s, or
  ${r.settings.paidWarmup} paid requests), then the sides take turns, ${r.settings.repetitions} runs each, in alternating order (A B C, then C B A: this machine's speed drifts within a minute). Free and 402 runs last
  ${r.settings.phaseSeconds} s at ${r.settings.connections} connections; bad-payment runs send ${r.settings.badPaymentRequests} requests at ${r.settings.connections} connections, paid runs
  ${r.settings.paidRequests} at ${r.settings.connections} connections and ${r.settings.paidSequentialRequests} at 1. autocannon sends each paid request with the next pre-signed header
  (\`setupRequest\`), so no header is reused. Latencies are per response in floating-point ms.
  **Throughput** is responses ÷ the time from the first request sent to the last response received:
  autocannon only notices that a fixed-count run is done on its 1 s tick, so its own duration
  (\`wallSeconds\` in the JSON) is a whole number of seconds plus a few ms and is not used.
  The run fails unless every response had the expected status (200 / 402 / 402 / 200) and every
  paid 200 is exactly one on-chain transfer and (ours) one settled receipt.
- **What differs, honestly.** Our edge is measured through the local CloudFront emulation (WAF
  rules, event JSON round trips, response validation) and always makes an HTTP hop to the origin
  (on kept-alive connections, as CloudFront keeps them); the express middleware serves from the process it
  protects. The "origin hop" column puts @x402/express in front of the same origin with the same
  kind of hop (a proxy handler, connections kept alive); the "in-process" column serves the same bytes from
  memory, the middleware's usual deployment. On real CloudFront the viewer-request runs in Lambda@Edge
  at the POP, so absolute numbers here are loopback numbers: compare ratios, not milliseconds.
  Our paid path also makes DynamoDB calls (reserve, then record the settlement) that the peer, which keeps no receipts and has no
  replay lock of its own, does not make. Ours runs with \`x402:verifier=rpc\` on the local chain's
  RPC: an EOA payment whose signature the edge recovered is verified by one simulated
  \`transferWithAuthorization\` (\`eth_call\`) beside the reservation, so the facilitator is called
  once per payment (the settle); the peer calls /verify and /settle.
- **Noise.** Two cores run the load generator, the servers, dynalite and the chain; when other work
  shares the machine (see the load average above), every figure is slower and noisier, which the
  ranges show. Compare ratios taken in the same run.
- **Bad payments.** A real payment whose nonce was changed after signing. Ours rejects it with a
  local EIP-712 check before any network call; @x402/express asks the facilitator's /verify.
- **Bundles and cold start.** Each side's request handler built with the deployed edge bundles'
  esbuild settings (minified, node22, cjs; the AWS SDK external because the Lambda runtime provides
  it); size = the code deflated as a zip entry. Init time = from \`require\` of that file in a fresh
  \`node\` process until its event loop is idle (median of ${r.settings.coldStartRuns}), bundled and with packages
  loaded from node_modules: ours includes compiling and instantiating libsecp256k1's WASM and one
  recovery of a known signature, which viewer-request does while it loads (V8 compiles the
  recovery's WASM code on that first call, and optimizes it in the background until the process
  is idle: otherwise the first paid request's cost); no network at init on either side (the peer's
  facilitator sync is off). Ours loads the AWS SDK's DynamoDB client on its first paid request, not
  at init (most viewer requests, free ones and 402s, never need it): the "cold start of a paid
  request" line adds that load, timed in the same process right after init.
`;
