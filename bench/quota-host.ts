/**
 * A Lambda execution environment for the edge sizing bench, in a process of its own so that a CPU
 * quota (bench/cpu-quota.ts) can be put on it: it loads a function's deployed bundle (the init
 * phase of a cold start, timed) and runs one invocation at a time, as the Lambda runtime calls a handler,
 * timing each: wall time (what Lambda bills) and CPU time of this process.
 *
 * The parent (bench/edge-sizing.ts) forks it, puts it under the quota once it is idle, then sends
 * `load` and `invoke` messages; the I/O the handlers make (DynamoDB, the facilitator) goes to
 * services outside the quota, as it goes to remote services from Lambda.
 */
import { performance } from 'node:perf_hooks';

export type HostEntry = 'viewerRequest' | 'originRequest' | 'originResponse';

export type ToHost =
  | { readonly type: 'load'; readonly files: Readonly<Partial<Record<HostEntry, string>>> }
  | { readonly type: 'invoke'; readonly id: number; readonly entry: HostEntry; readonly event: string; readonly remainingMs: number };

export interface Timed {
  readonly wallMs: number;
  readonly cpuMs: number;
}

export type FromHost =
  | { readonly type: 'ready' }
  | { readonly type: 'loaded'; readonly init: Readonly<Partial<Record<HostEntry, Timed>>>; readonly rssMb: number }
  /** `rssMb`: the process's resident memory after the invocation (what the memory size must hold). */
  | { readonly type: 'result'; readonly id: number; readonly ok: boolean; readonly value: string; readonly timed: Timed; readonly rssMb: number };

type Handler = (event: unknown, context: unknown) => Promise<unknown>;

const rssMb = () => process.memoryUsage().rss / 2 ** 20;

const cpuMsSince = (start: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};

async function timed<T>(work: () => T | Promise<T>): Promise<{ value: T; timed: Timed }> {
  const cpu = process.cpuUsage();
  const started = performance.now();
  const value = await work();
  return { value, timed: { wallMs: performance.now() - started, cpuMs: cpuMsSince(cpu) } };
}

if (require.main === module) {
  const handlers: Partial<Record<HostEntry, Handler>> = {};
  const send = (message: FromHost) => process.send!(message);
  // Lambda keeps the console; the sizing bench only needs the numbers.
  console.log = () => undefined;
  process.on('message', (message: ToHost) => {
    if (message.type === 'load') {
      void (async () => {
        const init: Partial<Record<HostEntry, Timed>> = {};
        for (const [entry, file] of Object.entries(message.files) as Array<[HostEntry, string]>) {
          const loaded = await timed(() => require(file) as { handler: Handler });
          handlers[entry] = loaded.value.handler;
          init[entry] = loaded.timed;
        }
        send({ type: 'loaded', init, rssMb: rssMb() });
      })();
      return;
    }
    const handler = handlers[message.entry];
    const deadline = Date.now() + message.remainingMs;
    const context = { getRemainingTimeInMillis: () => deadline - Date.now() };
    void timed(async () => {
      try {
        return { ok: true, value: JSON.stringify(await handler!(JSON.parse(message.event), context)) };
      } catch (error) {
        return { ok: false, value: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
      }
    }).then(({ value, timed: t }) => send({ type: 'result', id: message.id, ...value, timed: t, rssMb: rssMb() }));
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready' });
}
