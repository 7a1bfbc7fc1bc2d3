/**
 * `cdk-x402 reconcile` of batch-settlement channels against real parts: channels opened with the
 * official client's deposits (settled by the local facilitator on LocalBatchSettlement), requests
 * committed in the DynamoDB channel store (dynalite) with the official client's vouchers, then one
 * fault each: a claim confirmed on chain whose recording was lost (repaired from the chain), a
 * claim recorded that the chain never saw (mismatch), and a payer withdrawing with served
 * vouchers unclaimed (money at risk). Reconcile reads `channels(id)` and `receivers(payTo, token)`
 * over the local chain's loopback RPC.
 */
import { x402Client } from '@x402/core/client';
import { HTTPFacilitatorClient } from '@x402/core/http';
import { x402ResourceServer } from '@x402/core/server';
import type { PaymentRequirements } from '@x402/core/types';
import { toClientEvmSigner } from '@x402/evm';
import { BatchSettlementEvmScheme as BatchSettlementClientScheme, signVoucher } from '@x402/evm/batch-settlement/client';
import { BatchSettlementEvmScheme as BatchSettlementServerScheme } from '@x402/evm/batch-settlement/server';
import { randomBytes } from 'node:crypto';
import { createWalletClient, custom, type Abi, type Address, type Hex, type PrivateKeyAccount } from 'viem';
import { ExitCode } from '../../cli/errors';
import type { ReconcileResult } from '../../cli/reconcile';
import { claimAndSettle } from '../../lambda/core/batch/claims';
import { parseVoucherPayload, type ChannelConfig } from '../../lambda/core/batch/voucher';
import { DynamoChannelStore } from '../../lambda/edge/dynamo-channel-store';
import LocalBatchSettlementArtifact from '../../local/contracts/LocalBatchSettlement.json';
import { LOCAL_BATCH_SETTLEMENT_ADDRESS, startLocalChain, type LocalChain } from '../../local/chain';
import { createReceiptTable, startLocalDynamo, type LocalDynamo } from '../../local/dynamo';
import { startLocalFacilitator, type LocalFacilitator } from '../../local/facilitator';
import { cli } from '../support/cli';

const PAY_TO: Address = '0x000000000000000000000000000000000000bEEF';
const PRICE = 1000n;
const TABLE = 'receipts';

let chain: LocalChain;
let fac: LocalFacilitator;
let ddb: LocalDynamo;
let store: DynamoChannelStore;
let http: HTTPFacilitatorClient;
let requirements: PaymentRequirements;

beforeAll(async () => {
  chain = await startLocalChain();
  fac = await startLocalFacilitator(chain);
  ddb = await startLocalDynamo();
  await createReceiptTable(ddb.client, TABLE);
  store = new DynamoChannelStore(ddb.client, TABLE);
  http = new HTTPFacilitatorClient({ url: fac.url, timeoutMs: 10_000 });
  const server = new x402ResourceServer(http).register(chain.network, new BatchSettlementServerScheme(PAY_TO));
  await server.initialize();
  [requirements] = await server.buildPaymentRequirements({ scheme: 'batch-settlement', network: chain.network, price: '$0.001', payTo: PAY_TO, maxTimeoutSeconds: 60 });
}, 60_000);
afterAll(async () => {
  await fac?.close();
  await chain?.close();
  await ddb?.close();
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A channel opened by the official client's deposit, with `requests` served under its vouchers. */
async function servedChannel(requests: bigint): Promise<{ channelId: Hex; config: ChannelConfig; payer: PrivateKeyAccount }> {
  const payer = await chain.newFundedWallet(1_000_000n, { ethWei: 10n ** 17n });
  const client = new x402Client().register(chain.network, new BatchSettlementClientScheme(toClientEvmSigner(payer, chain.publicClient)));
  const deposit = await client.createPaymentPayload({ x402Version: 2, resource: { url: 'http://127.0.0.1/paid' }, accepts: [requirements] });
  const deposited = await http.settle(deposit, requirements);
  expect(deposited).toMatchObject({ success: true });
  const balance = BigInt((deposited.extra as { channelState: { balance: string } }).channelState.balance);
  const first = parseVoucherPayload(deposit.payload)!;
  const channelId = first.voucher.channelId;
  await store.open(channelId, first.config, { balance, totalClaimed: 0n, withdrawRequestedAt: 0, refundNonce: 0n });
  for (let n = 1n; n <= requests; n++) {
    const fields = n === 1n ? undefined : await signVoucher(toClientEvmSigner(payer), channelId, (n * PRICE).toString(), chain.network);
    const { voucher } = fields ? parseVoucherPayload({ channelConfig: first.config, voucher: fields })! : first;
    const reservationId = randomBytes(12).toString('base64url');
    expect(await store.reserve({ channelId, reservationId, voucher, price: PRICE, expiresAt: nowSeconds() + 60 })).toEqual({ status: 'reserved' });
    expect(await store.commit(channelId, reservationId, PRICE)).toBe('committed');
  }
  return { channelId, config: first.config, payer };
}

const reconcile = (extra: string[] = []) => cli(['reconcile', '--rpc-url', chain.rpcUrl, '--table', TABLE, '--region', 'us-east-1', ...extra], { dynamo: ddb.client });

it('repairs a claim confirmed on chain but not recorded, and reports a claim not on chain, money at risk and the receiver\'s unsettled total', async () => {
  const healthy = await servedChannel(2n);
  const lost = await servedChannel(3n);
  const phantom = await servedChannel(1n);
  const withdrawing = await servedChannel(2n);

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
