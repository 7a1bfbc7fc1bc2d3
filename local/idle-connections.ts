import type { Server } from 'node:http';

/**
 * How long the local servers keep an idle keep-alive connection. Node closes one after 5 s; a
 * client reusing it just then gets ECONNRESET, and on a loaded machine (either side's timers run
 * late) that happens: a 503 or a failed fetch that no deployment would see. The services these
 * servers stand for (CloudFront, DynamoDB, a facilitator, an RPC provider) keep connections far longer.
 */
const IDLE_CONNECTION_MS = 120_000;

export function keepIdleConnections<S extends Server>(server: S): S {
  server.keepAliveTimeout = IDLE_CONNECTION_MS;
  return server;
}
