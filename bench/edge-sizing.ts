/**
 * Edge CPU sizing: the deployed viewer-request and origin-response bundles, each memory size in
 * turn, each function in a process of its own (bench/quota-host.ts) held to Lambda's CPU share for
 * that size by a cgroup quota (bench/cpu-quota.ts), while the local edge sends them paid and
 * refused requests one at a time. Per invocation: wall time (what Lambda@Edge bills) and the
 * process's CPU time; per size, each bundle's cold init under the same quota.
 *
 * Where no cgroup can be created (not root, no cpu controller) the quota is not enforced: the
 * figures are then the unthrottled ones, marked so, and the report's estimate from CPU time is the
 * column to read.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import type { EdgeConfig } from '../lambda/core/config';
import { buildSync } from 'esbuild';
import type { EdgeBundleName } from '../lib/prebuilt-bundle';
import { edgeBundle } from '../local/bundle-edge';
import { LOCAL_DYNAMO_CREDENTIALS } from '../local/dynamo';
import { lambdaEnvironment, removeLambdaCode, writeLambdaCode } from '../local/lambda-container';
import { cgroupCpu, cpuShareFor, createCpuQuota, type CgroupCpu, type CpuQuota } from './cpu-quota';
import { AGENT_HEADERS, PRICED_PATH, refusedPayment, type Bench, type Side } from './harness';
import type { FromHost, HostEntry, Timed, ToHost } from './quota-host';
import { medianOf } from './sizing-cost';

/** The paid path's two functions. */
export type SizedEntry = 'viewerRequest' | 'originResponse';

/** What a paid request and a refused one invoke, per handler. */
export type SizedCall = 'viewerRequestPaid' | 'originResponsePaid' | 'viewerRequestRefused';

export interface SizingRun {
  readonly memoryMb: number;
  readonly cpuShare: number;
  /** How the share was enforced, or why it was not. */
  readonly quota: string;
  readonly enforced: boolean;
  /** Loading each function's bundle in its fresh process under the quota. */
  readonly init: Record<SizedEntry, Timed>;
  /** Each function's process: the largest resident memory seen (what the size must hold). */
  readonly peakRssMb: Record<SizedEntry, number>;
  readonly calls: Record<SizedCall, Timed[]>;
}

export interface SizingReport {
  readonly cgroup: string;
  readonly runs: SizingRun[];
}

export interface SizingSettings {
  readonly memoryMb: readonly number[];
  readonly paidRequests: number;
  readonly refusedRequests: number;
}

// Every entry, as the distribution may associate any of them; the report shows the paid path's two.
const ENTRIES: readonly HostEntry[] = ['viewerRequest', 'originRequest', 'originResponse'];
const BUNDLE_OF = { viewerRequest: 'viewer-request', originRequest: 'origin-request', originResponse: 'origin-response' } as const satisfies Record<HostEntry, EdgeBundleName>;

export async function runEdgeSizing(bench: Bench, ours: Side, config: EdgeConfig, settings: SizingSettings): Promise<SizingReport> {
  const cgroup = cgroupCpu();
  const files = Object.fromEntries(ENTRIES.map((entry) => [entry, writeLambdaCode(`sizing-${entry}`, edgeBundle(BUNDLE_OF[entry], config).code)])) as Record<HostEntry, string>;
  const hostFile = writeLambdaCode('quota-host', Buffer.from(buildSync({ entryPoints: [path.join(__dirname, 'quota-host.ts')], bundle: true, platform: 'node', target: 'node20', format: 'cjs', write: false, logLevel: 'silent' }).outputFiles[0].contents));
  const refused = await refusedPayment(bench.payers, await bench.terms(ours));
  const runs: SizingRun[] = [];
  try {
    for (const memoryMb of settings.memoryMb) {
      // One function, one execution environment with its own quota: as on Lambda@Edge.
      const hosts: Partial<Record<HostEntry, QuotaHost>> = {};
      try {
        for (const entry of ENTRIES) hosts[entry] = await startQuotaHost(hostFile, entry, files[entry], memoryMb, cgroup);
        const host = (entry: HostEntry) => hosts[entry]!;
        bench.router.use({ viewerRequest: host('viewerRequest').invoke, originRequest: host('originRequest').invoke, originResponse: host('originResponse').invoke });
        const drain = (entry: HostEntry) => host(entry).calls.splice(0);
        // The first requests open connections and warm the JIT, as a container's first invocations do.
        await bench.paid(ours, 3, 1);
        for (const entry of ENTRIES) drain(entry);
        await bench.paid(ours, settings.paidRequests, 1);
        const paid = { viewerRequest: drain('viewerRequest'), originResponse: drain('originResponse') };
        await bench.loader.run({ url: ours.url, path: PRICED_PATH, headers: { ...AGENT_HEADERS, 'payment-signature': refused }, connections: 1, amount: settings.refusedRequests, expectStatus: 402 });
        const refusals = drain('viewerRequest');
        const viewer = host('viewerRequest');
        runs.push({
          memoryMb,
          cpuShare: cpuShareFor(memoryMb),
          quota: viewer.quota?.description ?? `not enforced: ${viewer.quotaError}`,
          enforced: viewer.quota !== undefined,
          init: { viewerRequest: viewer.init, originResponse: host('originResponse').init },
          peakRssMb: { viewerRequest: viewer.peakRssMb(), originResponse: host('originResponse').peakRssMb() },
          calls: { viewerRequestPaid: paid.viewerRequest, originResponsePaid: paid.originResponse, viewerRequestRefused: refusals },
        });
        bench.say(`  ${String(memoryMb).padStart(4)} MB (${viewer.quota ? 'quota' : 'no quota'}): viewer-request paid p50 ${median(paid.viewerRequest).toFixed(1)} ms, origin-response p50 ${median(paid.originResponse).toFixed(1)} ms, refused p50 ${median(refusals).toFixed(1)} ms`);
      } finally {
        bench.router.use();
        for (const h of Object.values(hosts)) await h.close();
      }
    }
  } finally {
    for (const file of [...Object.values(files), hostFile]) removeLambdaCode(file);
  }
  return { cgroup: cgroup.kind === 'none' ? `none (${cgroup.reason})` : `cgroup ${cgroup.kind} at ${cgroup.root}`, runs };
}

const median = (timed: readonly Timed[]) => medianOf(timed.map((t) => t.wallMs));

interface QuotaHost {
  /** The function's handler, run in the host. */
  readonly invoke: (event: never, context?: { getRemainingTimeInMillis(): number }) => Promise<never>;
  readonly init: Timed;
  readonly quota: CpuQuota | undefined;
  readonly quotaError: string | undefined;
  peakRssMb(): number;
  /** Every invocation since start (or since the caller emptied it). */
  readonly calls: Timed[];
  close(): Promise<void>;
}

/** The trigger's timeout, as the function's remaining time when invoked outside Lambda. */
const TIMEOUT_MS: Record<HostEntry, number> = { viewerRequest: 5_000, originRequest: 30_000, originResponse: 30_000 };

async function startQuotaHost(hostFile: string, entry: HostEntry, file: string, memoryMb: number, cgroup: CgroupCpu): Promise<QuotaHost> {
  const child: ChildProcess = fork(hostFile, [], {
    execArgv: [],
    env: { ...process.env, NODE_OPTIONS: '', ...lambdaEnvironment(`sizing-${entry}-${memoryMb}`, memoryMb, LOCAL_DYNAMO_CREDENTIALS) },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const waiting = new Map<number, (message: Extract<FromHost, { type: 'result' }>) => void>();
  let onLoaded: ((init: Timed) => void) | undefined;
  let peakRss = 0;
  const ready = new Promise<void>((resolve, reject) => {
    child.on('message', (message: FromHost) => {
      if (message.type === 'ready') return resolve();
      peakRss = Math.max(peakRss, message.rssMb);
      if (message.type === 'loaded') onLoaded?.(message.init[entry]!);
      else {
        waiting.get(message.id)?.(message);
        waiting.delete(message.id);
      }
    });
    child.once('exit', (code) => reject(new Error(`the sizing host exited (${code})`)));
  });
  const send = (message: ToHost) => child.send(message);
  let quota: CpuQuota | undefined;
  let quotaError: string | undefined;
  try {
    await ready;
    // Under the quota before init, so the cold start is measured at the size's CPU share.
    try {
      quota = createCpuQuota(`cdk-x402-bench-${process.pid}-${entry}-${memoryMb}mb`, cpuShareFor(memoryMb), cgroup);
      quota.add(child.pid!);
    } catch (error) {
      quota?.remove();
      quota = undefined;
      quotaError = error instanceof Error ? error.message : String(error);
    }
    const init = await new Promise<Timed>((resolve) => {
      onLoaded = resolve;
      send({ type: 'load', files: { [entry]: file } });
    });
    const calls: Timed[] = [];
    let nextId = 0;
    return {
      async invoke(event, context) {
        const id = nextId++;
        const answer = await new Promise<Extract<FromHost, { type: 'result' }>>((resolve) => {
          waiting.set(id, resolve);
          send({ type: 'invoke', id, entry, event: JSON.stringify(event), remainingMs: context?.getRemainingTimeInMillis() ?? TIMEOUT_MS[entry] });
        });
        calls.push(answer.timed);
        if (!answer.ok) throw new Error(answer.value);
        return JSON.parse(answer.value) as never;
      },
      init,
      quota,
      quotaError,
      peakRssMb: () => peakRss,
      calls,
      async close() {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill();
        await exited;
        quota?.remove();
      },
    };
  } catch (error) {
    child.kill();
    quota?.remove();
    throw error;
  }
}
