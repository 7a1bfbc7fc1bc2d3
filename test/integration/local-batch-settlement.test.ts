/**
 * The x402 `batch-settlement` scheme end to end on the local chain, with the official packages
 * only: an Express app behind the official middleware with the batch-settlement server scheme, the
 * official batch-settlement client paying through `wrapFetchWithPayment`, and the local
 * facilitator (a real HTTP service on 127.0.0.1) depositing, claiming, settling and refunding on
 * LocalBatchSettlement and LocalErc3009DepositCollector at their canonical addresses.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { x402Client } from '@x402/core/client';
import { decodePaymentRequiredHeader, encodePaymentSignatureHeader, HTTPFacilitatorClient } from '@x402/core/http';
import type { PaymentPayload, PaymentRequirements } from '@x402/core/types';
import { toClientEvmSigner } from '@x402/evm';
import { BatchSettlementEvmScheme as BatchSettlementClientScheme, computeChannelId } from '@x402/evm/batch-settlement/client';
import { BatchSettlementEvmScheme as BatchSettlementServerScheme } from '@x402/evm/batch-settlement/server';
import { paymentMiddleware, x402ResourceServer } from '@x402/express';
import { wrapFetchWithPayment } from '@x402/fetch';
import express from 'express';
import { createWalletClient, custom, getAddress, parseAbi, toFunctionSelector, type Abi, type Address, type Hex, type PrivateKeyAccount } from 'viem';
import LocalBatchSettlementArtifact from '../../local/contracts/LocalBatchSettlement.json';
import { LOCAL_BATCH_SETTLEMENT_ADDRESS, LOCAL_ERC3009_DEPOSIT_COLLECTOR_ADDRESS, startLocalChain, type LocalChain } from '../../local/chain';
import { startLocalFacilitator, type LocalFacilitator } from '../../local/facilitator';

const PAY_TO: Address = '0x000000000000000000000000000000000000bEEF';
const PRICE = 1000n; // $0.001 in USDC atomic units
const PAID_REQUESTS = 5;
/** The server's answer to a voucher that is not exactly its charged amount + the price (with its state, so an honest client can resync). */
const MISMATCH = 'invalid_batch_settlement_evm_cumulative_amount_mismatch';

/** The contract's read functions the test checks balances with (the public batch-settlement ABI). */
const batchSettlementReads = parseAbi([
  'function channels(bytes32 channelId) view returns (uint128 balance, uint128 totalClaimed)',
  'function receivers(address receiver, address token) view returns (uint128 totalClaimed, uint128 totalSettled)',
  'function getVoucherDigest(bytes32 channelId, uint128 maxClaimableAmount) view returns (bytes32)',
  'function refundNonce(bytes32 channelId) view returns (uint256)',
]);

let chain: LocalChain;
let fac: LocalFacilitator;
let facilitatorClient: HTTPFacilitatorClient;
let serverScheme: BatchSettlementServerScheme;
let app: Server;
let url: string;
let contentServed = 0;

beforeAll(async () => {
  chain = await startLocalChain();
  fac = await startLocalFacilitator(chain);
  facilitatorClient = new HTTPFacilitatorClient({ url: fac.url, timeoutMs: 10_000 });
  serverScheme = new BatchSettlementServerScheme(PAY_TO);
  const resourceServer = new x402ResourceServer(facilitatorClient).register(chain.network, serverScheme);
  const routes = {
    'GET /paid': {
      accepts: { scheme: 'batch-settlement', price: '$0.001', network: chain.network, payTo: PAY_TO, maxTimeoutSeconds: 60 },
      description: 'a paid resource',
      mimeType: 'application/json',
    },
  };
  const web = express();
  web.use(paymentMiddleware(routes, resourceServer));
  web.get('/paid', (_req, res) => {
    contentServed++;
    res.json({ content: 'paid' });
  });
  app = await new Promise<Server>((resolve) => {
    const s = web.listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(app.address() as AddressInfo).port}/paid`;
}, 60_000);
afterAll(async () => {
  await new Promise<void>((resolve) => (app ? app.close(() => resolve()) : resolve()));
  await fac?.close();
  await chain?.close();
});

const readChannel = (channelId: Hex) =>
  chain.publicClient.readContract({ address: LOCAL_BATCH_SETTLEMENT_ADDRESS, abi: batchSettlementReads, functionName: 'channels', args: [channelId] });

/** The last paid request's payload, as the client sent it. */
function decodeSent(header: string): PaymentPayload {
  return JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as PaymentPayload;
}

describe('batch-settlement on the local chain (official client, server and facilitator)', () => {
  let payer: PrivateKeyAccount;
  let lastVoucher: PaymentPayload;
  let channelId: Hex;
  let requirements: PaymentRequirements;

  it('installs the contract and its deposit collector at their canonical addresses', async () => {
    for (const address of [LOCAL_BATCH_SETTLEMENT_ADDRESS, LOCAL_ERC3009_DEPOSIT_COLLECTOR_ADDRESS]) {
      expect((await chain.publicClient.getCode({ address }))?.length).toBeGreaterThan(2);
    }
    const supported = await facilitatorClient.getSupported();
    expect(supported.kinds).toEqual(
      expect.arrayContaining([
        { x402Version: 2, scheme: 'batch-settlement', network: chain.network, extra: { receiverAuthorizer: chain.facilitatorAccount.address } },
      ]),
    );
  });

  it('deposits once, then pays each request with a voucher: one deposit transaction, no transaction per voucher', async () => {
    payer = await chain.newFundedWallet(1_000_000n);
    const sent: string[] = [];
    const recording: typeof fetch = (input, init) => {
      const header = new Headers(input instanceof Request ? input.headers : init?.headers).get('payment-signature');
      if (header) sent.push(header);
      return fetch(input, init);
    };
    const client = new x402Client().register(chain.network, new BatchSettlementClientScheme(toClientEvmSigner(payer, chain.publicClient)));
    const pay = wrapFetchWithPayment(recording, client);

    const blockBefore = await chain.publicClient.getBlockNumber();
    for (let i = 0; i < PAID_REQUESTS; i++) {
      const res = await pay(url);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ content: 'paid' });
    }
    expect(contentServed).toBe(PAID_REQUESTS);
    const payloads = sent.map(decodeSent);
    expect(payloads.map((p) => (p.payload as { type: string }).type)).toEqual(['deposit', ...Array(PAID_REQUESTS - 1).fill('voucher')]);
    // Cumulative vouchers: the n-th request signs n × price.
    expect(payloads.map((p) => (p.payload as { voucher: { maxClaimableAmount: string } }).voucher.maxClaimableAmount)).toEqual(
      payloads.map((_, i) => String(PRICE * BigInt(i + 1))),
    );
    // Only the deposit reached the chain (automine: one block per transaction).
    expect((await chain.publicClient.getBlockNumber()) - blockBefore).toBe(1n);

    lastVoucher = payloads[payloads.length - 1]!;
    requirements = lastVoucher.accepted as PaymentRequirements;
    channelId = (lastVoucher.payload as { voucher: { channelId: Hex } }).voucher.channelId;
    const deposit = BigInt((payloads[0]!.payload as { deposit: { amount: string } }).deposit.amount);
    expect(deposit).toBeGreaterThanOrEqual(PRICE * BigInt(PAID_REQUESTS));
    expect(await readChannel(channelId)).toEqual([deposit, 0n]);
    expect(await chain.usdcBalance(LOCAL_BATCH_SETTLEMENT_ADDRESS)).toBe(deposit);
    expect(await chain.usdcBalance(payer.address)).toBe(1_000_000n - deposit);
    // The channel id is the EIP-712 hash of the config, computed the same way by the client and the contract.
    const config = (lastVoucher.payload as { channelConfig: Parameters<typeof computeChannelId>[0] }).channelConfig;
    expect(computeChannelId(config, chain.network)).toBe(channelId);
  }, 60_000);

  it('refuses a reused voucher and a lower cumulative amount without serving content', async () => {
    const served = contentServed;
    const reused = await fetch(url, { headers: { 'PAYMENT-SIGNATURE': encodePaymentSignatureHeader(lastVoucher) } });
    expect(reused.status).toBe(402);
    expect(decodePaymentRequiredHeader(reused.headers.get('payment-required')!).error).toBe(MISMATCH);

    const voucher = (lastVoucher.payload as { voucher: { channelId: Hex; maxClaimableAmount: string; signature: Hex } }).voucher;
    const lower = PRICE * BigInt(PAID_REQUESTS - 2);
    const lowerSignature = await payer.signTypedData({
      domain: { name: 'x402 Batch Settlement', version: '1', chainId: chain.chainId, verifyingContract: LOCAL_BATCH_SETTLEMENT_ADDRESS },
      types: { Voucher: [{ name: 'channelId', type: 'bytes32' }, { name: 'maxClaimableAmount', type: 'uint128' }] },
      primaryType: 'Voucher',
      message: { channelId: voucher.channelId, maxClaimableAmount: lower },
    });
    const lowerPayload = { ...lastVoucher, payload: { ...lastVoucher.payload, voucher: { ...voucher, maxClaimableAmount: lower.toString(), signature: lowerSignature } } };
    const lowerRes = await fetch(url, { headers: { 'PAYMENT-SIGNATURE': encodePaymentSignatureHeader(lowerPayload as PaymentPayload) } });
    expect(lowerRes.status).toBe(402);
    expect(decodePaymentRequiredHeader(lowerRes.headers.get('payment-required')!).error).toBe(MISMATCH);
    expect(contentServed).toBe(served);
  });

  it('refuses a voucher over the deposit (facilitator verify) and the contract refuses to claim it', async () => {
    const [balance] = await readChannel(channelId);
    const over = balance + 1n;
    const digest = await chain.publicClient.readContract({ address: LOCAL_BATCH_SETTLEMENT_ADDRESS, abi: batchSettlementReads, functionName: 'getVoucherDigest', args: [channelId, over] });
    const signature = await payer.sign({ hash: digest });
    const voucher = (lastVoucher.payload as { voucher: object }).voucher;
    const overPayload = { ...lastVoucher, payload: { ...lastVoucher.payload, voucher: { ...voucher, maxClaimableAmount: over.toString(), signature } } } as PaymentPayload;
    const verified = await facilitatorClient.verify(overPayload, requirements);
    expect(verified).toMatchObject({ isValid: false, invalidReason: 'invalid_batch_settlement_evm_cumulative_exceeds_balance' });

    const config = (lastVoucher.payload as { channelConfig: Record<string, unknown> }).channelConfig;
    const claimed = await facilitatorClient.settle(
      { ...lastVoucher, payload: { type: 'claim', claims: [{ voucher: { channel: config, maxClaimableAmount: over.toString() }, signature, totalClaimed: over.toString() }] } } as PaymentPayload,
      requirements,
    );
    expect(claimed).toMatchObject({ success: false, errorReason: 'invalid_batch_settlement_evm_claim_simulation_failed' });
    expect(await readChannel(channelId)).toEqual([balance, 0n]);
  });

  it('claims the latest voucher and settles to payTo: payTo receives exactly the served requests, the rest stays the payer’s', async () => {
    const [balance] = await readChannel(channelId);
    const payToBefore = await chain.usdcBalance(PAY_TO);
    const manager = serverScheme.createChannelManager(facilitatorClient, chain.network, chain.usdc);
    const { claims, settle } = await manager.claimAndSettle();
    expect(claims).toHaveLength(1);
    expect(settle?.transaction).toMatch(/^0x[0-9a-f]{64}$/);

    const charged = PRICE * BigInt(PAID_REQUESTS);
    expect(await readChannel(channelId)).toEqual([balance, charged]);
    expect(await chain.publicClient.readContract({ address: LOCAL_BATCH_SETTLEMENT_ADDRESS, abi: batchSettlementReads, functionName: 'receivers', args: [PAY_TO, chain.usdc] })).toEqual([charged, charged]);
    expect((await chain.usdcBalance(PAY_TO)) - payToBefore).toBe(charged);
    expect(await chain.usdcBalance(LOCAL_BATCH_SETTLEMENT_ADDRESS)).toBe(balance - charged);

    // A second settle has nothing left to move.
    const again = await facilitatorClient.settle(
      { ...lastVoucher, payload: { type: 'settle', receiver: getAddress(PAY_TO), token: chain.usdc } } as PaymentPayload,
      requirements,
    );
    expect(again).toMatchObject({ success: false, errorReason: 'invalid_batch_settlement_evm_nothing_to_settle' });
  }, 60_000);

  it('refunds the unclaimed rest cooperatively (refundWithSignature): the payer gets back exactly the deposit minus what was served', async () => {
    const [balance, claimed] = await readChannel(channelId);
    const payerBefore = await chain.usdcBalance(payer.address);
    const [refunded] = await serverScheme.createChannelManager(facilitatorClient, chain.network, chain.usdc).refund([channelId]);
    expect(refunded?.transaction).toMatch(/^0x[0-9a-f]{64}$/);
    expect((await chain.usdcBalance(payer.address)) - payerBefore).toBe(balance - claimed);
    expect(await readChannel(channelId)).toEqual([claimed, claimed]);
    expect(await chain.publicClient.readContract({ address: LOCAL_BATCH_SETTLEMENT_ADDRESS, abi: batchSettlementReads, functionName: 'refundNonce', args: [channelId] })).toBe(1n);
  }, 60_000);

  it('a timed withdrawal racing a claim: the claim inside the delay keeps what was served, the payer gets back only the rest', async () => {
    const other = await chain.newFundedWallet(1_000_000n, { ethWei: 10n ** 17n });
    const sent: string[] = [];
    const recording: typeof fetch = (input, init) => {
      const header = new Headers(input instanceof Request ? input.headers : init?.headers).get('payment-signature');
      if (header) sent.push(header);
      return fetch(input, init);
    };
    const pay = wrapFetchWithPayment(recording, new x402Client().register(chain.network, new BatchSettlementClientScheme(toClientEvmSigner(other, chain.publicClient))));
    for (let i = 0; i < 2; i++) expect((await pay(url)).status).toBe(200);
    const { channelConfig, voucher } = decodeSent(sent[sent.length - 1]!).payload as { channelConfig: Record<string, unknown>; voucher: { channelId: Hex } };
    const config = { ...channelConfig, withdrawDelay: Number(channelConfig.withdrawDelay) } as never;
    const [balance] = await readChannel(voucher.channelId);

    // The payer starts withdrawing everything before the receiver has claimed anything.
    const wallet = createWalletClient({ account: other, chain: chain.chain, transport: custom(chain.provider, { retryCount: 0 }) });
    const write = (functionName: 'initiateWithdraw' | 'finalizeWithdraw', args: readonly unknown[]) =>
      wallet.writeContract({ address: LOCAL_BATCH_SETTLEMENT_ADDRESS, abi: LocalBatchSettlementArtifact.abi as Abi, functionName, args });
    await write('initiateWithdraw', [config, balance]);
    // Too early: the contract reverts with WithdrawDelayNotElapsed() (hardhat reports its selector).
    await expect(write('finalizeWithdraw', [config])).rejects.toThrow(toFunctionSelector('WithdrawDelayNotElapsed()'));

    const payToBefore = await chain.usdcBalance(PAY_TO);
    const { claims } = await serverScheme.createChannelManager(facilitatorClient, chain.network, chain.usdc).claimAndSettle();
    expect(claims).toHaveLength(1);
    const served = 2n * PRICE;
    expect((await chain.usdcBalance(PAY_TO)) - payToBefore).toBe(served);

    await chain.provider.request({ method: 'evm_increaseTime', params: [Number(channelConfig.withdrawDelay)] });
    const payerBefore = await chain.usdcBalance(other.address);
    await write('finalizeWithdraw', [config]);
    expect((await chain.usdcBalance(other.address)) - payerBefore).toBe(balance - served);
    expect(await readChannel(voucher.channelId)).toEqual([served, served]);
  }, 60_000);
});
