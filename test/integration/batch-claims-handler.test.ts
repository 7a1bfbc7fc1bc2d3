/**
 * The scheduled batch-claims Lambda through its handler entry point, configured by its
 * environment: channels opened with the official client's deposits (settled by the local
 * facilitator), requests committed in the DynamoDB channel store (dynalite), the chain read over
 * the local chain's JSON-RPC. It claims exactly the channels that are due (threshold, age, pending
 * withdrawal) in one claimWithSignature, settles them to payTo, records both transactions, and
 * records nothing as claimed while the facilitator is down. Every confirmed claim and settle adds
 * a history row, from which `cdk-x402 report` names, for each request's receipt, the claim and
 * settle transactions that paid it.
 */
import type { HTTPFacilitatorClient } from '@x402/core/http';
import type { PaymentRequirements } from '@x402/core/types';
import { toClientEvmSigner } from '@x402/evm';
import { signVoucher } from '@x402/evm/batch-settlement/client';
import { GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { createWalletClient, custom, parseAbi, type Abi, type Address, type Hex } from 'viem';
import { parseVoucherPayload } from '../../lambda/core/batch/voucher';
import { LedgerReasons } from '../../lambda/core/batch/ledger';
import { channelChainReader } from '../../lambda/batch-claims/chain-state';
import { handler } from '../../lambda/batch-claims/handler';
import { runBatchClaims } from '../../lambda/batch-claims/run';
import type { FacilitatorPort } from '../../lambda/core/ports';
import { BatchClaimsEnvironment, type BatchClaimsSettings } from '../../lambda/batch-claims/settings';
import type { DynamoChannelStore } from '../../lambda/edge/dynamo-channel-store';
import LocalBatchSettlementArtifact from '../../local/contracts/LocalBatchSettlement.json';
import { LOCAL_BATCH_SETTLEMENT_ADDRESS, type LocalChain } from '../../local/chain';
import type { LocalDynamo } from '../../local/dynamo';
import { BATCH_CLAIM_PREFIX, BATCH_SETTLE_PREFIX, RECEIPT_PARTITION_KEY } from '../../lambda/core/receipt';
import { channelOnChain, payerCall, servedChannel, startBatchChannels, type BatchChannels } from '../support/batch-channels';
import { cli } from '../support/cli';
import type { LocalFacilitator } from '../../local/facilitator';

const PAY_TO: Address = '0x000000000000000000000000000000000000bEEF';
const PRICE = 1000n;
const TABLE = 'receipts';
const channelsAbi = parseAbi(['function channels(bytes32 channelId) view returns (uint128 balance, uint128 totalClaimed)']);

let world: BatchChannels;
let chain: LocalChain;
let fac: LocalFacilitator;
let ddb: LocalDynamo;
let store: DynamoChannelStore;
let http: HTTPFacilitatorClient;
let requirements: PaymentRequirements;
let settings: BatchClaimsSettings;

beforeAll(async () => {
  world = await startBatchChannels(PAY_TO, TABLE);
  ({ chain, fac, ddb, store, http, requirements } = world);
  settings = {
    network: chain.network,
    payTo: PAY_TO,
    asset: chain.usdc,
    facilitator: { url: fac.url, timeoutMs: 10_000 },
    chainRpcUrl: chain.rpcUrl,
    thresholdAtomic: (3n * PRICE).toString(),
    maxAgeSeconds: 3600,
    refundIdleAfterSeconds: 0,
  };
}, 60_000);
afterAll(() => world?.close());

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A channel opened by the official client's deposit, with `requests` served (committed at `committedAt`), each with its receipt. */
const servedWithReceipts = (requests: bigint, committedAt?: number) =>
  servedChannel(world, requests, PRICE, { committedAt, served: (channel, cumulative) => writeReceipt(channel.channelId, channel.payer.address, cumulative) });

/** The receipt the edge writes for a served batch-settlement request. */
async function writeReceipt(channelId: Hex, payer: Address, cumulative: bigint): Promise<void> {
  const createdAt = new Date().toISOString();
  const item = {
    [RECEIPT_PARTITION_KEY]: `${chain.network}:${channelId}:${cumulative}`, status: 'settled', engine: 'edge', network: chain.network, payer: payer.toLowerCase(), payTo: PAY_TO,
    amount: PRICE.toString(), asset: chain.usdc, route: 'GET /paid', createdAt, updatedAt: createdAt, scheme: 'batch-settlement', batchChannelId: channelId.toLowerCase(), batchCumulative: cumulative.toString(),
  };
  await ddb.client.send(new PutItemCommand({ TableName: TABLE, Item: Object.fromEntries(Object.entries(item).map(([k, v]) => [k, { S: v }])) }));
}

const historyRow = async (prefix: string, channelId: Hex, total: bigint) =>
  (await ddb.client.send(new GetItemCommand({ TableName: TABLE, Key: { [RECEIPT_PARTITION_KEY]: { S: `${prefix}${channelId.toLowerCase()}:${total}` } } }))).Item;

async function runHandler(): Promise<{ result?: Awaited<ReturnType<typeof handler>>; error?: unknown; logs: Array<Record<string, unknown>> }> {
  const env = { ...process.env };
  Object.assign(process.env, {
    [BatchClaimsEnvironment.tableName]: TABLE,
    [BatchClaimsEnvironment.settings]: JSON.stringify(settings),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
  });
  const logs: Array<Record<string, unknown>> = [];
  const log = jest.spyOn(console, 'log').mockImplementation((line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>));
  try {
    return { result: await handler(), logs };
  } catch (error) {
    return { error, logs };
  } finally {
    process.env = env;
    log.mockRestore();
  }
}

const onChainClaimed = async (channelId: Hex) =>
  (await chain.publicClient.readContract({ address: LOCAL_BATCH_SETTLEMENT_ADDRESS, abi: channelsAbi, functionName: 'channels', args: [channelId] }))[1];

it('claims the channels at the threshold, past the cadence or being withdrawn, in one claim, settles them to payTo, and records nothing while the facilitator is down', async () => {
  const atThreshold = await servedWithReceipts(3n);
  const old = await servedWithReceipts(1n, nowSeconds() - 2 * 3600);
  const young = await servedWithReceipts(1n);
  const withdrawing = await servedWithReceipts(1n);
  // The payer of one channel starts a timed withdrawal of everything: the edge learns of it only from this run.
  const [balance] = await chain.publicClient.readContract({ address: LOCAL_BATCH_SETTLEMENT_ADDRESS, abi: channelsAbi, functionName: 'channels', args: [withdrawing.channelId] });
  const wallet = createWalletClient({ account: withdrawing.payer, chain: chain.chain, transport: custom(chain.provider, { retryCount: 0 }) });
  await wallet.writeContract({ address: LOCAL_BATCH_SETTLEMENT_ADDRESS, abi: LocalBatchSettlementArtifact.abi as Abi, functionName: 'initiateWithdraw', args: [{ ...withdrawing.config, withdrawDelay: Number(withdrawing.config.withdrawDelay) }, balance] });

  // The facilitator is down: the run fails, logs and counts it, and records no claim.
  fac.setFault('unavailable');
  const failed = await runHandler();
  fac.setFault('none');
  expect(failed.error).toBeInstanceOf(Error);
  expect(failed.logs).toContainEqual(expect.objectContaining({ event: 'x402.batch_claims_error' }));
  expect(failed.logs).toContainEqual(expect.objectContaining({ BatchClaimErrors: 1 }));
  for (const { channelId } of [atThreshold, old, young, withdrawing]) {
    expect(await store.get(channelId)).toMatchObject({ totalClaimed: 0n, settledTo: 0n });
    expect((await store.get(channelId))?.claimTx).toBeUndefined();
  }
  // The withdrawal is mirrored all the same: the edge reserves nothing more on that channel.
  expect((await store.get(withdrawing.channelId))?.withdrawRequestedAt).toBeGreaterThan(0);
  const voucher = await signVoucher(toClientEvmSigner(withdrawing.payer), withdrawing.channelId, (2n * PRICE).toString(), chain.network);
  const next = parseVoucherPayload({ channelConfig: withdrawing.config, voucher })!.voucher;
  expect(await store.reserve({ channelId: withdrawing.channelId, reservationId: randomBytes(12).toString('base64url'), voucher: next, price: PRICE, expiresAt: nowSeconds() + 60 })).toEqual({
    status: 'refused',
    reason: LedgerReasons.withdrawalPending,
  });

  const payToBefore = await chain.usdcBalance(PAY_TO);
  const { result, logs } = await runHandler();
  expect(result?.due).toEqual(
    expect.arrayContaining([
      { channelId: atThreshold.channelId, reason: 'threshold' },
      { channelId: old.channelId, reason: 'age' },
      { channelId: withdrawing.channelId, reason: 'withdrawal_pending' },
    ]),
  );
  expect(result?.due).toHaveLength(3);
  const claimTx = result!.claimed[0]!.transaction;
  expect(new Set(result!.claimed.map((c) => c.transaction))).toEqual(new Set([claimTx]));
  const served = 3n * PRICE + PRICE + PRICE;
  expect(result?.settlement).toEqual({ transaction: expect.stringMatching(/^0x[0-9a-f]{64}$/), amount: served.toString() });
  expect((await chain.usdcBalance(PAY_TO)) - payToBefore).toBe(served);
  expect(logs).toContainEqual(expect.objectContaining({ BatchChannelsClaimed: 3, BatchSettledAtomicUnits: Number(served), BatchClaimErrors: 0 }));
  for (const [channel, amount] of [[atThreshold, 3n * PRICE], [old, PRICE], [withdrawing, PRICE]] as const) {
    expect(await onChainClaimed(channel.channelId)).toBe(amount);
    const row = await store.get(channel.channelId);
    expect(row).toMatchObject({ totalClaimed: amount, claimTx, settledTo: amount, settleTx: result!.settlement!.transaction });
    expect(row?.unclaimedSince).toBeUndefined();
  }
  // Each confirmed claim and settle is in the history, once.
  for (const [channel, amount] of [[atThreshold, 3n * PRICE], [old, PRICE], [withdrawing, PRICE]] as const) {
    expect(await historyRow(BATCH_CLAIM_PREFIX, channel.channelId, amount)).toEqual({
      [RECEIPT_PARTITION_KEY]: { S: `${BATCH_CLAIM_PREFIX}${channel.channelId.toLowerCase()}:${amount}` },
      channelId: { S: channel.channelId.toLowerCase() },
      previousTotalClaimed: { N: '0' },
      totalClaimed: { N: amount.toString() },
      claimTx: { S: claimTx },
      claimedAt: { S: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
    });
    expect(await historyRow(BATCH_SETTLE_PREFIX, channel.channelId, amount)).toMatchObject({ previousSettledTo: { N: '0' }, settledTo: { N: amount.toString() }, settleTx: { S: result!.settlement!.transaction } });
  }
  const day = new Date().toISOString().slice(0, 10);
  const reported = await cli(['report', '--table', TABLE, '--region', 'us-east-1', '--since', day, '--until', new Date(Date.now() + 86_400_000).toISOString().slice(0, 10), '--json'], { dynamo: ddb.client });
  const batch = reported.json().batch as { byRoute: unknown[]; receipts: Array<{ channelId: string; cumulative: string; claimTx?: string; settleTx?: string; claimed: boolean; settled: boolean }> };
  expect(batch.byRoute).toEqual([expect.objectContaining({ key: 'GET /paid', requests: 6, servedAtomic: (6n * PRICE).toString(), claimedAtomic: served.toString(), settledAtomic: served.toString() })]);
  const receiptOf = (channelId: Hex, n: bigint) => batch.receipts.find((r) => r.channelId === channelId.toLowerCase() && r.cumulative === (n * PRICE).toString());
  expect(receiptOf(atThreshold.channelId, 2n)).toMatchObject({ claimed: true, claimTx, settled: true, settleTx: result!.settlement!.transaction });
  expect(receiptOf(young.channelId, 1n)).toMatchObject({ claimed: false, settled: false });
  expect(receiptOf(young.channelId, 1n)?.claimTx).toBeUndefined();
  const text = await cli(['report', '--table', TABLE, '--region', 'us-east-1', '--since', day, '--until', new Date(Date.now() + 86_400_000).toISOString().slice(0, 10), '--by', 'route'], { dynamo: ddb.client });
  expect(text.stdout).toMatch(new RegExp(`GET /paid\\s+6\\s+0\\.006\\s+${Number(served) / 1e6}\\s+${Number(served) / 1e6}\\s+USD, USDC`));

  // The young channel below the threshold waits for a later run.
  expect(await onChainClaimed(young.channelId)).toBe(0n);
  expect(await store.get(young.channelId)).toMatchObject({ totalClaimed: 0n, charged: PRICE, unclaimedSince: expect.any(Number) });

  const again = await runHandler();
  expect(again.result).toMatchObject({ channels: 4, due: [], claimed: [] });
  expect(again.result?.settlement).toBeUndefined();
}, 120_000);

it('a settle that failed after its claim is retried by the next run; one someone else swept is recorded as settled without a transaction', async () => {
  // Earlier channels are all claimed and settled by the test above; these two are due by age.
  const first = await servedWithReceipts(2n, nowSeconds() - 2 * 3600);
  let failSettle = true;
  // The real facilitator over HTTP, its settle of the sweep refused once (as an outage after the claim would).
  const facilitator: FacilitatorPort = {
    verify: (p, r) => http.verify(p, r),
    settle: async (p, r) => {
      if ((p.payload as { type?: string }).type === 'settle' && failSettle) return { success: false, errorReason: 'unexpected_settle_error', transaction: '', network: r.network };
      return http.settle(p, r);
    },
  };
  const logs: Array<Record<string, unknown>> = [];
  const ports = { store, facilitator, readChain: channelChainReader(chain.rpcUrl, 10_000), clock: Date.now, log: (line: Record<string, unknown>) => void logs.push(line) };

  await expect(runBatchClaims(settings, ports)).rejects.toThrow(/settle failed after claiming/);
  expect(logs).toContainEqual(expect.objectContaining({ BatchClaimErrors: 1 }));
  // The claim is on chain and recorded; the settlement is not.
  expect(await onChainClaimed(first.channelId)).toBe(2n * PRICE);
  expect(await store.get(first.channelId)).toMatchObject({ totalClaimed: 2n * PRICE, settledTo: 0n });

  failSettle = false;
  const payToBefore = await chain.usdcBalance(PAY_TO);
  const retried = await runBatchClaims(settings, ports);
  expect(retried).toMatchObject({ due: [], claimed: [], settlement: { transaction: expect.stringMatching(/^0x[0-9a-f]{64}$/), amount: (2n * PRICE).toString() } });
  expect((await chain.usdcBalance(PAY_TO)) - payToBefore).toBe(2n * PRICE);
  expect(await store.get(first.channelId)).toMatchObject({ settledTo: 2n * PRICE, settleTx: retried.settlement!.transaction });

  // Claimed, its settle failed, and then someone else settled it (settle is permissionless).
  const second = await servedWithReceipts(1n, nowSeconds() - 2 * 3600);
  failSettle = true;
  await expect(runBatchClaims(settings, ports)).rejects.toThrow(/settle failed after claiming/);
  failSettle = false;
  expect(await http.settle({ x402Version: 2, accepted: { ...requirements, amount: '0' }, payload: { type: 'settle', receiver: PAY_TO, token: chain.usdc } }, { ...requirements, amount: '0' })).toMatchObject({ success: true });
  const swept = await runBatchClaims(settings, ports);
  expect(swept.settlement).toEqual({ transaction: '', amount: '0' });
  const row = await store.get(second.channelId);
  expect(row).toMatchObject({ totalClaimed: PRICE, settledTo: PRICE });
  expect(row?.settleTx).toBeUndefined();
}, 120_000);

it('a closing channel whose refund keeps failing is still claimed by the ordinary rules: at once when its payer starts withdrawing', async () => {
  const closing = await servedWithReceipts(2n);
  expect(await store.beginClosing(closing.channelId, 2n * PRICE, nowSeconds())).toBe(true);
  // The real facilitator over HTTP, refusing refunds (as a facilitator that cannot refund would).
  const facilitator: FacilitatorPort = {
    verify: (p, r) => http.verify(p, r),
    settle: async (p, r) => ((p.payload as { type?: string }).type === 'refund' ? { success: false, errorReason: 'invalid_batch_settlement_evm_refund_simulation_failed', transaction: '', network: r.network } : http.settle(p, r)),
  };
  const ports = { store, facilitator, readChain: channelChainReader(chain.rpcUrl, 10_000), clock: Date.now, log: () => {} };
  const { balance } = await channelOnChain(chain, closing.channelId);
  await payerCall(chain, closing.payer, 'initiateWithdraw', closing.config, balance);

  await expect(runBatchClaims({ ...settings, refundIdleAfterSeconds: 3600 }, ports)).rejects.toThrow(/refund of 0x[0-9a-f]+ failed: invalid_batch_settlement_evm_refund_simulation_failed \(the channel stays closed, the next run retries\)/);
  expect(await onChainClaimed(closing.channelId)).toBe(2n * PRICE);
  const row = (await store.get(closing.channelId))!;
  expect(row).toMatchObject({ closing: true, totalClaimed: 2n * PRICE, withdrawalPending: true });
  expect(row.refundedAt).toBeUndefined();
}, 120_000);
