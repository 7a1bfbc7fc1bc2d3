import type { Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { AbuseLimits } from '../lambda/core/abuse-guard';
import { DEFAULT_ELIGIBILITY_HEADER, type EdgeConfig, type PricedRoute } from '../lambda/core/config';
import { knownNetwork } from '../lambda/core/networks';
import type { LogSink } from '../lambda/core/ports';
import type { Receipt } from '../lambda/core/receipt';
import type { EdgeHandlers } from '../lambda/edge/cloudfront-adapter';
import { createEdgeRuntime } from '../lambda/edge/runtime';
import { startLocalChain, type LocalChain } from './chain';
import { startLocalEdge, type LocalEdge } from './cloudfront';
import { createReceiptTable, LOCAL_DYNAMO_CREDENTIALS, LOCAL_DYNAMO_REGION, startLocalDynamo, type LocalDynamo } from './dynamo';
import { startLocalFacilitator, type LocalFacilitator } from './facilitator';
import { startSampleOrigin, type SampleOrigin } from './origin';
import { listReceipts } from './receipts';

/** The sample origin's priced routes, as a publisher would configure them. */
export const SAMPLE_ROUTES: readonly PricedRoute[] = [
  { pattern: '/articles/*', price: '$0.001', description: 'One article', mimeType: 'text/html' },
  { pattern: 'GET /api/premium-report', price: '$0.01', description: 'Premium report', mimeType: 'application/json' },
  { pattern: '/api/**', price: '$0.002', description: 'API call', mimeType: 'application/json' },
];

export interface LocalStackOptions {
  readonly routes?: readonly PricedRoute[];
  readonly facilitatorVerifyTimeoutMs?: number;
  readonly facilitatorSettleTimeoutMs?: number;
  /** How long the facilitator's `slow` fault holds answers (default 15,000 ms). */
  readonly facilitatorSlowMs?: number;
  /** The emulated CloudFront origin response timeout (default 30,000 ms; on timeout → 504). */
  readonly originTimeoutMs?: number;
  /**
   * Bounds on failing clients and payers (default: the production ones). Every local client is
   * 127.0.0.1, so suites that send many hostile payments on purpose raise them.
   */
  readonly abuseLimits?: AbuseLimits;
  /** Receives every structured log line of the handlers (JSON objects, EMF records included). */
  readonly log?: LogSink;
  /** Build the handlers from this config instead of the in-process runtime (e.g. the esbuild bundles). */
  readonly handlers?: (config: EdgeConfig) => EdgeHandlers | Promise<EdgeHandlers>;
  /** Fixed ports for a stack people connect to (`npm run dev`); 0 = random. */
  readonly ports?: { readonly edge?: number; readonly rpc?: number; readonly facilitator?: number };
}

export interface LocalStack {
  readonly config: EdgeConfig;
  readonly chain: LocalChain;
  readonly facilitator: LocalFacilitator;
  readonly dynamo: LocalDynamo;
  readonly origin: SampleOrigin;
  readonly edge: LocalEdge;
  /** The publisher's wallet (payTo). */
  readonly payTo: Address;
  receipts(): Promise<Receipt[]>;
  close(): Promise<void>;
}

const RECEIPT_TABLE = 'x402-receipts';

// Lambda runs Node 22; this machine's Node 20 only makes the SDK warn about its future support.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * Everything the edge engine talks to, on loopback: a Base-Sepolia-like chain with USDC, the
 * official facilitator, dynalite, a sample origin, and CloudFront + WAF emulation around the
 * same handlers Lambda@Edge runs.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const started: Array<{ close(): Promise<void> }> = [];
  try {
    const chain = await startLocalChain({ rpcPort: options.ports?.rpc });
    started.push(chain);
    const facilitator = await startLocalFacilitator(chain, { port: options.ports?.facilitator, slowMs: options.facilitatorSlowMs });
    started.push(facilitator);
    const dynamo = await startLocalDynamo();
    started.push(dynamo);
    await createReceiptTable(dynamo.client, RECEIPT_TABLE);
    const origin = await startSampleOrigin();
    started.push(origin);

    const payTo = privateKeyToAccount(generatePrivateKey()).address;
    const baseSepolia = knownNetwork(chain.network)!;
    const config: EdgeConfig = {
      network: chain.network,
      payTo,
      asset: { ...baseSepolia.usdc, address: chain.usdc, symbol: 'USDC' },
      facilitator: {
        url: facilitator.url,
        verifyTimeoutMs: options.facilitatorVerifyTimeoutMs ?? 3000,
        settleTimeoutMs: options.facilitatorSettleTimeoutMs ?? 10000,
      },
      routes: options.routes ?? SAMPLE_ROUTES,
      eligibilityHeader: DEFAULT_ELIGIBILITY_HEADER,
      receiptTable: { tableName: RECEIPT_TABLE, region: LOCAL_DYNAMO_REGION, endpoint: dynamo.endpoint },
      maxTimeoutSeconds: 120,
      ...(options.abuseLimits ? { abuseLimits: options.abuseLimits } : {}),
    };
    const log = options.log ?? (() => undefined);
    const handlers = options.handlers
      ? await options.handlers(config)
      : createEdgeRuntime(config, { credentials: LOCAL_DYNAMO_CREDENTIALS, log });
    const edge = await startLocalEdge({
      viewerRequest: (event) => handlers.viewerRequest(event),
      originResponse: (event) => handlers.originResponse(event),
      originUrl: origin.url,
      originTimeoutMs: options.originTimeoutMs,
      port: options.ports?.edge,
    });
    started.push(edge);

    return {
      config,
      chain,
      facilitator,
      dynamo,
      origin,
      edge,
      payTo,
      receipts: () => listReceipts(dynamo.client, RECEIPT_TABLE),
      close: () => closeAll(started),
    };
  } catch (error) {
    await closeAll(started);
    throw error;
  }
}

async function closeAll(services: Array<{ close(): Promise<void> }>): Promise<void> {
  for (const service of [...services].reverse()) await service.close().catch(() => undefined);
}
