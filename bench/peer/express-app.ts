/**
 * The peer we compare against: an Express server protected by the official x402 middleware
 * (`@x402/express`, same version as our `@x402/core`), pricing the same resources at the same price
 * and settling through the same facilitator. Content comes either from the same sample origin
 * (one HTTP hop, like our edge) or from memory (the usual way the middleware is deployed).
 */
import * as http from 'node:http';
import { HTTPFacilitatorClient, type RouteConfig } from '@x402/core/server';
import type { Network } from '@x402/core/types';
import type { BatchSettlementEvmScheme } from '@x402/evm/batch-settlement/server';
import { ExactEvmScheme } from '@x402/evm/exact/server';
import { paymentMiddleware, x402ResourceServer } from '@x402/express';
import express from 'express';

export interface ExpressPeerRoute {
  /** Route key in the middleware's syntax, e.g. `/articles/*`. */
  readonly pattern: string;
  /** `"$0.001"`: the middleware converts it with the network's default USDC, as we do. */
  readonly price: string;
  readonly description: string;
  readonly mimeType: string;
}

export interface CachedPage {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
}

export interface ExpressPeerOptions {
  readonly facilitatorUrl: string;
  readonly network: Network;
  readonly payTo: string;
  readonly maxTimeoutSeconds: number;
  readonly routes: readonly ExpressPeerRoute[];
  /** `origin`: proxy every request to this URL (on kept-alive connections, like the local edge); `memory`: serve these pages. */
  readonly content: { readonly kind: 'origin'; readonly url: string } | { readonly kind: 'memory'; readonly pages: ReadonlyMap<string, CachedPage> };
  /** Fetch /supported from the facilitator at start (the middleware's default). */
  readonly syncFacilitatorOnStart?: boolean;
  /**
   * A batch-settlement route served by the official server scheme (its channel books in memory;
   * `scheme.createChannelManager` claims them). The scheme must be for this `payTo`.
   */
  readonly batchSettlement?: { readonly route: ExpressPeerRoute & { readonly minDeposit: string }; readonly scheme: BatchSettlementEvmScheme };
}

export function createExpressPeer(options: ExpressPeerOptions): express.Express {
  const server = new x402ResourceServer(new HTTPFacilitatorClient({ url: options.facilitatorUrl })).register(options.network, new ExactEvmScheme());
  const terms = { network: options.network, payTo: options.payTo, maxTimeoutSeconds: options.maxTimeoutSeconds };
  const routes: Record<string, RouteConfig> = Object.fromEntries(
    options.routes.map((route) => [route.pattern, { accepts: { scheme: 'exact', price: route.price, ...terms }, description: route.description, mimeType: route.mimeType }]),
  );
  const batch = options.batchSettlement;
  if (batch) {
    server.register(options.network, batch.scheme);
    routes[batch.route.pattern] = {
      accepts: { scheme: 'batch-settlement', price: batch.route.price, ...terms, extra: { minDeposit: batch.route.minDeposit } },
      description: batch.route.description,
      mimeType: batch.route.mimeType,
    };
  }
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(paymentMiddleware(routes, server, undefined, undefined, options.syncFacilitatorOnStart ?? true));
  const content = options.content;
  if (content.kind === 'memory') {
    app.use((req, res) => {
      const page = content.pages.get(req.path) ?? { status: 404, contentType: 'application/json', body: '{"error":"not found"}' };
      res.status(page.status).type(page.contentType).send(page.body);
    });
  } else {
    const origin = new URL(content.url);
    const agent = new http.Agent({ keepAlive: true, timeout: 5_000 });
    app.use((req, res) => {
      const upstream = http.request(
        { host: origin.hostname, port: origin.port, method: req.method, path: req.originalUrl, headers: { ...req.headers, host: origin.host }, agent },
        (answer) => {
          res.status(answer.statusCode ?? 502);
          for (const [name, value] of Object.entries(answer.headers)) {
            if (value !== undefined && name !== 'connection' && name !== 'transfer-encoding') res.setHeader(name, value);
          }
          answer.pipe(res);
        },
      );
      upstream.on('error', () => (res.headersSent ? res.destroy() : res.status(502).json({ error: 'origin unreachable' })));
      req.pipe(upstream);
    });
  }
  return app;
}
