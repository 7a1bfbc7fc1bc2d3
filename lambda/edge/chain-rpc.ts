import type * as Http from 'node:http';
import type { ChainPort, ContractCall } from '../core/ports';

/** JSON-RPC error code of an execution revert (EIP-1474 as geth, anvil and Hardhat answer eth_call). */
const EXECUTION_REVERTED = 3;
/** Idle kept-alive connections are closed after this long. */
const IDLE_SOCKET_MS = 4_000;

/** A JSON-RPC answer, as far as the port reads it. */
interface RpcAnswer {
  readonly result?: unknown;
  readonly error?: { readonly code?: unknown; readonly message?: unknown };
}

/**
 * The chain port over plain JSON-RPC: one POST per call on a kept-alive connection (node:http,
 * a third of `fetch`'s CPU per call, which a 128 MB viewer trigger pays at 1/14 of a core),
 * bounded by its deadline, reading the body included. Anything but the expected answer is an
 * error, which the paywall treats as "don't know".
 */
export function jsonRpcChain(url: string): ChainPort {
  const target = new URL(url);
  // Loaded on the first call, not at init: most containers (free requests, 402s) never make one.
  // One connection pool per endpoint; idle sockets do not keep the process (or a test) alive, and
  // are closed after 4 s (as fetch does), before servers' usual 5 s keep-alive timeout.
  let transport: Promise<{ readonly request: typeof Http.request; readonly agent: Http.Agent }> | undefined;
  const connections = () =>
    (transport ??= (target.protocol === 'https:' ? import('node:https') : import('node:http')).then((loaded: Pick<typeof Http, 'request' | 'Agent'>) => ({
      request: loaded.request,
      agent: new loaded.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
    })));

  function request(method: string, params: unknown[], timeoutMs: number): Promise<RpcAnswer> {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method, params });
    const deadline = Date.now() + timeoutMs;
    return post(method, body, deadline).catch((error: NodeJS.ErrnoException & { reusedSocket?: boolean }) => {
      // A kept-alive connection the server closed just as it was reused (the agent drops it): these
      // calls only read, so they are sent once more, within what is left of the deadline.
      if (!error.reusedSocket || error.code !== 'ECONNRESET') throw error;
      return post(method, body, deadline);
    });
  }

  /** One POST, answered in full by `deadline` (epoch ms). */
  async function post(method: string, body: string, deadline: number): Promise<RpcAnswer> {
    const { request, agent } = await connections();
    return new Promise((resolve, reject) => {
      const sent = request(target, {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      }, (response) => {
        if (response.statusCode === undefined || response.statusCode < 200 || response.statusCode > 299) {
          response.resume();
          return fail(new Error(`${method}: HTTP ${response.statusCode}`));
        }
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          clearTimeout(timer);
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as RpcAnswer);
          } catch (error) {
            reject(new Error(`${method}: the answer is not JSON (${String(error)})`));
          }
        });
      });
      // Covers connecting, sending and reading the whole answer.
      const timer = setTimeout(() => {
        const error = new Error(`${method}: no answer by the deadline`);
        sent.destroy(error);
        reject(error);
      }, Math.max(1, Math.floor(deadline - Date.now())));
      function fail(error: Error) {
        clearTimeout(timer);
        sent.destroy();
        reject(error);
      }
      sent.on('error', (error: NodeJS.ErrnoException & { reusedSocket?: boolean }) => fail(Object.assign(error, { reusedSocket: sent.reusedSocket })));
      sent.end(body);
    });
  }
  const isHexData = (value: unknown): value is string => typeof value === 'string' && /^0x(?:[0-9a-fA-F]{2})*$/.test(value);

  return {
    async hasCode(address, timeoutMs) {
      const answer = await request('eth_getCode', [address, 'latest'], timeoutMs);
      if (!isHexData(answer.result)) {
        throw new Error(`eth_getCode: ${answer.error ? `error ${String(answer.error.message)}` : 'no hex result'}`);
      }
      return answer.result !== '0x';
    },
    async call(to, data, timeoutMs): Promise<ContractCall> {
      const answer = await request('eth_call', [{ to, data }, 'latest'], timeoutMs);
      if (isHexData(answer.result)) return { kind: 'returned' };
      const message = typeof answer.error?.message === 'string' ? answer.error.message : '';
      // Only a revert is a verdict on the call; any other error says nothing about it.
      if (answer.error?.code === EXECUTION_REVERTED || /revert/i.test(message)) return { kind: 'reverted', message };
      throw new Error(`eth_call: ${answer.error ? `error ${message}` : 'no hex result'}`);
    },
  };
}
