/**
 * `npm run bench`: our edge against the official @x402/express middleware, side by side, on the
 * same local chain, the same loopback facilitator, the same origin content, the same price and the
 * same paying client, driven by the same load generator (autocannon, in a child process), one
 * phase and one side at a time. The chain and the facilitator run in a process of their own
 * (bench/services-process.ts) and dynalite in another (bench/dynamo-process.ts): every remote
 * service is equally remote for both sides, whose servers (the local edge with our handlers, the
 * Express apps) share this process with the origin. Then: the same paid requests on a Base-like chain (2 s blocks),
 * far from home (round trips to DynamoDB and the facilitator), and under Lambda's CPU share for
 * each memory size. Writes bench/results/latest.json and latest.md.
 *
 * Options: `--only=load,cold,baseLike,far,sizing` runs some sections and writes
 * bench/results/partial.{json,md} instead; `--phases=paid,paidSequential` runs some of the load
 * section's phases and `--repetitions=N` runs each N times per side (both write partial.* too);
 * `--block-time-ms=N` sets the Base-like block time; `--cpu-profile=DIR` profiles every load run
 * (bench/cpu-profile.ts) and writes the profiles and their summary to DIR.
 */
import { writeFileSync } from 'node:fs';
import type { RequestListener } from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HTTPFacilitatorClient } from '@x402/core/http';
import { BatchSettlementEvmScheme as BatchSettlementServerScheme } from '@x402/evm/batch-settlement/server';
import { erc20Abi, parseEventLogs, type Hex, type PrivateKeyAccount } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { channelChainReader } from '../lambda/batch-claims/chain-state';
import { runBatchClaims } from '../lambda/batch-claims/run';
import { DEFAULT_ABUSE_LIMITS } from '../lambda/core/abuse-guard';
import type { EdgeConfig } from '../lambda/core/config';
import { ExactEvmPrecheck } from '../lambda/core/precheck';
import type { Receipt } from '../lambda/core/receipt';
import type { EdgeHandlers } from '../lambda/edge/cloudfront-adapter';
import { DynamoChannelStore } from '../lambda/edge/dynamo-channel-store';
import { createEdgeRuntime } from '../lambda/edge/runtime';
import { BASE_BLOCK_TIME_MS, LOCAL_NETWORK, LOCAL_USDC_ADDRESS, type SettledTransfer } from '../local/chain';
import { createReceiptTable, LOCAL_DYNAMO_CREDENTIALS, LOCAL_DYNAMO_REGION } from '../local/dynamo';
import { listReceipts } from '../local/receipts';
import { SAMPLE_ROUTES, startLocalStack } from '../local/stack';
import { BATCH_SETTLEMENT, offPathTotals, paidCount, runBaseLikeSection, UPTO_METERED, type OffPathTotals } from './base-like';
import { measureColdStarts } from './cold-start';
import { RunProfiles } from './cpu-profile';
import { startServicesProcess, type BenchServices } from './services-process';
import { EdgeRouter } from './edge-router';
import { runEdgeSizing } from './edge-sizing';
import { farConfig, recordSpans, runFarFromHome, startFarProxies, type FarProxies } from './far-from-home';
import { BATCH_PATH, BENCH_BATCH_ROUTE, BENCH_METERED_ACTUAL, BENCH_METERED_ROUTE, BENCH_PASS, challengeTerms, createBench, METERED_PATH, listen, Payers, PaidLedger, startDynamoProcess, startLoader, type BatchClaims, type Bench, type Side } from './harness';
import { EdgeTimer } from './instrument';
import { runLoadPhases, type PhaseName } from './load-phases';
import { createExpressPeer, type CachedPage } from './peer/express-app';
import { edgeAdded, renderMarkdown, type BenchReport } from './report';
import { PHASES, SECTIONS, SETTINGS, type BenchSettings, type SectionName } from './settings';
import { measureSignatureCost } from './signature-cost';

const RESULTS = path.join(__dirname, 'results');

function parseArgs(argv: string[]): { sections: SectionName[]; settings: BenchSettings; partial: boolean; cpuProfileDir?: string } {
  let sections: SectionName[] = [...SECTIONS];
  let blockTimeMs = BASE_BLOCK_TIME_MS;
  let phases: readonly PhaseName[] = PHASES;
  let repetitions = SETTINGS.repetitions;
  let cpuProfileDir: string | undefined;
  for (const arg of argv) {
    const [name, value = ''] = arg.split('=');
    if (name === '--only') {
      const asked = value.split(',').filter(Boolean);
      const unknown = asked.filter((s) => !(SECTIONS as readonly string[]).includes(s));
      if (unknown.length > 0 || asked.length === 0) throw new Error(`--only takes a comma-separated list of ${SECTIONS.join(', ')}; got "${value}"`);
      sections = asked as SectionName[];
    } else if (name === '--block-time-ms') {
      blockTimeMs = Number(value);
      if (!(Number.isInteger(blockTimeMs) && blockTimeMs > 0)) throw new Error(`--block-time-ms takes a positive whole number of milliseconds (Base: ${BASE_BLOCK_TIME_MS}); got "${value}"`);
    } else if (name === '--phases') {
      const asked = value.split(',').filter(Boolean);
      const unknown = asked.filter((p) => !(PHASES as readonly string[]).includes(p));
      if (unknown.length > 0 || asked.length === 0) throw new Error(`--phases takes a comma-separated list of ${PHASES.join(', ')}; got "${value}"`);
      phases = asked as PhaseName[];
    } else if (name === '--repetitions') {
      repetitions = Number(value);
      if (!(Number.isInteger(repetitions) && repetitions > 0)) throw new Error(`--repetitions takes a positive whole number; got "${value}"`);
    } else if (name === '--cpu-profile') {
      if (!value) throw new Error('--cpu-profile takes a directory for the profiles, e.g. --cpu-profile=/tmp/bench-profiles');
      cpuProfileDir = path.resolve(value);
    } else {
      throw new Error(`unknown option ${arg}: use --only=${SECTIONS.join(',')}, --phases=${PHASES.join(',')}, --repetitions=N, --cpu-profile=DIR and/or --block-time-ms=${BASE_BLOCK_TIME_MS}`);
    }
  }
  const partial = sections.length < SECTIONS.length || phases.length < PHASES.length || repetitions !== SETTINGS.repetitions;
  return { sections, partial: partial || cpuProfileDir !== undefined, cpuProfileDir, settings: { ...SETTINGS, repetitions, phases, baseLike: { ...SETTINGS.baseLike, blockTimeMs } } };
}

async function main(): Promise<void> {
  const { sections, settings, partial, cpuProfileDir } = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const say = (line: string) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}`);

  const timer = new EdgeTimer();
  // Lambda writes each log line to stdout; serialize it as the handler would, then drop it.
  const log = (line: Record<string, unknown>) => void JSON.stringify(line);
  const [dynamo, services] = await Promise.all([startDynamoProcess(), startServicesProcess()]);
  const closers: Array<() => Promise<void>> = [async () => void dynamo.child.disconnect(), () => services.close()];
  const loader = startLoader();
  closers.unshift(async () => loader.close());
  try {
    const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: LOCAL_DYNAMO_REGION, credentials: LOCAL_DYNAMO_CREDENTIALS });
    closers.push(async () => dynamoClient.destroy());
    let receiptTable = '';
    let edgeConfig: EdgeConfig | undefined;
    let far: { proxies: FarProxies; handlers: EdgeHandlers; afterRelease: EdgeHandlers } | undefined;
    let router: EdgeRouter | undefined;
    let afterRelease: EdgeHandlers | undefined;
    const stack = await startLocalStack({
      log,
      routes: [...SAMPLE_ROUTES, BENCH_METERED_ROUTE, BENCH_BATCH_ROUTE],
      // The recommended configuration with an RPC endpoint (x402:verifier=rpc), with the chain and
      // the facilitator of the services process (the stack's own stay idle).
      configure: (config) => ({ ...config, facilitator: { ...config.facilitator, url: services.facilitatorUrl }, chainRpc: { ...config.chainRpc!, url: services.rpcUrl, verifyTransfers: true } }),
      passes: [{ ...BENCH_PASS, routes: [...BENCH_PASS.routes] }],
      // The load phases send thousands of refused payments from one client: measure the edge's
      // work on each, not its back-off (which answers 429 without any work after five).
      abuseLimits: { ...DEFAULT_ABUSE_LIMITS, failuresBeforeBackoff: Number.MAX_SAFE_INTEGER, smartWalletChecksPerMinute: Number.MAX_SAFE_INTEGER },
      // In-process (measurement mode): the timers wrap the handlers' ports, and the router lets
      // sections run the same handlers far from home or the deployed bundles under a CPU quota.
      inProcessHandlers: async (config) => {
        receiptTable = config.receiptTable.tableName;
        await createReceiptTable(dynamoClient, receiptTable);
        edgeConfig = { ...config, receiptTable: { ...config.receiptTable, endpoint: dynamo.endpoint } };
        // As deployed, the viewer-request and the origin-facing triggers are functions of their own,
        // each container with its own clients and kept connections.
        const runtime = (c: EdgeConfig): EdgeHandlers => {
          const viewer = createEdgeRuntime(c, { credentials: LOCAL_DYNAMO_CREDENTIALS, log, wrapPorts: timer.wrapPorts, precheck: new ExactEvmPrecheck(c) });
          const origin = createEdgeRuntime(c, { credentials: LOCAL_DYNAMO_CREDENTIALS, log, wrapPorts: timer.wrapPorts });
          return { viewerRequest: viewer.viewerRequest, originRequest: origin.originRequest, originResponse: origin.originResponse };
        };
        const proxies = await startFarProxies(dynamo.endpoint, config.facilitator.url, config.chainRpc!.url);
        closers.push(() => proxies.close());
        far = { proxies, handlers: runtime(farConfig(edgeConfig, proxies)), afterRelease: runtime({ ...farConfig(edgeConfig, proxies), settledReceipt: 'after-release' }) };
        router = new EdgeRouter(runtime(edgeConfig));
        afterRelease = runtime({ ...edgeConfig, settledReceipt: 'after-release' });
        return timer.wrapHandlers(router);
      },
    });
    closers.unshift(() => stack.close());
    say(`local stack up: edge ${stack.edge.url}, facilitator ${services.facilitatorUrl}, chain ${services.rpcUrl}, origin ${stack.origin.url}`);
    const route = stack.config.routes.find((r) => r.pattern === '/articles/*')!;
    const articlePrice = route.price!;
    const peerRoute = { pattern: '/articles/*', price: articlePrice, description: route.description!, mimeType: route.mimeType! };
    const peerCommon = { facilitatorUrl: services.facilitatorUrl, network: 'eip155:84532' as const, maxTimeoutSeconds: stack.config.maxTimeoutSeconds, routes: [peerRoute] };
    const peerPayTo = privateKeyToAccount(generatePrivateKey()).address;
    const pages = new Map<string, CachedPage>();
    for (const p of ['/', '/articles/bench']) pages.set(p, await originPage(stack.origin.url, p));
    // The official batch-settlement server scheme: the middleware serves the channels, its channel manager claims them.
    const peerBatchScheme = new BatchSettlementServerScheme(peerPayTo);
    const peerOrigin = await listen(createExpressPeer({ ...peerCommon, payTo: peerPayTo, content: { kind: 'origin', url: stack.origin.url }, batchSettlement: { route: BENCH_BATCH_ROUTE, scheme: peerBatchScheme } }) as RequestListener);
    const peerMemory = await listen(createExpressPeer({ ...peerCommon, payTo: peerPayTo, content: { kind: 'memory', pages } }) as RequestListener);
    const peerFarApp = recordSpans(createExpressPeer({ ...peerCommon, facilitatorUrl: far!.proxies.peerFacilitator.url, payTo: peerPayTo, content: { kind: 'origin', url: stack.origin.url } }) as RequestListener);
    const peerFar = await listen(peerFarApp.app);
    closers.unshift(peerOrigin.close, peerMemory.close, peerFar.close);
    const sides: Side[] = [
      { name: 'ours', url: stack.edge.url, payTo: stack.payTo },
      { name: 'peerOrigin', url: peerOrigin.url, payTo: peerPayTo },
      { name: 'peerMemory', url: peerMemory.url, payTo: peerPayTo },
    ];
    const [ours, peer] = sides;
    // The same local edge with x402:settledReceipt=after-release, in the paid phases.
    const loadSides: Side[] = [...sides, { name: 'oursAfterRelease', url: stack.edge.url, payTo: stack.payTo, handlers: afterRelease!, paidOnly: true }];

    say(`funding ${settings.payerWallets} payer wallets`);
    const wallets: PrivateKeyAccount[] = [];
    for (let i = 0; i < settings.payerWallets; i++) wallets.push(await services.newFundedWallet(100_000_000n));
    // The one-time Permit2 approval every upto payer makes, and the bench origin's usage report.
    if (sections.includes('baseLike')) for (const wallet of wallets) await services.approvePermit2(wallet);
    stack.origin.setBehavior(BATCH_PATH, { status: 200, body: '{"item":"bench"}', headers: { 'content-type': 'application/json' } });
    stack.origin.setBehavior(METERED_PATH, { status: 200, body: '{"tokens":42}', headers: { 'content-type': 'application/json', 'Settlement-Overrides': JSON.stringify({ amount: BENCH_METERED_ACTUAL.toString() }) } });
    const processes = { dynalite: dynamo.child, 'chain + facilitator': services.child };
    const profiles = cpuProfileDir === undefined ? undefined : new RunProfiles(cpuProfileDir, processes);
    const facilitatorClient = new HTTPFacilitatorClient({ url: services.facilitatorUrl, timeoutMs: 30_000 });
    // One claims run per side, as scheduled after a deploy (ours) or the official channel manager's claimAndSettle (the peer).
    const claimBatches = async (side: Side): Promise<BatchClaims> => {
      if (side.name === 'ours') {
        const run = await runBatchClaims(
          { network: LOCAL_NETWORK, payTo: stack.payTo, asset: LOCAL_USDC_ADDRESS, facilitator: { url: services.facilitatorUrl, timeoutMs: 30_000 }, chainRpcUrl: services.rpcUrl, thresholdAtomic: '1', maxAgeSeconds: 3600, refundIdleAfterSeconds: 0 },
          {
            store: new DynamoChannelStore(dynamoClient, receiptTable),
            facilitator: { verify: (p, r) => facilitatorClient.verify(p, r), settle: (p, r) => facilitatorClient.settle(p, r) },
            readChain: channelChainReader(services.rpcUrl, 30_000),
            clock: Date.now,
            log: () => undefined,
          },
        );
        return { claimTransactions: run.claimed.map((c) => c.transaction as Hex), ...(run.settlement?.transaction ? { settleTransaction: run.settlement.transaction as Hex } : {}) };
      }
      if (side.name !== 'peerOrigin') throw new Error(`${side.name} serves no batch-settlement route`);
      const { claims, settle } = await peerBatchScheme.createChannelManager(facilitatorClient, LOCAL_NETWORK, LOCAL_USDC_ADDRESS).claimAndSettle();
      return { claimTransactions: claims.map((c) => c.transaction as Hex), ...(settle ? { settleTransaction: settle.transaction as Hex } : {}) };
    };
    const bench = createBench({ stack, services, processes, loader, payers: new Payers(wallets), ledger: new PaidLedger(), timer, router: router!, profiles, say, claimBatches });

    // Same terms on every side: same amount, asset, network, timeout, EIP-712 domain; only payTo
    // differs (so each side's settlements can be counted on chain).
    const farPeerSide: Side = { name: 'peerOrigin', url: peerFar.url, payTo: peerPayTo };
    const [oursTerms, ...peerTerms] = await Promise.all([...sides, farPeerSide].map(async (side) => ({ ...(await bench.terms(side)).accepts[0], payTo: '' })));
    for (const terms of peerTerms) if (JSON.stringify(terms) !== JSON.stringify(oursTerms)) throw new Error(`terms differ: ${JSON.stringify({ ours: oursTerms, peer: terms })}`);
    if (sections.includes('baseLike')) {
      // The same holds for the batch-settlement channels: price, deposit, withdraw delay, receiver authorizer (in another key order).
      const [oursBatch, peerBatch] = await Promise.all([ours, peer].map(async (side) => ({ ...(await challengeTerms(side.url, BATCH_PATH)).accepts[0], payTo: '' })));
      if (!isDeepStrictEqual(oursBatch, peerBatch)) throw new Error(`batch-settlement terms differ: ${JSON.stringify({ ours: oursBatch, peer: peerBatch })}`);
    }

    const report: BenchReport = { generatedAt: new Date().toISOString(), machine: machine(), settings, sections, wallSeconds: 0 };
    if (sections.includes('load')) {
      const load = await runLoadPhases(bench, loadSides, settings);
      report.phases = load.phases;
      say(`EIP-712 signature verification x${settings.signatureRuns}`);
      const chainId = Number(stack.config.network.split(':')[1]);
      report.signature = await measureSignatureCost({ ...stack.config.asset, chainId }, settings.signatureRuns);
      say(`  median ${report.signature.medianMs.toFixed(3)} ms, p99 ${report.signature.p99Ms.toFixed(3)} ms`);
      report.edgeAdded = { sequential: edgeAdded(load.edge.sequential, report.signature.medianMs), loaded: edgeAdded(load.edge.loaded, report.signature.medianMs) };
    }
    if (sections.includes('cold')) {
      say('bundles and cold starts (fresh node processes)');
      report.coldStart = await measureColdStarts(stack.config, settings.coldStartRuns);
    }
    if (sections.includes('baseLike')) {
      say(`Base-like chain: a block every ${settings.baseLike.blockTimeMs} ms`);
      report.baseLike = await runBaseLikeSection(bench, { ours, peer }, Number(articlePrice.replace('$', '')), { ...settings.baseLike, connections: settings.connections });
    }
    if (sections.includes('far')) {
      say(`far from home: round trips of ${settings.far.roundTripsMs.join(', ')} ms to DynamoDB and the facilitator`);
      const proxies = far!.proxies;
      report.far = await runFarFromHome(
        bench,
        proxies,
        {
          ours: { side: ours, spans: { reset: () => timer.reset(), spans: () => timer.paidWindows() }, services: [['dynamodb', proxies.dynamodb], ['facilitator', proxies.facilitator], ['rpc', proxies.rpc]] },
          peer: { side: farPeerSide, spans: peerFarApp.spans, services: [['facilitator', proxies.peerFacilitator]] },
          oursFar: far!.handlers,
          oursFarAfterRelease: far!.afterRelease,
        },
        settings.far,
      );
    }
    if (sections.includes('sizing')) {
      say('edge CPU sizing: the deployed bundles under the CPU share of each memory size');
      report.sizing = await runEdgeSizing(bench, ours, edgeConfig!, settings.sizing);
    }

    const meteredPaid = (report.baseLike?.lines.find((l) => l.model === UPTO_METERED.name)?.sides.ours ?? undefined);
    const batchLine = report.baseLike?.lines.find((l) => l.model === BATCH_SETTLEMENT.name);
    report.settlements = await settlementCheck(bench, sides, () => listReceipts(dynamoClient, receiptTable), meteredPaid ? meteredPaid.warmupPaid + paidCount(meteredPaid.sequential) + paidCount(meteredPaid.loaded) : 0, batchLine ? offPathTotals(batchLine) : []);
    report.wallSeconds = (Date.now() - started) / 1000;
    // The load average the report prints is the one at the end, when the whole run has weighed on it.
    report.machine = machine();
    const name = partial ? 'partial' : 'latest';
    writeFileSync(path.join(RESULTS, `${name}.json`), JSON.stringify(report, null, 2) + '\n');
    const markdown = renderMarkdown(report);
    writeFileSync(path.join(RESULTS, `${name}.md`), markdown);
    console.log('\n' + markdown);
    say(`wrote bench/results/${name}.json and bench/results/${name}.md`);
    if (profiles) say(`CPU profiles and their summary: ${profiles.writeSummary()}`);
    const problems = checkRun(report);
    if (problems.length) throw new Error(`the run is not valid:\n- ${problems.join('\n- ')}`);
  } finally {
    for (const close of closers) await close().catch(() => undefined);
  }
}

/** Every paid 200 must be exactly one transfer on chain to its side's payTo, and each of ours a settled receipt. */
async function settlementCheck(bench: Bench, sides: Side[], receipts: () => Promise<Receipt[]>, meteredPaid: number, batch: readonly OffPathTotals[]): Promise<NonNullable<BenchReport['settlements']>> {
  const transfers = await bench.services.settledTransfers();
  // The ledger counts exact payments; metered ones are checked against their own transfers below.
  const onChain = (payTo: string) => transfers.filter((t) => t.scheme === 'exact' && t.to.toLowerCase() === payTo).length;
  const label = (payTo: string) => (payTo === sides[0].payTo.toLowerCase() ? 'ours' : '@x402/express');
  const settled = (await receipts()).filter((r) => r.status === 'settled');
  const upto = settled.filter((r) => r.scheme === 'upto');
  // A batch-settlement receipt is settled once served and booked; its money moves with the claims run.
  const batchReceipts = settled.filter((r) => r.scheme === 'batch-settlement');
  return {
    byPayTo: bench.ledger.entries().map(([payTo, paid]) => ({ side: label(payTo), payTo, paid, onChain: onChain(payTo) })),
    oursReceipts: settled.length - upto.length - batchReceipts.length,
    ...(meteredPaid > 0 ? { metered: await meteredCheck(bench.services, upto, meteredPaid, sides[0].payTo, transfers) } : {}),
    ...(batch.length > 0
      ? {
          batch: batch.map((b) => ({
            ...b,
            side: b.side === 'ours' ? 'ours' : '@x402/express',
            ...(b.side === 'ours' ? { receipts: batchReceipts.length, receiptsAtomic: batchReceipts.reduce((sum, r) => sum + BigInt(r.amount), 0n).toString() } : {}),
          })),
        }
      : {}),
  };
}

/** Each settled upto receipt must be one Transfer of its actual amount from its payer to payTo (Permit2 emits no AuthorizationUsed). */
async function meteredCheck(services: BenchServices, upto: Receipt[], paid: number, payTo: string, transfers: readonly SettledTransfer[]): Promise<NonNullable<NonNullable<BenchReport['settlements']>['metered']>> {
  let matched = 0;
  for (const receipt of upto) {
    const { logs } = await services.publicClient.getTransactionReceipt({ hash: receipt.txHash as Hex });
    const moved = parseEventLogs({ abi: erc20Abi, eventName: 'Transfer', logs }).filter((l) => l.args.to.toLowerCase() === payTo.toLowerCase());
    if (moved.length === 1 && moved[0].args.from.toLowerCase() === receipt.payer.toLowerCase() && moved[0].args.value === BigInt(receipt.amount)) matched++;
  }
  // All upto transfers to payTo on chain, so that one without a receipt shows as a difference.
  const onChainTransfers = transfers.filter((t) => t.scheme === 'upto' && t.to.toLowerCase() === payTo.toLowerCase()).length;
  const sum = (values: Array<string | undefined>) => values.reduce((total, v) => total + BigInt(v ?? 0), 0n);
  const [actual, maximum] = [sum(upto.map((r) => r.amount)), sum(upto.map((r) => r.maxAmount))];
  return { paid, settledReceipts: upto.length, onChainTransfers, unmatchedReceipts: upto.length - matched, actualAtomic: actual.toString(), maximumAtomic: maximum.toString(), fillRatio: maximum > 0n ? Number(actual) / Number(maximum) : 0 };
}

/** Every measured request got the status its phase expects, and every paid 200 settled once on chain. */
function checkRun(report: BenchReport): string[] {
  const problems: string[] = [];
  const results = [
    ...Object.entries(report.phases ?? {}).flatMap(([phase, bySide]) => Object.entries(bySide).flatMap(([side, runs]) => (runs ?? []).map((r) => [`${phase}/${side}`, r] as const))),
    ...(report.baseLike?.lines ?? []).flatMap((l) => Object.entries(l.sides).flatMap(([side, s]) => [[`baseLike/${l.model}/${side}/c=1`, s!.sequential.load], [`baseLike/${l.model}/${side}/loaded`, s!.loaded.load]] as const)),
    ...(report.far?.runs ?? []).map((r) => [`far/${r.roundTripMs} ms/${r.side}`, r.warm] as const),
  ];
  for (const [where, result] of results) {
    if (result.unexpected > 0 || result.errors > 0) problems.push(`${where}: ${result.unexpected} unexpected statuses ${JSON.stringify(result.statuses)}, ${result.errors} errors`);
  }
  for (const s of report.settlements?.byPayTo ?? []) {
    if (s.paid !== s.onChain) problems.push(`${s.side}: ${s.onChain} settlements on chain for ${s.paid} paid requests`);
  }
  const metered = report.settlements?.metered;
  if (metered && !(metered.settledReceipts === metered.onChainTransfers && metered.settledReceipts === metered.paid && !metered.unmatchedReceipts)) problems.push(`metered: ${metered.settledReceipts} settled upto receipts, ${metered.onChainTransfers} matching transfers on chain, for ${metered.paid} paid requests (warm-up included); ${metered.unmatchedReceipts ?? 0} receipts without their transfer`);
  for (const b of report.settlements?.batch ?? []) {
    if (b.settledAtomic !== b.servedAtomic) problems.push(`batch-settlement ${b.side}: the claims runs settled ${b.settledAtomic} to payTo for ${b.servedAtomic} served (${b.paid} paid requests, warm-ups included)`);
    if (b.receipts !== undefined && (b.receipts !== b.paid || b.receiptsAtomic !== b.servedAtomic)) problems.push(`batch-settlement ${b.side}: ${b.receipts} receipts of ${b.receiptsAtomic} for ${b.paid} paid requests of ${b.servedAtomic}`);
  }
  const oursPaid = report.settlements?.byPayTo.find((s) => s.side === 'ours')?.paid ?? 0;
  if (report.settlements && report.settlements.oursReceipts !== oursPaid) problems.push(`ours: ${report.settlements.oursReceipts} settled receipts for ${oursPaid} paid requests`);
  for (const run of report.sizing?.runs ?? []) {
    for (const [call, timed] of Object.entries(run.calls)) if (timed.length === 0) problems.push(`sizing ${run.memoryMb} MB: no ${call} invocation measured`);
  }
  return problems;
}

function machine(): BenchReport['machine'] {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    loadAverage: os.loadavg().map((v) => Number(v.toFixed(2))),
  };
}

async function originPage(origin: string, p: string): Promise<CachedPage> {
  const response = await fetch(`${origin}${p}`);
  return { status: response.status, contentType: response.headers.get('content-type') ?? 'text/plain', body: await response.text() };
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack : String(error));
    process.exit(1);
  },
);
