/**
 * `cdk-x402 report` over batch-settlement channel rows in dynalite, written by the edge's
 * DynamoChannelStore the way the edge and the scheduled claims write them: lifetime served,
 * claimed, settled and outstanding amounts per token, next to the receipts of the window.
 */
import { randomBytes } from 'node:crypto';
import type { Hex } from 'viem';
import { ExitCode } from '../../cli/errors';
import type { ChannelConfig } from '../../lambda/core/batch/voucher';
import { knownNetwork } from '../../lambda/core/networks';
import { DynamoChannelStore } from '../../lambda/edge/dynamo-channel-store';
import { createReceiptTable, startLocalDynamo, type LocalDynamo } from '../../local/dynamo';
import { cli, PAY_TO } from '../support/cli';

const TABLE = 'CdkX402-x402-receipts';
const USDC = knownNetwork('eip155:84532')!.usdc.address as Hex;
const PRICE = 1000n;
let ddb: LocalDynamo;

const bytes32 = () => `0x${randomBytes(32).toString('hex')}` as Hex;
const config = (payer: Hex): ChannelConfig =>
  ({ payer, payerAuthorizer: payer, receiver: PAY_TO, receiverAuthorizer: PAY_TO, token: USDC, withdrawDelay: 86_400, salt: bytes32() });

/** A channel with `served` requests committed, of which `claimed` claimed and `settled` settled. */
async function channel(store: DynamoChannelStore, served: bigint, claimed: bigint, settled: bigint): Promise<void> {
  const channelId = bytes32();
  await store.open(channelId, config(`0x${'ab'.repeat(20)}`), { balance: 1_000_000n, totalClaimed: 0n, withdrawRequestedAt: 0, refundNonce: 0n });
  for (let n = 1n; n <= served; n++) {
    const reservationId = randomBytes(12).toString('base64url');
    // The store keeps what the edge checked (lambda/core/batch/voucher.ts); the signature is not its concern.
    const voucher = { channelId, maxClaimableAmount: n * PRICE, signature: `0x${'11'.repeat(65)}` as Hex };
    expect(await store.reserve({ channelId, reservationId, voucher, price: PRICE, expiresAt: 4_000_000_000 })).toEqual({ status: 'reserved' });
    expect(await store.commit(channelId, reservationId, PRICE)).toBe('committed');
  }
  if (claimed > 0n) await store.recordClaim(channelId, { previousTotalClaimed: 0n, totalClaimed: claimed * PRICE, transaction: `0x${'c1'.repeat(32)}`, claimedAt: Date.now() });
  if (settled > 0n) await store.recordSettlement(channelId, { previousSettledTo: 0n, settledTo: settled * PRICE, transaction: `0x${'5e'.repeat(32)}`, settledAt: Date.now() });
}

beforeAll(async () => {
  ddb = await startLocalDynamo();
  await createReceiptTable(ddb.client, TABLE);
  const store = new DynamoChannelStore(ddb.client, TABLE);
  await channel(store, 5n, 5n, 5n);
  await channel(store, 3n, 2n, 0n);
  await channel(store, 2n, 0n, 0n);
}, 60_000);
afterAll(async () => {
  await ddb?.close();
});

const run = (args: string[]) => cli(args, { dynamo: ddb.client });
const flags = ['--table', TABLE, '--region', 'us-east-1', '--since', '2026-11-01', '--until', '2026-11-21'];

it('reports the channels\' lifetime served, claimed, settled and outstanding amounts, in JSON and text', async () => {
  const json = await run(['report', ...flags, '--json']);
  expect(json.code).toBe(ExitCode.ok);
  const r = json.json();
  expect(r.channels).toEqual({
    channels: 3,
    amounts: [
      {
        network: 'eip155:84532',
        asset: USDC.toLowerCase(),
        label: 'USDC (Base Sepolia)',
        channels: 3,
        servedAtomic: '10000',
        claimedAtomic: '7000',
        settledAtomic: '5000',
        outstandingAtomic: '3000',
        usd: { served: '0.01', claimed: '0.007', settled: '0.005', outstanding: '0.003' },
      },
    ],
  });
  // The channel rows are not receipts: nothing of them counts as a settled payment of the window.
  expect(r.totals.payments).toBe(0);

  const text = await run(['report', ...flags]);
  expect(text.stdout).toContain('Batch-settlement channels (lifetime, 3 channel(s))');
  expect(text.stdout).toMatch(/outstanding\s+0\.003\s+3000\s+USDC \(Base Sepolia\)/);
});

it('leaves channels out of a report for one payer, and says so', async () => {
  const r = (await run(['report', ...flags, '--payer', `0x${'ab'.repeat(20)}`, '--json'])).json();
  expect(r.channels).toBeUndefined();
  expect(r.notes).toContain('batch-settlement channels and their claims are left out of a report for one route or payer');
});
