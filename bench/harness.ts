/**
 * What every bench section drives the sides with: the load generator (autocannon in its own
 * process), the paying clients, and a ledger of paid responses that the run checks against the
 * chain at the end.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { x402Client } from '@x402/core/client';
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader } from '@x402/core/http';
import type { PaymentPayload, PaymentRequired } from '@x402/core/types';
import type { Hex, PrivateKeyAccount } from 'viem';
import { generatePrivateKey } from 'viem/accounts';
import { officialClientFor } from '../local/agent';
import type { LocalStack } from '../local/stack';
import { cpuMicrosByProcess, type RunProfiles } from './cpu-profile';
import type { EdgeHandlers } from '../lambda/edge/cloudfront-adapter';
import type { EdgeRouter } from './edge-router';
import type { EdgeTimer } from './instrument';
import type { BenchServices } from './services-process';
import type { LoadJob, LoadResult } from './load-worker';

/** `oursAfterRelease`: our local edge with x402:settledReceipt=after-release (paid phases only). */
export type SideName = 'ours' | 'oursAfterRelease' | 'peerOrigin' | 'peerMemory';

export interface Side {
  readonly name: SideName;
  readonly url: string;
  readonly payTo: string;
  /** The handlers the local edge routes to while this side runs (bench/edge-router.ts); default: the in-process ones. */
  readonly handlers?: EdgeHandlers;
  /** Measured in the paid phases only (its unpaid requests take the same path as `ours`'s). */
  readonly paidOnly?: boolean;
}

export const PRICED_PATH = '/articles/bench';
export const FREE_PATH = '/';
export const AGENT_HEADERS = { 'user-agent': 'bench-agent/1.0', accept: 'application/json' } as const;
/** A browser: not payment-eligible, served free (the baseline a pass holder is compared with). */
export const BROWSER_HEADERS = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0', accept: 'text/html' } as const;
/** The pass our side sells (bench/run.ts configures it): a day of the priced route. */
export const BENCH_PASS = { name: 'day', price: '$0.05', duration: '24h', routes: ['/articles/*'] } as const;
/**
 * The metered route our side offers (bench/run.ts adds it): the agent signs this maximum, the bench
 * origin reports {@link BENCH_METERED_ACTUAL} in Settlement-Overrides, the edge settles that.
 */
export const BENCH_METERED_ROUTE = { pattern: '/metered/*', scheme: 'upto', maxPrice: '$0.005', description: 'Metered call', mimeType: 'application/json' } as const;
export const METERED_PATH = '/metered/bench';
/** The actual charge of each metered request, in atomic units (0.4 of the $0.005 maximum). */
export const BENCH_METERED_ACTUAL = 2000n;
/**
 * The batch-settlement route both sides offer (bench/run.ts adds it; the peer with the official
 * server scheme): the official client deposits the announced minimum, which covers every request
 * one channel serves in the bench, so each channel deposits once and never tops up.
 */
export const BENCH_BATCH_ROUTE = { pattern: '/feed/*', scheme: 'batch-settlement', price: '$0.001', minDeposit: '$1.00', description: 'Feed item', mimeType: 'application/json' } as const;
export const BATCH_PATH = '/feed/bench';

/** One claims run of a side's batch-settlement channels: its transactions (the claim batches, then one settle to payTo). */
export interface BatchClaims {
  readonly claimTransactions: readonly Hex[];
  /** Absent when nothing was claimed. */
  readonly settleTransaction?: Hex;
}

export interface Loader {
  run(job: Omit<LoadJob, 'id'>): Promise<LoadResult>;
  close(): void;
}

/** The load generator in a child process, one job at a time. */
export function startLoader(): Loader {
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
    run(job) {
      const id = nextId++;
      return new Promise<LoadResult>((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        child.send({ ...job, id });
      });
    },
    close: () => void child.kill(),
  };
}

/** Official clients for many wallets, used round-robin, each payment with a fresh random nonce. */
export class Payers {
  private readonly clients: x402Client[];
  private next = 0;
  constructor(readonly wallets: readonly PrivateKeyAccount[]) {
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

/** A real payment whose nonce was changed after signing: its signature no longer matches (a `payment-signature` value). */
export async function refusedPayment(payers: Payers, terms: PaymentRequired): Promise<string> {
  const payment = await payers.sign(terms);
  const authorization = { ...(payment.payload.authorization as object), nonce: generatePrivateKey() };
  return encodePaymentSignatureHeader({ ...payment, payload: { ...payment.payload, authorization } });
}

/** Paid 200s per payTo over the whole run (warm-ups included): each must be one transfer on chain. */
export class PaidLedger {
  private readonly byPayTo = new Map<string, number>();
  add(payTo: string, result: LoadResult): void {
    this.count(payTo, result.statuses['200'] ?? 0);
  }
  count(payTo: string, paid: number): void {
    const key = payTo.toLowerCase();
    this.byPayTo.set(key, (this.byPayTo.get(key) ?? 0) + paid);
  }
  entries(): Array<[string, number]> {
    return [...this.byPayTo.entries()];
  }
}

/** What a bench section gets. */
export interface Bench {
  /** The local edge, origin and config; its own chain and facilitator stay idle (the sides use {@link services}). */
  readonly stack: Omit<LocalStack, 'chain' | 'facilitator'>;
  /** The chain and the facilitator both sides use, in their own process (bench/services-process.ts). */
  readonly services: BenchServices;
  /** The processes besides this one that serve the sides (dynalite, chain + facilitator), by name: profiled and their CPU time counted. */
  readonly processes: Readonly<Record<string, ChildProcess>>;
  readonly loader: Loader;
  readonly payers: Payers;
  readonly ledger: PaidLedger;
  readonly timer: EdgeTimer;
  /** Where the local edge's functions run (in this process by default; see {@link EdgeRouter}). */
  readonly router: EdgeRouter;
  /** With `--cpu-profile`: every load run is profiled. */
  readonly profiles?: RunProfiles;
  say(line: string): void;
  /** The side's 402 terms (fetched once per side URL). */
  terms(side: Side): Promise<PaymentRequired>;
  /** `amount` paid requests at `connections`, each with its own authorization signed just before (valid for maxTimeoutSeconds); counted in the ledger. */
  paid(side: Side, amount: number, connections: number, job?: Partial<Omit<LoadJob, 'id'>>): Promise<CpuMeasured<LoadResult>>;
  /** `amount` metered (upto) requests to {@link METERED_PATH} at `connections`, each with its own Permit2 maximum signed just before (not in the ledger: no EIP-3009 transfer). */
  metered(side: Side, amount: number, connections: number): Promise<LoadResult>;
  /** A pass of {@link BENCH_PASS} for the side, bought once with an official-client payment (counted in the ledger). */
  pass(side: Side): Promise<string>;
  /** Claims every batch-settlement channel of the side with served vouchers not yet claimed, then settles to its payTo (ours: lambda/batch-claims' run; the peer: the official channel manager). */
  claimBatches(side: Side): Promise<BatchClaims>;
}

/** A run and the CPU time each serving process spent on it (ms per response; the load generator's excluded). */
export type CpuMeasured<T extends LoadResult> = T & { readonly cpuMsPerResponse: Readonly<Record<string, number>> };

/** Runs `run` and adds the CPU time this process and `processes` used meanwhile, per response: unlike wall time, robust to other work on the machine. */
export async function measuringCpu<T extends LoadResult>(processes: Readonly<Record<string, ChildProcess>>, run: () => Promise<T>): Promise<CpuMeasured<T>> {
  const before = await cpuMicrosByProcess(processes);
  const result = await run();
  const after = await cpuMicrosByProcess(processes);
  const perResponse = Object.fromEntries(Object.entries(after).map(([name, us]) => [name, (us - before[name]!) / 1000 / Math.max(1, result.requests)]));
  return { ...result, cpuMsPerResponse: perResponse };
}

export function createBench(parts: Omit<Bench, 'terms' | 'paid' | 'metered' | 'pass'>): Bench {
  const terms = new Map<string, Promise<PaymentRequired>>();
  const passes = new Map<string, Promise<string>>();
  /** The 402's terms of one path of a side, asked once. */
  const termsAt = (url: string, path: string) => {
    let found = terms.get(url + path);
    if (!found) terms.set(url + path, (found = challengeTerms(url, path)));
    return found;
  };
  const bench: Bench = {
    ...parts,
    terms: (side) => termsAt(side.url, PRICED_PATH),
    async paid(side, amount, connections, job = {}) {
      const values = await parts.payers.signMany(await bench.terms(side), amount);
      const run = () => measuringCpu(parts.processes, () => parts.loader.run({
        connections,
        headers: AGENT_HEADERS,
        url: side.url,
        path: PRICED_PATH,
        amount,
        perRequestHeader: { name: 'payment-signature', values },
        expectStatus: 200,
        ...job,
      }));
      const result = parts.profiles ? await parts.profiles.around(`${side.name} c=${connections}`, run) : await run();
      parts.ledger.add(side.payTo, result);
      return result;
    },
    async metered(side, amount, connections) {
      const values = await parts.payers.signMany(await termsAt(side.url, METERED_PATH), amount);
      return parts.loader.run({ connections, headers: AGENT_HEADERS, url: side.url, path: METERED_PATH, amount, perRequestHeader: { name: 'payment-signature', values }, expectStatus: 200 });
    },
    pass(side) {
      let found = passes.get(side.url);
      if (!found) {
        passes.set(side.url, (found = buyPass(side, parts.payers)));
        found.then(() => parts.ledger.count(side.payTo, 1), () => passes.delete(side.url));
      }
      return found;
    },
  };
  return bench;
}

async function buyPass(side: Side, payers: Payers): Promise<string> {
  const url = `${side.url}/.well-known/x402/pass/${BENCH_PASS.name}`;
  const challenge = await fetch(url, { headers: AGENT_HEADERS });
  await challenge.arrayBuffer();
  const terms = decodePaymentRequiredHeader(challenge.headers.get('payment-required') ?? '');
  const bought = await fetch(url, { headers: { ...AGENT_HEADERS, 'payment-signature': encodePaymentSignatureHeader(await payers.sign(terms)) } });
  const body = (await bought.json()) as { pass?: string };
  if (bought.status !== 200 || !body.pass) throw new Error(`${url}: buying a pass answered ${bought.status} ${JSON.stringify(body)}`);
  return body.pass;
}

/** The 402's terms at `path` of `url`. */
export async function challengeTerms(url: string, path: string): Promise<PaymentRequired> {
  const response = await fetch(`${url}${path}`, { headers: AGENT_HEADERS });
  await response.arrayBuffer();
  const header = response.headers.get('payment-required');
  if (response.status !== 402 || !header) throw new Error(`${url}${path}: expected a 402 with PAYMENT-REQUIRED, got ${response.status}`);
  return decodePaymentRequiredHeader(header);
}

/** Serves an app on 127.0.0.1 (random port). */
export async function listen(app: RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
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

/** dynalite in its own process (bench/dynamo-process.ts): DynamoDB is remote for Lambda@Edge. */
export function startDynamoProcess(): Promise<{ child: ChildProcess; endpoint: string }> {
  const child = fork(path.join(__dirname, 'dynamo-process.ts'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('message', (message: { endpoint: string }) => resolve({ child, endpoint: message.endpoint }));
    child.once('exit', (code) => reject(new Error(`dynalite process exited (${code})`)));
  });
}
