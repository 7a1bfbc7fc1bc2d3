import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { HTTPFacilitatorClient, type FacilitatorConfig } from '@x402/core/http';
import type { EdgeConfig } from '../core/config';
import type { Clock, LogSink } from '../core/ports';
import { Paywall, type PaywallPorts } from '../core/paywall';
import { jsonRpcChain } from './chain-rpc';
import { cloudFrontHandlers, type EdgeHandlers } from './cloudfront-adapter';
import { DynamoReceiptStore } from './dynamo-receipt-store';
import { facilitatorAuth } from './facilitator-auth';
import { passSigner } from './pass-signer';

export interface EdgeRuntimeOptions {
  /** Auth headers per facilitator call; default: from `config.facilitator.auth`, else none. */
  readonly createAuthHeaders?: FacilitatorConfig['createAuthHeaders'];
  /** Only for the local edge and tests (dynalite takes any static credentials). */
  readonly credentials?: DynamoDBClientConfig['credentials'];
  readonly clock?: Clock;
  readonly log?: LogSink;
  /** Only for measurement (bench/): wraps the real ports, e.g. with timers. */
  readonly wrapPorts?: (ports: PaywallPorts) => PaywallPorts;
}

/** Lambda logs each line it receives on stdout; EMF records in them become metrics. */
const consoleLog: LogSink = (line) => console.log(JSON.stringify(line));

/** Wires the real ports (facilitator over HTTP, DynamoDB) to the paywall and CloudFront events. */
export function createEdgeRuntime(config: EdgeConfig, options: EdgeRuntimeOptions = {}): EdgeHandlers {
  const log = options.log ?? consoleLog;
  const createAuthHeaders = options.createAuthHeaders ?? facilitatorAuth(config.facilitator, options.clock);
  // One client per call: each call's deadline is what the trigger has left, and the deadline
  // covers the credential lookup too (a slow Secrets Manager must not outlive the function).
  const facilitator = (timeoutMs: number) =>
    new HTTPFacilitatorClient({ url: config.facilitator.url, timeoutMs: Math.max(1, Math.floor(timeoutMs)), createAuthHeaders });
  const dynamo = new DynamoDBClient({
    region: config.receiptTable.region,
    endpoint: config.receiptTable.endpoint,
    credentials: options.credentials,
    // Viewer triggers get 5 s in all: one quick retry, then fail closed with a 503.
    maxAttempts: 2,
  });
  const receipts = new DynamoReceiptStore(dynamo, config.receiptTable.tableName);
  const signingKey = config.passes?.signingKey;
  const ports: PaywallPorts = {
    facilitator: {
      verify: (payload, requirements, timeoutMs) => withinMs(timeoutMs, 'verify', facilitator(timeoutMs).verify(payload, requirements)),
      settle: (payload, requirements, timeoutMs) => withinMs(timeoutMs, 'settle', facilitator(timeoutMs).settle(payload, requirements)),
    },
    receipts,
    clock: options.clock ?? Date.now,
    log,
    chain: config.chainRpc && jsonRpcChain(config.chainRpc.url),
    ...(config.passes ? { passRecords: receipts } : {}),
    // Only the origin-facing bundles carry a signing key (lib/prebuilt-bundle.ts configForBundle).
    ...(signingKey ? { passSigner: passSigner(signingKey) } : {}),
  };
  const paywall = new Paywall(config, options.wrapPorts ? options.wrapPorts(ports) : ports);
  return cloudFrontHandlers(paywall, log);
}

/** Rejects when `promise` has not settled within `ms` (the work itself may go on; we stop waiting). */
function withinMs<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`facilitator ${what}: no answer within ${Math.round(ms)} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
