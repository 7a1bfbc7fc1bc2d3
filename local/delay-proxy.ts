/**
 * A TCP proxy on loopback that puts a network's round-trip time between a client and a server:
 * e.g. between a Lambda@Edge in Europe or Asia and DynamoDB or a facilitator in us-east-1.
 *
 * Every byte is held for half the round trip in each direction (order kept). A new connection
 * also pays its handshake before its first byte leaves the client: one round trip for TCP, two
 * with TLS 1.3 (the default, as DynamoDB and facilitators are HTTPS); a reused keep-alive
 * connection pays none. The proxy logs each exchange (client bytes, then the server's answer, on
 * one connection) with when it started and when its answer's last byte reached the client, so a
 * caller can count the round trips a request made and how many of them were serial.
 *
 * ```ts
 * const proxy = await startDelayProxy({ target: dynamo.endpoint, roundTripMs: 80 });
 * // ... point the client at proxy.url, make a request ...
 * serialRoundTrips(proxy.exchanges()); // e.g. 1 for one call, 1 for two calls in parallel
 * await proxy.close();
 * ```
 */
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface DelayProxyOptions {
  /** Where connections go, e.g. `http://127.0.0.1:41234` (a path is kept in {@link DelayProxy.url}). */
  readonly target: string;
  /** Round-trip time added between client and server. @default 0 */
  readonly roundTripMs?: number;
  /** Round trips a new connection costs before its first byte: 1 for TCP, 2 for TCP + TLS 1.3. @default {@link TLS_HANDSHAKE_ROUND_TRIPS} */
  readonly handshakeRoundTrips?: number;
}

/** One request/response turn on one connection; times in epoch ms (sub-ms precision, comparable across processes). */
export interface Exchange {
  readonly connection: number;
  /** The handshake's round trips when this exchange opened its connection, else 0. */
  readonly handshakeRoundTrips: number;
  /** When the client started it (for a connection's first exchange: when it connected). */
  readonly startedAt: number;
  /** When the last byte of the answer reached the client; undefined while unanswered. */
  readonly endedAt: number | undefined;
  /** For HTTP/1.1: the request line, and DynamoDB's operation (`X-Amz-Target`) if any, e.g. `POST / DynamoDB_20120810.PutItem`. */
  readonly request: string;
}

export interface DelayProxy {
  /** The target's URL with the proxy's host and port. */
  readonly url: string;
  /** The round-trip time now added (changeable at any time; applies to bytes sent from then on). */
  roundTripMs: number;
  /** Exchanges logged since start or the last {@link clearLog}. */
  exchanges(): readonly Exchange[];
  clearLog(): void;
  /** Connections accepted so far. */
  readonly connectionsOpened: number;
  /** Drops every open connection, so that the next request pays a handshake again. */
  dropConnections(): void;
  close(): Promise<void>;
}

/** TCP's handshake, then TLS 1.3's: what a new HTTPS connection waits before its request leaves. */
export const TLS_HANDSHAKE_ROUND_TRIPS = 2;

/** Wall clock in epoch ms with sub-ms precision: the same in every process of this machine. */
export const epochMs = (): number => performance.timeOrigin + performance.now();

interface LoggedExchange {
  readonly connection: number;
  readonly handshakeRoundTrips: number;
  startedAt: number;
  endedAt: number | undefined;
  request: string;
}

/** What an HTTP/1.1 request's first bytes say it is (empty for anything else). */
function describeRequest(head: string): string {
  const [line = '', ...headers] = head.split('\r\n');
  if (!/^[A-Z]+ \S+ HTTP\/1\.[01]$/.test(line)) return '';
  const target = headers.find((h) => h.toLowerCase().startsWith('x-amz-target:'));
  return [line.replace(/ HTTP\/1\.[01]$/, ''), target?.slice('x-amz-target:'.length).trim()].filter(Boolean).join(' ');
}

type Item = { readonly at: number; readonly chunk?: Buffer; readonly end?: true; readonly answers?: LoggedExchange };

/** Delivers queued items in order, each no earlier than its time. */
class DelayedPipe {
  private readonly queue: Item[] = [];
  private timer: NodeJS.Timeout | undefined;
  private lastAt = 0;
  constructor(private readonly deliver: (item: Item) => void) {}

  push(at: number, item: Omit<Item, 'at'>): void {
    // Never before an earlier item: a link keeps its bytes in order.
    const due = Math.max(at, this.lastAt);
    this.lastAt = due;
    this.queue.push({ ...item, at: due });
    this.drain();
  }

  clear(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
  }

  private drain(): void {
    if (this.timer) return;
    while (this.queue.length > 0 && this.queue[0].at <= epochMs()) this.deliver(this.queue.shift()!);
    if (this.queue.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.drain();
    }, Math.max(0, this.queue[0].at - epochMs()));
  }
}

export async function startDelayProxy(options: DelayProxyOptions): Promise<DelayProxy> {
  const target = new URL(options.target);
  const handshakeRoundTrips = options.handshakeRoundTrips ?? TLS_HANDSHAKE_ROUND_TRIPS;
  let roundTripMs = checkRoundTrip(options.roundTripMs ?? 0);
  let log: LoggedExchange[] = [];
  let opened = 0;
  const open = new Set<Socket>();

  // Half-open sockets: an end travels with the delay like any byte, after the bytes before it.
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const connection = ++opened;
    const acceptedAt = epochMs();
    // Bytes may leave the client only once the handshake is done.
    const readyAt = acceptedAt + handshakeRoundTrips * roundTripMs;
    const upstream = createConnection({ host: target.hostname, port: Number(target.port), allowHalfOpen: true });
    open.add(client);
    open.add(upstream);
    let current: LoggedExchange | undefined;
    let answered = true;
    let firstExchange = true;
    const up = new DelayedPipe((item) => (item.end ? upstream.end() : upstream.write(item.chunk!)));
    const down = new DelayedPipe((item) => {
      if (item.end) return void client.end();
      client.write(item.chunk!);
      if (item.answers) item.answers.endedAt = epochMs();
    });

    client.on('data', (chunk: Buffer) => {
      const now = epochMs();
      if (answered) {
        // A new turn; a connection's first one starts when it connected (its handshake is part of it).
        current = { connection, handshakeRoundTrips: firstExchange ? handshakeRoundTrips : 0, startedAt: firstExchange ? acceptedAt : now, endedAt: undefined, request: describeRequest(chunk.toString('latin1', 0, 4096)) };
        firstExchange = false;
        log.push(current);
        answered = false;
      }
      up.push(Math.max(now, readyAt) + roundTripMs / 2, { chunk });
    });
    upstream.on('data', (chunk: Buffer) => {
      answered = true;
      down.push(epochMs() + roundTripMs / 2, { chunk, answers: current });
    });
    client.on('end', () => up.push(Math.max(epochMs(), readyAt) + roundTripMs / 2, { end: true }));
    upstream.on('end', () => down.push(epochMs() + roundTripMs / 2, { end: true }));
    // A reset on either side resets the other at once; a clean close only ends its own side.
    const reset = () => {
      up.clear();
      down.clear();
      client.destroy();
      upstream.destroy();
    };
    client.on('error', reset);
    upstream.on('error', reset);
    client.on('close', () => {
      open.delete(client);
      reset();
    });
    upstream.on('close', () => open.delete(upstream));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = new URL(target.toString());
  url.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A URL without a path keeps its plain form (`http://host:port`), as the target was given.
  const proxyUrl = target.pathname === '/' && !options.target.endsWith('/') ? url.origin : url.toString();

  return {
    url: proxyUrl,
    get roundTripMs() {
      return roundTripMs;
    },
    set roundTripMs(ms: number) {
      roundTripMs = checkRoundTrip(ms);
    },
    exchanges: () => log.map((e) => ({ ...e })),
    clearLog() {
      log = [];
    },
    get connectionsOpened() {
      return opened;
    },
    dropConnections() {
      for (const socket of open) socket.destroy();
      open.clear();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        open.clear();
        server.close(() => resolve());
      }),
  };
}

function checkRoundTrip(ms: number): number {
  if (!(Number.isFinite(ms) && ms >= 0)) throw new Error(`roundTripMs must be a number of milliseconds ≥ 0 (e.g. 80); got ${String(ms)}`);
  return ms;
}

/**
 * The round trips a client waited for one after another: the heaviest set of exchanges no two of
 * which overlap in time (exchanges in flight together count once), each weighing one round trip
 * plus its handshake's. Unanswered exchanges are left out.
 */
export function serialRoundTrips(exchanges: readonly Exchange[]): number {
  const done = exchanges.filter((e): e is Exchange & { endedAt: number } => e.endedAt !== undefined).sort((a, b) => a.endedAt - b.endedAt);
  // Weighted interval scheduling: best[i] = the heaviest chain among the first i exchanges.
  const best = [0];
  for (let i = 0; i < done.length; i++) {
    let before = i;
    while (before > 0 && done[before - 1].endedAt > done[i].startedAt) before--;
    best.push(Math.max(best[i], 1 + done[i].handshakeRoundTrips + best[before]));
  }
  return best[done.length];
}
