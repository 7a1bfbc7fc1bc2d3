/**
 * A real x402 facilitator over HTTP for the local chain, built from the official packages:
 * `x402Facilitator` (@x402/core/facilitator) with `ExactEvmScheme` (v2, `eip155:84532`),
 * `ExactEvmSchemeV1` (v1, `base-sepolia`) and `UptoEvmScheme` (v2 `upto`, Permit2 through the x402
 * upto proxy) and `BatchSettlementEvmScheme` (v2 `batch-settlement`: deposits, claims, settle,
 * refunds on the batch-settlement contract) from @x402/evm, signing with the chain's facilitator
 * key. The same key is the batch-settlement receiver authorizer the facilitator advertises in
 * `/supported` (`extra.receiverAuthorizer`) and signs claims and refunds with.
 *
 * Endpoints (loopback only), compatible with `HTTPFacilitatorClient` from @x402/core/http:
 * - `GET /supported` → 200 `{kinds, extensions, signers}`; the `upto` kind carries
 *   `extra.facilitatorAddress` (the signer), which the upto server copies into its requirements
 * - `POST /verify`   body `{x402Version, paymentPayload, paymentRequirements}` → 200 VerifyResponse
 *   (also for `isValid: false`: the official client treats any non-2xx as an error)
 * - `POST /settle`   same body → 200 SettleResponse (also for `success: false`)
 * - `POST /settle` for `upto`: `paymentRequirements.amount` is the actual charge (≤ the signed
 *   maximum; "0" succeeds without a transaction)
 * - malformed body (not JSON, schema mismatch, not an EIP-3009 payload for `exact` or a Permit2
 *   payload for `upto`, version mismatch) → 400
 *   with a VerifyResponse/SettleResponse-shaped error (`invalid_payload`, `invalid_payment_requirements`,
 *   `invalid_x402_version`); no scheme registered for it → 400 `unsupported_scheme`;
 *   the facilitator threw → 500 `unexpected_verify_error` / `unexpected_settle_error`.
 *
 * Fault switch for tests, applied to every request until changed (`setFault`):
 * - `none`: normal service.
 * - `down`: the socket is destroyed without any HTTP answer (connection reset, like a crashed host).
 * - `unavailable`: 503 JSON `{error: 'facilitator_unavailable'}` without doing any work.
 * - `slow`: the request is handled normally (a settle DOES reach the chain) but the answer is held
 *   back for `slowMs` (default 15 s, beyond the edge's timeouts): the "settled but we never heard"
 *   case. close() drops held answers.
 * - `garbage`: 200 with a non-JSON body, without doing any work.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { x402Facilitator } from '@x402/core/facilitator';
import { parsePaymentPayload, parsePaymentRequirements } from '@x402/core/schemas';
import type { Network, PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { isUptoPermit2Payload, toFacilitatorEvmSigner } from '@x402/evm';
import { ExactEvmScheme } from '@x402/evm/exact/facilitator';
import { ExactEvmSchemeV1 } from '@x402/evm/exact/v1/facilitator';
import { UptoEvmScheme } from '@x402/evm/upto/facilitator';
import { BatchSettlementEvmScheme } from '@x402/evm/batch-settlement/facilitator';
import type { AuthorizerSigner } from '@x402/evm/batch-settlement/server';
import { createWalletClient, custom, publicActions } from 'viem';
import type { LocalChain } from './chain';
import { keepIdleConnections } from './idle-connections';

export type FacilitatorFault = 'none' | 'down' | 'unavailable' | 'slow' | 'garbage';

export interface LocalFacilitatorOptions {
  /** Port to listen on (127.0.0.1); 0 (default) picks a free one. */
  readonly port?: number;
  /** How long `slow` holds each answer back; default 15,000 ms. */
  readonly slowMs?: number;
}

export interface LocalFacilitator {
  /** Base URL, e.g. `http://127.0.0.1:41234` (pass to `new HTTPFacilitatorClient({ url })`). */
  readonly url: string;
  /** The underlying official facilitator (hooks can be added to it). */
  readonly facilitator: x402Facilitator;
  /** Requests received per endpoint (counted in every fault mode). */
  readonly calls: { verify: number; settle: number; supported: number };
  /** TCP connections accepted so far (clients that keep connections alive open few). */
  readonly connections: number;
  setFault(mode: FacilitatorFault): void;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1 << 20;
const sendQueues = new WeakMap<LocalChain, { tail: Promise<unknown> }>();

/**
 * The chain's facilitator key as an x402 facilitator signer.
 *
 * Transactions are sent one at a time (prepare, sign, broadcast), receipts are awaited
 * concurrently: viem's local-account path reads the `pending` nonce for each transaction, so two
 * concurrent settlements would otherwise sign the same nonce and one would fail with "nonce too
 * low". With automine each broadcast is mined before the next one is prepared; with interval
 * mining the `pending` nonce counts the broadcasts waiting for the next block. Transactions signed
 * with the facilitator key outside these signers (or in another process) are not coordinated.
 */
export function localFacilitatorSigner(chain: LocalChain) {
  const wallet = createWalletClient({
    account: chain.facilitatorAccount,
    chain: chain.chain,
    transport: custom(chain.provider, { retryCount: 0 }),
    pollingInterval: 50,
  }).extend(publicActions);
  // One queue per chain, shared by every signer of this process built for it (e.g. two facilitators).
  let queue = sendQueues.get(chain);
  if (!queue) sendQueues.set(chain, (queue = { tail: Promise.resolve() }));
  const q = queue;
  const serialized = <A extends unknown[], R>(fn: (...args: A) => Promise<R>) => (...args: A): Promise<R> => {
    const run = q.tail.then(() => fn(...args));
    q.tail = run.catch(() => undefined);
    return run;
  };
  return toFacilitatorEvmSigner(
    {
      address: chain.facilitatorAccount.address,
      readContract: (args) => wallet.readContract(args as never),
      verifyTypedData: (args) => wallet.verifyTypedData(args as never),
      getCode: (args) => wallet.getCode(args),
      waitForTransactionReceipt: (args) => wallet.waitForTransactionReceipt(args),
      writeContract: serialized((args) => wallet.writeContract(args as never)),
      sendTransaction: serialized((args) => wallet.sendTransaction(args)),
    },
    { confirmationTimeoutMs: 10_000 },
  );
}

/** Builds the official facilitator for the local chain (v2 `eip155:84532` exact, upto and batch-settlement, v1 `base-sepolia` exact). */
export function createLocalFacilitator(chain: LocalChain): x402Facilitator {
  const signer = localFacilitatorSigner(chain);
  const receiverAuthorizer: AuthorizerSigner = {
    address: chain.facilitatorAccount.address,
    // The scheme passes loosely typed typed data; viem's account narrows it by generics.
    signTypedData: (args) => chain.facilitatorAccount.signTypedData(args as Parameters<typeof chain.facilitatorAccount.signTypedData>[0]),
  };
  return new x402Facilitator()
    .register(chain.network, new ExactEvmScheme(signer))
    .register(chain.network, new UptoEvmScheme(signer))
    .register(chain.network, new BatchSettlementEvmScheme(signer, receiverAuthorizer))
    // v1 networks are plain names; the Network type only models CAIP-2 ids.
    .registerV1(chain.networkV1 as Network, new ExactEvmSchemeV1(signer));
}

export async function startLocalFacilitator(chain: LocalChain, opts: LocalFacilitatorOptions = {}): Promise<LocalFacilitator> {
  const facilitator = createLocalFacilitator(chain);
  const slowMs = opts.slowMs ?? 15_000;
  const calls = { verify: 0, settle: 0, supported: 0 };
  const held = new Set<NodeJS.Timeout>();
  let fault: FacilitatorFault = 'none';

  const handle = async (req: IncomingMessage): Promise<{ status: number; body: unknown }> => {
    const url = new URL(req.url ?? '/', 'http://local');
    if (req.method === 'GET' && url.pathname === '/supported') {
      return { status: 200, body: facilitator.getSupported() };
    }
    const op = url.pathname === '/verify' ? 'verify' : url.pathname === '/settle' ? 'settle' : undefined;
    if (req.method !== 'POST' || !op) return { status: 404, body: { error: 'not_found' } };

    const fail = (status: number, reason: string, message: string, network = '') => ({
      status,
      body:
        op === 'verify'
          ? { isValid: false, invalidReason: reason, invalidMessage: message }
          : { success: false, errorReason: reason, errorMessage: message, transaction: '', network },
    });
    const text = await readBody(req);
    if (text === undefined) return fail(413, 'invalid_payload', `body larger than ${MAX_BODY_BYTES} bytes`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return fail(400, 'invalid_payload', 'body is not JSON');
    }
    const parsed = parseRequest(body);
    if ('error' in parsed) return fail(400, parsed.error, parsed.message, parsed.network);
    const { paymentPayload, paymentRequirements } = parsed;
    try {
      const result =
        op === 'verify'
          ? await facilitator.verify(paymentPayload, paymentRequirements)
          : await facilitator.settle(paymentPayload, paymentRequirements);
      return { status: 200, body: result };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (message.startsWith('No facilitator registered')) return fail(400, 'unsupported_scheme', message, paymentRequirements.network);
      return fail(500, `unexpected_${op}_error`, message, paymentRequirements.network);
    }
  };

  const send = (res: ServerResponse, status: number, body: unknown) => {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    const mode = fault;
    const path = new URL(req.url ?? '/', 'http://local').pathname.slice(1);
    if (path === 'verify' || path === 'settle' || path === 'supported') calls[path]++;
    if (mode === 'down') {
      req.socket.destroy();
      return;
    }
    if (mode === 'unavailable' || mode === 'garbage') {
      req.resume();
      if (mode === 'unavailable') return send(res, 503, { error: 'facilitator_unavailable' });
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>502 Bad Gateway (not JSON)</body></html>');
      return;
    }
    handle(req).then(
      ({ status, body }) => {
        if (mode !== 'slow') return send(res, status, body);
        const timer = setTimeout(() => {
          held.delete(timer);
          send(res, status, body);
        }, slowMs);
        held.add(timer);
      },
      (err) => send(res, 500, { error: 'internal_error', message: String(err) }),
    );
  });
  keepIdleConnections(server);
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    facilitator,
    calls,
    get connections() {
      return connections;
    },
    setFault(mode) {
      fault = mode;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of held) clearTimeout(t);
        held.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

type ParsedRequest =
  | { paymentPayload: PaymentPayload; paymentRequirements: PaymentRequirements }
  | { error: string; message: string; network?: string };

/** Validates the request body; the original objects (not zod's stripped copies) are passed on. */
function parseRequest(body: unknown): ParsedRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { error: 'invalid_payload', message: 'body must be a JSON object {x402Version, paymentPayload, paymentRequirements}' };
  }
  const { x402Version, paymentPayload, paymentRequirements } = body as Record<string, unknown>;
  const req = parsePaymentRequirements(withBatchOperationTimeout(paymentRequirements));
  if (!req.success) return { error: 'invalid_payment_requirements', message: req.error.message };
  const network = req.data.network;
  const pay = parsePaymentPayload(
    isRecord(paymentPayload) ? { ...paymentPayload, accepted: withBatchOperationTimeout(paymentPayload.accepted) } : paymentPayload,
  );
  if (!pay.success) return { error: 'invalid_payload', message: pay.error.message, network };
  if (x402Version !== undefined && x402Version !== pay.data.x402Version) {
    return { error: 'invalid_x402_version', message: `x402Version ${String(x402Version)} does not match the payload's ${pay.data.x402Version}`, network };
  }
  const isV1Requirements = 'maxAmountRequired' in req.data;
  if ((pay.data.x402Version === 1) !== isV1Requirements) {
    return { error: 'invalid_x402_version', message: `x402 v${pay.data.x402Version} payload with v${isV1Requirements ? 1 : 2} requirements`, network };
  }
  const inner = (paymentPayload as { payload: Record<string, unknown> }).payload;
  // batch-settlement payloads come in several types (deposit, voucher, claim, settle, refund): the scheme checks each itself.
  if (req.data.scheme === 'batch-settlement') {
    return { paymentPayload: paymentPayload as PaymentPayload, paymentRequirements: paymentRequirements as PaymentRequirements };
  }
  // upto pays with a Permit2 witness signature; exact with an EIP-3009 authorization only (the
  // exact scheme's Permit2 proxy is not on the local chain).
  if (req.data.scheme === 'upto') {
    if (!isUptoPermit2Payload(inner)) {
      return {
        error: 'invalid_payload',
        message: 'upto payload must be {signature, permit2Authorization: {from, permitted: {token, amount}, spender, nonce, deadline, witness: {to, facilitator, validAfter}}}',
        network,
      };
    }
    return { paymentPayload: paymentPayload as PaymentPayload, paymentRequirements: paymentRequirements as PaymentRequirements };
  }
  const auth = inner.authorization as Record<string, unknown> | undefined;
  const fields = ['from', 'to', 'value', 'validAfter', 'validBefore', 'nonce'];
  if (typeof inner.signature !== 'string' || typeof auth !== 'object' || auth === null || fields.some((f) => typeof auth[f] !== 'string')) {
    return { error: 'invalid_payload', message: 'payload must be {signature, authorization: {from, to, value, validAfter, validBefore, nonce}}', network };
  }
  return { paymentPayload: paymentPayload as PaymentPayload, paymentRequirements: paymentRequirements as PaymentRequirements };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The official batch-settlement channel manager sends its claim, settle and refund requests with
 * `maxTimeoutSeconds: 0`, which the core schemas reject: they are checked as if it were 1 (only
 * for the schema check; the scheme receives the original).
 */
function withBatchOperationTimeout(requirements: unknown): unknown {
  const isBatchOperation = isRecord(requirements) && requirements.scheme === 'batch-settlement' && requirements.maxTimeoutSeconds === 0;
  return isBatchOperation ? { ...requirements, maxTimeoutSeconds: 1 } : requirements;
}

/** The body as text, or undefined when it exceeds MAX_BODY_BYTES. */
function readBody(req: IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY_BYTES) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
