/**
 * Smart-wallet payments through the local edge: an ERC-1271 contract wallet on the local chain pays
 * with the official x402 client, and the official facilitator checks its signature on chain. Such
 * a signature does not recover to the wallet, and neither does a forgery: the edge asks the chain
 * whether the payer has code (the recommended configuration, `chainRpc`). No code: an EOA, whose
 * bad signature is refused at the edge; code: the facilitator decides, bounded per client and payer.
 */
import type { Address, PrivateKeyAccount } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import type { PaymentRequired } from '@x402/core/types';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { rawRequest } from '../reliability/support/raw-http';
import { edgeFetch, expectReceiptsReconcile, paymentHeader, termsFor } from '../support/edge-client';
import { signPayment } from '../support/payer';
import { deploySmartWallet, smartWalletClient } from '../support/smart-wallet';

let stack: LocalStack;
let owner: PrivateKeyAccount;
let wallet: Address;

beforeAll(async () => {
  stack = await startLocalStack();
  owner = privateKeyToAccount(generatePrivateKey());
  wallet = await deploySmartWallet(stack.chain, owner.address);
  await stack.chain.mint(wallet, 1_000_000n);
});
afterAll(() => stack?.close());

/** A real signature of these terms by some key, naming `from` as the payer: it does not recover to it. */
async function forgedFor(terms: PaymentRequired, from: Address) {
  const forged = await signPayment(privateKeyToAccount(generatePrivateKey()), terms);
  (forged.payload as { authorization: { from: string } }).authorization.from = from;
  return forged;
}

/** Each from another client, so that no client is backed off. */
async function flood(path: string, from: Address, times: number, firstClient: number): Promise<string[]> {
  const terms = await termsFor(stack, path);
  const answers: string[] = [];
  for (let client = firstClient; client < firstClient + times; client++) {
    const response = await rawRequest(stack.edge.url, path, { headers: paymentHeader(await forgedFor(terms, from)), clientAddress: `127.0.0.${client}` });
    answers.push(`${response.status} ${JSON.parse(response.body).error}`);
    if (response.status === 429) expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  }
  return answers;
}

it('serves and charges an ERC-1271 smart wallet whose signature only the chain can check', async () => {
  const payment = await smartWalletClient(wallet, owner).createPaymentPayload(await termsFor(stack, '/articles/by-contract'));
  const response = await edgeFetch(stack, '/articles/by-contract', paymentHeader(payment));
  expect(response.status).toBe(200);
  expect(await response.text()).toContain('The full text of the article');
  expect(await stack.chain.usdcBalance(wallet)).toBe(1_000_000n - 1000n);
  const [receipt] = (await stack.receipts()).filter((r) => r.status === 'settled');
  expect(receipt).toMatchObject({ payer: wallet, amount: '1000' });
});

it('refuses at the edge signatures that do not recover to an EOA payer: no facilitator call, and one eth_getCode for that payer however many arrive', async () => {
  const eoa = privateKeyToAccount(generatePrivateKey()).address;
  const verifies = stack.facilitator.calls.verify;
  const lookups = stack.chain.rpcCalls('eth_getCode');
  expect(await flood('/articles/forged-eoa', eoa, 12, 10)).toEqual(Array(12).fill('402 invalid_exact_evm_signature'));
  expect(stack.facilitator.calls.verify).toBe(verifies);
  expect(stack.chain.rpcCalls('eth_getCode') - lookups).toBe(1);
  expect(stack.origin.requestsFor('/articles/forged-eoa')).toBe(0);
});

it('lets at most 10 signatures per payer per minute that only the chain can check (the payer has code) reach the facilitator, then answers 429 with Retry-After', async () => {
  const otherWallet = await deploySmartWallet(stack.chain, privateKeyToAccount(generatePrivateKey()).address);
  const verifies = stack.facilitator.calls.verify;
  const answers = await flood('/articles/flood', otherWallet, 12, 30);
  expect(answers).toEqual([...Array(10).fill('402 invalid_exact_evm_signature'), ...Array(2).fill('429 too_many_smart_wallet_checks')]);
  expect(stack.facilitator.calls.verify - verifies).toBe(10);
  expect(stack.origin.requestsFor('/articles/flood')).toBe(0);
});

it('still serves the smart wallet from its own client meanwhile', async () => {
  const payment = await smartWalletClient(wallet, owner).createPaymentPayload(await termsFor(stack, '/articles/again'));
  expect((await edgeFetch(stack, '/articles/again', paymentHeader(payment))).status).toBe(200);
});

describe('money', () => {
  it('reconciles: the smart wallet paid twice, nothing else moved', async () => {
    expect((await expectReceiptsReconcile(stack)).settled).toBe(2);
  });
});

describe('with the chain RPC down', () => {
  let down: LocalStack;
  const logs: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    // Nothing listens on port 1: every eth_getCode fails at once.
    down = await startLocalStack({ configure: (config) => ({ ...config, chainRpc: { url: 'http://127.0.0.1:1', timeoutMs: 500 } }), log: (line) => logs.push(line) });
  });
  afterAll(() => down?.close());

  it('falls back to the facilitator: the smart wallet is served, a forged EOA signature is refused there, and the failed lookup is logged', async () => {
    const payer = privateKeyToAccount(generatePrivateKey());
    const downWallet = await deploySmartWallet(down.chain, payer.address);
    await down.chain.mint(downWallet, 10_000n);
    const payment = await smartWalletClient(downWallet, payer).createPaymentPayload(await termsFor(down, '/articles/rpc-down'));
    expect((await edgeFetch(down, '/articles/rpc-down', paymentHeader(payment))).status).toBe(200);
    expect(await down.chain.usdcBalance(downWallet)).toBe(9_000n);

    const verifies = down.facilitator.calls.verify;
    const forged = await forgedFor(await termsFor(down, '/articles/rpc-down-forged'), privateKeyToAccount(generatePrivateKey()).address);
    const refused = await rawRequest(down.edge.url, '/articles/rpc-down-forged', { headers: paymentHeader(forged), clientAddress: '127.0.0.60' });
    expect(`${refused.status} ${JSON.parse(refused.body).error}`).toBe('402 invalid_exact_evm_signature');
    expect(down.facilitator.calls.verify - verifies).toBe(1);
    expect(logs.some((line) => line.event === 'x402.chain_rpc_error')).toBe(true);
    expect((await expectReceiptsReconcile(down)).settled).toBe(1);
  });
});
