/**
 * batch-settlement through the local edge: the official batch-settlement client (with the official
 * fetch wrapper) deposits once through the local facilitator onto LocalBatchSettlement, then pays
 * every request with a cumulative voucher that the edge checks and books in dynalite without a
 * facilitator call or a transaction. Refused vouchers serve nothing and charge nothing; a failed
 * origin releases its increment; what the channel row charged is what the receipts add up to.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodePaymentRequiredHeader, decodePaymentResponseHeader, encodePaymentSignatureHeader } from '@x402/core/http';
import type { PaymentPayload } from '@x402/core/types';
import type { Hex, PrivateKeyAccount } from 'viem';
import { LOCAL_BATCH_SETTLEMENT_ADDRESS } from '../../local/chain';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { channelIdOf } from '../../lambda/core/batch/voucher';
import { DynamoChannelStore, type ChannelRow } from '../../lambda/edge/dynamo-channel-store';
import { officialBatchClient, runClaimsOn } from '../support/batch-channels';
import { rawRequest } from '../reliability/support/raw-http';
import { edgeFetch } from '../support/edge-client';

const PRICE = 1000n; // $0.001
const MIN_DEPOSIT = 200_000n; // $0.20: 200 requests
const PATH = '/feed/item';
const FAILING = '/feed/broken';
const MISMATCH = 'invalid_batch_settlement_evm_cumulative_amount_mismatch';
const ROUTES = [{ pattern: '/feed/**', scheme: 'batch-settlement' as const, price: '$0.001', minDeposit: '$0.20', description: 'A feed item', mimeType: 'application/json' }];

let stack: LocalStack;
let channels: DynamoChannelStore;
/** Between the edge and dynalite: fails the channel rows' `open` (a PutItem of a new row) while set. */
let dynamoProxy: Server;
let failChannelOpens = false;
/** Between the edge and dynalite: drops the answer to the next commit after dynalite applied it. */
let dropNextCommitAnswer = false;

/**
 * An HTTP proxy on loopback to DynamoDB at `target` that answers a channel row's open with a 500
 * InternalServerError while {@link failChannelOpens}, and resets the connection instead of
 * returning the next commit's answer when {@link dropNextCommitAnswer}.
 */
async function startDynamoProxy(target: string): Promise<string> {
  dynamoProxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (failChannelOpens && req.headers['x-amz-target'] === 'DynamoDB_20120810.PutItem' && body.includes('"committedTo"')) {
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
        res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: 'injected: the channel row was not written' }));
        return;
      }
      const dropAnswer = dropNextCommitAnswer && body.includes('#committedTo.#rid = #charged + :price');
      if (dropAnswer) dropNextCommitAnswer = false;
      const upstream = httpRequest(`${target}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (answer) => {
        if (dropAnswer) {
          answer.resume();
          answer.on('end', () => res.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => dynamoProxy.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(dynamoProxy.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  stack = await startLocalStack({ routes: ROUTES, configure: async (config) => ({ ...config, receiptTable: { ...config.receiptTable, endpoint: await startDynamoProxy(config.receiptTable.endpoint!) } }) });
  channels = new DynamoChannelStore(stack.dynamo.client, stack.config.receiptTable.tableName);
  stack.origin.setBehavior(PATH, { status: 200, body: JSON.stringify({ item: 'paid' }), headers: { 'content-type': 'application/json' } });
  stack.origin.setBehavior(FAILING, { status: 500 });
}, 120_000);
afterAll(async () => {
  await stack?.close();
  dynamoProxy?.closeAllConnections();
  await new Promise((resolve) => (dynamoProxy ? dynamoProxy.close(resolve) : resolve(undefined)));
});

const batchReceipts = async () => (await stack.receipts()).filter((r) => r.scheme === 'batch-settlement');
/** The reservation ids of the row's commit markers that have no receipt. */
const markersWithoutReceipt = async (row: ChannelRow) => {
  const receipted = new Set((await batchReceipts()).map((r) => r.nonce));
  return [...row.committed.keys()].filter((id) => !receipted.has(id));
};
const facilitatorCalls = () => ({ ...stack.facilitator.calls });

describe('batch-settlement at the edge (official client, local chain, dynalite, local facilitator)', () => {
  let payer: PrivateKeyAccount;
  let agent: ReturnType<typeof officialBatchClient>;
  let channelId: Hex;
  let lastVoucher: PaymentPayload;

  it('offers the channel terms in the 402: receiver authorizer from /supported, withdraw delay, minimum deposit', async () => {
    const response = await edgeFetch(stack, PATH);
    expect(response.status).toBe(402);
    expect(decodePaymentRequiredHeader(response.headers.get('payment-required')!).accepts).toEqual([
      {
        scheme: 'batch-settlement',
        network: stack.chain.network,
        amount: PRICE.toString(),
        asset: stack.chain.usdc,
        payTo: stack.payTo,
        maxTimeoutSeconds: stack.config.maxTimeoutSeconds,
        extra: { name: 'USDC', version: '2', receiverAuthorizer: stack.chain.facilitatorAccount.address, withdrawDelay: 900, minDeposit: MIN_DEPOSIT.toString() },
      },
    ]);
    expect(stack.origin.requestsFor(PATH)).toBe(0);
  });

  it('deposits once, then serves 50 paid requests with no facilitator call and no transaction after the deposit', async () => {
    payer = await stack.chain.newFundedWallet(1_000_000n);
    agent = officialBatchClient(stack, payer);
    const first = await agent.pay(PATH);
    expect(first.status).toBe(200);
    expect(await first.json()).toEqual({ item: 'paid' });
    expect((agent.sent[0]!.payload as { type: string }).type).toBe('deposit');
    channelId = (agent.sent[0]!.payload as { voucher: { channelId: Hex } }).voucher.channelId.toLowerCase() as Hex;

    const callsAfterDeposit = facilitatorCalls();
    const blockAfterDeposit = await stack.chain.publicClient.getBlockNumber();
    for (let i = 0; i < 50; i++) {
      const response = await agent.pay(PATH);
      expect(response.status).toBe(200);
      const settled = decodePaymentResponseHeader(response.headers.get('payment-response')!);
      expect(settled).toMatchObject({ success: true, transaction: '', network: stack.chain.network, payer: payer.address.toLowerCase() });
      expect(settled.extra).toEqual({ chargedAmount: PRICE.toString(), channelState: { channelId, chargedCumulativeAmount: (PRICE * BigInt(i + 2)).toString() } });
    }
    expect(facilitatorCalls()).toEqual(callsAfterDeposit);
    expect(await stack.chain.publicClient.getBlockNumber()).toBe(blockAfterDeposit);
    expect(agent.sent.slice(1).every((p) => (p.payload as { type: string }).type === 'voucher')).toBe(true);
    lastVoucher = agent.sent[agent.sent.length - 1]!;

    const row = (await channels.get(channelId))!;
    expect(row.charged).toBe(51n * PRICE);
    expect(row.reservedTo).toBe(row.charged);
    expect(row.balance).toBe(MIN_DEPOSIT);
    expect(row.signedMax).toBe(51n * PRICE);
    const receipts = await batchReceipts();
    expect(receipts).toHaveLength(51);
    expect(receipts.map((r) => r.batchCumulative).sort((a, b) => Number(BigInt(a!) - BigInt(b!)))).toEqual(Array.from({ length: 51 }, (_, i) => (PRICE * BigInt(i + 1)).toString()));
    for (const r of receipts) {
      expect(r).toMatchObject({ status: 'settled', scheme: 'batch-settlement', amount: PRICE.toString(), batchChannelId: channelId, payer: payer.address.toLowerCase(), route: '/feed/**' });
    }
  }, 120_000);

  /** A voucher refused: 402 with the reason, no content, nothing charged. */
  async function expectRefused(payload: PaymentPayload, reason: string) {
    const served = stack.origin.requestsFor(PATH);
    const before = (await channels.get(channelId))!;
    const response = await edgeFetch(stack, PATH, { 'payment-signature': encodePaymentSignatureHeader(payload) });
    expect(response.status).toBe(402);
    const required = decodePaymentRequiredHeader(response.headers.get('payment-required')!);
    expect(required.error).toBe(reason);
    expect(stack.origin.requestsFor(PATH)).toBe(served);
    const after = (await channels.get(channelId))!;
    expect([after.charged, after.reservedTo]).toEqual([before.charged, before.reservedTo]);
    return required;
  }

  const signVoucher = (amount: bigint) =>
    payer.signTypedData({
      domain: { name: 'x402 Batch Settlement', version: '1', chainId: stack.chain.chainId, verifyingContract: LOCAL_BATCH_SETTLEMENT_ADDRESS },
      types: { Voucher: [{ name: 'channelId', type: 'bytes32' }, { name: 'maxClaimableAmount', type: 'uint128' }] },
      primaryType: 'Voucher',
      message: { channelId, maxClaimableAmount: amount },
    });
  const withVoucher = async (amount: bigint): Promise<PaymentPayload> => {
    const voucher = (lastVoucher.payload as { voucher: object }).voucher;
    return { ...lastVoucher, payload: { ...lastVoucher.payload, voucher: { ...voucher, maxClaimableAmount: amount.toString(), signature: await signVoucher(amount) } } };
  };

  it('refuses a reused voucher with the corrective 402 the official client recovers from (charged + the last signed voucher)', async () => {
    const required = await expectRefused(lastVoucher, MISMATCH);
    expect(required.accepts[0]!.extra).toMatchObject({
      channelState: { channelId, chargedCumulativeAmount: (51n * PRICE).toString(), balance: MIN_DEPOSIT.toString(), totalClaimed: '0' },
      voucherState: { signedMaxClaimable: (51n * PRICE).toString(), signature: (lastVoucher.payload as { voucher: { signature: string } }).voucher.signature },
    });
  });

  it('refuses a lower voucher and a voucher above the deposit', async () => {
    await expectRefused(await withVoucher(40n * PRICE), MISMATCH);
    await expectRefused(await withVoucher(MIN_DEPOSIT + PRICE), 'invalid_batch_settlement_evm_cumulative_exceeds_balance');
  });

  it('a tampered voucher signature or a malformed payload is refused without touching the books', async () => {
    const voucher = (lastVoucher.payload as { voucher: { signature: Hex } }).voucher;
    const forged = { ...lastVoucher, payload: { ...lastVoucher.payload, voucher: { ...voucher, maxClaimableAmount: (52n * PRICE).toString() } } };
    await expectRefused(forged, 'invalid_batch_settlement_evm_voucher_signature');
    const malformed = await edgeFetch(stack, PATH, { 'payment-signature': encodePaymentSignatureHeader({ ...lastVoucher, payload: { type: 'voucher' } }) });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: 'invalid_batch_settlement_evm_voucher_payload' });
  });

  it('the official client recovers from a stale base: it re-signs on the corrective 402 and is served', async () => {
    const fresh = officialBatchClient(stack, payer); // no local books: it starts from the chain (nothing claimed) and is corrected by the edge
    const response = await fresh.pay(PATH);
    expect(response.status).toBe(200);
    expect((await channels.get(channelId))!.charged).toBe(52n * PRICE);
  }, 60_000);

  it('an origin failure releases the increment: nothing charged, the next request pays on the same base', async () => {
    const before = (await channels.get(channelId))!;
    const failed = await agent.pay(FAILING);
    expect(failed.status).toBe(500);
    const after = (await channels.get(channelId))!;
    expect([after.charged, after.reservedTo, after.pending.size]).toEqual([before.charged, before.charged, 0]);
    expect((await batchReceipts()).some((r) => r.resource.endsWith(FAILING))).toBe(false);
  }, 60_000);

  it('concurrent requests on one channel never charge more than was served', async () => {
    // New containers read /supported on their first 402; warmed first, so the burst is about the channel.
    await Promise.all(Array.from({ length: 10 }, () => edgeFetch(stack, PATH)));
    const before = (await channels.get(channelId))!.charged;
    const receiptsBefore = (await batchReceipts()).length;
    const servedBefore = stack.origin.requestsFor(PATH);
    const responses = await Promise.all(Array.from({ length: 10 }, () => agent.pay(PATH)));
    const ok = responses.filter((r) => r.status === 200).length;
    expect(ok).toBeGreaterThanOrEqual(1);
    // Served, refused (the client's one retry lost the race again) or, on a machine too busy for a new container, failed closed.
    expect(responses.map((r) => r.status).filter((s) => s !== 200 && s !== 402 && s !== 503)).toEqual([]);
    const row = (await channels.get(channelId))!;
    expect(row.charged - before).toBe(BigInt(ok) * PRICE);
    expect(stack.origin.requestsFor(PATH) - servedBefore).toBe(ok);
    expect((await batchReceipts()).length - receiptsBefore).toBe(ok);
    // Only a viewer-request cut off after its reservation leaves one, released once it expires.
    expect(row.reservedTo - row.charged).toBe([...row.pending.values()].reduce((sum, p) => sum + p.amount, 0n));
  }, 120_000);

  it('a commit whose answer is lost after DynamoDB applied it: served once, one receipt, charged once', async () => {
    const before = (await channels.get(channelId))!.charged;
    const receiptsBefore = (await batchReceipts()).length;
    const served = stack.origin.requestsFor(PATH);
    dropNextCommitAnswer = true;
    const response = await agent.pay(PATH);
    expect(dropNextCommitAnswer).toBe(false);
    expect(response.status).toBe(200);
    expect(decodePaymentResponseHeader(response.headers.get('payment-response')!).extra).toMatchObject({ channelState: { chargedCumulativeAmount: (before + PRICE).toString() } });
    expect(stack.origin.requestsFor(PATH)).toBe(served + 1);
    const row = (await channels.get(channelId))!;
    expect([row.charged, row.reservedTo, await markersWithoutReceipt(row)]).toEqual([before + PRICE, before + PRICE, []]);
    const receipts = await batchReceipts();
    expect(receipts.length - receiptsBefore).toBe(1);
    expect(receipts.filter((r) => r.batchCumulative === (before + PRICE).toString())).toHaveLength(1);
  }, 60_000);

  it('what the channel row charged is the sum of the served receipts', async () => {
    const row = (await channels.get(channelId))!;
    // Every served request's receipt was written; a marker left (each container's last commit on the channel, until the claims run) names one of them.
    expect(await markersWithoutReceipt(row)).toEqual([]);
    const receipts = (await batchReceipts()).filter((r) => r.batchChannelId === channelId);
    expect(receipts.reduce((sum, r) => sum + BigInt(r.amount), 0n)).toBe(row.charged);
    expect(receipts.map((r) => BigInt(r.batchCumulative!)).reduce((a, b) => (a > b ? a : b))).toBe(row.charged);
  });
});

/**
 * Volume: 1,000 paid requests at concurrency 20, as 20 agents (one official client and one channel
 * each) paying 50 requests one after another: the official client signs `charged + price` per
 * request, so one channel serves one request at a time; concurrency comes from many channels, as it
 * does with many agents. Then one scheduled claims run (lambda/batch-claims) claims every channel
 * and settles to payTo on the local chain: settled = the sum of the served receipts.
 */
describe('1,000 requests at concurrency 20, then one claim and settle', () => {
  const AGENTS = 20;
  const EACH = 50;

  it('each request is served and charged once or fails closed, no facilitator call after the deposits, and the settlement moves exactly what was served', async () => {
    const receiptsBefore = await batchReceipts();
    const payers = await Promise.all(Array.from({ length: AGENTS }, () => stack.chain.newFundedWallet(1_000_000n)));
    const agents = payers.map((p) => officialBatchClient(stack, p));
    // The deposits first (one per channel, one after another): the only facilitator calls of the scheme.
    for (const a of agents) expect((await a.pay(PATH)).status).toBe(200);
    const callsAfterDeposits = facilitatorCalls();
    const outcomes = await Promise.all(
      agents.map(async (a) => {
        const seen: Array<{ status: number; error?: string }> = [];
        for (let i = 1; i < EACH; i++) {
          const response = await a.pay(PATH);
          seen.push(response.status === 200 ? { status: 200 } : { status: response.status, error: (await response.text()).slice(0, 120) });
        }
        return seen;
      }),
    ).then((all) => all.flat());
    const ok = outcomes.filter((o) => o.status === 200).length;
    // On a machine too busy for a new container's first call a request fails closed (503, nothing charged); nothing else.
    const failedClosed = outcomes.filter((o) => o.status !== 200);
    if (failedClosed.length) console.log(`${failedClosed.length} of ${outcomes.length} failed closed:`, [...new Set(failedClosed.map((o) => `${o.status} ${o.error}`))]);
    expect(failedClosed.filter((o) => o.status !== 503)).toEqual([]);
    expect(facilitatorCalls()).toEqual({ ...callsAfterDeposits, supported: stack.facilitator.calls.supported });

    const served = (await batchReceipts()).filter((r) => !receiptsBefore.some((b) => b.paymentId === r.paymentId));
    expect(served).toHaveLength(AGENTS + ok);
    const servedSum = served.reduce((sum, r) => sum + BigInt(r.amount), 0n);
    expect(servedSum).toBe(BigInt(AGENTS + ok) * PRICE);

    const payToBefore = await stack.chain.usdcBalance(stack.payTo);
    const run = await runClaimsOn({ chain: stack.chain, facilitatorUrl: stack.facilitator.url, payTo: stack.payTo, store: channels });
    const newChannels = new Set(served.map((r) => r.batchChannelId));
    const claimedNew = run.claimed.filter((c) => newChannels.has(c.channelId.toLowerCase()));
    expect(claimedNew).toHaveLength(AGENTS);
    expect(claimedNew.reduce((sum, c) => sum + c.totalClaimed, 0n)).toBe(servedSum);
    // The run also claims what the first describe's channel served: payTo receives both, exactly.
    const earlier = (await channels.get(channelOfReceipts(receiptsBefore)))?.charged ?? 0n;
    expect((await stack.chain.usdcBalance(stack.payTo)) - payToBefore).toBe(servedSum + earlier);
  }, 600_000);
});

/** The one channel the first describe's receipts name. */
function channelOfReceipts(receipts: Awaited<ReturnType<typeof batchReceipts>>): Hex {
  return receipts[0]!.batchChannelId as Hex;
}

/**
 * A deposit settled on chain whose channel row could not be written (DynamoDB failed right after
 * it): the next voucher opens the row from the chain's state (the facilitator's verify of the
 * voucher reads it), baseline what the chain says was claimed, and is served and charged once.
 */
describe('a channel whose row was lost after its deposit', () => {
  /** The official client's deposit, with the row's write failing: 503, the deposit on chain, no row. */
  async function depositWithoutRow() {
    const payer = await stack.chain.newFundedWallet(1_000_000n);
    const client = officialBatchClient(stack, payer);
    failChannelOpens = true;
    const deposited = await client.pay(PATH).finally(() => (failChannelOpens = false));
    expect(deposited.status).toBe(503);
    expect(await deposited.json()).toMatchObject({ error: 'receipt_store_unavailable' });
    const deposit = client.sent[0]!;
    expect((deposit.payload as { type: string }).type).toBe('deposit');
    const channelId = (deposit.payload as { voucher: { channelId: Hex } }).voucher.channelId.toLowerCase() as Hex;
    expect(await channels.get(channelId)).toBeUndefined();
    // The first voucher the deposit carried (price), as a voucher payload.
    const { channelConfig, voucher } = deposit.payload as { channelConfig: unknown; voucher: unknown };
    const firstVoucher: PaymentPayload = { ...deposit, payload: { type: 'voucher', channelConfig, voucher } };
    return { payer, client, channelId, firstVoucher };
  }

  // The official client, told 503, deposits again (a top-up, which opens the row like a first deposit);
  // what the edge must also serve is a client going on with the voucher its deposit carried.
  it('the next voucher is served and charged once, from the chain state', async () => {
    const { client, channelId, firstVoucher } = await depositWithoutRow();
    const served = stack.origin.requestsFor(PATH);
    const response = await edgeFetch(stack, PATH, { 'payment-signature': encodePaymentSignatureHeader(firstVoucher) });
    expect(response.status).toBe(200);
    expect(decodePaymentResponseHeader(response.headers.get('payment-response')!).extra).toEqual({ chargedAmount: PRICE.toString(), channelState: { channelId, chargedCumulativeAmount: PRICE.toString() } });
    expect(stack.origin.requestsFor(PATH)).toBe(served + 1);
    const row = (await channels.get(channelId))!;
    expect([row.charged, row.reservedTo, row.balance, row.totalClaimed]).toEqual([PRICE, PRICE, MIN_DEPOSIT, 0n]);
    expect((await batchReceipts()).filter((r) => r.batchChannelId === channelId).map((r) => r.batchCumulative)).toEqual([PRICE.toString()]);
    // The same voucher again pays nothing more; the official client (a top-up, then the corrective 402) pays the next one.
    expect((await edgeFetch(stack, PATH, { 'payment-signature': encodePaymentSignatureHeader(firstVoucher) })).status).toBe(402);
    expect((await client.pay(PATH)).status).toBe(200);
    expect((await channels.get(channelId))!.charged).toBe(2n * PRICE);
  }, 120_000);

  it('with the facilitator unreachable: 503, nothing served, no row', async () => {
    const { channelId, firstVoucher } = await depositWithoutRow();
    const served = stack.origin.requestsFor(PATH);
    stack.facilitator.setFault('unavailable');
    const response = await edgeFetch(stack, PATH, { 'payment-signature': encodePaymentSignatureHeader(firstVoucher) }).finally(() => stack.facilitator.setFault('none'));
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ error: 'facilitator_unavailable' });
    expect(stack.origin.requestsFor(PATH)).toBe(served);
    expect(await channels.get(channelId)).toBeUndefined();
  }, 120_000);

  it('a voucher for a channel the chain has no deposit for opens no row', async () => {
    const { payer, channelId, firstVoucher } = await depositWithoutRow();
    // The same payer's channel with another salt: signed correctly, never deposited.
    const { channelConfig } = firstVoucher.payload as { channelConfig: { salt: Hex } };
    const config = { ...channelConfig, salt: `0x${'11'.repeat(32)}` as Hex };
    const otherId = channelIdOf(config as never, stack.chain.chainId);
    const signature = await payer.signTypedData({
      domain: { name: 'x402 Batch Settlement', version: '1', chainId: stack.chain.chainId, verifyingContract: LOCAL_BATCH_SETTLEMENT_ADDRESS },
      types: { Voucher: [{ name: 'channelId', type: 'bytes32' }, { name: 'maxClaimableAmount', type: 'uint128' }] },
      primaryType: 'Voucher',
      message: { channelId: otherId, maxClaimableAmount: PRICE },
    });
    const undeposited: PaymentPayload = { ...firstVoucher, payload: { type: 'voucher', channelConfig: config, voucher: { channelId: otherId, maxClaimableAmount: PRICE.toString(), signature } } };
    const served = stack.origin.requestsFor(PATH);
    const response = await edgeFetch(stack, PATH, { 'payment-signature': encodePaymentSignatureHeader(undeposited) });
    expect(response.status).toBe(402);
    expect(decodePaymentRequiredHeader(response.headers.get('payment-required')!).error).toBe('batch_settlement_channel_unknown');
    expect(stack.origin.requestsFor(PATH)).toBe(served);
    expect(await channels.get(otherId)).toBeUndefined();
    expect(await channels.get(channelId)).toBeUndefined();
  }, 120_000);
});

describe('a deposit below the route\'s minDeposit', () => {
  it('is refused at the edge before the facilitator: 402 naming minDeposit, nothing deposited, no channel row', async () => {
    const payer = await stack.chain.newFundedWallet(1_000_000n);
    // The official client's own deposit sizing, told to deposit one request's price (it only insists on covering the voucher).
    const client = officialBatchClient(stack, payer, { depositStrategy: ({ requestAmount }) => requestAmount });
    const calls = facilitatorCalls();
    const served = stack.origin.requestsFor(PATH);
    const response = await client.pay(PATH);
    expect(response.status).toBe(402);
    const required = decodePaymentRequiredHeader(response.headers.get('payment-required')!);
    expect(required.error).toBe('batch_settlement_deposit_below_min_deposit');
    const deposit = client.sent[0]!.payload as { type: string; deposit: { amount: string }; voucher: { channelId: Hex } };
    expect([deposit.type, deposit.deposit.amount]).toEqual(['deposit', PRICE.toString()]);
    expect(facilitatorCalls()).toEqual(calls);
    expect(stack.origin.requestsFor(PATH)).toBe(served);
    expect(await stack.chain.usdcBalance(payer.address)).toBe(1_000_000n);
    expect(await channels.get(deposit.voucher.channelId.toLowerCase() as Hex)).toBeUndefined();
  }, 120_000);
});

describe('the failed-payment guard counts refused vouchers', () => {
  it('a client sending forged vouchers backs off (429) before the books are touched; its payer, from elsewhere, is served', async () => {
    const payer = await stack.chain.newFundedWallet(1_000_000n);
    const client = officialBatchClient(stack, payer);
    expect((await client.pay(PATH)).status).toBe(200);
    const deposit = client.sent[0]!;
    const channelId = (deposit.payload as { voucher: { channelId: Hex } }).voucher.channelId.toLowerCase() as Hex;
    const { channelConfig } = deposit.payload as { channelConfig: unknown };
    const signed = async (amount: bigint) =>
      payer.signTypedData({
        domain: { name: 'x402 Batch Settlement', version: '1', chainId: stack.chain.chainId, verifyingContract: LOCAL_BATCH_SETTLEMENT_ADDRESS },
        types: { Voucher: [{ name: 'channelId', type: 'bytes32' }, { name: 'maxClaimableAmount', type: 'uint128' }] },
        primaryType: 'Voucher',
        message: { channelId, maxClaimableAmount: amount },
      });
    const voucher = async (amount: bigint, signature?: Hex): Promise<PaymentPayload> => ({
      ...deposit,
      payload: { type: 'voucher', channelConfig, voucher: { channelId, maxClaimableAmount: amount.toString(), signature: signature ?? (await signed(amount)) } },
    });
    const send = (payload: PaymentPayload, clientAddress: string) => rawRequest(stack.edge.url, PATH, { headers: { 'payment-signature': encodePaymentSignatureHeader(payload) }, clientAddress });
    // Signed for 2 requests, claiming 3: the signature does not recover to the payer authorizer.
    const forged = await voucher(3n * PRICE, await signed(2n * PRICE));
    for (let attempt = 0; attempt < 5; attempt++) {
      const refused = await send(forged, '127.0.0.6');
      expect(`${refused.status} ${JSON.parse(refused.body).error}`).toBe('402 invalid_batch_settlement_evm_voucher_signature');
    }
    const before = (await channels.get(channelId))!;
    const valid = await voucher(2n * PRICE);
    const throttled = await send(valid, '127.0.0.6');
    expect(throttled.status).toBe(429);
    expect(throttled.headers['retry-after']).toBe('10');
    expect(JSON.parse(throttled.body).error).toBe('too_many_failed_payments');
    expect((await channels.get(channelId))!.reservedTo).toBe(before.reservedTo);
    // A forged signature proves nothing about the payer: the same voucher from another client is served.
    const elsewhere = await send(valid, '127.0.0.7');
    expect(elsewhere.status).toBe(200);
    expect((await channels.get(channelId))!.charged).toBe(2n * PRICE);
  }, 120_000);
});
