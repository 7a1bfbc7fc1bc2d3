/**
 * A payer's timed withdrawal racing requests in flight and the scheduled claims, on real parts:
 * the official batch-settlement client paying through the local edge (dynalite channel rows), the
 * payer's own `initiateWithdraw` / `finalizeWithdraw` transactions on LocalBatchSettlement, and
 * claims runs (lambda/batch-claims) through the local facilitator. No request gets content unpaid
 * and no served amount is lost: once the run mirrors the withdrawal the edge refuses with
 * `batch_settlement_withdrawal_pending`; whatever was served before (also a request reserved
 * before the mirror and committed after the run's claim) is claimed before the withdrawal can
 * finalize, when the runs keep the documented cadence (every ≤ 5 minutes against a withdraw delay
 * of ≥ 15 minutes); finalizeWithdraw then returns exactly balance − served.
 */
import { decodePaymentRequiredHeader } from '@x402/core/http';
import { toFunctionSelector, type Hex, type PrivateKeyAccount } from 'viem';
import { LedgerReasons } from '../../lambda/core/batch/ledger';
import type { ChannelConfig } from '../../lambda/core/batch/voucher';
import { DynamoChannelStore } from '../../lambda/edge/dynamo-channel-store';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { advanceChainTime, channelOfDeposit, channelOnChain, officialBatchClient, payerCall, runClaimsOn } from '../support/batch-channels';
import { cli } from '../support/cli';

const PRICE = 1000n; // $0.001
const DEPOSIT = 200_000n; // minDeposit $0.20: what the official client deposits
const WITHDRAW_DELAY = 900; // the route's default: the contract's shortest
const PATH = '/feed/item';
const HELD = '/feed/held';
const ROUTES = [{ pattern: '/feed/**', scheme: 'batch-settlement' as const, price: '$0.001', minDeposit: '$0.20', description: 'A feed item', mimeType: 'application/json' }];
const ITEM = { status: 200, body: JSON.stringify({ item: 'paid' }), headers: { 'content-type': 'application/json' } };
// Claims only because a withdrawal is pending: no threshold or age claim gets in the way.
const WITHDRAWAL_CLAIMS_ONLY = { thresholdAtomic: (10n ** 30n).toString(), maxAgeSeconds: 864_000 };

let stack: LocalStack;
let channels: DynamoChannelStore;
let payToAtStart: bigint;

beforeAll(async () => {
  stack = await startLocalStack({ routes: ROUTES });
  channels = new DynamoChannelStore(stack.dynamo.client, stack.config.receiptTable.tableName);
  stack.origin.setBehavior(PATH, ITEM);
  payToAtStart = await stack.chain.usdcBalance(stack.payTo);
}, 120_000);
afterAll(() => stack?.close());

const runClaims = () => runClaimsOn({ chain: stack.chain, facilitatorUrl: stack.facilitator.url, payTo: stack.payTo, store: channels }, WITHDRAWAL_CLAIMS_ONLY);
const servedSum = async (channelId: Hex) => (await stack.receipts()).filter((r) => r.batchChannelId === channelId).reduce((sum, r) => sum + BigInt(r.amount), 0n);
const errorOf = (response: Response) => decodePaymentRequiredHeader(response.headers.get('payment-required')!).error;

interface Payer {
  readonly account: PrivateKeyAccount;
  readonly agent: ReturnType<typeof officialBatchClient>;
  readonly channelId: Hex;
  readonly config: ChannelConfig;
}

/** A payer whose official client deposited and was served `requests` requests in all. */
async function payerServed(requests: number): Promise<Payer> {
  const account = await stack.chain.newFundedWallet(1_000_000n, { ethWei: 10n ** 17n });
  const agent = officialBatchClient(stack, account);
  for (let i = 0; i < requests; i++) expect((await agent.pay(PATH)).status).toBe(200);
  return { account, agent, ...channelOfDeposit(agent.sent[0]!) };
}

/** The payer starts withdrawing everything not claimed yet (a real transaction). */
async function initiateWithdraw(p: Payer): Promise<void> {
  const { balance, totalClaimed } = await channelOnChain(stack.chain, p.channelId);
  await payerCall(stack.chain, p.account, 'initiateWithdraw', p.config, balance - totalClaimed);
}

/** The edge refuses: 402 naming the withdrawal, the origin not reached, nothing reserved or charged. */
async function expectWithdrawalRefused(p: Payer): Promise<void> {
  const before = await channels.get(p.channelId);
  const served = stack.origin.requestsFor(PATH);
  const refused = await p.agent.pay(PATH);
  expect(refused.status).toBe(402);
  expect(errorOf(refused)).toBe(LedgerReasons.withdrawalPending);
  expect(stack.origin.requestsFor(PATH)).toBe(served);
  const after = (await channels.get(p.channelId))!;
  expect([after.charged, after.reservedTo]).toEqual([before!.charged, before!.reservedTo]);
}

describe('a withdrawal racing a claim: no content unpaid, no amount lost', () => {
  // Every deposit before the chain's clock moves forward (the official client's ERC-3009 authorizations run on wall-clock time).
  let inOrder: Payer;
  let concurrent: Payer;
  let unclaimed: Payer;

  it('opens three channels through the edge with the official client', async () => {
    [inOrder, concurrent, unclaimed] = [await payerServed(3), await payerServed(3), await payerServed(2)];
    for (const p of [inOrder, concurrent, unclaimed]) expect(await channelOnChain(stack.chain, p.channelId)).toEqual({ balance: DEPOSIT, totalClaimed: 0n });
  }, 120_000);

  it('a request served after initiateWithdraw, and one reserved before the mirror and committed after the run claimed, are both claimed; after the mirror the edge refuses', async () => {
    await initiateWithdraw(inOrder);
    // The edge learns of the withdrawal only from the claims run's mirror: until then it still serves (and charges).
    expect((await inOrder.agent.pay(PATH)).status).toBe(200);
    // A request in flight: reserved now, its origin answer held until after the run.
    let letGo!: () => void;
    stack.origin.setBehavior(HELD, { ...ITEM, hold: new Promise<void>((resolve) => (letGo = resolve)) });
    const held = inOrder.agent.pay(HELD);
    held.catch(() => undefined); // awaited below; should the test fail first, closing the stack must not crash the run
    while (stack.origin.requestsFor(HELD) === 0) await new Promise((resolve) => setTimeout(resolve, 50));

    const first = await runClaims();
    expect(first.due).toContainEqual({ channelId: inOrder.channelId, reason: 'withdrawal_pending' });
    // The run's claim covers the 4 served; the held request is reserved, not charged, so not in it.
    expect(await channelOnChain(stack.chain, inOrder.channelId)).toEqual({ balance: DEPOSIT, totalClaimed: 4n * PRICE });
    expect(await channels.get(inOrder.channelId)).toMatchObject({ charged: 4n * PRICE, reservedTo: 5n * PRICE, totalClaimed: 4n * PRICE, withdrawalPending: true });
    await expectWithdrawalRefused(inOrder);

    letGo();
    const heldResponse = await held;
    expect(heldResponse.status).toBe(200);
    expect(await heldResponse.json()).toEqual({ item: 'paid' });
    expect(await channels.get(inOrder.channelId)).toMatchObject({ charged: 5n * PRICE, totalClaimed: 4n * PRICE });

    // The next run (withdrawal pending: claimed at once) claims what was served after the first one's snapshot.
    const next = await runClaims();
    expect(next.claimed).toContainEqual(expect.objectContaining({ channelId: inOrder.channelId, totalClaimed: 5n * PRICE }));
    expect((await channelOnChain(stack.chain, inOrder.channelId)).totalClaimed).toBe(await servedSum(inOrder.channelId));
    expect(await servedSum(inOrder.channelId)).toBe(5n * PRICE);
  }, 120_000);

  it('requests, initiateWithdraw and a claims run all at once: every request served or refused for the withdrawal, everything served claimed', async () => {
    const statuses: Array<number | string> = [];
    await Promise.all([
      (async () => {
        for (let i = 0; i < 6; i++) {
          const response = await concurrent.agent.pay(PATH);
          statuses.push(response.status === 200 ? 200 : `${response.status} ${errorOf(response)}`);
        }
      })(),
      initiateWithdraw(concurrent),
      runClaims(),
    ]);
    // Which requests landed before the mirror depends on the interleaving; each one is either.
    expect(statuses.filter((s) => s !== 200 && s !== `402 ${LedgerReasons.withdrawalPending}`)).toEqual([]);
    await runClaims();
    const row = (await channels.get(concurrent.channelId))!;
    expect(row).toMatchObject({ withdrawalPending: true, pending: new Map() });
    expect(row.charged).toBe(BigInt(3 + statuses.filter((s) => s === 200).length) * PRICE);
    expect(await servedSum(concurrent.channelId)).toBe(row.charged);
    expect((await channelOnChain(stack.chain, concurrent.channelId)).totalClaimed).toBe(row.charged);
    await expectWithdrawalRefused(concurrent);
  }, 120_000);

  it('with claims runs inside the withdraw delay, finalizeWithdraw returns exactly balance − served and payTo received every served amount', async () => {
    await expect(payerCall(stack.chain, inOrder.account, 'finalizeWithdraw', inOrder.config)).rejects.toThrow(toFunctionSelector('WithdrawDelayNotElapsed()'));
    // One full interval passes, a run, then the rest of the delay: the cadence the docs guarantee.
    await advanceChainTime(stack.chain, 300);
    await runClaims();
    await advanceChainTime(stack.chain, WITHDRAW_DELAY - 300 + 1);
    for (const p of [inOrder, concurrent]) {
      const served = await servedSum(p.channelId);
      const before = await stack.chain.usdcBalance(p.account.address);
      await payerCall(stack.chain, p.account, 'finalizeWithdraw', p.config);
      expect((await stack.chain.usdcBalance(p.account.address)) - before).toBe(DEPOSIT - served);
      expect(await channelOnChain(stack.chain, p.channelId)).toEqual({ balance: served, totalClaimed: served });
    }
    const servedBoth = (await servedSum(inOrder.channelId)) + (await servedSum(concurrent.channelId));
    expect((await stack.chain.usdcBalance(stack.payTo)) - payToAtStart).toBe(servedBoth);
    // After the mirror the channel is empty: a voucher above its balance is refused, nothing served.
    await runClaims();
    const after = await inOrder.agent.pay(PATH);
    expect(after.status).toBe(402);
    expect(errorOf(after)).toBe(LedgerReasons.cumulativeExceedsBalance);
  }, 120_000);

  it('without a claims run inside the delay (runs failing for 15 minutes: the errors alarm) finalizeWithdraw takes the unclaimed served amount; the next run claims nothing and reconcile names it', async () => {
    await initiateWithdraw(unclaimed);
    await advanceChainTime(stack.chain, WITHDRAW_DELAY + 1);
    const before = await stack.chain.usdcBalance(unclaimed.account.address);
    await payerCall(stack.chain, unclaimed.account, 'finalizeWithdraw', unclaimed.config);
    expect((await stack.chain.usdcBalance(unclaimed.account.address)) - before).toBe(DEPOSIT);
    // The contract caps a claim at the balance, now 0: the run neither claims nor fails, the row keeps what was served.
    const run = await runClaims();
    expect(run.claimed.map((c) => c.channelId)).not.toContain(unclaimed.channelId);
    expect(await channels.get(unclaimed.channelId)).toMatchObject({ charged: 2n * PRICE, balance: 0n, totalClaimed: 0n });
    const reconciled = await cli(['reconcile', '--rpc-url', stack.chain.rpcUrl, '--table', stack.config.receiptTable.tableName, '--region', 'us-east-1', '--json'], { dynamo: stack.dynamo.client });
    const rows = (reconciled.json() as { channels: { rows: Array<{ channelId: string; outcome: string; findings: string[] }> } }).channels.rows;
    expect(rows.find((r) => r.channelId === unclaimed.channelId)).toMatchObject({ outcome: 'mismatch' });
  }, 120_000);
});
