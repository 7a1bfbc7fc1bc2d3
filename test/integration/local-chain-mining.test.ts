/**
 * The local chain's Base-like mode: with a block time, settlements wait in the mempool for the
 * next block (concurrent ones share it), funding still returns mined, and switching back to
 * instant mining mines whatever was waiting.
 */
import { HTTPFacilitatorClient } from '@x402/core/http';
import type { PaymentRequirements } from '@x402/core/types';
import type { Address, Hex } from 'viem';
import { startLocalChain, type LocalChain } from '../../local/chain';
import { startLocalFacilitator, type LocalFacilitator } from '../../local/facilitator';
import { signPayment } from '../support/payer';

const PAY_TO: Address = '0x000000000000000000000000000000000000bEEF';
const BLOCK_MS = 400;

let chain: LocalChain;
let fac: LocalFacilitator;

beforeAll(async () => {
  chain = await startLocalChain({ blockTimeMs: BLOCK_MS });
  fac = await startLocalFacilitator(chain);
});
afterAll(async () => {
  await fac?.close();
  await chain?.close();
});

const requirements = (): PaymentRequirements => ({
  scheme: 'exact',
  network: 'eip155:84532',
  amount: '1000',
  asset: chain.usdc,
  payTo: PAY_TO,
  maxTimeoutSeconds: 60,
  extra: { name: 'USDC', version: '2' },
});

const blockNumber = async () => BigInt((await chain.provider.request({ method: 'eth_blockNumber' })) as Hex);

describe('local chain with a block time', () => {
  it('refuses a block time that is not a positive whole number of ms, naming the option', async () => {
    await expect(startLocalChain({ blockTimeMs: 0 })).rejects.toThrow(/blockTimeMs must be a positive whole number/);
    await expect(chain.setBlockTime(1.5)).rejects.toThrow(/blockTimeMs .* got 1.5/);
    expect(chain.blockTimeMs).toBe(BLOCK_MS);
  });

  it('mines empty blocks on the interval and returns funding once it is mined', async () => {
    const before = await blockNumber();
    const payer = await chain.newFundedWallet(5_000n);
    expect(await chain.usdcBalance(payer.address)).toBe(5_000n);
    await new Promise((resolve) => setTimeout(resolve, 2.5 * BLOCK_MS));
    // The mint's block, then at least one more on the timer with nothing to mine.
    expect(await blockNumber()).toBeGreaterThanOrEqual(before + 2n);
  });

  it('settles concurrent payments in the next block, together, each after waiting for it', async () => {
    const http = new HTTPFacilitatorClient({ url: fac.url, timeoutMs: 10_000 });
    const payers = await Promise.all([1, 2, 3].map(() => chain.newFundedWallet(5_000n)));
    const terms = { x402Version: 2 as const, resource: { url: 'http://127.0.0.1/paid', description: 'test', mimeType: 'text/plain' }, accepts: [requirements()] };
    const payloads = await Promise.all(payers.map((p) => signPayment(p, terms)));
    const started = Date.now();
    const settled = await Promise.all(payloads.map((p) => http.settle(p, requirements())));
    const waited = Date.now() - started;
    expect(settled.map((s) => s.success)).toEqual([true, true, true]);
    const blocks = await Promise.all(
      settled.map(async (s) => ((await chain.provider.request({ method: 'eth_getTransactionReceipt', params: [s.transaction] })) as { blockNumber: Hex }).blockNumber),
    );
    expect(new Set(blocks).size).toBe(1);
    // Sent right after a block at worst; never later than one interval plus the receipt poll and a loaded machine's slack.
    expect(waited).toBeLessThan(BLOCK_MS + 1500);
    for (const p of payers) expect(await chain.usdcBalance(p.address)).toBe(4_000n);
  });

  it('goes back to one block per transaction, mining what was waiting first', async () => {
    // A block time long enough that only the switch can mine this transaction.
    await chain.setBlockTime(60_000);
    const waiting = (await chain.provider.request({ method: 'eth_sendTransaction', params: [{ from: chain.facilitatorAccount.address, to: PAY_TO, value: '0x1' }] })) as Hex;
    expect(await chain.provider.request({ method: 'eth_getTransactionReceipt', params: [waiting] })).toBeNull();
    await chain.setBlockTime(undefined);
    expect(await chain.provider.request({ method: 'eth_getTransactionReceipt', params: [waiting] })).toMatchObject({ status: '0x1' });
    expect(chain.blockTimeMs).toBeUndefined();
    const before = await blockNumber();
    const started = Date.now();
    await chain.newFundedWallet(1n);
    expect(Date.now() - started).toBeLessThan(BLOCK_MS);
    expect(await blockNumber()).toBe(before + 1n);
    await new Promise((resolve) => setTimeout(resolve, 1.5 * BLOCK_MS));
    expect(await blockNumber()).toBe(before + 1n);
  });
});
