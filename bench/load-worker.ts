/**
 * The load generator, in its own process so it does not share an event loop with the servers it
 * measures. It runs autocannon (programmatic API) jobs sent by bench/run.ts over IPC.
 *
 * Paid requests need a fresh payment per request. autocannon rebuilds a request for every send
 * when it has a `setupRequest` function, so each send takes the next pre-signed header from a
 * shared pool (one pool for all connections; a request built when the pool is empty carries no
 * payment and is counted as an unexpected status).
 * Latencies are taken from autocannon's per-response event (floating-point milliseconds) rather
 * than its histogram, which rounds to whole milliseconds.
 *
 * Throughput is responses ÷ the time from the first request sent to the last response received.
 * autocannon itself only notices that a fixed-count job is done on its 1 s tick, so its own
 * duration (kept as `wallSeconds`) is a whole number of seconds plus a few ms.
 */
import autocannon from 'autocannon';
import { epochMs } from '../local/delay-proxy';

export interface LoadJob {
  readonly id: number;
  readonly url: string;
  readonly path: string;
  readonly method?: 'GET' | 'HEAD';
  readonly headers: Record<string, string>;
  /** One value of this header per request, in order (e.g. pre-signed `payment-signature` values). */
  readonly perRequestHeader?: { readonly name: string; readonly values: readonly string[] };
  /** Each request its own path (`<path>-<n>`): a cache miss every time, whatever the side caches. */
  readonly distinctPaths?: boolean;
  readonly connections: number;
  /** Seconds; or `amount` requests. */
  readonly durationSeconds?: number;
  readonly amount?: number;
  readonly expectStatus: number;
  /** Return each request's [sent, received] in epoch ms (to attribute work logged elsewhere to it). */
  readonly recordWindows?: boolean;
}

export interface LoadResult {
  readonly requests: number;
  /** From the first request sent to the last response received. */
  readonly seconds: number;
  /** requests ÷ seconds. */
  readonly rps: number;
  /** The job as autocannon ran it, start to done (fixed-count jobs end on its 1 s tick). */
  readonly wallSeconds: number;
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
  readonly statuses: Record<string, number>;
  readonly unexpected: number;
  readonly errors: number;
  /** With `recordWindows`: each response's [sent, received], epoch ms, in order of arrival. */
  readonly windows?: ReadonlyArray<readonly [number, number]>;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

async function run(job: LoadJob): Promise<LoadResult> {
  const latencies: number[] = [];
  const windows: Array<[number, number]> = [];
  let firstSent = Infinity;
  let lastReceived = -Infinity;
  const statuses: Record<string, number> = {};
  let next = 0;
  const pool = job.perRequestHeader;
  const request: autocannon.Request = {
    method: job.method ?? 'GET',
    path: job.path,
    headers: job.headers,
    ...(pool || job.distinctPaths
      ? {
          setupRequest: (req: autocannon.Request) => {
            const n = next++;
            const value = pool?.values[n];
            return {
              ...req,
              ...(job.distinctPaths ? { path: `${job.path}-${n}` } : {}),
              headers: value === undefined ? job.headers : { ...job.headers, [pool!.name]: value },
            };
          },
        }
      : {}),
  };
  const started = process.hrtime.bigint();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: job.url,
        connections: job.connections,
        ...(job.amount !== undefined ? { amount: job.amount } : { duration: job.durationSeconds ?? 5 }),
        requests: [request],
        timeout: 30,
      },
      (error, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      const received = epochMs();
      const sent = received - responseTime;
      firstSent = Math.min(firstSent, sent);
      lastReceived = Math.max(lastReceived, received);
      if (job.recordWindows) windows.push([sent, received]);
      latencies.push(responseTime);
      statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    });
  });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const total = latencies.length;
  const seconds = total > 0 ? (lastReceived - firstSent) / 1000 : 0;
  return {
    requests: total,
    seconds,
    rps: seconds > 0 ? total / seconds : 0,
    wallSeconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    mean: latencies.reduce((sum, v) => sum + v, 0) / Math.max(1, total),
    statuses,
    unexpected: total - (statuses[job.expectStatus] ?? 0),
    errors: result.errors + result.timeouts,
    ...(job.recordWindows ? { windows } : {}),
  };
}

if (require.main === module) {
  process.on('message', (job: LoadJob) => {
    run(job).then(
      (result) => process.send!({ id: job.id, result }),
      (error: unknown) => process.send!({ id: job.id, error: String(error) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
