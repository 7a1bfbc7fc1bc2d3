/**
 * A batch-settlement commit whose answer is lost, on real parts: a channel opened by the official
 * client's deposit (local chain, local facilitator), the scheme's origin-response (commit, receipt)
 * on the DynamoDB store in dynalite through an AWS SDK client whose first commit response is
 * dropped after dynalite applied it (a transient network error, which the SDK retries: the retry's
 * condition then fails). The row decides: served once, one receipt, charged once; and when not
 * even the row can be read, the content is withheld and the claims run writes the charge's receipt.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { toClientEvmSigner } from '@x402/evm';
import { signVoucher } from '@x402/evm/batch-settlement/client';
import { randomBytes } from 'node:crypto';
import type { Address } from 'viem';
import { channelChainReader } from '../../lambda/batch-claims/chain-state';
import { runBatchClaims } from '../../lambda/batch-claims/run';
import type { BatchClaimsSettings } from '../../lambda/batch-claims/settings';
import { COMMIT_MARKER_SECONDS } from '../../lambda/core/batch/ledger';
import { BatchSettlementScheme, type BatchHandoff } from '../../lambda/core/batch/scheme';
import { RECEIPT_FROM_COMMIT_MARKER } from '../../lambda/core/batch/served-receipt';
import { parseVoucherPayload } from '../../lambda/core/batch/voucher';
import { routeTerms } from '../../lambda/core/requirements';
import { compileRoutes } from '../../lambda/core/routes';
import { DynamoChannelStore } from '../../lambda/edge/dynamo-channel-store';
import { LOCAL_DYNAMO_CREDENTIALS, LOCAL_DYNAMO_REGION } from '../../local/dynamo';
import { listReceipts } from '../../local/receipts';
import { testEdgeConfig } from '../support/config';
import { servedChannel, startBatchChannels, type BatchChannels, type ServedChannel } from '../support/batch-channels';

const PAY_TO: Address = '0x000000000000000000000000000000000000bEEF';
const TABLE = 'receipts';
const PRICE = 1000n;

let world: BatchChannels;
/** What the next commit's dropped answer does: `before` runs after dynalite applied it, before the SDK sees the error. */
let dropNextCommit: { before?: () => Promise<void> } | undefined;
/** Reads of the row fail as an unreachable table does. */
let readsFail = false;
let lossy: DynamoDBClient;

const networkError = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

beforeAll(async () => {
  world = await startBatchChannels(PAY_TO, TABLE);
  // As the edge's client: one retry of a transient error.
  lossy = new DynamoDBClient({ endpoint: world.ddb.endpoint, region: LOCAL_DYNAMO_REGION, credentials: LOCAL_DYNAMO_CREDENTIALS, maxAttempts: 2 });
  lossy.middlewareStack.add(
    (next, context) => async (args) => {
      const input = (args as { input: { UpdateExpression?: string } }).input;
      if (context.commandName === 'GetItemCommand' && readsFail) throw networkError();
      const output = await next(args);
      if (context.commandName === 'UpdateItemCommand' && input.UpdateExpression?.includes('#committedTo.#rid = #charged + :price') && dropNextCommit) {
        const drop = dropNextCommit;
        dropNextCommit = undefined;
        await drop.before?.();
        throw networkError();
      }
      return output;
    },
    // Inside the retry middleware (finalizeRequest), around the deserializer: the SDK retries the error.
    { step: 'deserialize', priority: 'high', name: 'dropCommitAnswer' },
  );
}, 60_000);
afterAll(async () => {
  lossy?.destroy();
  await world?.close();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

function edge() {
  const config = testEdgeConfig({ network: world.chain.network, payTo: PAY_TO, asset: { address: world.chain.usdc, name: 'USDC', version: '2', decimals: 6, symbol: 'USDC' }, routes: [{ pattern: '/feed/**', scheme: 'batch-settlement', price: '$0.001' }] });
  const terms = routeTerms(compileRoutes(config)[0]!, config, undefined, (world.requirements.extra as { receiverAuthorizer: Address }).receiverAuthorizer);
  const logs: Array<Record<string, unknown>> = [];
  const store = new DynamoChannelStore(lossy, TABLE);
  const scheme = new BatchSettlementScheme(config, { facilitator: { verify: () => Promise.reject(new Error('no facilitator call')), settle: () => Promise.reject(new Error('no facilitator call')) }, channels: store, clock: Date.now, log: (l) => void logs.push(l), storeError: () => {} });
  return { scheme, terms, logs };
}

/** A request on the channel reserved under the official client's voucher for `cumulative`: its hand-off. */
async function reserved(channel: ServedChannel, cumulative: bigint, expiresAt = nowSeconds() + 60): Promise<BatchHandoff> {
  const fields = await signVoucher(toClientEvmSigner(channel.payer), channel.channelId, cumulative.toString(), world.chain.network);
  const { voucher } = parseVoucherPayload({ channelConfig: channel.config, voucher: fields })!;
  const reservationId = randomBytes(16).toString('base64url');
  expect(await world.store.reserve({ channelId: channel.channelId, reservationId, voucher, price: PRICE, expiresAt })).toEqual({ status: 'reserved' });
  return { kind: 'batch', routeIndex: 0, resource: 'http://127.0.0.1/feed/1', channelId: channel.channelId, reservationId, payer: channel.payer.address.toLowerCase() };
}

const receiptsOf = async (channel: ServedChannel) => (await listReceipts(world.ddb.client, TABLE)).filter((r) => r.batchChannelId === channel.channelId.toLowerCase());

it('a commit whose answer was lost (applied, then the SDK retry found the reservation gone) is served once, with one receipt and one charge', async () => {
  const channel = await servedChannel(world, 1n, PRICE);
  const { scheme, terms, logs } = edge();
  const handoff = await reserved(channel, 2n * PRICE);
  dropNextCommit = {};
  const settled = await scheme.settle(handoff, terms, 200);
  expect(dropNextCommit).toBeUndefined();
  expect(settled).toMatchObject({ kind: 'served', charged: 2n * PRICE });
  expect(logs.map((l) => l.event)).toEqual(expect.arrayContaining(['x402.batch_commit_recovered', 'x402.batch_served']));
  const row = (await world.store.get(channel.channelId))!;
  // Its receipt is written: its marker waits for this container's next commit on the channel (or the claims run).
  expect([row.charged, row.reservedTo, row.pending.size, [...row.committed.keys()]]).toEqual([2n * PRICE, 2n * PRICE, 0, [handoff.reservationId]]);
  expect((await receiptsOf(channel)).map((r) => [r.batchCumulative, r.amount, r.resource, r.nonce])).toEqual([['2000', '1000', handoff.resource, handoff.reservationId]]);
});

it('a lost commit answer racing the expiry sweep: the sweep finds nothing to release, the request is served once', async () => {
  const channel = await servedChannel(world, 1n, PRICE);
  const { scheme, terms } = edge();
  const handoff = await reserved(channel, 2n * PRICE);
  let swept: number | undefined;
  // The sweep runs between the applied commit and the read-back, as if the reservation had expired.
  dropNextCommit = { before: async () => void (swept = await world.store.releaseExpired(channel.channelId, nowSeconds() + 3600)) };
  expect(await scheme.settle(handoff, terms, 200)).toMatchObject({ kind: 'served', charged: 2n * PRICE });
  expect(swept).toBe(0);
  const row = (await world.store.get(channel.channelId))!;
  expect([row.charged, row.reservedTo]).toEqual([2n * PRICE, 2n * PRICE]);
  expect(await receiptsOf(channel)).toHaveLength(1);
});

it('a reservation swept before its commit: withheld, nothing charged, no receipt', async () => {
  const channel = await servedChannel(world, 1n, PRICE);
  const { scheme, terms } = edge();
  const handoff = await reserved(channel, 2n * PRICE, nowSeconds() - 1);
  expect(await world.store.releaseExpired(channel.channelId, nowSeconds())).toBe(1);
  const settled = await scheme.settle(handoff, terms, 200);
  expect(settled.kind === 'refused' && [settled.rejection.status, settled.rejection.reason]).toEqual([503, 'batch_settlement_reservation_expired']);
  const row = (await world.store.get(channel.channelId))!;
  expect([row.charged, row.reservedTo, row.committed.size]).toEqual([PRICE, PRICE, 0]);
  expect(await receiptsOf(channel)).toHaveLength(0);
});

it('a lost commit answer whose row cannot be read back: withheld (503), and the claims run writes the charge its receipt from the marker', async () => {
  const channel = await servedChannel(world, 1n, PRICE);
  const { scheme, terms } = edge();
  const handoff = await reserved(channel, 2n * PRICE);
  dropNextCommit = {};
  readsFail = true;
  const settled = await scheme.settle(handoff, terms, 200).finally(() => (readsFail = false));
  expect(settled.kind === 'refused' && [settled.rejection.status, settled.rejection.reason]).toEqual([503, 'receipt_store_unavailable']);
  const row = (await world.store.get(channel.channelId))!;
  // The charge was applied, without a receipt: the marker is the evidence.
  expect(row.charged).toBe(2n * PRICE);
  expect([...row.committed.values()]).toEqual([{ amount: PRICE, chargedTo: 2n * PRICE, committedAt: expect.any(Number), route: '/feed/**', resource: handoff.resource }]);
  expect(await receiptsOf(channel)).toHaveLength(0);

  // While its origin-response may still be writing the receipt, the marker stays.
  expect((await claimsRun(Date.now)).receiptsFromMarkers).toBe(0);
  expect((await world.store.get(channel.channelId))!.committed.size).toBe(1);
  expect((await claimsRun(afterMarkersAreStale)).receiptsFromMarkers).toBe(1);
  const receipts = await receiptsOf(channel);
  expect(receipts.map((r) => [r.paymentId, r.status, r.amount, r.batchCumulative, r.payer, r.route, r.resource, r.errorReason])).toEqual([
    [`${world.chain.network}:batch:${channel.channelId.toLowerCase()}:2000`, 'settled', '1000', '2000', channel.payer.address.toLowerCase(), '/feed/**', handoff.resource, RECEIPT_FROM_COMMIT_MARKER],
  ]);
  expect((await world.store.get(channel.channelId))!.committed.size).toBe(0);
  // A second run finds nothing left to repair.
  expect((await claimsRun(afterMarkersAreStale)).receiptsFromMarkers).toBe(0);
}, 60_000);

it('sequential served requests through one container: each commit removes the last one\'s marker, and the claims run the markers no commit removed', async () => {
  const channel = await servedChannel(world, 1n, PRICE);
  const { scheme, terms } = edge();
  const other = edge();
  const lastOf = new Map<unknown, string>();
  // The deposit (10 × the price) pays 9 more requests; the fifth goes through another container, as the edge's several containers do.
  for (let i = 2n; i <= 10n; i++) {
    const handoff = await reserved(channel, i * PRICE);
    const container = i === 5n ? other.scheme : scheme;
    expect(await container.settle(handoff, terms, 200)).toMatchObject({ kind: 'served', charged: i * PRICE });
    lastOf.set(container, handoff.reservationId);
    // At most one marker per container (one request at a time each, none in flight), each one's receipt written.
    const row = (await world.store.get(channel.channelId))!;
    expect(row.committed.size).toBeLessThanOrEqual(2);
    const receipted = new Set((await receiptsOf(channel)).map((r) => r.nonce));
    expect([...row.committed.keys()].filter((id) => !receipted.has(id))).toEqual([]);
  }
  const row = (await world.store.get(channel.channelId))!;
  // Left: each container's last one.
  expect([row.charged, [...row.committed.keys()].sort()]).toEqual([10n * PRICE, [...lastOf.values()].sort()]);
  expect(await receiptsOf(channel)).toHaveLength(9);
  // The markers no later commit removed go with the claims run once stale; their receipts exist, so none is written.
  expect((await claimsRun(Date.now)).receiptsFromMarkers).toBe(0);
  expect((await world.store.get(channel.channelId))!.committed.size).toBe(2);
  expect((await claimsRun(afterMarkersAreStale)).receiptsFromMarkers).toBe(0);
  expect((await world.store.get(channel.channelId))!.committed.size).toBe(0);
  expect(await receiptsOf(channel)).toHaveLength(9);
}, 120_000);

const afterMarkersAreStale = () => Date.now() + (COMMIT_MARKER_SECONDS + 1) * 1000;

/** One scheduled claims run at `clock`, with nothing due to claim. */
function claimsRun(clock: () => number) {
  const settings: BatchClaimsSettings = {
    network: world.chain.network,
    payTo: PAY_TO,
    asset: world.chain.usdc,
    facilitator: { url: world.fac.url, timeoutMs: 10_000 },
    chainRpcUrl: world.chain.rpcUrl,
    thresholdAtomic: (1000n * PRICE).toString(),
    maxAgeSeconds: 3600,
    refundIdleAfterSeconds: 0,
  };
  return runBatchClaims(settings, {
    store: world.store,
    facilitator: { verify: () => Promise.reject(new Error('nothing to verify')), settle: () => Promise.reject(new Error('nothing due')) },
    readChain: channelChainReader(world.chain.rpcUrl, 10_000),
    log: () => {},
    clock,
  });
}
