/**
 * Inside one Lambda container (a worker thread, see lambda-container.ts): the Node.js runtime's
 * part. Loads the function's bundle once (the init phase of a cold start), then runs one
 * invocation at a time with the event as JSON and a Lambda `context`, and sends every console
 * line to the host as Lambda sends it to CloudWatch Logs. Bundled on its own by esbuild; imports
 * nothing but Node built-ins.
 */
import { createRequire } from 'node:module';
import { format } from 'node:util';
import { parentPort, workerData } from 'node:worker_threads';
import type { ContainerInit, FromContainer, ToContainer } from './lambda-container';

const init = workerData as ContainerInit;
const port = parentPort!;
const send = (message: FromContainer) => port.postMessage(message);

// Lambda's runtime captures the console; so does this one, in the order lines are written.
for (const level of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) {
  console[level] = (...args: unknown[]) => send({ type: 'log', line: format(...args) });
}

type Handler = (event: unknown, context: unknown, callback?: (error: unknown, result?: unknown) => void) => unknown;

// Init: the Node.js runtime's error types when the module or its handler cannot be loaded.
let handler: Handler | undefined;
try {
  const [, exportName = 'handler'] = init.handler.split('.');
  const loaded = createRequire(init.codePath)(init.codePath) as Record<string, unknown>;
  if (typeof loaded[exportName] === 'function') {
    handler = loaded[exportName] as Handler;
    send({ type: 'ready' });
  } else {
    send({ type: 'init-error', error: `Runtime.HandlerNotFound: ${init.handler} is undefined or not exported` });
  }
} catch (error) {
  send({ type: 'init-error', error: `Runtime.ImportModuleError: ${describe(error)}` });
}

port.on('message', (message: ToContainer) => {
  const context = {
    functionName: init.functionName,
    functionVersion: '1',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${init.functionName}:1`,
    memoryLimitInMB: String(init.memoryMb),
    awsRequestId: message.requestId,
    logGroupName: `/aws/lambda/us-east-1.${init.functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, message.deadline - Date.now()),
  };
  // Async handlers resolve; callback-style ones call back (the Node.js 22 runtime supports both).
  new Promise<unknown>((resolve, reject) => {
    const returned = handler!(JSON.parse(message.event), context, (error, result) => (error ? reject(error) : resolve(result)));
    if (returned && typeof (returned as Promise<unknown>).then === 'function') (returned as Promise<unknown>).then(resolve, reject);
  }).then(
    (value) => send({ type: 'result', id: message.id, ok: true, value: JSON.stringify(value) ?? 'null' }),
    (error: unknown) => send({ type: 'result', id: message.id, ok: false, error: describe(error) }),
  );
});

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
