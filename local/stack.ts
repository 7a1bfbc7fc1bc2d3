import type { Address } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { AbuseLimits } from '../lambda/core/config';
import type { EdgeConfig, PricedRoute } from '../lambda/core/config';
import type { LogSink } from '../lambda/core/ports';
import type { Receipt } from '../lambda/core/receipt';
import type { EdgeHandlers } from '../lambda/edge/cloudfront-adapter';
import { resolveX402Config, toEdgeConfig } from '../lib/config/resolve';
import type { PassOffer, X402Settings } from '../lib/config/settings';
import { ensureBundles } from '../scripts/build-bundles';
import type { EdgeBundleName } from '../lib/prebuilt-bundle';
import { bundleForEventType, edgeBundles, type EdgeBundle } from './bundle-edge';
import { LOCAL_NETWORK, startLocalChain, type LocalChain } from './chain';
import { startLocalEdge, type LocalEdge } from './cloudfront';
import { distributionFromTemplate, EDGE_EVENT_TYPES, type DistributionConfig, type EdgeEventType } from './distribution';
import { createReceiptTable, LOCAL_DYNAMO_CREDENTIALS, startLocalDynamo, type LocalDynamo } from './dynamo';
import { startLocalFacilitator, type LocalFacilitator } from './facilitator';
import { inProcessFunction, lambdaEnvironment, lambdaFunction, removeLambdaCode, writeLambdaCode, type EdgeFunctionRuntime, type LambdaFunction } from './lambda-container';
import { startSampleOrigin, type SampleOrigin } from './origin';
import { newPassKeyPair } from './pass-key';
import { listReceipts } from './receipts';
import { synthesizePaywallApart } from './synth';
import { createWafEmulation, webAclRulesFromTemplate, type WafRequest } from './waf-emulation';

/**
 * The sample origin's priced routes, as a publisher would configure them. The write route (before
 * the broad route it is an exception to) makes the deployed behavior allow every method and adds
 * the origin-request function that settles writes before the origin runs; with reads only,
 * CloudFront would refuse POST, PUT, PATCH and DELETE with a 403 before any function runs.
 */
export const SAMPLE_ROUTES: readonly PricedRoute[] = [
  { pattern: '/articles/*', price: '$0.001', description: 'One article', mimeType: 'text/html' },
  { pattern: 'GET /api/premium-report', price: '$0.01', description: 'Premium report', mimeType: 'application/json' },
  { pattern: 'POST /api/orders', price: '$0.005', description: 'Place an order', mimeType: 'application/json' },
  { pattern: '/api/**', price: '$0.002', description: 'API call', mimeType: 'application/json' },
];

export interface LocalStackOptions {
  readonly routes?: readonly PricedRoute[];
  /** x402:verifyTimeoutMs (validated like a deploy: 500 to 4,000). @default 3000 */
  readonly facilitatorVerifyTimeoutMs?: number;
  /** x402:settleTimeoutMs (validated like a deploy: 1,000 to 25,000). @default 10000 */
  readonly facilitatorSettleTimeoutMs?: number;
  /** How long the facilitator's `slow` fault holds answers (default 15,000 ms). */
  readonly facilitatorSlowMs?: number;
  /** The emulated origin response timeout, instead of the template's 30 s; GET and HEAD are tried up to 3 times, then 504. */
  readonly originTimeoutMs?: number;
  /**
   * Bounds on failing clients and payers (default: the production ones). Every local client is
   * 127.0.0.1, so suites that send many hostile payments on purpose raise them.
   */
  readonly abuseLimits?: AbuseLimits;
  /** Receives every line the edge functions log (JSON objects as they are, EMF records included; other lines as `{ message }`). */
  readonly log?: LogSink;
  /** Rewrites the edge configuration before it is baked into the function bundles, e.g. to route DynamoDB through a fault-injecting proxy, or to drop `chainRpc`. */
  readonly configure?: (config: EdgeConfig) => EdgeConfig | Promise<EdgeConfig>;
  /** Lambda@Edge timeouts by trigger, instead of the template's (5 s viewer, 30 s origin). */
  readonly functionTimeoutMs?: Partial<Record<EdgeEventType, number>>;
  /**
   * Measurement only (bench/): run these handlers in this process instead of the deployed bundles
   * in Lambda containers, so instruments can wrap their ports. Nothing isolates them and a timeout
   * does not end them; every test uses the containers.
   */
  readonly inProcessHandlers?: (config: EdgeConfig) => EdgeHandlers | Promise<EdgeHandlers>;
  /**
   * Passes on sale (x402:passes), signed with a key pair made for this stack: the deployed
   * configuration names a Secrets Manager secret, which the local edge replaces with the key itself
   * in the origin-facing bundles (the viewer-request gets the public key only, as deployed).
   */
  readonly passes?: readonly PassOffer[];
  /** x402:deniedPayersFile, read and baked like a deploy's. */
  readonly deniedPayersFile?: string;
  /** x402:settledReceipt, validated and baked like a deploy's. @default before-release */
  readonly settledReceipt?: X402Settings['settledReceipt'];
  /** x402:agents, synthesized like a deploy's (an agent with a `botName` gets its WAF rule). */
  readonly agents?: X402Settings['agents'];
  /**
   * The AWS Bot Control labels (names after `awswaf:managed:aws:bot-control:`) the emulated WAF
   * gives a request, for the synthesized web ACL's label rules to read (local/waf-emulation.ts):
   * the test's word for what Bot Control would conclude, never a request header. @default none
   */
  readonly botControlLabels?: (request: WafRequest) => readonly string[];
  /** Fixed ports for a stack people connect to (`npm run dev`); 0 = random. */
  readonly ports?: { readonly edge?: number; readonly rpc?: number; readonly facilitator?: number };
}

export interface LocalStack {
  /** The settings the stack was synthesized from, as a publisher writes them (the props, or the x402:* context keys). */
  readonly settings: X402Settings;
  /** What the edge functions run with: the deployed configuration, pointed at the local facilitator and DynamoDB. */
  readonly config: EdgeConfig;
  /** The distribution the local edge emulates, read from the synthesized template. */
  readonly distribution: DistributionConfig;
  readonly chain: LocalChain;
  readonly facilitator: LocalFacilitator;
  readonly dynamo: LocalDynamo;
  readonly origin: SampleOrigin;
  readonly edge: LocalEdge;
  /** The publisher's wallet (payTo). */
  readonly payTo: Address;
  receipts(): Promise<Receipt[]>;
  /** Starts every function's containers and waits for their init (see LambdaFunction.warm): before a burst of concurrent requests. */
  warmUp(): Promise<void>;
  close(): Promise<void>;
}

const RECEIPT_TABLE = 'x402-receipts';
/** What a deploy's `chainRpc.timeoutMs` would be by default. */
const LOCAL_CHAIN_RPC_TIMEOUT_MS = 500;
/** Lambda@Edge functions and the distribution then share one template. */
const REGION = 'us-east-1';
/** What local/paywall-synth.ts builds: the verifier's place, which the passes' site id is derived from. */
const SYNTH_SITE = { stackName: 'LocalEdge', constructPath: 'LocalEdge/Paywall/Verifier' } as const;
const LOCAL_PASS_KID = 'local';

// Lambda runs Node 22; this machine's Node 20 only makes the SDK warn about its future support.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * Everything the edge engine talks to, on loopback: a Base-Sepolia-like chain with USDC, the
 * official facilitator, dynalite, a sample origin, and CloudFront + WAF emulation configured from
 * the template an X402Paywall synthesizes with these settings, running the edge functions' bundles
 * as deployed, each in its own Lambda containers.
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const started: Array<{ close(): Promise<void> }> = [];
  try {
    // The functions run the package's prebuilt bundles: rebuilt first if the tree changed.
    ensureBundles();
    const origin = await startSampleOrigin();
    started.push(origin);
    const payTo = privateKeyToAccount(generatePrivateKey()).address;
    // The settings a publisher would deploy, validated the same way; the template synthesizes meanwhile.
    const settings: X402Settings = {
      network: LOCAL_NETWORK,
      payTo,
      routes: [...(options.routes ?? SAMPLE_ROUTES)],
      verifyTimeoutMs: options.facilitatorVerifyTimeoutMs ?? 3000,
      settleTimeoutMs: options.facilitatorSettleTimeoutMs ?? 10000,
      maxTimeoutSeconds: 120,
      ...(options.agents ? { agents: options.agents } : {}),
      ...(options.deniedPayersFile ? { deniedPayersFile: options.deniedPayersFile } : {}),
      ...(options.settledReceipt ? { settledReceipt: options.settledReceipt } : {}),
    };
    const passKey = options.passes ? newPassKeyPair() : undefined;
    if (options.passes && passKey) {
      Object.assign(settings, { passes: [...options.passes], passKeys: [{ kid: LOCAL_PASS_KID, publicKey: passKey.jwk, secret: 'cdk-x402/local-pass-key' }] });
    }
    const synthesis = synthesizePaywallApart({ settings, receiptTableName: RECEIPT_TABLE, region: REGION, origin: { domainName: '127.0.0.1', httpPort: origin.port } });
    synthesis.catch(() => undefined); // awaited below; a failure meanwhile is not unhandled
    // What the verifier bakes in (EdgeVerifier: toEdgeConfig of the resolved settings), known now
    // so the bundles are ready while the template synthesizes; checked against the template's below.
    const deployed = toEdgeConfig(resolveX402Config(settings), { tableName: RECEIPT_TABLE, region: REGION }, SYNTH_SITE);

    const chain = await startLocalChain({ rpcPort: options.ports?.rpc });
    started.push(chain);
    const facilitator = await startLocalFacilitator(chain, { port: options.ports?.facilitator, slowMs: options.facilitatorSlowMs });
    started.push(facilitator);
    const dynamo = await startLocalDynamo();
    started.push(dynamo);
    await createReceiptTable(dynamo.client, RECEIPT_TABLE);
    if (deployed.asset.address.toLowerCase() !== chain.usdc.toLowerCase()) throw new Error(`the deployed asset ${deployed.asset.address} is not the local chain's USDC ${chain.usdc}`);

    // What a local edge points elsewhere than a deploy: the facilitator, DynamoDB and the chain's
    // RPC (the recommended configuration: bad EOA signatures are refused at the edge), on loopback.
    const local: EdgeConfig = {
      ...deployed,
      facilitator: { ...deployed.facilitator, url: facilitator.url },
      receiptTable: { ...deployed.receiptTable, endpoint: dynamo.endpoint },
      chainRpc: { url: chain.rpcUrl, timeoutMs: LOCAL_CHAIN_RPC_TIMEOUT_MS },
      ...(options.abuseLimits ? { abuseLimits: options.abuseLimits } : {}),
      ...(deployed.passes && passKey ? { passes: { ...deployed.passes, signingKey: { kid: LOCAL_PASS_KID, kind: 'local', privateKeyPem: passKey.privateKeyPem } } } : {}),
    };
    const config = options.configure ? await options.configure(local) : local;
    const bundles = options.inProcessHandlers ? undefined : edgeBundles(config);

    const synthesized = await synthesis;
    // Compared as the bundles bake it: its JSON text.
    if (JSON.stringify(synthesized.edgeConfig) !== JSON.stringify(deployed)) {
      throw new Error(`the synthesized verifier bakes ${JSON.stringify(synthesized.edgeConfig)}, not ${JSON.stringify(deployed)}`);
    }
    const distribution = distributionFromTemplate(synthesized.template);
    const functions = bundles
      ? lambdaContainers(distribution, bundles, options)
      : inProcessFunctions(distribution, await options.inProcessHandlers!(config), options.functionTimeoutMs);
    started.push({ close: () => functions.close() });
    const waf = createWafEmulation({ botControl: { rules: webAclRulesFromTemplate(synthesized.template), labels: options.botControlLabels ?? (() => []) } });
    const edge = await startLocalEdge({ distribution, functions: functions.byId, waf, originTimeoutMs: options.originTimeoutMs, port: options.ports?.edge });
    started.push(edge);

    return {
      settings,
      config,
      distribution,
      chain,
      facilitator,
      dynamo,
      origin,
      edge,
      payTo,
      receipts: () => listReceipts(dynamo.client, RECEIPT_TABLE),
      warmUp: () => functions.warm(),
      close: () => closeAll(started),
    };
  } catch (error) {
    await closeAll(started);
    throw error;
  }
}

interface EdgeFunctions {
  readonly byId: Readonly<Record<string, EdgeFunctionRuntime>>;
  warm(): Promise<void>;
  close(): Promise<void>;
}

/** The trigger each function of the distribution is associated with (one per function: its bundle is the trigger's entry). */
function triggersOf(distribution: DistributionConfig): Map<string, EdgeEventType> {
  const triggers = new Map<string, EdgeEventType>();
  for (const behavior of distribution.behaviors) {
    for (const eventType of EDGE_EVENT_TYPES) {
      const functionId = behavior.functions[eventType]?.functionId;
      if (functionId === undefined) continue;
      const other = triggers.get(functionId);
      if (other && other !== eventType) throw new Error(`function ${functionId} is associated with both ${other} and ${eventType}; the local edge runs one bundle per function`);
      triggers.set(functionId, eventType);
    }
  }
  return triggers;
}

/** Each function's bundle (its trigger's, as deployed), in its own Lambda containers. */
function lambdaContainers(distribution: DistributionConfig, bundles: Readonly<Record<EdgeBundleName, EdgeBundle>>, options: LocalStackOptions): EdgeFunctions {
  const log = options.log ?? (() => undefined);
  const files: string[] = [];
  const byId: Record<string, LambdaFunction> = {};
  for (const [functionId, eventType] of triggersOf(distribution)) {
    const fn = distribution.functions[functionId]!;
    const name = bundleForEventType(eventType);
    const codePath = writeLambdaCode(name, bundles[name].code);
    files.push(codePath);
    byId[functionId] = lambdaFunction({
      functionName: functionId,
      codePath,
      handler: fn.handler,
      timeoutMs: options.functionTimeoutMs?.[eventType] ?? fn.timeoutSeconds * 1000,
      memoryMb: fn.memoryMb,
      env: lambdaEnvironment(functionId, fn.memoryMb, LOCAL_DYNAMO_CREDENTIALS),
      onLog: (line) => log(logRecord(line)),
    });
  }
  return {
    byId,
    async warm() {
      await Promise.all(Object.values(byId).map((f) => f.warm()));
    },
    async close() {
      await Promise.all(Object.values(byId).map((f) => f.close()));
      for (const file of files) removeLambdaCode(file);
    },
  };
}

/** bench/ only: see {@link LocalStackOptions.inProcessHandlers}. */
function inProcessFunctions(distribution: DistributionConfig, handlers: EdgeHandlers, timeouts: LocalStackOptions['functionTimeoutMs']): EdgeFunctions {
  const byId: Record<string, EdgeFunctionRuntime> = {};
  for (const [functionId, eventType] of triggersOf(distribution)) {
    const key = bundleForEventType(eventType).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()); // origin-request → originRequest
    const handler = (handlers as unknown as Record<string, ((event: never) => Promise<unknown>) | undefined>)[key];
    if (!handler) throw new Error(`the in-process handlers have no ${key} for the ${eventType} function`);
    byId[functionId] = inProcessFunction(handler, timeouts?.[eventType] ?? distribution.functions[functionId]!.timeoutSeconds * 1000);
  }
  // In-process handlers have no containers to start.
  return { byId, warm: async () => undefined, close: async () => undefined };
}

/** A console line of a function as the log sink takes it: a JSON object as is (EMF records included), anything else as `{ message }`. */
function logRecord(line: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(line);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // not JSON
  }
  return { message: line };
}

async function closeAll(services: Array<{ close(): Promise<void> }>): Promise<void> {
  for (const service of [...services].reverse()) await service.close().catch(() => undefined);
}
