/**
 * Batch-settlement channels on real parts: the local chain with LocalBatchSettlement, the local
 * facilitator, the channel store in dynalite, and the official server's terms; channels opened by
 * the official client's deposit and served under its vouchers (off the request path), or paid by
 * the official client through the local edge; the payer's own contract calls and one scheduled
 * claims run as the claims Lambda makes it.
 */
import { x402Client } from '@x402/core/client';
import { HTTPFacilitatorClient } from '@x402/core/http';
import { x402ResourceServer } from '@x402/core/server';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { toClientEvmSigner } from '@x402/evm';
import { BatchSettlementEvmScheme as BatchSettlementClientScheme, signVoucher, type BatchSettlementEvmSchemeOptions } from '@x402/evm/batch-settlement/client';
import { BatchSettlementEvmScheme as BatchSettlementServerScheme } from '@x402/evm/batch-settlement/server';
import { wrapFetchWithPayment } from '@x402/fetch';
import { randomBytes } from 'node:crypto';
import { createWalletClient, custom, type Abi, type Address, type Hex, type PrivateKeyAccount } from 'viem';
import { channelChainReader } from '../../lambda/batch-claims/chain-state';
import { runBatchClaims, type BatchClaimsRunResult } from '../../lambda/batch-claims/run';
import type { BatchClaimsSettings } from '../../lambda/batch-claims/settings';
import { parseVoucherPayload, type ChannelConfig } from '../../lambda/core/batch/voucher';
import { DynamoChannelStore } from '../../lambda/edge/dynamo-channel-store';
import LocalBatchSettlementArtifact from '../../local/contracts/LocalBatchSettlement.json';
import { LOCAL_BATCH_SETTLEMENT_ADDRESS, startLocalChain, type LocalChain } from '../../local/chain';
import type { LocalStack } from '../../local/stack';
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

/** The official client paying at the local edge through the official fetch wrapper, recording each payment it sends. */
export function officialBatchClient(stack: LocalStack, payer: PrivateKeyAccount, options?: BatchSettlementEvmSchemeOptions) {
  const sent: PaymentPayload[] = [];
  const recording: typeof fetch = (input, init) => {
    const header = new Headers(input instanceof Request ? input.headers : init?.headers).get('payment-signature');
    if (header) sent.push(JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as PaymentPayload);
    return fetch(input, init);
  };
  const client = new x402Client().register(stack.chain.network, new BatchSettlementClientScheme(toClientEvmSigner(payer, stack.chain.publicClient), options));
  const pay = wrapFetchWithPayment(recording, client);
  return { sent, pay: (path: string) => pay(`${stack.edge.url}${path}`) };
}

/** The channel a client's first payment (its deposit) opened. */
export function channelOfDeposit(deposit: PaymentPayload): { readonly channelId: Hex; readonly config: ChannelConfig } {
  const { voucher, config } = parseVoucherPayload(deposit.payload)!;
  return { channelId: voucher.channelId.toLowerCase() as Hex, config };
}

/** The payer's own call on the batch-settlement contract (`initiateWithdraw`, `finalizeWithdraw`): a real transaction, awaited until mined. */
export async function payerCall(chain: LocalChain, payer: PrivateKeyAccount, functionName: 'initiateWithdraw' | 'finalizeWithdraw', config: ChannelConfig, ...args: unknown[]): Promise<void> {
  const wallet = createWalletClient({ account: payer, chain: chain.chain, transport: custom(chain.provider, { retryCount: 0 }) });
  const hash = await wallet.writeContract({ address: LOCAL_BATCH_SETTLEMENT_ADDRESS, abi: LocalBatchSettlementArtifact.abi as Abi, functionName, args: [{ ...config, withdrawDelay: Number(config.withdrawDelay) }, ...args] });
  expect(await chain.publicClient.waitForTransactionReceipt({ hash })).toMatchObject({ status: 'success' });
}

/** `channels(id)` on the contract: the balance and what the receiver claimed. */
export async function channelOnChain(chain: LocalChain, channelId: Hex): Promise<{ readonly balance: bigint; readonly totalClaimed: bigint }> {
  const [balance, totalClaimed] = (await chain.publicClient.readContract({ address: LOCAL_BATCH_SETTLEMENT_ADDRESS, abi: LocalBatchSettlementArtifact.abi as Abi, functionName: 'channels', args: [channelId] })) as [bigint, bigint];
  return { balance, totalClaimed };
}

/** Moves the local chain's clock forward (the next block is mined that much later). */
export async function advanceChainTime(chain: LocalChain, seconds: number): Promise<void> {
  await chain.provider.request({ method: 'evm_increaseTime', params: [seconds] });
  await chain.provider.request({ method: 'evm_mine', params: [] });
}

/** One scheduled claims run over the local chain and facilitator, as the claims Lambda makes it. */
export function runClaimsOn(
  parts: { readonly chain: LocalChain; readonly facilitatorUrl: string; readonly payTo: Address; readonly store: DynamoChannelStore },
  settings: Partial<Pick<BatchClaimsSettings, 'thresholdAtomic' | 'maxAgeSeconds' | 'refundIdleAfterSeconds'>> = {},
  clock: () => number = Date.now,
): Promise<BatchClaimsRunResult> {
  const { chain, facilitatorUrl, payTo, store } = parts;
  const http = new HTTPFacilitatorClient({ url: facilitatorUrl, timeoutMs: 30_000 });
  return runBatchClaims(
    { network: chain.network, payTo, asset: chain.usdc, facilitator: { url: facilitatorUrl, timeoutMs: 30_000 }, chainRpcUrl: chain.rpcUrl, thresholdAtomic: '1', maxAgeSeconds: 3600, refundIdleAfterSeconds: 0, ...settings },
    { store, facilitator: { verify: (p, r) => http.verify(p, r), settle: (p, r) => http.settle(p, r) }, readChain: channelChainReader(chain.rpcUrl, 30_000), clock, log: () => {} },
  );
}
