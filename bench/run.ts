/**
 * `npm run bench`: our edge against the official @x402/express middleware, side by side, on the
 * same local chain, the same loopback facilitator, the same origin content, the same price and the
 * same paying client, driven by the same load generator (autocannon, in a child process), one
 * phase and one side at a time. Writes bench/results/latest.json and latest.md.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from '@x402/core/http';
import type { x402Client } from '@x402/core/client';
import type { PaymentPayload, PaymentRequired } from '@x402/core/types';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Express } from 'express';
import type { PrivateKeyAccount } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { Receipt } from '../lambda/core/receipt';
import { createEdgeRuntime } from '../lambda/edge/runtime';
import { officialClientFor } from '../local/agent';
import { createReceiptTable, LOCAL_DYNAMO_CREDENTIALS, LOCAL_DYNAMO_REGION } from '../local/dynamo';
import { listReceipts } from '../local/receipts';
import { DEFAULT_ABUSE_LIMITS } from '../lambda/core/abuse-guard';
import { startLocalStack, type LocalStack } from '../local/stack';
import { measureColdStarts } from './cold-start';
import { EdgeTimer, type RequestTiming } from './instrument';
import { percentile, type LoadJob, type LoadResult } from './load-worker';
import { createExpressPeer, type CachedPage } from './peer/express-app';
import { renderMarkdown, type BenchReport, type EdgeAdded, type SideName } from './report';
import { measureSignatureCost } from './signature-cost';

/** Bounded load: every phase is either a fixed duration or a fixed number of requests. */
export const SETTINGS = {
  connections: 10,
  phaseSeconds: 5,
  warmupSeconds: 1,
  paidRequests: 300,
  paidSequentialRequests: 100,
  paidWarmup: 20,
  payerWallets: 30,
  signatureRuns: 1000,
  coldStartRuns: 7,
} as const;

const PRICED_PATH = '/articles/bench';
const FREE_PATH = '/';
const AGENT_HEADERS = { 'user-agent': 'bench-agent/1.0', accept: 'application/json' };
const RESULTS = path.join(__dirname, 'results');

interface Side {
  readonly name: SideName;
  readonly url: string;
  readonly payTo: string;
}

async function main(): Promise<void> {
  const started = Date.now();
  const say = (line: string) => console.log(`[bench ${((Date.now() - started) / 1000).toFixed(0).padStart(3)} s] ${line}`);

  const timer = new EdgeTimer();
  // Lambda writes each log line to stdout; serialize it as the handler would, then drop it.
  const log = (line: Record<string, unknown>) => void JSON.stringify(line);
  const dynamo = await startDynamoProcess();
  const closers: Array<() => Promise<void>> = [async () => void dynamo.child.disconnect()];
  const loader = startLoader();
  closers.unshift(async () => void loader.child.kill());
  try {
    const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: LOCAL_DYNAMO_REGION, credentials: LOCAL_DYNAMO_CREDENTIALS });
    closers.push(async () => dynamoClient.destroy());
    let receiptTable = '';
    const stack = await startLocalStack({
      log,
      // The load phases send thousands of refused payments from one client: measure the edge's
      // work on each, not its back-off (which answers 429 without any work after five).
      abuseLimits: { ...DEFAULT_ABUSE_LIMITS, failuresBeforeBackoff: Number.MAX_SAFE_INTEGER, smartWalletChecksPerMinute: Number.MAX_SAFE_INTEGER },
      // In-process (measurement mode): the timers wrap the handlers' ports.
      inProcessHandlers: async (config) => {
        receiptTable = config.receiptTable.tableName;
        await createReceiptTable(dynamoClient, receiptTable);
        const remote = { ...config, receiptTable: { ...config.receiptTable, endpoint: dynamo.endpoint } };
        return timer.wrapHandlers(createEdgeRuntime(remote, { credentials: LOCAL_DYNAMO_CREDENTIALS, log, wrapPorts: timer.wrapPorts }));
      },
    });
    closers.unshift(() => stack.close());
    const receipts = () => listReceipts(dynamoClient, receiptTable);
    say(`local stack up: edge ${stack.edge.url}, facilitator ${stack.facilitator.url}, origin ${stack.origin.url}`);
    const route = stack.config.routes.find((r) => r.pattern === '/articles/*')!;
    const peerRoute = { pattern: '/articles/*', price: route.price, description: route.description!, mimeType: route.mimeType! };
    const peerCommon = { facilitatorUrl: stack.facilitator.url, network: 'eip155:84532' as const, maxTimeoutSeconds: stack.config.maxTimeoutSeconds, routes: [peerRoute] };
    const peerPayTo = privateKeyToAccount(generatePrivateKey()).address;
    const pages = new Map<string, CachedPage>();
    for (const p of [FREE_PATH, PRICED_PATH]) pages.set(p, await originPage(stack.origin.url, p));
    const peerOrigin = await listen(createExpressPeer({ ...peerCommon, payTo: peerPayTo, content: { kind: 'origin', url: stack.origin.url } }));
    const peerMemory = await listen(createExpressPeer({ ...peerCommon, payTo: peerPayTo, content: { kind: 'memory', pages } }));
    closers.unshift(peerOrigin.close, peerMemory.close);
    const sides: Side[] = [
      { name: 'ours', url: stack.edge.url, payTo: stack.payTo },
      { name: 'peerOrigin', url: peerOrigin.url, payTo: peerPayTo },
      { name: 'peerMemory', url: peerMemory.url, payTo: peerPayTo },
    ];

    say(`funding ${SETTINGS.payerWallets} payer wallets`);
    const wallets: PrivateKeyAccount[] = [];
    for (let i = 0; i < SETTINGS.payerWallets; i++) wallets.push(await stack.chain.newFundedWallet(100_000_000n));
    const payers = new Payers(wallets);

    // Same terms on both sides: same amount, asset, network, timeout, EIP-712 domain; only payTo differs
    // (so each side's settlements can be counted on chain).
    const terms = new Map<SideName, PaymentRequired>();
    for (const side of sides) terms.set(side.name, await challengeTerms(side.url));
    const [ours, ...peers] = [...terms.values()].map((t) => ({ ...t.accepts[0], payTo: '' }));
    for (const peer of peers) if (JSON.stringify(peer) !== JSON.stringify(ours)) throw new Error(`terms differ: ${JSON.stringify({ ours, peer })}`);

    const phases: BenchReport['phases'] = { free: {}, challenge: {}, badPayment: {}, paid: {}, paidSequential: {} };
    const base = { connections: SETTINGS.connections, headers: AGENT_HEADERS };
    for (const side of sides) {
      const job = { ...base, url: side.url, path: FREE_PATH, expectStatus: 200 };
      await loader.run({ ...job, durationSeconds: SETTINGS.warmupSeconds });
      phases.free[side.name] = await loader.run({ ...job, durationSeconds: SETTINGS.phaseSeconds });
      say(`free pass-through  ${side.name.padEnd(10)} ${line(phases.free[side.name]!)}`);
    }
    for (const side of sides) {
      const job = { ...base, url: side.url, path: PRICED_PATH, expectStatus: 402 };
      await loader.run({ ...job, durationSeconds: SETTINGS.warmupSeconds });
      phases.challenge[side.name] = await loader.run({ ...job, durationSeconds: SETTINGS.phaseSeconds });
      say(`402 challenge      ${side.name.padEnd(10)} ${line(phases.challenge[side.name]!)}`);
    }
    for (const side of sides) {
      // A real payment whose nonce was changed after signing: the signature no longer matches.
      const payment = await payers.sign(terms.get(side.name)!);
      const bad = { ...payment, payload: { ...payment.payload, authorization: { ...(payment.payload.authorization as object), nonce: generatePrivateKey() } } };
      const job = { ...base, url: side.url, path: PRICED_PATH, headers: { ...AGENT_HEADERS, 'payment-signature': encodePaymentSignatureHeader(bad) }, expectStatus: 402 };
      await loader.run({ ...job, durationSeconds: SETTINGS.warmupSeconds });
      phases.badPayment[side.name] = await loader.run({ ...job, durationSeconds: SETTINGS.phaseSeconds });
      say(`bad signature      ${side.name.padEnd(10)} ${line(phases.badPayment[side.name]!)}`);
    }

    let edgeLoaded: RequestTiming[] = [];
    let edgeSequential: RequestTiming[] = [];
    const paidJob = async (side: Side, amount: number, connections: number): Promise<LoadResult> => {
      // Signed just before use: authorizations are valid for maxTimeoutSeconds (120 s).
      const values = await payers.signMany(terms.get(side.name)!, amount);
      return loader.run({ ...base, connections, url: side.url, path: PRICED_PATH, amount, perRequestHeader: { name: 'payment-signature', values }, expectStatus: 200 });
    };
    for (const side of sides) {
      await paidJob(side, SETTINGS.paidWarmup, 5);
      timer.reset();
      phases.paid[side.name] = await paidJob(side, SETTINGS.paidRequests, SETTINGS.connections);
      if (side.name === 'ours') edgeLoaded = timer.paidRequests();
      say(`paid (c=${SETTINGS.connections})        ${side.name.padEnd(10)} ${line(phases.paid[side.name]!)}`);
    }
    for (const side of sides) {
      timer.reset();
      phases.paidSequential[side.name] = await paidJob(side, SETTINGS.paidSequentialRequests, 1);
      if (side.name === 'ours') edgeSequential = timer.paidRequests();
      say(`paid (c=1)         ${side.name.padEnd(10)} ${line(phases.paidSequential[side.name]!)}`);
    }

    say(`EIP-712 signature verification x${SETTINGS.signatureRuns}`);
    const chainId = Number(stack.config.network.split(':')[1]);
    const signature = await measureSignatureCost({ ...stack.config.asset, chainId }, SETTINGS.signatureRuns);
    say(`  median ${signature.medianMs.toFixed(3)} ms, p99 ${signature.p99Ms.toFixed(3)} ms`);

    say('bundles and cold starts (fresh node processes)');
    const cold = await measureColdStarts(stack.config, SETTINGS.coldStartRuns);

    const settled = await settlementCounts(stack, sides, receipts);
    const report: BenchReport = {
      generatedAt: new Date().toISOString(),
      machine: machine(),
      settings: SETTINGS,
      phases,
      coldStart: cold,
      signature,
      edgeAdded: { sequential: edgeAdded(edgeSequential, signature.medianMs), loaded: edgeAdded(edgeLoaded, signature.medianMs) },
      settlements: settled,
      wallSeconds: 0,
    };
    report.wallSeconds = (Date.now() - started) / 1000;
    writeFileSync(path.join(RESULTS, 'latest.json'), JSON.stringify(report, null, 2) + '\n');
    const markdown = renderMarkdown(report);
    writeFileSync(path.join(RESULTS, 'latest.md'), markdown);
    console.log('\n' + markdown);
    say('wrote bench/results/latest.json and bench/results/latest.md');
    const problems = checkRun(report);
    if (problems.length) throw new Error(`the run is not valid:\n- ${problems.join('\n- ')}`);
  } finally {
    for (const close of closers) await close().catch(() => undefined);
  }
}

function line(r: LoadResult): string {
  return `${r.rps.toFixed(0).padStart(5)} req/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  (${r.requests} requests, ${r.unexpected} unexpected)`;
}

/** Every measured request got the status its phase expects, and every paid 200 settled once on chain. */
function checkRun(report: BenchReport): string[] {
  const problems: string[] = [];
  for (const [phase, bySide] of Object.entries(report.phases)) {
    for (const [side, result] of Object.entries(bySide)) {
      if (result && (result.unexpected > 0 || result.errors > 0)) problems.push(`${phase}/${side}: ${result.unexpected} unexpected statuses ${JSON.stringify(result.statuses)}, ${result.errors} errors`);
    }
  }
  const paidOk = (side: SideName) => ['paid', 'paidSequential'].reduce((n, p) => n + (report.phases[p as 'paid'][side]?.statuses['200'] ?? 0), 0);
  const expectedOurs = paidOk('ours') + SETTINGS.paidWarmup;
  if (report.settlements.ours !== expectedOurs) problems.push(`ours: ${report.settlements.ours} settlements on chain for ${expectedOurs} paid requests`);
  const expectedPeer = paidOk('peerOrigin') + paidOk('peerMemory') + 2 * SETTINGS.paidWarmup;
  if (report.settlements.peer !== expectedPeer) problems.push(`peer: ${report.settlements.peer} settlements on chain for ${expectedPeer} paid requests`);
  return problems;
}

function edgeAdded(records: RequestTiming[], signatureMedianMs: number): EdgeAdded {
  const added = records.map((r) => r.handlerMs - r.waitingMs).sort((a, b) => a - b);
  const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);
  return {
    requests: records.length,
    medianMs: percentile(added, 50),
    p99Ms: percentile(added, 99),
    handlerMedianMs: median(records.map((r) => r.handlerMs)),
    facilitatorMedianMs: median(records.map((r) => r.facilitatorMs)),
    storeMedianMs: median(records.map((r) => r.storeMs)),
    multipleOfSignature: percentile(added, 50) / signatureMedianMs,
  };
}

async function settlementCounts(stack: LocalStack, sides: Side[], receipts: () => Promise<Receipt[]>): Promise<BenchReport['settlements']> {
  const transfers = await stack.chain.settledTransfers();
  const to = (address: string) => transfers.filter((t) => t.to.toLowerCase() === address.toLowerCase()).length;
  const settledReceipts = (await receipts()).filter((r) => r.status === 'settled').length;
  return { ours: to(sides[0].payTo), oursReceipts: settledReceipts, peer: to(sides[1].payTo) };
}

function machine(): BenchReport['machine'] {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  };
}

/** Official clients for many wallets, used round-robin, each payment with a fresh random nonce. */
class Payers {
  private readonly clients: x402Client[];
  private next = 0;
  constructor(wallets: PrivateKeyAccount[]) {
    this.clients = wallets.map((w) => officialClientFor(w));
  }
  sign(terms: PaymentRequired): Promise<PaymentPayload> {
    return this.clients[this.next++ % this.clients.length].createPaymentPayload(terms);
  }
  async signMany(terms: PaymentRequired, count: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < count; i++) out.push(encodePaymentSignatureHeader(await this.sign(terms)));
    return out;
  }
}

async function challengeTerms(url: string): Promise<PaymentRequired> {
  const response = await fetch(`${url}${PRICED_PATH}`, { headers: AGENT_HEADERS });
  await response.arrayBuffer();
  const header = response.headers.get('payment-required');
  if (response.status !== 402 || !header) throw new Error(`${url}${PRICED_PATH}: expected a 402 with PAYMENT-REQUIRED, got ${response.status}`);
  return decodePaymentRequiredHeader(header);
}

async function originPage(origin: string, p: string): Promise<CachedPage> {
  const response = await fetch(`${origin}${p}`);
  return { status: response.status, contentType: response.headers.get('content-type') ?? 'text/plain', body: await response.text() };
}

async function listen(app: Express): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function startDynamoProcess(): Promise<{ child: ChildProcess; endpoint: string }> {
  const child = fork(path.join(__dirname, 'dynamo-process.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (message: { endpoint: string }) => resolve({ child, endpoint: message.endpoint }));
    child.once('exit', (code) => reject(new Error(`dynalite process exited (${code})`)));
  });
}

function startLoader(): { child: ChildProcess; run(job: Omit<LoadJob, 'id'>): Promise<LoadResult> } {
  const child = fork(path.join(__dirname, 'load-worker.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let nextId = 0;
  const waiting = new Map<number, { resolve(r: LoadResult): void; reject(e: Error): void }>();
  child.on('message', (message: { id: number; result?: LoadResult; error?: string }) => {
    const waiter = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error !== undefined) waiter?.reject(new Error(message.error));
    else waiter?.resolve(message.result!);
  });
  child.on('exit', (code) => {
    for (const waiter of waiting.values()) waiter.reject(new Error(`load generator exited (${code})`));
    waiting.clear();
  });
  return {
    child,
    run(job) {
      const id = nextId++;
      return new Promise<LoadResult>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        child.send({ ...job, id });
      });
    },
  };
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack : String(error));
    process.exit(1);
  },
);
