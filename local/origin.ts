/**
 * A sample publisher origin for the local edge: free pages, paid-looking API routes, a failing
 * route and a slow one. It counts what it receives so tests can prove that unpaid requests never
 * reached it, and lets tests force a status or a delay on any path.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface OriginBehavior {
  /** Answer with this status (and a small JSON error body unless `body` is given). */
  status?: number;
  /** Wait this long before answering. */
  delayMs?: number;
  body?: string;
  headers?: Record<string, string>;
  /** Answer with `Transfer-Encoding: chunked` and no Content-Length, as a streaming server does. */
  chunked?: boolean;
  /** Answer only once this settles (then after `delayMs`): holds a request in flight until the test lets it go. */
  hold?: Promise<unknown>;
}

export interface ReceivedRequest {
  method: string;
  /** The raw request target as received (path + query, undecoded). */
  url: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export interface SampleOrigin {
  url: string;
  port: number;
  /** Total number of requests received. */
  readonly requests: number;
  /** Requests received for one path (exact, undecoded, query excluded). */
  requestsFor(path: string): number;
  /** Every request received, in order. */
  readonly received: readonly ReceivedRequest[];
  /** Force a behavior for a path; `undefined` restores the default route. */
  setBehavior(path: string, behavior: OriginBehavior | undefined): void;
  /** Forget counters, received requests and forced behaviors. */
  reset(): void;
  close(): Promise<void>;
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
    `<body><h1>${escapeHtml(title)}</h1>${body}</body></html>\n`;
}

export async function startSampleOrigin(): Promise<SampleOrigin> {
  const received: ReceivedRequest[] = [];
  const counts = new Map<string, number>();
  const behaviors = new Map<string, OriginBehavior>();

  const server = http.createServer((req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ method: req.method ?? 'GET', url, path, headers: req.headers, body: Buffer.concat(chunks).toString() });
      counts.set(path, (counts.get(path) ?? 0) + 1);

      const forced = behaviors.get(path);
      let delay = forced?.delayMs ?? 0;
      if (!forced && path === '/api/slow') delay = Math.min(Number(query.get('ms') ?? 1000) || 0, 60_000);
      // Clear the timer if the caller hangs up (e.g. the edge's origin timeout), so nothing lingers.
      let timer: NodeJS.Timeout | undefined;
      const answerLater = () => {
        if (!res.destroyed) timer = setTimeout(() => answer(res, path, forced, forced?.chunked === true), delay);
      };
      res.on('close', () => clearTimeout(timer));
      if (forced?.hold) void forced.hold.then(answerLater, answerLater);
      else answerLater();
    });
  });

  function send(res: http.ServerResponse, status: number, type: string, body: string, extra: Record<string, string>, chunked: boolean) {
    if (!chunked) {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
      res.end(body);
      return;
    }
    // No Content-Length: Node sends the body as chunks.
    res.writeHead(status, { 'content-type': type, ...extra });
    const half = Math.floor(body.length / 2);
    res.write(body.slice(0, half));
    res.end(body.slice(half));
  }

  function answer(res: http.ServerResponse, path: string, forced: OriginBehavior | undefined, chunked: boolean) {
    const reply = (status: number, type: string, body: string, extra: Record<string, string> = {}) => send(res, status, type, body, extra, chunked);
    if (forced?.status !== undefined || forced?.body !== undefined) {
      const status = forced.status ?? 200;
      const body = forced.body ?? JSON.stringify({ error: `forced status ${status}` });
      return reply(status, forced.headers?.['content-type'] ?? 'application/json', body, forced.headers);
    }
    const article = /^\/articles\/([^/]+)$/.exec(path);
    if (path === '/') {
      return reply(200, 'text/html; charset=utf-8',
        page('Sample publisher', '<p>Free front page.</p><a href="/articles/hello-world">An article</a>'));
    }
    if (article) {
      const slug = article[1]!;
      return reply(200, 'text/html; charset=utf-8',
        page(`Article: ${slug}`, `<p>The full text of the article "${escapeHtml(slug)}".</p>`));
    }
    if (path === '/api/premium-report') {
      return reply(200, 'application/json',
        JSON.stringify({ report: 'premium', items: [{ id: 1, insight: 'agents pay per request' }] }));
    }
    if (path === '/api/fail') return reply(500, 'application/json', JSON.stringify({ error: 'origin failure' }));
    if (path === '/api/slow') return reply(200, 'application/json', JSON.stringify({ slow: true }));
    return reply(404, 'application/json', JSON.stringify({ error: 'not found' }));
  }

  // Longer than CloudFront's keep-alive timeout for origins (5 s), as AWS advises origins: the edge
  // closes an idle connection first, so it never reuses one the origin is closing just then.
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    get requests() { return received.length; },
    requestsFor: (path) => counts.get(path) ?? 0,
    received,
    setBehavior(path, behavior) {
      if (behavior) behaviors.set(path, behavior);
      else behaviors.delete(path);
    },
    reset() {
      received.length = 0;
      counts.clear();
      behaviors.clear();
    },
    close: () => new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    }),
  };
}
