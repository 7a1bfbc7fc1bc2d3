/**
 * The serial round trips (facilitator, DynamoDB, chain RPC) of each trigger on the paid path, as
 * documented at the Paywall class: counted through the ports, over real signed payments.
 */
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { PaymentPayload } from '@x402/core/types';
import { PENDING_SETTLEMENT_HEADER } from '../../lambda/core/handoff';
import { Paywall, type OriginRequestOutcome, type ViewerOutcome } from '../../lambda/core/paywall';
import { ExactEvmPrecheck } from '../../lambda/core/precheck';
import { paymentRequiredV2, routeTerms } from '../../lambda/core/requirements';
import { compileRoutes } from '../../lambda/core/routes';
import { testEdgeConfig } from '../support/config';
import { MemoryReceipts } from '../support/memory-receipts';
import { encodePayment, signPayment } from '../support/payer';
import { RoundTrips } from '../support/round-trips';

const config = testEdgeConfig({ chainRpc: { url: 'http://127.0.0.1:1', timeoutMs: 500 } });
const terms = routeTerms(compileRoutes(config)[0], config);
const SMART_WALLET = privateKeyToAccount(generatePrivateKey()).address;

function setup(edgeConfig = config, receipts = new MemoryReceipts()) {
  const trips = new RoundTrips();
  const paywall = new Paywall(
    edgeConfig,
    trips.wrap({
      facilitator: {
        verify: async () => ({ isValid: true }),
        settle: async (payload) => ({ success: true, transaction: `0x${'ab'.repeat(32)}`, network: 'eip155:84532', payer: (payload.payload as { authorization: { from: string } }).authorization.from }),
      },
      receipts,
      ...(edgeConfig.settledReceipt ? { receiptWritesSent: async () => undefined } : {}),
      chain: { hasCode: async (address) => address.toLowerCase() === SMART_WALLET.toLowerCase(), call: async () => ({ kind: 'returned' }) },
      clock: Date.now,
      log: () => undefined,
    }),
    new ExactEvmPrecheck(config),
  );
  return { paywall, trips };
}

async function signed(uri: string, from?: string): Promise<string> {
  const payload: PaymentPayload = await signPayment(privateKeyToAccount(generatePrivateKey()), paymentRequiredV2(terms, `https://example.com${uri}`));
  if (from) (payload.payload as { authorization: { from: string } }).authorization.from = from;
  return encodePayment(payload);
}

/** A viewer request carrying a freshly signed payment (signed before any invocation is counted). */
async function paidRequest(method: string, uri: string, from?: string) {
  const header = await signed(uri, from);
  return { method, uri, host: 'example.com', clientIp: '203.0.113.9', header: (name: string) => (name === 'payment-signature' ? header : undefined) };
}

function handoffOf(outcome: ViewerOutcome | OriginRequestOutcome): string {
  if (outcome.kind !== 'forward') throw new Error(`expected the request forwarded, got ${JSON.stringify(outcome)}`);
  return outcome.setHeaders[PENDING_SETTLEMENT_HEADER];
}

const VERIFY_WHILE_RESERVING = ['facilitator.verify', 'receipts.reserve'];
/** A container's first paid request also reads the hand-off sealing key, alongside what it waits for anyway. */
const FIRST_VERIFY_WHILE_RESERVING = ['facilitator.verify', 'receipts.handoffKey', 'receipts.reserve'];
const SETTLE_RECORD = [['facilitator.settle'], ['receipts.markSettled']];
const FIRST_CLAIM_SETTLE_RECORD = [['receipts.claimForSettlement', 'receipts.handoffKey'], ['facilitator.settle'], ['receipts.markSettled']];

/** Viewer-request, origin-request and origin-response of one paid request, each counted (`afterOriginRequest` runs between the last two). */
async function paidFlow(paywall: Paywall, trips: RoundTrips, method: string, uri: string, originStatus: number, afterOriginRequest = () => {}) {
  const viewerRequest = await paidRequest(method, uri);
  const viewer = await trips.during(() => paywall.onViewerRequest(viewerRequest));
  const originRequest = await trips.during(() => paywall.onOriginRequest({ method, uri, handoff: handoffOf(viewer.result) }));
  afterOriginRequest();
  const handoff = originRequest.result.kind === 'forward' ? handoffOf(originRequest.result) : handoffOf(viewer.result);
  const originResponse = await trips.during(() => paywall.onOriginResponse({ method, uri, handoff }, originStatus));
  return { viewer, originRequest, originResponse };
}

it('a paid GET: viewer-request 1 (verify while reserving), origin-request 0, origin-response 2 (settle, record)', async () => {
  const { paywall, trips } = setup();
  const first = await paidFlow(paywall, trips, 'GET', '/articles/first', 200);
  expect(first.viewer.levels).toEqual([FIRST_VERIFY_WHILE_RESERVING]);
  expect(first.originRequest).toEqual({ result: { kind: 'pass' }, levels: [] });
  expect(first.originResponse.result.kind).toBe('release');
  expect(first.originResponse.levels).toEqual(FIRST_CLAIM_SETTLE_RECORD);

  const next = await paidFlow(paywall, trips, 'GET', '/articles/next', 200);
  expect(next.viewer.levels).toEqual([VERIFY_WHILE_RESERVING]);
  expect(next.originRequest.levels).toEqual([]);
  expect(next.originResponse.result.kind).toBe('release');
  expect(next.originResponse.levels).toEqual(SETTLE_RECORD);
});

it('a paid POST: viewer-request 1, origin-request 2 (settled before the origin runs), origin-response 0', async () => {
  const { paywall, trips } = setup();
  await paidFlow(paywall, trips, 'POST', '/articles/warm', 201);
  const { viewer, originRequest, originResponse } = await paidFlow(paywall, trips, 'POST', '/articles/post', 201);
  expect(viewer.levels).toEqual([VERIFY_WHILE_RESERVING]);
  expect(originRequest.levels).toEqual(SETTLE_RECORD);
  expect(originResponse).toEqual({ result: expect.objectContaining({ kind: 'release' }), levels: [] });
});

/** Receipts whose settled writes wait until {@link answer}: each is still unanswered when its handler returns. */
class HeldSettledWrites extends MemoryReceipts {
  private readonly held: Array<() => void> = [];
  override async markSettled(paymentId: string, txHash: string, at: string) {
    await new Promise<void>((resolve) => this.held.push(resolve));
    return super.markSettled(paymentId, txHash, at);
  }
  answer(): void {
    for (const resolve of this.held.splice(0)) resolve();
  }
}

describe('with x402:settledReceipt after-release', () => {
  const afterRelease = testEdgeConfig({ ...config, settledReceipt: 'after-release' });

  it('a paid GET: viewer-request 1, origin-request 0, origin-response 1 (the settle; the record is sent, not waited for): 2 in all', async () => {
    const receipts = new HeldSettledWrites();
    const { paywall, trips } = setup(afterRelease, receipts);
    const first = await paidFlow(paywall, trips, 'GET', '/articles/first', 200);
    expect(first.originResponse).toMatchObject({ result: { kind: 'release' }, levels: [['receipts.claimForSettlement', 'receipts.handoffKey'], ['facilitator.settle']], unanswered: ['receipts.markSettled'] });
    receipts.answer();

    const next = await paidFlow(paywall, trips, 'GET', '/articles/next', 200);
    expect(next.viewer.levels).toEqual([VERIFY_WHILE_RESERVING]);
    expect(next.originRequest.levels).toEqual([]);
    expect(next.originResponse).toEqual({ result: expect.objectContaining({ kind: 'release' }), levels: [['facilitator.settle']], unanswered: ['receipts.markSettled'] });
    receipts.answer();
  });

  it('a paid POST: origin-request 1 (the settle), origin-response 0: 2 in all', async () => {
    const receipts = new HeldSettledWrites();
    const { paywall, trips } = setup(afterRelease, receipts);
    // Answered before the origin-response, which would otherwise wait for it (that function's next invocation).
    await paidFlow(paywall, trips, 'POST', '/articles/warm', 201, () => receipts.answer());
    const { viewer, originRequest, originResponse } = await paidFlow(paywall, trips, 'POST', '/articles/post', 201, () => receipts.answer());
    expect(viewer.levels).toEqual([VERIFY_WHILE_RESERVING]);
    expect(originRequest).toMatchObject({ result: { kind: 'forward' }, levels: [['facilitator.settle']], unanswered: ['receipts.markSettled'] });
    expect(originResponse.levels).toEqual([]);
  });
});

it('with verifyTransfers: an EOA payment is verified by one simulated transfer instead of the facilitator', async () => {
  const { paywall, trips } = setup(testEdgeConfig({ chainRpc: { url: 'http://127.0.0.1:1', timeoutMs: 500, verifyTransfers: true } }));
  await paidFlow(paywall, trips, 'GET', '/articles/warm', 200);
  const { viewer, originResponse } = await paidFlow(paywall, trips, 'GET', '/articles/simulated', 200);
  expect(viewer.levels).toEqual([['chain.call', 'receipts.reserve']]);
  expect(originResponse.levels).toEqual(SETTLE_RECORD);
});

it('an origin that failed: origin-response 1 (the release), no settlement', async () => {
  const { paywall, trips } = setup();
  const { originResponse } = await paidFlow(paywall, trips, 'GET', '/articles/down', 502);
  expect(originResponse.levels).toEqual([['receipts.release']]);
});

it('a smart wallet: one eth_getCode before its first verify in a container, none after', async () => {
  const { paywall, trips } = setup();
  const firstRequest = await paidRequest('GET', '/articles/w1', SMART_WALLET);
  const first = await trips.during(() => paywall.onViewerRequest(firstRequest));
  expect(first.levels).toEqual([['chain.hasCode'], FIRST_VERIFY_WHILE_RESERVING]);
  const secondRequest = await paidRequest('GET', '/articles/w2', SMART_WALLET);
  const second = await trips.during(() => paywall.onViewerRequest(secondRequest));
  expect(second.levels).toEqual([VERIFY_WHILE_RESERVING]);
});
it('a bad signature naming an EOA: refused after one eth_getCode, then with none at all', async () => {
  const { paywall, trips } = setup();
  const eoa = privateKeyToAccount(generatePrivateKey()).address;
  const firstRequest = await paidRequest('GET', '/articles/f1', eoa);
  const first = await trips.during(() => paywall.onViewerRequest(firstRequest));
  expect(first).toMatchObject({ result: { kind: 'respond', response: { status: 402 } }, levels: [['chain.hasCode']] });
  const againRequest = await paidRequest('GET', '/articles/f2', eoa);
  const again = await trips.during(() => paywall.onViewerRequest(againRequest));
  expect(again).toMatchObject({ result: { kind: 'respond', response: { status: 402 } }, levels: [] });
});
