/**
 * lambda/edge/dynamo-channel-store.ts against dynalite: batch-settlement channel books where every
 * change is one conditional update, so parallel requests of one channel never reserve more than the
 * vouchers and the deposit cover, and an increment is committed or released once.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { randomBytes } from 'node:crypto';
import { bytesToHex, getAddress, type Hex } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { LedgerReasons } from '../../lambda/core/batch/ledger';
import { channelIdOf, voucherDigest, type ChannelConfig, type Voucher } from '../../lambda/core/batch/voucher';
import { DynamoChannelStore, type ChannelChainState } from '../../lambda/edge/dynamo-channel-store';
import { createReceiptTable, startLocalDynamo, type LocalDynamo } from '../../local/dynamo';
import { BATCH_CLAIM_PREFIX, BATCH_SETTLE_PREFIX, RECEIPT_PARTITION_KEY } from '../../lambda/core/receipt';

const CHAIN_ID = 84532;
const PRICE = 1000n;
const payer = privateKeyToAccount(generatePrivateKey());

let ddb: LocalDynamo;
let store: DynamoChannelStore;
beforeAll(async () => {
  ddb = await startLocalDynamo();
  await createReceiptTable(ddb.client, 'receipts');
  store = new DynamoChannelStore(ddb.client, 'receipts');
});
afterAll(() => ddb?.close());

const historyRow = async (prefix: string, channelId: Hex, total: bigint) =>
  (await ddb.client.send(new GetItemCommand({ TableName: 'receipts', Key: { [RECEIPT_PARTITION_KEY]: { S: `${prefix}${channelId.toLowerCase()}:${total}` } } }))).Item;

/** A fresh channel of `payer` (its own salt), opened with `balance` deposited and nothing claimed. */
async function openChannel(balance: bigint, chain: Partial<ChannelChainState> = {}): Promise<{ channelId: Hex; config: ChannelConfig }> {
  const config: ChannelConfig = {
    payer: payer.address,
    payerAuthorizer: payer.address,
    receiver: '0x000000000000000000000000000000000000bEEF',
    receiverAuthorizer: getAddress('0x000000000000000000000000000000000000fac7'),
    token: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
    withdrawDelay: 900,
    salt: `0x${randomBytes(32).toString('hex')}`,
  };
  const channelId = channelIdOf(config, CHAIN_ID);
  expect(await store.open(channelId, config, { balance, totalClaimed: 0n, withdrawRequestedAt: 0, refundNonce: 0n, ...chain })).toBe('opened');
  return { channelId, config };
}

async function voucher(channelId: Hex, max: bigint): Promise<Voucher> {
  return { channelId, maxClaimableAmount: max, signature: await payer.sign({ hash: bytesToHex(voucherDigest(channelId, max, CHAIN_ID)) }) };
}

const newId = () => randomBytes(12).toString('base64url');
const nowSeconds = () => Math.floor(Date.now() / 1000);
const inAMinute = () => nowSeconds() + 60;

it('reserves, commits and releases increments: charged counts only committed requests, each once', async () => {
  const { channelId, config } = await openChannel(10_000n);
  expect(await store.open(channelId, config, { balance: 1n, totalClaimed: 0n, withdrawRequestedAt: 0, refundNonce: 0n })).toBe('exists');

  const first = { channelId, reservationId: newId(), voucher: await voucher(channelId, 1000n), price: PRICE, expiresAt: inAMinute() };
  const second = { channelId, reservationId: newId(), voucher: await voucher(channelId, 2000n), price: PRICE, expiresAt: inAMinute() };
  expect(await store.reserve(first)).toEqual({ status: 'reserved' });
  expect(await store.reserve(second)).toEqual({ status: 'reserved' });
  expect(await store.get(channelId)).toMatchObject({ charged: 0n, reservedTo: 2000n, signedMax: 2000n, signature: second.voucher.signature, pending: new Map([[first.reservationId, { amount: PRICE, expiresAt: first.expiresAt }], [second.reservationId, { amount: PRICE, expiresAt: second.expiresAt }]]) });

  expect(await store.commit(channelId, first.reservationId, PRICE)).toBe('committed');
  expect(await store.commit(channelId, first.reservationId, PRICE)).toBe('unknown');
  expect(await store.release(channelId, first.reservationId, PRICE)).toBe('unknown');
  expect(await store.release(channelId, second.reservationId, PRICE)).toBe('released');
  expect(await store.commit(channelId, second.reservationId, PRICE)).toBe('unknown');
  expect(await store.get(channelId)).toMatchObject({ charged: 1000n, reservedTo: 1000n, signedMax: 2000n, pending: new Map() });

  // The released range can be paid again, by the voucher that already covers it.
  const again = { channelId, reservationId: newId(), voucher: second.voucher, price: PRICE, expiresAt: inAMinute() };
  expect(await store.reserve(again)).toEqual({ status: 'reserved' });
  expect(await store.commit(channelId, again.reservationId, PRICE)).toBe('committed');
  expect(await store.claimTarget(channelId)).toEqual({ config, maxClaimableAmount: 2000n, signature: second.voucher.signature, totalClaimed: 2000n, previousTotalClaimed: 0n });
});

it('refuses a reused voucher, a lower cumulative amount, a voucher over the deposit and an unknown channel, without changing the books', async () => {
  const { channelId } = await openChannel(3000n);
  const paid = await voucher(channelId, 2000n);
  expect(await store.reserve({ channelId, reservationId: newId(), voucher: await voucher(channelId, 1000n), price: PRICE, expiresAt: inAMinute() })).toEqual({ status: 'reserved' });
  expect(await store.reserve({ channelId, reservationId: newId(), voucher: paid, price: PRICE, expiresAt: inAMinute() })).toEqual({ status: 'reserved' });
  const before = await store.get(channelId);

  const refused = async (v: Voucher, id = channelId) => store.reserve({ channelId: id, reservationId: newId(), voucher: v, price: PRICE, expiresAt: inAMinute() });
  expect(await refused(paid)).toEqual({ status: 'refused', reason: LedgerReasons.cumulativeTooLow });
  expect(await refused(await voucher(channelId, 1500n))).toEqual({ status: 'refused', reason: LedgerReasons.cumulativeTooLow });
  expect(await refused(await voucher(channelId, 3001n))).toEqual({ status: 'refused', reason: LedgerReasons.cumulativeExceedsBalance });
  expect(await refused(await voucher(channelId, 500n))).toEqual({ status: 'refused', reason: LedgerReasons.cumulativeTooLow });
  const unknown = `0x${'ab'.repeat(32)}` as Hex;
  expect(await refused(await voucher(unknown, 1000n), unknown)).toEqual({ status: 'refused', reason: 'batch_settlement_channel_unknown' });
  expect(await store.get(channelId)).toEqual(before);
});

it('refuses new charges once the payer starts a timed withdrawal, and lets reservations in flight finish', async () => {
  const { channelId } = await openChannel(10_000n);
  const inFlight = { channelId, reservationId: newId(), voucher: await voucher(channelId, 1000n), price: PRICE, expiresAt: inAMinute() };
  expect(await store.reserve(inFlight)).toEqual({ status: 'reserved' });
  await store.syncChain(channelId, { balance: 10_000n, totalClaimed: 0n, withdrawRequestedAt: 1_770_000_000, refundNonce: 0n });
  expect(await store.reserve({ channelId, reservationId: newId(), voucher: await voucher(channelId, 2000n), price: PRICE, expiresAt: inAMinute() })).toEqual({
    status: 'refused',
    reason: LedgerReasons.withdrawalPending,
  });
  expect(await store.commit(channelId, inFlight.reservationId, PRICE)).toBe('committed');
  expect(await store.claimTarget(channelId)).toMatchObject({ totalClaimed: 1000n });
});

it('commits only the amount that was reserved (a forged hand-off cannot charge more)', async () => {
  const { channelId } = await openChannel(10_000n);
  const r = { channelId, reservationId: newId(), voucher: await voucher(channelId, 5000n), price: PRICE, expiresAt: inAMinute() };
  await store.reserve(r);
  expect(await store.commit(channelId, r.reservationId, 5000n)).toBe('unknown');
  expect(await store.commit(channelId, 'not a reservation id!', PRICE)).toBe('unknown');
  expect(await store.get(channelId)).toMatchObject({ charged: 0n, reservedTo: 1000n });
});

it('50 parallel reserves under one voucher covering 20 requests: exactly 20 succeed, the sum is exact', async () => {
  const { channelId } = await openChannel(1_000_000n);
  const covering = await voucher(channelId, 20n * PRICE);
  const outcomes = await Promise.all(Array.from({ length: 50 }, () => store.reserve({ channelId, reservationId: newId(), voucher: covering, price: PRICE, expiresAt: inAMinute() })));
  expect(outcomes.filter((o) => o.status === 'reserved')).toHaveLength(20);
  expect(outcomes.filter((o) => o.status === 'refused')).toHaveLength(30);
  const row = await store.get(channelId);
  expect(row).toMatchObject({ reservedTo: 20n * PRICE, signedMax: 20n * PRICE });
  expect(row?.pending.size).toBe(20);
});

it('50 parallel requests with their own vouchers over a deposit of 30: never more reserved than the deposit or the highest admitted voucher', async () => {
  const balance = 30n * PRICE;
  const { channelId } = await openChannel(balance);
  // Vouchers of 1..50 requests, arriving in any order; those above the deposit are refused outright.
  const requests = await Promise.all(Array.from({ length: 50 }, async (_, i) => ({ channelId, reservationId: newId(), voucher: await voucher(channelId, BigInt(i + 1) * PRICE), price: PRICE, expiresAt: inAMinute() })));
  const outcomes = await Promise.all(requests.map((r) => store.reserve(r)));
  const admitted = requests.filter((_, i) => outcomes[i]!.status === 'reserved');
  expect(outcomes.slice(30).every((o) => o.status === 'refused' && o.reason === LedgerReasons.cumulativeExceedsBalance)).toBe(true);
  const highest = admitted.reduce((m, r) => (r.voucher.maxClaimableAmount > m ? r.voucher.maxClaimableAmount : m), 0n);
  const row = await store.get(channelId);
  expect(row?.reservedTo).toBe(BigInt(admitted.length) * PRICE);
  expect(row?.reservedTo).toBeLessThanOrEqual(highest);
  expect(row?.signedMax).toBe(highest);

  // All served: the claim covers exactly what was served, under the highest voucher.
  await Promise.all(admitted.map((r) => store.commit(channelId, r.reservationId, PRICE)));
  const target = await store.claimTarget(channelId);
  expect(target).toMatchObject({ totalClaimed: BigInt(admitted.length) * PRICE, maxClaimableAmount: highest });
  expect(target!.totalClaimed).toBeLessThanOrEqual(balance);
});

it('a sweep releases only expired reservations, once, and a late commit of a released one charges nothing', async () => {
  const { channelId } = await openChannel(10_000n);
  const stale = { channelId, reservationId: newId(), voucher: await voucher(channelId, 1000n), price: PRICE, expiresAt: nowSeconds() - 1 };
  const live = { channelId, reservationId: newId(), voucher: await voucher(channelId, 2000n), price: PRICE, expiresAt: inAMinute() };
  await store.reserve(stale);
  await store.reserve(live);
  // A voucher for one more request is refused while the stale reservation still holds its amount.
  const resigned = await voucher(channelId, 2000n);
  expect(await store.reserve({ channelId, reservationId: newId(), voucher: resigned, price: PRICE, expiresAt: inAMinute() })).toMatchObject({ status: 'refused' });

  expect(await Promise.all([store.releaseExpired(channelId, nowSeconds()), store.releaseExpired(channelId, nowSeconds())])).toEqual(expect.arrayContaining([1, 0]));
  expect(await store.commit(channelId, stale.reservationId, PRICE)).toBe('unknown');
  expect(await store.get(channelId)).toMatchObject({ charged: 0n, reservedTo: 1000n, pending: new Map([[live.reservationId, { amount: PRICE, expiresAt: live.expiresAt }]]) });
  expect(await store.reserve({ channelId, reservationId: newId(), voucher: resigned, price: PRICE, expiresAt: inAMinute() })).toEqual({ status: 'reserved' });
});

it('stamps the oldest unclaimed charge for the claims cadence, clears it only when a claim covers every charge, and never lowers a recorded settlement', async () => {
  const { channelId } = await openChannel(10_000n);
  const serve = async (max: bigint, at: number) => {
    const r = { channelId, reservationId: newId(), voucher: await voucher(channelId, max), price: PRICE, expiresAt: inAMinute() };
    expect(await store.reserve(r)).toEqual({ status: 'reserved' });
    expect(await store.commit(channelId, r.reservationId, PRICE, at)).toBe('committed');
  };
  await serve(1000n, 1_000);
  await serve(2000n, 2_000);
  expect(await store.get(channelId)).toMatchObject({ charged: 2000n, unclaimedSince: 1_000 });

  // A claim read before the second charge: the stamp stays (the cadence errs early, never late).
  await store.recordClaim(channelId, { previousTotalClaimed: 0n, totalClaimed: 1000n, transaction: '0xc1', claimedAt: 1_500_000 });
  expect(await store.get(channelId)).toMatchObject({ totalClaimed: 1000n, claimTx: '0xc1', unclaimedSince: 1_000 });
  await store.recordClaim(channelId, { previousTotalClaimed: 1000n, totalClaimed: 2000n, transaction: '0xc2', claimedAt: 2_500_000 });
  expect((await store.get(channelId))?.unclaimedSince).toBeUndefined();
  // An older claim confirmed late changes nothing.
  await store.recordClaim(channelId, { previousTotalClaimed: 0n, totalClaimed: 1000n, transaction: '0xc0', claimedAt: 2_600_000 });
  expect(await store.get(channelId)).toMatchObject({ totalClaimed: 2000n, claimTx: '0xc2' });
  // The history keeps one row per claimed total: the first confirmation's, whatever a re-run writes.
  expect(await historyRow(BATCH_CLAIM_PREFIX, channelId, 1000n)).toMatchObject({ previousTotalClaimed: { N: '0' }, totalClaimed: { N: '1000' }, claimTx: { S: '0xc1' }, claimedAt: { S: new Date(1_500_000).toISOString() } });
  expect(await historyRow(BATCH_CLAIM_PREFIX, channelId, 2000n)).toMatchObject({ previousTotalClaimed: { N: '1000' }, claimTx: { S: '0xc2' } });
  await serve(3000n, 3_000);
  expect(await store.get(channelId)).toMatchObject({ unclaimedSince: 3_000 });

  await store.recordSettlement(channelId, { previousSettledTo: 0n, settledTo: 2000n, transaction: '0x5e', settledAt: 2_700_000 });
  await store.recordSettlement(channelId, { previousSettledTo: 0n, settledTo: 1000n, transaction: '0x5f', settledAt: 2_800_000 });
  expect(await store.get(channelId)).toMatchObject({ settledTo: 2000n, settleTx: '0x5e' });
  expect(await historyRow(BATCH_SETTLE_PREFIX, channelId, 2000n)).toMatchObject({ previousSettledTo: { N: '0' }, settledTo: { N: '2000' }, settleTx: { S: '0x5e' } });
});

it('closes an idle channel for its refund only when nothing was reserved or charged since the run read it, refuses reservations while closing, and reopens on a top-up after the refund', async () => {
  const { channelId } = await openChannel(10_000n);
  const reserveNext = async (max: bigint) => {
    const r = { channelId, reservationId: newId(), voucher: await voucher(channelId, max), price: PRICE, expiresAt: inAMinute() };
    return { r, outcome: await store.reserve(r) };
  };
  const { r: first } = await reserveNext(1000n);
  expect(await store.commit(channelId, first.reservationId, PRICE)).toBe('committed');
  const read = (await store.get(channelId))!;
  // A request reserved after the run's read: no mark; committed, the charged total no longer matches: still no mark.
  const { r: late, outcome } = await reserveNext(2000n);
  expect(outcome).toEqual({ status: 'reserved' });
  expect(await store.beginClosing(channelId, read.charged, nowSeconds())).toBe(false);
  expect(await store.commit(channelId, late.reservationId, PRICE)).toBe('committed');
  expect(await store.beginClosing(channelId, read.charged, nowSeconds())).toBe(false);
  expect((await store.get(channelId))!.closing).toBe(false);

  // Read again with nothing in flight: marked, once; reservations are refused naming the refund.
  expect(await store.beginClosing(channelId, 2000n, nowSeconds())).toBe(true);
  expect(await store.beginClosing(channelId, 2000n, nowSeconds())).toBe(false);
  expect((await reserveNext(3000n)).outcome).toEqual({ status: 'refused', reason: LedgerReasons.channelClosing });

  // Refunded: the chain keeps the claimed total; a mirror of that keeps it closed, a top-up above it reopens it.
  await store.recordRefund(channelId, { refundNonce: 0n, amount: 8000n, previousTotalClaimed: 0n, claimedTo: 2000n, transaction: `0x${'aa'.repeat(32)}`, refundedAt: Date.now() });
  await store.syncChain(channelId, { balance: 2000n, totalClaimed: 2000n, withdrawRequestedAt: 0, refundNonce: 1n });
  expect(await store.get(channelId)).toMatchObject({ closing: true, refundedAt: expect.any(Number), refundTx: `0x${'aa'.repeat(32)}` });
  expect((await reserveNext(3000n)).outcome).toEqual({ status: 'refused', reason: LedgerReasons.channelClosing });
  await store.syncChain(channelId, { balance: 12_000n, totalClaimed: 2000n, withdrawRequestedAt: 0, refundNonce: 1n });
  const reopened = (await store.get(channelId))!;
  expect(reopened).toMatchObject({ closing: false, balance: 12_000n, charged: 2000n });
  expect([reopened.closingAt, reopened.refundedAt, reopened.quietCharged]).toEqual([undefined, undefined, undefined]);
  expect((await reserveNext(3000n)).outcome).toEqual({ status: 'reserved' });
});

it('a top-up while the channel is closing and not yet refunded keeps it closed (its refund returns the top-up too)', async () => {
  const { channelId } = await openChannel(10_000n);
  expect(await store.beginClosing(channelId, 0n, nowSeconds())).toBe(true);
  await store.syncChain(channelId, { balance: 20_000n, totalClaimed: 0n, withdrawRequestedAt: 0, refundNonce: 0n });
  expect(await store.get(channelId)).toMatchObject({ closing: true, balance: 20_000n });
});
