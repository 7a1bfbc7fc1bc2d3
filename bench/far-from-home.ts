/**
 * Far from home: Lambda@Edge runs at the regional edge cache nearest the viewer, while the receipt
 * table and the facilitator sit in one region. Delay proxies (local/delay-proxy.ts) put a round
 * trip between our handlers and DynamoDB, the facilitator and the chain RPC (and between the peer
 * and its facilitator); the section measures paid requests one at a time and attributes every exchange the
 * proxies logged to the request during which it happened, to count its round trips: how many, to
 * which service, how many on new connections, and how many the request waited for one after
 * another (local/delay-proxy.ts `serialRoundTrips`).
 */
import type { EdgeConfig } from '../lambda/core/config';
import type { EdgeHandlers } from '../lambda/edge/cloudfront-adapter';
import type { RequestListener } from 'node:http';
import { epochMs, serialRoundTrips, startDelayProxy, TLS_HANDSHAKE_ROUND_TRIPS, type DelayProxy, type Exchange } from '../local/delay-proxy';
import type { Bench, Side } from './harness';
import { percentile, type LoadResult } from './load-worker';

export type FarService = 'dynamodb' | 'facilitator' | 'rpc';

export interface FarProxies {
  readonly dynamodb: DelayProxy;
  readonly facilitator: DelayProxy;
  /** Our route to the chain's JSON-RPC endpoint (the simulated transfers, eth_getCode). */
  readonly rpc: DelayProxy;
  /** The peer's own route to the facilitator. */
  readonly peerFacilitator: DelayProxy;
  close(): Promise<void>;
}

export async function startFarProxies(dynamoEndpoint: string, facilitatorUrl: string, rpcUrl: string): Promise<FarProxies> {
  const proxies = {
    dynamodb: await startDelayProxy({ target: dynamoEndpoint }),
    facilitator: await startDelayProxy({ target: facilitatorUrl }),
    rpc: await startDelayProxy({ target: rpcUrl }),
    peerFacilitator: await startDelayProxy({ target: facilitatorUrl }),
  };
  return { ...proxies, close: async () => void (await Promise.all(Object.values(proxies).map((p) => p.close()))) };
}

/** The edge configuration with DynamoDB, the facilitator and the chain RPC reached through the proxies. */
export function farConfig(config: EdgeConfig, proxies: FarProxies): EdgeConfig {
  return {
    ...config,
    facilitator: { ...config.facilitator, url: proxies.facilitator.url },
    receiptTable: { ...config.receiptTable, endpoint: proxies.dynamodb.url },
    ...(config.chainRpc ? { chainRpc: { ...config.chainRpc, url: proxies.rpc.url } } : {}),
  };
}

/** Each request's span where a server handled it (epoch ms): the exchanges it made lie inside. */
export interface RequestSpans {
  reset(): void;
  spans(): ReadonlyArray<readonly [number, number]>;
}

/** Spans of the requests an HTTP app handles, from arrival to the response's last byte written. */
export function recordSpans(app: RequestListener): { app: RequestListener; spans: RequestSpans } {
  let spans: Array<readonly [number, number]> = [];
  return {
    app: (req, res) => {
      const started = epochMs();
      res.on('finish', () => spans.push([started, epochMs()]));
      app(req, res);
    },
    spans: { reset: () => void (spans = []), spans: () => [...spans].sort((a, b) => a[0] - b[0]) },
  };
}

/** What one paid request did on the network. */
export interface RequestTrips {
  readonly serialRoundTrips: number;
  readonly exchanges: Record<FarService, number>;
  /** Exchanges that opened a connection (paid a handshake). */
  readonly newConnections: number;
  /**
   * The request's exchanges in time order, those in flight together joined by ∥, e.g.
   * `DynamoDB PutItem ∥ facilitator POST /verify → DynamoDB UpdateItem`.
   */
  readonly path: string;
}

/** `ours, receipt after release`: our handlers with x402:settledReceipt=after-release. */
export type FarSideName = 'ours' | 'ours, receipt after release' | 'peer';

export interface FarRun {
  readonly roundTripMs: number;
  readonly side: FarSideName;
  /** Connections kept alive between requests, as in a warm container. */
  readonly warm: LoadResult;
  readonly warmTrips: RequestTrips[];
  /** Each request after every connection was dropped (a new container, or idle connections closed): latency and trips. */
  readonly coldLatencyMs: number[];
  readonly coldTrips: RequestTrips[];
}

export interface FarReport {
  readonly handshakeRoundTrips: number;
  readonly runs: FarRun[];
}

export interface FarSettings {
  readonly roundTripsMs: readonly number[];
  readonly requests: number;
  readonly coldRequests: number;
}

export interface FarSide {
  readonly side: Side;
  readonly spans: RequestSpans;
  /** The services this side reaches, each through its proxy. */
  readonly services: ReadonlyArray<readonly [FarService, DelayProxy]>;
}

/** `oursFar`, `oursFarAfterRelease`: our handlers behind the proxies, without and with x402:settledReceipt=after-release. */
export async function runFarFromHome(
  bench: Bench,
  proxies: FarProxies,
  sides: { ours: FarSide; peer: FarSide; oursFar: EdgeHandlers; oursFarAfterRelease: EdgeHandlers },
  settings: FarSettings,
): Promise<FarReport> {
  const runs: FarRun[] = [];
  try {
    for (const roundTripMs of settings.roundTripsMs) {
      for (const proxy of [proxies.dynamodb, proxies.facilitator, proxies.rpc, proxies.peerFacilitator]) proxy.roundTripMs = roundTripMs;
      for (const name of ['ours', 'ours, receipt after release', 'peer'] as const) {
        const { side, spans, services } = name === 'peer' ? sides.peer : sides.ours;
        bench.router.use(name === 'ours, receipt after release' ? sides.oursFarAfterRelease : sides.oursFar);
        const measure = async (requests: number): Promise<{ load: LoadResult; trips: RequestTrips[] }> => {
          for (const [, proxy] of services) proxy.clearLog();
          spans.reset();
          const load = await bench.paid(side, requests, 1);
          const logs = services.map(([service, proxy]) => [service, proxy.exchanges()] as const);
          const trips = spans.spans().map(([start, end]) => tripsWithin(start, end, logs));
          if (trips.length !== requests) throw new Error(`far from home, ${name}: ${trips.length} request spans for ${requests} paid requests`);
          return { load, trips };
        };
        // Connections opened at this round trip, then kept.
        await bench.paid(side, 1, 1);
        const warm = await measure(settings.requests);
        const coldLatencyMs: number[] = [];
        const coldTrips: RequestTrips[] = [];
        for (let i = 0; i < settings.coldRequests; i++) {
          for (const [, proxy] of services) proxy.dropConnections();
          // Let the clients see the close before the next request picks a connection.
          await new Promise((resolve) => setTimeout(resolve, 50));
          const cold = await measure(1);
          coldLatencyMs.push(cold.load.p50);
          coldTrips.push(...cold.trips);
        }
        runs.push({ roundTripMs, side: name, warm: warm.load, warmTrips: warm.trips, coldLatencyMs, coldTrips });
        bench.say(`  ${String(roundTripMs).padStart(3)} ms ${name.padEnd(4)}: p50 ${warm.load.p50.toFixed(0)} ms, serial round trips ${summary(warm.trips.map((t) => t.serialRoundTrips))}; new connections: p50 ${summary(coldLatencyMs)} ms, serial ${summary(coldTrips.map((t) => t.serialRoundTrips))}`);
      }
    }
  } finally {
    bench.router.use();
  }
  return { handshakeRoundTrips: TLS_HANDSHAKE_ROUND_TRIPS, runs };
}

const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const [lo, mid, hi] = [sorted[0], percentile(sorted, 50), sorted[sorted.length - 1]];
  return lo === hi ? `${mid.toFixed(0)}` : `${mid.toFixed(0)} (${lo.toFixed(0)}–${hi.toFixed(0)})`;
};

/** The exchanges that started and ended within one request's span (requests are sent one at a time). */
function tripsWithin(start: number, end: number, logs: ReadonlyArray<readonly [FarService, readonly Exchange[]]>): RequestTrips {
  const exchanges: Record<FarService, number> = { dynamodb: 0, facilitator: 0, rpc: 0 };
  const inside: Array<{ service: FarService; exchange: Exchange & { endedAt: number } }> = [];
  for (const [service, log] of logs) {
    for (const e of log) {
      if (e.startedAt < start || e.endedAt === undefined || e.endedAt > end) continue;
      inside.push({ service, exchange: e as Exchange & { endedAt: number } });
      exchanges[service]++;
    }
  }
  return {
    serialRoundTrips: serialRoundTrips(inside.map((i) => i.exchange)),
    exchanges,
    newConnections: inside.filter((i) => i.exchange.handshakeRoundTrips > 0).length,
    path: describePath(inside),
  };
}

/** Groups exchanges that overlap in time into stages, in order. */
function describePath(inside: ReadonlyArray<{ service: FarService; exchange: Exchange & { endedAt: number } }>): string {
  const sorted = [...inside].sort((a, b) => a.exchange.startedAt - b.exchange.startedAt);
  const stages: Array<{ endedAt: number; names: string[] }> = [];
  for (const { service, exchange } of sorted) {
    const name =
      service === 'dynamodb' ? `DynamoDB ${exchange.request.split('.').pop() || '?'}` : service === 'rpc' ? `chain RPC ${exchange.request || '?'}` : `facilitator ${exchange.request || '?'}`;
    const last = stages[stages.length - 1];
    if (last && exchange.startedAt < last.endedAt) {
      last.names.push(name);
      last.endedAt = Math.max(last.endedAt, exchange.endedAt);
    } else stages.push({ endedAt: exchange.endedAt, names: [name] });
  }
  return stages.map((s) => s.names.join(' ∥ ')).join(' → ');
}
