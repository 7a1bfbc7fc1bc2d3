/**
 * `cdk-x402 reconcile` of batch-settlement channels against real parts: channels opened with the
 * official client's deposits (settled by the local facilitator on LocalBatchSettlement), requests
 * committed in the DynamoDB channel store (dynalite) with the official client's vouchers, then one
 * fault each: a claim confirmed on chain whose recording was lost (repaired from the chain), a
 * claim recorded that the chain never saw (mismatch), and a payer withdrawing with served
 * vouchers unclaimed (money at risk). Reconcile reads `channels(id)` and `receivers(payTo, token)`
 * over the local chain's loopback RPC.
 */
import type { HTTPFacilitatorClient } from '@x402/core/http';
import { createWalletClient, custom, type Abi, type Address, type Hex } from 'viem';
import { ExitCode } from '../../cli/errors';
import type { ReconcileResult } from '../../cli/reconcile';
import { claimAndSettle } from '../../lambda/core/batch/claims';
import type { DynamoChannelStore } from '../../lambda/edge/dynamo-channel-store';
import LocalBatchSettlementArtifact from '../../local/contracts/LocalBatchSettlement.json';
import { LOCAL_BATCH_SETTLEMENT_ADDRESS, type LocalChain } from '../../local/chain';
import type { LocalDynamo } from '../../local/dynamo';
import { startBatchChannels, servedChannel, type BatchChannels } from '../support/batch-channels';
import { cli } from '../support/cli';

const PAY_TO: Address = '0x000000000000000000000000000000000000bEEF';
const PRICE = 1000n;
const TABLE = 'receipts';

let world: BatchChannels;
let chain: LocalChain;
let ddb: LocalDynamo;
let store: DynamoChannelStore;
let http: HTTPFacilitatorClient;

beforeAll(async () => {
  world = await startBatchChannels(PAY_TO, TABLE);
  ({ chain, ddb, store, http } = world);
}, 60_000);
afterAll(() => world?.close());

const reconcile = (extra: string[] = []) => cli(['reconcile', '--rpc-url', chain.rpcUrl, '--table', TABLE, '--region', 'us-east-1', ...extra], { dynamo: ddb.client });

it('repairs a claim confirmed on chain but not recorded, and reports a claim not on chain, money at risk and the receiver\'s unsettled total', async () => {
  const healthy = await servedChannel(world, 2n, PRICE);
  const lost = await servedChannel(world, 3n, PRICE);
  const phantom = await servedChannel(world, 1n, PRICE);
  const withdrawing = await servedChannel(world, 2n, PRICE);

  // The claim of `lost` is confirmed on chain, then the run dies before recording it (and before settling).
  const facilitator = { verify: http.verify.bind(http), settle: http.settle.bind(http) };
  const crashing = { claimTarget: (id: Hex) => store.claimTarget(id), recordClaim: async () => Promise.reject(new Error('the claims function was cut off')) };
  await expect(claimAndSettle([lost.channelId], { channels: crashing, facilitator, terms: { network: chain.network, payTo: PAY_TO, asset: chain.usdc }, timeoutMs: 10_000, clock: Date.now })).rejects.toThrow(/cut off/);
  expect(await store.get(lost.channelId)).toMatchObject({ totalClaimed: 0n, charged: 3n * PRICE });
  // A claim recorded that the chain never saw.
  await store.recordClaim(phantom.channelId, { previousTotalClaimed: 0n, totalClaimed: PRICE, transaction: `0x${'ee'.repeat(32)}`, claimedAt: Date.now() });
  // A payer starts a timed withdrawal with two served vouchers unclaimed.
  const [balance] = (await chain.publicClient.readContract({ address: LOCAL_BATCH_SETTLEMENT_ADDRESS, abi: LocalBatchSettlementArtifact.abi as Abi, functionName: 'channels', args: [withdrawing.channelId] })) as [bigint, bigint];
  const wallet = createWalletClient({ account: withdrawing.payer, chain: chain.chain, transport: custom(chain.provider, { retryCount: 0 }) });
  await wallet.writeContract({ address: LOCAL_BATCH_SETTLEMENT_ADDRESS, abi: LocalBatchSettlementArtifact.abi as Abi, functionName: 'initiateWithdraw', args: [{ ...withdrawing.config, withdrawDelay: Number(withdrawing.config.withdrawDelay) }, balance] });

  // A dry run says what it would repair and writes nothing.
  const dry = await reconcile(['--dry-run', '--json']);
  expect(dry.code).toBe(ExitCode.ok);
  const planned = (dry.json() as ReconcileResult).channels!;
  expect(planned.rows.find((r) => r.channelId === lost.channelId)).toMatchObject({ outcome: 'repaired', write: 'dry-run' });
  expect(await store.get(lost.channelId)).toMatchObject({ totalClaimed: 0n });

  const result = (await reconcile(['--json'])).json() as ReconcileResult;
  const byId = (id: Hex) => result.channels!.rows.find((r) => r.channelId === id.toLowerCase());
  expect(byId(healthy.channelId)).toMatchObject({ outcome: 'ok', write: 'none', charged: '2000', recordedClaimed: '0', unclaimed: '2000', findings: [] });
  expect(byId(lost.channelId)).toMatchObject({
    outcome: 'repaired', write: 'applied', recordedClaimed: '0', chain: { totalClaimed: '3000' }, unclaimed: '0',
    findings: ['claimed on chain up to 3000, recorded 0: the row now mirrors the chain'],
  });
  expect(byId(phantom.channelId)).toMatchObject({ outcome: 'mismatch', write: 'none', findings: [expect.stringMatching(/records 1000 claimed, the chain only 0/)] });
  expect(byId(withdrawing.channelId)).toMatchObject({ outcome: 'at-risk', unclaimed: '2000', findings: [expect.stringMatching(/^2000 served and unclaimed while the payer withdraws: lost to payTo unless claimed before /)] });
  expect(result.channels!.totals).toEqual({ ok: 1, repaired: 1, mismatch: 1, 'at-risk': 1, written: 1 });
  // The contract's books for payTo: the lost claim is claimed there and not yet swept.
  expect(result.channels!.receivers).toEqual([{ receiver: PAY_TO.toLowerCase(), token: chain.usdc.toLowerCase(), totalClaimed: '3000', totalSettled: '0', unsettled: '3000' }]);

  // The row now carries the chain's claim: the claims run will not claim it again, a second reconcile finds it ok.
  expect(await store.get(lost.channelId)).toMatchObject({ totalClaimed: 3n * PRICE });
  expect(await store.claimTarget(lost.channelId)).toBeUndefined();
  const text = await reconcile();
  expect(text.stdout).toContain('4 batch-settlement channel(s): 2 ok, 1 mismatch, 1 at-risk; 0 repaired from the chain');
  expect(text.stdout).toMatch(/MONEY AT RISK/);
  expect(text.stdout).toContain(`receiver ${PAY_TO.toLowerCase()}, token`);
}, 120_000);
