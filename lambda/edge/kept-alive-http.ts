import type * as Http from 'node:http';

/** Idle kept-alive connections are closed after this long. */
const IDLE_SOCKET_MS = 4_000;

/** A whole HTTP answer: its status, headers and body (read in full). */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: Http.IncomingHttpHeaders;
  readonly body: string;
}

export interface HttpExchange {
  readonly method: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
  /** Epoch ms by which the whole answer must be in: connecting, sending and reading it. */
  readonly deadline: number;
  /**
   * Sent once more (within the deadline) when a kept-alive connection the server closed just as it
   * was reused fails it: only for calls without side effects.
   */
  readonly resendOnStaleConnection?: boolean;
}

/** The exchange's deadline passed before its whole answer was in. */
export class NoAnswerByDeadline extends Error {
  override readonly name = 'NoAnswerByDeadline';
}

/** Sends one exchange and reads its whole answer; rejects on a network error or at the deadline. */
export type HttpSend = (target: URL, exchange: HttpExchange) => Promise<HttpAnswer>;

/**
 * An HTTP(S) client on kept-alive connections over node:http (a third of `fetch`'s CPU per call,
 * which a 128 MB trigger pays at 1/14 of a core). One connection pool per protocol, loaded on the
 * first call, not at init: most containers (free requests, 402s) never make one. Idle sockets do
 * not keep the process (or a test) alive, and are closed after 4 s (as fetch does), before
 * servers' usual 5 s keep-alive timeout.
 */
export function keptAliveHttp(): HttpSend {
  const pools = new Map<string, Promise<{ readonly request: typeof Http.request; readonly agent: Http.Agent }>>();
  const pool = (protocol: string) => {
    let made = pools.get(protocol);
    if (!made) {
      made = (protocol === 'https:' ? import('node:https') : import('node:http')).then((loaded: Pick<typeof Http, 'request' | 'Agent'>) => ({
        request: loaded.request,
        agent: new loaded.Agent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
      }));
      pools.set(protocol, made);
    }
    return made;
  };

  /** One exchange on one connection. */
  async function once(target: URL, exchange: HttpExchange): Promise<HttpAnswer> {
    const { request, agent } = await pool(target.protocol);
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = { ...exchange.headers };
      if (exchange.body !== undefined) headers['content-length'] = Buffer.byteLength(exchange.body);
      const sent = request(target, { method: exchange.method, agent, headers }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      const timer = setTimeout(() => {
        const error = new NoAnswerByDeadline(`${exchange.method} ${target.pathname}: no answer by the deadline`);
        sent.destroy(error);
        reject(error);
      }, Math.max(1, Math.floor(exchange.deadline - Date.now())));
      function fail(error: Error) {
        clearTimeout(timer);
        sent.destroy();
        reject(error);
      }
      sent.on('error', (error: NodeJS.ErrnoException & { reusedSocket?: boolean }) => fail(Object.assign(error, { reusedSocket: sent.reusedSocket })));
      sent.end(exchange.body);
    });
  }

  return (target, exchange) =>
    once(target, exchange).catch((error: NodeJS.ErrnoException & { reusedSocket?: boolean }) => {
      // The agent drops the closed connection; the next attempt opens a fresh one.
      if (!exchange.resendOnStaleConnection || !error.reusedSocket || error.code !== 'ECONNRESET') throw error;
      return once(target, exchange);
    });
}
