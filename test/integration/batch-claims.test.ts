/**
 * Batch-settlement books to chain: a channel opened with the official client's deposit (settled by
 * the local facilitator over HTTP), requests reserved and committed or released in the DynamoDB
 * store (dynalite), then lambda/core/batch/claims.ts claims what was served and settles it to payTo
 * on LocalBatchSettlement. The chain ends up with exactly the served amount claimed and paid.
 */
import { x402Client } from '@x402/core/client';
import type { HTTPFacilitatorClient } from '@x402/core/http';
import type { PaymentRequirements } from '@x402/core/types';
import { toClientEvmSigner } from '@x402/evm';
import { BatchSettlementEvmScheme as BatchSettlementClientScheme, signVoucher } from '@x402/evm/batch-settlement/client';
import { randomBytes } from 'node:crypto';
import { parseAbi, type Address, type Hex } from 'viem';
import { claimAndSettle } from '../../lambda/core/batch/claims';
import { checkVoucher, parseVoucherPayload, type ChannelTerms } from '../../lambda/core/batch/voucher';
import type { FacilitatorPort } from '../../lambda/core/ports';
import type { DynamoChannelStore } from '../../lambda/edge/dynamo-channel-store';
import { LOCAL_BATCH_SETTLEMENT_ADDRESS, type LocalChain } from '../../local/chain';
import type { LocalFacilitator } from '../../local/facilitator';
import { advanceChainTime, channelOnChain, payerCall, servedChannel, startBatchChannels, type BatchChannels } from '../support/batch-channels';

const PAY_TO: Address = '0x000000000000000000000000000000000000bEEF';
const PRICE = 1000n;
const channelsAbi = parseAbi(['function channels(bytes32 channelId) view returns (uint128 balance, uint128 totalClaimed)']);

let world: BatchChannels;
let chain: LocalChain;
let fac: LocalFacilitator;
let store: DynamoChannelStore;
let http: HTTPFacilitatorClient;
let facilitator: FacilitatorPort;
let requirements: PaymentRequirements;

beforeAll(async () => {
  world = await startBatchChannels(PAY_TO, 'receipts');
  ({ chain, fac, store, http, requirements } = world);
  facilitator = { verify: (p, r) => http.verify(p, r), settle: (p, r) => http.settle(p, r) };
}, 60_000);
afterAll(() => world?.close());

const nowSeconds = () => Math.floor(Date.now() / 1000);

it('claims exactly the served requests of a channel and settles them to payTo; a second run has nothing to claim', async () => {
  const payer = await chain.newFundedWallet(1_000_000n);
  const terms: ChannelTerms = {
    chainId: chain.chainId,
    payTo: PAY_TO,
    asset: chain.usdc,
    receiverAuthorizer: (requirements.extra as { receiverAuthorizer: Address }).receiverAuthorizer,
    withdrawDelay: Number((requirements.extra as { withdrawDelay: number }).withdrawDelay),
  };

  // The first request: the official client's deposit, settled on chain by the facilitator.
  const client = new x402Client().register(chain.network, new BatchSettlementClientScheme(toClientEvmSigner(payer, chain.publicClient)));
  const deposit = await client.createPaymentPayload({ x402Version: 2, resource: { url: 'http://127.0.0.1/paid' }, accepts: [requirements] });
  const deposited = await http.settle(deposit, requirements);
  expect(deposited).toMatchObject({ success: true });
  const state = (deposited.extra as { channelState: { balance: string; totalClaimed: string; withdrawRequestedAt: number; refundNonce: string } }).channelState;
  const first = parseVoucherPayload(deposit.payload)!;
  expect(checkVoucher(first.config, first.voucher, terms)).toEqual({ ok: true });
  const channelId = first.voucher.channelId;
  expect(await store.open(channelId, first.config, { balance: BigInt(state.balance), totalClaimed: 0n, withdrawRequestedAt: 0, refundNonce: 0n })).toBe('opened');

  // Requests 1..6, each with the official client's voucher for n × price; request 4's origin failed.
  for (let n = 1n; n <= 6n; n++) {
    const fields = n === 1n ? undefined : await signVoucher(toClientEvmSigner(payer), channelId, (n * PRICE).toString(), chain.network);
    const { config, voucher } = fields ? parseVoucherPayload({ channelConfig: first.config, voucher: fields })! : first;
    expect(checkVoucher(config, voucher, terms)).toEqual({ ok: true });
    const reservationId = randomBytes(12).toString('base64url');
    expect(await store.reserve({ channelId, reservationId, voucher, price: PRICE, expiresAt: nowSeconds() + 60 })).toEqual({ status: 'reserved' });
    if (n === 4n) expect(await store.release(channelId, reservationId, PRICE)).toBe('released');
    else expect(await store.commit(channelId, reservationId, PRICE)).toBe('committed');
  }
  const served = 5n * PRICE;
  expect(await store.get(channelId)).toMatchObject({ charged: served, reservedTo: served, signedMax: 6n * PRICE });

  // The facilitator is down: the claim fails and nothing is recorded as claimed.
  const claimTerms = { network: chain.network, payTo: PAY_TO, asset: chain.usdc } as const;
  fac.setFault('unavailable');
  await expect(claimAndSettle([channelId], { channels: store, facilitator, terms: claimTerms, timeoutMs: 10_000, clock: Date.now })).rejects.toThrow();
  fac.setFault('none');
  expect(await store.get(channelId)).toMatchObject({ totalClaimed: 0n });
  expect((await store.get(channelId))?.claimTx).toBeUndefined();

  const payToBefore = await chain.usdcBalance(PAY_TO);
  const run = await claimAndSettle(await store.listChannelIds(), { channels: store, facilitator, terms: claimTerms, timeoutMs: 10_000, clock: Date.now });
  expect(run.claimed).toEqual([{ channelId, totalClaimed: served, transaction: expect.stringMatching(/^0x[0-9a-f]{64}$/) }]);
  expect(run.settlement).toEqual({ transaction: expect.stringMatching(/^0x[0-9a-f]{64}$/), amount: served.toString() });
  expect(await chain.publicClient.readContract({ address: LOCAL_BATCH_SETTLEMENT_ADDRESS, abi: channelsAbi, functionName: 'channels', args: [channelId as Hex] })).toEqual([BigInt(state.balance), served]);
  expect((await chain.usdcBalance(PAY_TO)) - payToBefore).toBe(served);
  expect(await store.get(channelId)).toMatchObject({ totalClaimed: served, claimTx: run.claimed[0]!.transaction });

  expect(await claimAndSettle([channelId], { channels: store, facilitator, terms: claimTerms, timeoutMs: 10_000, clock: Date.now })).toEqual({ claimed: [], failed: [] });
}, 60_000);

// Last in this file: it moves the chain's clock past a withdraw delay.
it('a channel whose claim cannot go through does not hold up the others in its batch: they are claimed and settled, it is reported failed', async () => {
  const healthy = await servedChannel(world, 2n, PRICE);
  const withdrawn = await servedChannel(world, 3n, PRICE);
  // Its payer withdraws everything and finalizes before any run mirrored it: the row still shows the deposit, a claim of it would revert.
  const { balance } = await channelOnChain(chain, withdrawn.channelId);
  await payerCall(chain, withdrawn.payer, 'initiateWithdraw', withdrawn.config, balance);
  await advanceChainTime(chain, Number(withdrawn.config.withdrawDelay) + 1);
  await payerCall(chain, withdrawn.payer, 'finalizeWithdraw', withdrawn.config);

  const claimTerms = { network: chain.network, payTo: PAY_TO, asset: chain.usdc } as const;
  const payToBefore = await chain.usdcBalance(PAY_TO);
  const run = await claimAndSettle([withdrawn.channelId, healthy.channelId], { channels: store, facilitator, terms: claimTerms, timeoutMs: 10_000, clock: Date.now });
  expect(run.claimed).toEqual([{ channelId: healthy.channelId, totalClaimed: 2n * PRICE, transaction: expect.stringMatching(/^0x[0-9a-f]{64}$/) }]);
  expect(run.failed).toEqual([{ channelId: withdrawn.channelId, reason: expect.stringMatching(/^invalid_batch_settlement_evm_claim_simulation_failed/) }]);
  expect((await chain.usdcBalance(PAY_TO)) - payToBefore).toBe(2n * PRICE);
  expect(await store.get(withdrawn.channelId)).toMatchObject({ totalClaimed: 0n, charged: 3n * PRICE });
}, 60_000);
