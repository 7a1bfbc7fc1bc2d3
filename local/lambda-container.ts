/**
 * Lambda containers for the local edge. Each function gets a small pool of `worker_threads`
 * Workers, each loading the function's bundle file as deployed (a cold start) and running one
 * invocation at a time, as a Lambda execution environment does. At the function's timeout the
 * worker is terminated: the invocation ends there, and none of its later I/O ever happens (the
 * next invocation gets a fresh worker, another cold start).
 *
 * Not modelled: freezing a warm container between invocations (its background timers keep
 * running), memory limits, the separate 10 s init timeout, concurrency quotas (invocations beyond
 * `maxContainers` wait for a free container instead of being throttled).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { bundleEntry } from '../scripts/build-bundles';

/** What a container is started with (the worker's `workerData`). */
export interface ContainerInit {
  /** Absolute path of the CommonJS bundle. */
  readonly codePath: string;
  /** `file.export`, as in the function's Handler setting; only the export name is used. */
  readonly handler: string;
  readonly functionName: string;
  readonly memoryMb: number;
}

/** Host → container. */
export interface ToContainer {
  readonly id: number;
  /** The event as JSON, as the Lambda service delivers it. */
  readonly event: string;
  /** Epoch ms when the invocation times out (for `context.getRemainingTimeInMillis()`). */
  readonly deadline: number;
  readonly requestId: string;
}

/** Container → host. */
export type FromContainer =
  | { readonly type: 'ready' }
  /** `Runtime.<ErrorType>: message`, as Lambda reports it. */
  | { readonly type: 'init-error'; readonly error: string }
  | { readonly type: 'log'; readonly line: string }
  | { readonly type: 'result'; readonly id: number; readonly ok: true; readonly value: string }
  | { readonly type: 'result'; readonly id: number; readonly ok: false; readonly error: string };

/** The outcome of one invocation: the handler's result (through JSON), or why there is none. */
export type Invocation =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: string; readonly timedOut: boolean };

/** What the local edge needs of a Lambda@Edge function. */
export interface EdgeFunctionRuntime {
  invoke(event: unknown, requestId: string): Promise<Invocation>;
  close(): Promise<void>;
}

/** A function in Lambda containers. */
export interface LambdaFunction extends EdgeFunctionRuntime {
  /** Containers started so far (each one a cold start). */
  readonly coldStarts: number;
  /**
   * Starts containers up to the limit and waits for their init, so that a burst of invocations
   * meets warm containers as a busy function's does. On this one machine the cold starts would
   * otherwise take CPU from the invocations already running, and from everything they call.
   */
  warm(): Promise<void>;
}

export interface LambdaFunctionOptions {
  readonly functionName: string;
  /** Absolute path of the bundle, e.g. from {@link writeLambdaCode}. */
  readonly codePath: string;
  /** The function's Handler setting. @default 'index.handler' */
  readonly handler?: string;
  readonly timeoutMs: number;
  /** @default 128 */
  readonly memoryMb?: number;
  /** Containers running at once; further invocations wait for one. @default 8 */
  readonly maxContainers?: number;
  /** The container's whole environment (Lambda gives a function only its own variables). @default Lambda's reserved variables */
  readonly env?: Readonly<Record<string, string>>;
  /** Every line the function writes to the console. @default dropped */
  readonly onLog?: (line: string) => void;
}

/** Where the local edge writes the code its containers load: inside the repo, so `@aws-sdk/*` externals resolve from node_modules. */
export const LAMBDA_CODE_DIR = path.join(__dirname, '..', '.local', 'lambda');

/** Writes a bundle under {@link LAMBDA_CODE_DIR}, named by its content, and returns the path. */
export function writeLambdaCode(name: string, code: Uint8Array): string {
  mkdirSync(LAMBDA_CODE_DIR, { recursive: true });
  const file = path.join(LAMBDA_CODE_DIR, `${name}-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.js`);
  // Other processes may write the same file: write aside, then rename (atomic).
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temp, code);
  renameSync(temp, file);
  return file;
}

export function removeLambdaCode(file: string): void {
  rmSync(file, { force: true });
}

let runtimePath: string | undefined;
/** The container's runtime (lambda-runtime.ts), bundled once per process. */
function lambdaRuntime(): string {
  runtimePath ??= writeLambdaCode('lambda-runtime', bundleEntry(path.join(__dirname, 'lambda-runtime.ts'), { platform: 'node', target: 'node20', format: 'cjs', minify: false, external: [] }).code);
  return runtimePath;
}

/** A Lambda function: a pool of containers running its bundle. */
export function lambdaFunction(options: LambdaFunctionOptions): LambdaFunction {
  const maxContainers = options.maxContainers ?? 8;
  const memoryMb = options.memoryMb ?? 128;
  const init: ContainerInit = { codePath: options.codePath, handler: options.handler ?? 'index.handler', functionName: options.functionName, memoryMb };
  const env = options.env ?? lambdaEnvironment(options.functionName, memoryMb);
  const idle: Container[] = [];
  const waiting: Array<(container: Container) => void> = [];
  const all = new Set<Container>();
  let coldStarts = 0;
  let nextId = 0;
  let closed = false;

  const start = (): Container => {
    coldStarts++;
    const container = new Container(new Worker(lambdaRuntime(), { workerData: init, env, stdout: false, stderr: false }), options.onLog);
    all.add(container);
    return container;
  };
  const acquire = (): Promise<Container> => {
    const ready = idle.pop();
    if (ready) return Promise.resolve(ready);
    if (all.size < maxContainers) return Promise.resolve(start());
    return new Promise((resolve) => waiting.push(resolve));
  };
  const release = (container: Container) => {
    const next = waiting.shift();
    if (next) next(container);
    else idle.push(container);
  };
  const discard = (container: Container) => {
    all.delete(container);
    void container.kill();
    const next = waiting.shift();
    if (next && !closed) next(start());
  };

  return {
    get coldStarts() {
      return coldStarts;
    },
    async warm() {
      while (!closed && all.size < maxContainers) release(start());
      await Promise.all([...all].map((c) => c.ready));
    },
    async invoke(event, requestId) {
      if (closed) return { ok: false, error: 'the function is closed', timedOut: false };
      const container = await acquire();
      const initError = await container.ready;
      if (initError !== undefined) {
        discard(container);
        return { ok: false, error: initError, timedOut: false };
      }
      // The timeout starts with the invocation (the init phase of a cold start has its own limit).
      const deadline = Date.now() + options.timeoutMs;
      const outcome = await container.run({ id: nextId++, event: JSON.stringify(event), deadline, requestId }, options.timeoutMs);
      if (outcome.ok || outcome.reusable) release(container);
      else discard(container);
      return outcome.ok ? { ok: true, value: outcome.value } : { ok: false, error: outcome.error, timedOut: outcome.timedOut };
    },
    async close() {
      closed = true;
      await Promise.all([...all].map((c) => c.kill()));
      all.clear();
      idle.length = 0;
    },
  };
}

/** The variables Lambda sets for a Node.js function (credentials are the function role's; here: dynalite's fake ones). */
export function lambdaEnvironment(functionName: string, memoryMb: number, credentials = { accessKeyId: 'local', secretAccessKey: 'local' }): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x',
    AWS_LAMBDA_FUNCTION_NAME: functionName,
    AWS_LAMBDA_FUNCTION_VERSION: '1',
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    // Lambda runs Node 22; this machine's Node 20 only makes the SDK warn about its future support.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    TZ: 'UTC',
  };
}

type RunOutcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: string; readonly timedOut: boolean; readonly reusable: boolean };

/** One worker: init, then one invocation at a time. */
class Container {
  /** Resolves when init is done: undefined, or the init error. */
  readonly ready: Promise<string | undefined>;
  private current: { readonly id: number; settle(outcome: RunOutcome): void } | undefined;
  private crashed: string | undefined;

  constructor(private readonly worker: Worker, onLog: ((line: string) => void) | undefined) {
    let initDone: (error: string | undefined) => void = () => undefined;
    this.ready = new Promise((resolve) => (initDone = resolve));
    worker.on('message', (message: FromContainer) => {
      if (message.type === 'log') onLog?.(message.line);
      else if (message.type === 'ready') initDone(undefined);
      else if (message.type === 'init-error') initDone(message.error);
      else if (message.id === this.current?.id) {
        this.current.settle(message.ok ? { ok: true, value: JSON.parse(message.value) } : { ok: false, error: message.error, timedOut: false, reusable: true });
      }
    });
    // An uncaught exception or a rejection nobody handled ends the runtime process, as in Lambda.
    const crash = (why: string) => {
      this.crashed ??= why;
      initDone(`Runtime.ExitError: ${why}`);
      this.current?.settle({ ok: false, error: `Runtime.ExitError: ${why}`, timedOut: false, reusable: false });
    };
    worker.on('error', (error) => crash(`${error.name}: ${error.message}`));
    worker.on('exit', (code) => crash(`the runtime exited with code ${code}`));
  }

  run(message: ToContainer, timeoutMs: number): Promise<RunOutcome> {
    if (this.crashed) return Promise.resolve({ ok: false, error: `Runtime.ExitError: ${this.crashed}`, timedOut: false, reusable: false });
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        // Kill first: nothing the handler scheduled after its deadline may still run.
        void this.kill();
        settle({ ok: false, error: `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`, timedOut: true, reusable: false });
      }, timeoutMs);
      const settle = (outcome: RunOutcome) => {
        if (this.current?.id !== message.id) return;
        clearTimeout(timer);
        this.current = undefined;
        resolve(outcome);
      };
      this.current = { id: message.id, settle };
      this.worker.postMessage(message);
    });
  }

  kill(): Promise<number> {
    this.crashed ??= 'terminated';
    return this.worker.terminate();
  }
}

/**
 * Measurement only (bench/): a handler run in this process, the event and result copied by JSON's
 * rules ({@link jsonCopy}). Nothing isolates it, and its timeout does not end it (its later I/O
 * still happens); the local edge uses {@link lambdaFunction} everywhere else.
 */
export function inProcessFunction(handler: (event: never) => Promise<unknown>, timeoutMs: number): EdgeFunctionRuntime {
  return {
    async invoke(event) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<Invocation>((resolve) => {
        timer = setTimeout(() => resolve({ ok: false, error: `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`, timedOut: true }), timeoutMs);
      });
      const run = Promise.resolve()
        .then(() => handler(jsonCopy(event) as never))
        .then((value): Invocation => ({ ok: true, value: jsonCopy(value) }))
        .catch((error: unknown): Invocation => ({ ok: false, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error), timedOut: false }));
      try {
        return await Promise.race([run, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    close: async () => undefined,
  };
}

/** Nesting beyond which {@link jsonCopy} leaves the rest to JSON itself (which also refuses cycles). */
const JSON_COPY_MAX_DEPTH = 64;

/**
 * `JSON.parse(JSON.stringify(value) ?? 'null')`, as an event or a result crosses Lambda's JSON
 * boundary, for a tenth of its CPU: plain objects, arrays and primitives are copied directly
 * (undefined, functions and symbols dropped from objects and nulled in arrays, non-finite numbers
 * nulled); anything else (toJSON, class instances, bigints, cycles) goes through JSON itself.
 */
export function jsonCopy(value: unknown, depth = 0): unknown {
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value + 0 : null; // -0 → 0, as JSON writes it
  if (typeof value !== 'object' || depth > JSON_COPY_MAX_DEPTH) return throughJson(value);
  if (Array.isArray(value)) {
    const copy: unknown[] = new Array(value.length);
    for (let i = 0; i < value.length; i++) copy[i] = omittedByJson(value[i]) ? null : jsonCopy(value[i], depth + 1);
    return copy;
  }
  const prototype = Object.getPrototypeOf(value) as unknown;
  if ((prototype !== Object.prototype && prototype !== null) || typeof (value as { toJSON?: unknown }).toJSON === 'function') return throughJson(value);
  const copy: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const field = (value as Record<string, unknown>)[key];
    if (omittedByJson(field)) continue;
    // An own "__proto__" (a header of that name, say) stays a property, as JSON.parse makes it.
    if (key === '__proto__') Object.defineProperty(copy, key, { value: jsonCopy(field, depth + 1), enumerable: true, writable: true, configurable: true });
    else copy[key] = jsonCopy(field, depth + 1);
  }
  return copy;
}

const omittedByJson = (value: unknown) => value === undefined || typeof value === 'function' || typeof value === 'symbol';
const throughJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value) ?? 'null');
