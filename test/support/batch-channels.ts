/**
 * Batch-settlement channels on real parts for the tests off the request path: the local chain with
 * LocalBatchSettlement, the local facilitator, the channel store in dynalite, and the official
 * server's terms; channels opened by the official client's deposit and served under its vouchers.
 */
import { x402Client } from '@x402/core/client';
import { HTTPFacilitatorClient } from '@x402/core/http';
import { x402ResourceServer } from '@x402/core/server';
import type { PaymentRequirements } from '@x402/core/types';
import { toClientEvmSigner } from '@x402/evm';
import { BatchSettlementEvmScheme as BatchSettlementClientScheme, signVoucher } from '@x402/evm/batch-settlement/client';
import { BatchSettlementEvmScheme as BatchSettlementServerScheme } from '@x402/evm/batch-settlement/server';
import { randomBytes } from 'node:crypto';
import type { Address, Hex, PrivateKeyAccount } from 'viem';
import { parseVoucherPayload, type ChannelConfig } from '../../lambda/core/batch/voucher';
import { DynamoChannelStore } from '../../lambda/edge/dynamo-channel-store';
import { startLocalChain, type LocalChain } from '../../local/chain';
import { createReceiptTable, startLocalDynamo, type LocalDynamo } from '../../local/dynamo';
import { startLocalFacilitator, type LocalFacilitator } from '../../local/facilitator';

export interface BatchChannels {
  readonly chain: LocalChain;
  readonly fac: LocalFacilitator;
  readonly ddb: LocalDynamo;
  readonly store: DynamoChannelStore;
  readonly http: HTTPFacilitatorClient;
  /** The official server's batch-settlement terms at $0.001 per request to `payTo`. */
  readonly requirements: PaymentRequirements;
  close(): Promise<void>;
}

export interface ServedChannel {
  readonly channelId: Hex;
  readonly config: ChannelConfig;
  readonly payer: PrivateKeyAccount;
}

export async function startBatchChannels(payTo: Address, table: string): Promise<BatchChannels> {
  const chain = await startLocalChain();
  const fac = await startLocalFacilitator(chain);
  const ddb = await startLocalDynamo();
  await createReceiptTable(ddb.client, table);
  const http = new HTTPFacilitatorClient({ url: fac.url, timeoutMs: 10_000 });
  const server = new x402ResourceServer(http).register(chain.network, new BatchSettlementServerScheme(payTo));
  await server.initialize();
  const [requirements] = await server.buildPaymentRequirements({ scheme: 'batch-settlement', network: chain.network, price: '$0.001', payTo, maxTimeoutSeconds: 60 });
  return {
    chain, fac, ddb, http, requirements,
    store: new DynamoChannelStore(ddb.client, table),
    async close() {
      await fac.close();
      await chain.close();
      await ddb.close();
    },
  };
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * A channel opened by the official client's deposit, with `requests` of `price` served under its
 * vouchers (committed at `committedAt`); `served` runs after each commit with the charged total.
 */
export async function servedChannel(
  world: BatchChannels,
  requests: bigint,
  price: bigint,
  { committedAt = nowSeconds(), served }: { committedAt?: number; served?: (channel: ServedChannel, cumulative: bigint) => Promise<void> } = {},
): Promise<ServedChannel> {
  const { chain, http, store, requirements } = world;
  const payer = await chain.newFundedWallet(1_000_000n, { ethWei: 10n ** 17n });
  const client = new x402Client().register(chain.network, new BatchSettlementClientScheme(toClientEvmSigner(payer, chain.publicClient)));
  const deposit = await client.createPaymentPayload({ x402Version: 2, resource: { url: 'http://127.0.0.1/paid' }, accepts: [requirements] });
  const deposited = await http.settle(deposit, requirements);
  expect(deposited).toMatchObject({ success: true });
  const balance = BigInt((deposited.extra as { channelState: { balance: string } }).channelState.balance);
  const first = parseVoucherPayload(deposit.payload)!;
  const channel = { channelId: first.voucher.channelId, config: first.config, payer };
  await store.open(channel.channelId, first.config, { balance, totalClaimed: 0n, withdrawRequestedAt: 0, refundNonce: 0n });
  for (let n = 1n; n <= requests; n++) {
    const fields = n === 1n ? undefined : await signVoucher(toClientEvmSigner(payer), channel.channelId, (n * price).toString(), chain.network);
    const { voucher } = fields ? parseVoucherPayload({ channelConfig: first.config, voucher: fields })! : first;
    const reservationId = randomBytes(12).toString('base64url');
    expect(await store.reserve({ channelId: channel.channelId, reservationId, voucher, price, expiresAt: nowSeconds() + 60 })).toEqual({ status: 'reserved' });
    expect(await store.commit(channel.channelId, reservationId, price, committedAt)).toBe('committed');
    // As origin-response does once the request's receipt is written (`served` writes it, where a test needs it).
    await store.forgetCommit(channel.channelId, reservationId);
    await served?.(channel, n * price);
  }
  return channel;
}
