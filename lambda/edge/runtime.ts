import type { DynamoDBClient, DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { FacilitatorConfig } from '@x402/core/http';
import type { ChannelStorePort } from '../core/batch/channel-books';
import type { EdgeConfig } from '../core/config';
import type { PassRecordsPort } from '../core/passes/scheme';
import type { HeldPassesPort, SignInVerifier } from '../core/passes/sign-in';
import type { Clock, LogSink, ReceiptStorePort } from '../core/ports';
import { Paywall, type PaywallPorts } from '../core/paywall';
import type { PaymentPrecheck } from '../core/precheck';
import { jsonRpcChain } from './chain-rpc';
import { cloudFrontHandlers, type EdgeHandlers } from './cloudfront-adapter';
import { facilitatorAuth } from './facilitator-auth';
import { httpFacilitator } from './facilitator-http';
import { fetchKeyDirectory } from './key-directory-fetch';
import { passSigner } from './pass-signer';
import { SentRequests } from './sent-requests';

export interface EdgeRuntimeOptions {
  /** Auth headers per facilitator call; default: from `config.facilitator.auth`, else none. */
  readonly createAuthHeaders?: FacilitatorConfig['createAuthHeaders'];
  /** Only for the local edge and tests (dynalite takes any static credentials). */
  readonly credentials?: DynamoDBClientConfig['credentials'];
  readonly clock?: Clock;
  readonly log?: LogSink;
  /**
   * The viewer side's local payment check (`new ExactEvmPrecheck(config)`); default none, and no
   * payment is admitted. The origin-facing entries leave it out, and with it libsecp256k1's WASM.
   */
  readonly precheck?: PaymentPrecheck;
  /** The viewer side's sign-in-with-x proof check (`signedInPayer`); default none, and no sign-in is offered (it too needs the WASM). */
  readonly signInVerifier?: SignInVerifier;
  /** Only for measurement (bench/): wraps the real ports, e.g. with timers. */
  readonly wrapPorts?: (ports: PaywallPorts) => PaywallPorts;
}

/** Lambda logs each line it receives on stdout; EMF records in them become metrics. */
const consoleLog: LogSink = (line) => console.log(JSON.stringify(line));

/** Wires the real ports (facilitator over HTTP, DynamoDB) to the paywall and CloudFront events. */
export function createEdgeRuntime(config: EdgeConfig, options: EdgeRuntimeOptions = {}): EdgeHandlers {
  const log = options.log ?? consoleLog;
  const createAuthHeaders = options.createAuthHeaders ?? facilitatorAuth(config.facilitator, options.clock);
  // x402:settledReceipt=after-release: the settled receipt's write is followed until it is on its socket.
  const sent = config.settledReceipt === 'after-release' ? new SentRequests() : undefined;
  // One DynamoDB client for the receipt rows and the channel rows, made on its first use (below).
  // `receipts` sends the receipt rows' writes: with after-release, followed to their socket.
  let client: Promise<{ readonly raw: DynamoDBClient; readonly receipts: Pick<DynamoDBClient, 'send'> }> | undefined;
  const dynamo = () =>
    (client ??= Promise.all([import('@aws-sdk/client-dynamodb'), sent?.requestHandler()]).then(([{ DynamoDBClient }, requestHandler]) => {
      const made = new DynamoDBClient({
        region: config.receiptTable.region,
        endpoint: config.receiptTable.endpoint,
        credentials: options.credentials,
        // Viewer triggers get 5 s in all: one quick retry, then fail closed with a 503.
        maxAttempts: 2,
        // Each command class's middleware chain is resolved once, not on every call (about a tenth of
        // the client's CPU per call). The stack is final before the first call: nothing changes it after the lines below.
        cacheMiddleware: true,
        ...(requestHandler ? { requestHandler } : {}),
      });
      // The SDK's default logger discards everything, yet its middleware first copies each call's
      // input and output through the sensitive-data filter for it: about a tenth of a call's CPU,
      // which a 128 MB function spends at 1/14 of a core. Our own log lines report store errors.
      made.middlewareStack.remove('loggerMiddleware');
      // The User-Agent middleware rebuilds the SDK's user-agent string (and its feature list) on every
      // call; DynamoDB needs no user agent. About a tenth of the client's CPU per receipt-table call.
      made.middlewareStack.remove('getUserAgentMiddleware');
      return { raw: made, receipts: sent ? sent.follow(made) : made };
    })).catch((error: unknown) => {
      client = undefined;
      throw error;
    });
  const [receipts, receiptStoreMade] = storeOnFirstUse<ReceiptRows>(RECEIPT_STORE_METHODS, async () => {
    const [made, { DynamoReceiptStore }] = await Promise.all([dynamo(), import('./dynamo-receipt-store')]);
    return new DynamoReceiptStore(made.receipts, config.receiptTable.tableName);
  });
  const channels = config.routes.some((route) => route.scheme === 'batch-settlement')
    ? storeOnFirstUse<ChannelStorePort>(CHANNEL_STORE_METHODS, async () => {
        const [made, { DynamoChannelStore }] = await Promise.all([dynamo(), import('./dynamo-channel-store')]);
        return new DynamoChannelStore(made.raw, config.receiptTable.tableName);
      })[0]
    : undefined;
  const signingKey = config.passes?.signingKey;
  const ports: PaywallPorts = {
    // Each call's deadline is what the trigger has left; it covers the auth-header lookup too.
    facilitator: httpFacilitator(config.facilitator.url, createAuthHeaders),
    receipts,
    clock: options.clock ?? Date.now,
    log,
    chain: config.chainRpc && jsonRpcChain(config.chainRpc.url),
    ...(config.passes ? { passRecords: receipts, heldPasses: receipts } : {}),
    // Only the origin-facing bundles carry a signing key (lib/prebuilt-bundle.ts configForBundle).
    ...(signingKey ? { passSigner: passSigner(signingKey) } : {}),
    ...(config.agents ? { keyDirectories: fetchKeyDirectory } : {}),
    ...(channels ? { channels } : {}),
    ...(sent
      ? {
          receiptWritesSent: async () => {
            // A call waiting for the store to be made reaches the client first (it awaited the same promise before us).
            await receiptStoreMade()?.catch(() => undefined);
            await sent.written();
          },
        }
      : {}),
  };
  const paywall = new Paywall(config, options.wrapPorts ? options.wrapPorts(ports) : ports, options.precheck, options.signInVerifier);
  return cloudFrontHandlers(paywall, log);
}

/**
 * Every method of the receipt table's ports, once: `satisfies` makes a method a port gains (or
 * loses) without an entry here a compile error, so the lazy store below cannot miss one.
 */
const RECEIPT_STORE_METHODS = Object.keys({
  reserve: true,
  forget: true,
  claimForSettlement: true,
  markSettled: true,
  markFailed: true,
  release: true,
  claimRedelivery: true,
  returnRedelivery: true,
  handoffKey: true,
  recordPass: true,
  findPass: true,
  revokedPasses: true,
  addPassUses: true,
  heldPasses: true,
} satisfies Record<keyof ReceiptRows, true>) as Array<keyof ReceiptRows>;

/** The same for the channel rows of batch-settlement routes. */
const CHANNEL_STORE_METHODS = Object.keys({
  open: true,
  syncChain: true,
  reserve: true,
  commitCharged: true,
  release: true,
  releaseExpired: true,
  get: true,
  recordServed: true,
} satisfies Record<keyof ChannelStorePort, true>) as Array<keyof ChannelStorePort>;

/** Both ports the receipt table serves (DynamoReceiptStore implements them). */
type ReceiptRows = ReceiptStorePort & PassRecordsPort & HeldPassesPort;

/**
 * A table store, made on its first call: loading the AWS SDK is tens of ms of a cold start,
 * which the requests most containers serve (free ones, 402s) never need. A failed load is tried
 * again by the next call (that one fails closed, as for an unreachable table). Also returns the
 * store's making, once begun (what a call waits for before it reaches the store).
 */
function storeOnFirstUse<Port extends object>(methods: readonly (keyof Port)[], create: () => Promise<Port>): [Port, () => Promise<Port> | undefined] {
  let store: Promise<Port> | undefined;
  const made = () =>
    (store ??= create().catch((error: unknown) => {
      store = undefined;
      throw error;
    }));
  const port: Partial<Record<keyof Port, unknown>> = {};
  for (const name of methods) {
    port[name] = async (...args: unknown[]) => ((await made())[name] as (...a: unknown[]) => Promise<unknown>)(...args);
  }
  return [port as Port, () => store];
}
