/**
 * The delaying TCP proxy: a request pays the round trip (and a new connection its handshake),
 * bytes and ends arrive intact and in order, exchanges are logged, and serialRoundTrips counts
 * the ones a client waited for one after another.
 */
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serialRoundTrips, startDelayProxy, type DelayProxy, type Exchange } from '../../local/delay-proxy';

const RTT = 60;
let server: http.Server;
let target: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/close') res.setHeader('connection', 'close');
      res.end(req.url === '/echo' ? body : `ok ${req.url}`);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
});

async function get(agent: http.Agent, url: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ ms: number; text: Buffer }> {
  const started = performance.now();
  const text = await new Promise<Buffer>((resolve, reject) => {
    const req = http.request(url, { agent, method: body ? 'POST' : 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
    });
    req.on('error', reject);
    req.end(body);
  });
  return { ms: performance.now() - started, text };
}

async function withProxy(fn: (proxy: DelayProxy, agent: http.Agent) => Promise<void>, opts: { handshakeRoundTrips?: number } = {}): Promise<void> {
  const proxy = await startDelayProxy({ target, roundTripMs: RTT, ...opts });
  const agent = new http.Agent({ keepAlive: true });
  try {
    await fn(proxy, agent);
  } finally {
    agent.destroy();
    await proxy.close();
  }
}

describe('delay proxy', () => {
  it('keeps the target URL and refuses a negative round trip, naming the option', async () => {
    await expect(startDelayProxy({ target, roundTripMs: -1 })).rejects.toThrow(/roundTripMs must be a number of milliseconds ≥ 0/);
    await withProxy(async (proxy) => {
      expect(proxy.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(() => (proxy.roundTripMs = Number.NaN)).toThrow(/roundTripMs/);
    });
    const withPath = await startDelayProxy({ target: `${target}/facilitator` });
    expect(withPath.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/facilitator$/);
    await withPath.close();
  });

  it('charges a new connection its handshake (TCP + TLS: 2 round trips) and a reused one only the round trip', async () => {
    await withProxy(async (proxy, agent) => {
      const first = await get(agent, `${proxy.url}/a`);
      const second = await get(agent, `${proxy.url}/b`);
      expect(first.text.toString()).toBe('ok /a');
      expect(second.text.toString()).toBe('ok /b');
      expect(first.ms).toBeGreaterThanOrEqual(3 * RTT - 2);
      expect(first.ms).toBeLessThan(3 * RTT + 200);
      expect(second.ms).toBeGreaterThanOrEqual(RTT - 2);
      expect(second.ms).toBeLessThan(RTT + 200);
      const log = proxy.exchanges();
      expect(log.map((e) => [e.connection, e.handshakeRoundTrips, e.request])).toEqual([[1, 2, 'GET /a'], [1, 0, 'GET /b']]);
      expect(serialRoundTrips(log)).toBe(4);
      expect(proxy.connectionsOpened).toBe(1);

      // After the connections are dropped, the next request pays the handshake again.
      proxy.dropConnections();
      proxy.clearLog();
      await new Promise((resolve) => setTimeout(resolve, 20));
      const third = await get(agent, `${proxy.url}/c`);
      expect(third.ms).toBeGreaterThanOrEqual(3 * RTT - 2);
      expect(proxy.exchanges().map((e) => e.handshakeRoundTrips)).toEqual([2]);
    });
  });

  it('counts requests in flight together once', async () => {
    await withProxy(
      async (proxy, agent) => {
        await Promise.all([get(agent, `${proxy.url}/x`), get(agent, `${proxy.url}/y`)]);
        await get(agent, `${proxy.url}/z`);
        expect(proxy.exchanges()).toHaveLength(3);
        expect(serialRoundTrips(proxy.exchanges())).toBe(2);
      },
      { handshakeRoundTrips: 0 },
    );
  });

  it('passes a large body through intact, and a server that closes the connection after answering', async () => {
    await withProxy(async (proxy, agent) => {
      const body = Buffer.alloc(1 << 20);
      for (let i = 0; i < body.length; i++) body[i] = (i * 7919) % 251;
      const echoed = await get(agent, `${proxy.url}/echo`, body, { 'X-Amz-Target': 'DynamoDB_20120810.PutItem' });
      expect(createHash('sha256').update(echoed.text).digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
      const closed = await get(agent, `${proxy.url}/close`);
      expect(closed.text.toString()).toBe('ok /close');
      const after = await get(agent, `${proxy.url}/after`);
      expect(after.text.toString()).toBe('ok /after');
      expect(proxy.connectionsOpened).toBe(2);
      // Each exchange says what it was: the request line, and DynamoDB's operation.
      expect(proxy.exchanges().map((e) => e.request)).toEqual(['POST /echo DynamoDB_20120810.PutItem', 'GET /close', 'GET /after']);
    });
  });
});

describe('serialRoundTrips', () => {
  const ex = (startedAt: number, endedAt: number | undefined, handshakeRoundTrips = 0): Exchange => ({ connection: 1, handshakeRoundTrips, startedAt, endedAt, request: '' });

  it('is the heaviest chain of exchanges that do not overlap', () => {
    expect(serialRoundTrips([])).toBe(0);
    // a overlaps b, b overlaps c, a and c do not: a then c were waited for one after the other.
    expect(serialRoundTrips([ex(0, 10), ex(5, 15), ex(12, 20)])).toBe(2);
    // A handshake makes its exchange weigh more than two short ones beside it.
    expect(serialRoundTrips([ex(0, 30, 2), ex(1, 10), ex(11, 20)])).toBe(3);
    // Back to back (one ends as the next starts) is serial; unanswered exchanges are left out.
    expect(serialRoundTrips([ex(0, 10), ex(10, 20), ex(20, undefined)])).toBe(2);
  });
});
