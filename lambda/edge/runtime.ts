import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { HTTPFacilitatorClient, type FacilitatorConfig } from '@x402/core/http';
import type { EdgeConfig } from '../core/config';
import type { Clock, LogSink } from '../core/ports';
import { Paywall, type PaywallPorts } from '../core/paywall';
import { cloudFrontHandlers, type EdgeHandlers } from './cloudfront-adapter';
import { DynamoReceiptStore } from './dynamo-receipt-store';
import { facilitatorAuth } from './facilitator-auth';

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
  const facilitator = (timeoutMs: number) => new HTTPFacilitatorClient({ url: config.facilitator.url, timeoutMs, createAuthHeaders });
  const verifier = facilitator(config.facilitator.verifyTimeoutMs);
  const settler = facilitator(config.facilitator.settleTimeoutMs);
  const dynamo = new DynamoDBClient({
    region: config.receiptTable.region,
    endpoint: config.receiptTable.endpoint,
    credentials: options.credentials,
    // Viewer triggers get 5 s in all: one quick retry, then fail closed with a 503.
    maxAttempts: 2,
  });
  const ports: PaywallPorts = {
    facilitator: {
      verify: (payload, requirements) => verifier.verify(payload, requirements),
      settle: (payload, requirements) => settler.settle(payload, requirements),
    },
    receipts: new DynamoReceiptStore(dynamo, config.receiptTable.tableName),
    clock: options.clock ?? Date.now,
    log,
  };
  const paywall = new Paywall(config, options.wrapPorts ? options.wrapPorts(ports) : ports);
  return cloudFrontHandlers(paywall, log);
}
