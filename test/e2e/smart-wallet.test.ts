/**
 * Smart-wallet payments through the local edge: an ERC-1271 contract wallet on the local chain pays
 * with the official x402 client, and the official facilitator checks its signature on chain. Such
 * signatures cannot be checked at the edge, so how often the facilitator is asked is bounded.
 */
import type { Address, PrivateKeyAccount } from 'viem';
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
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

it('serves and charges an ERC-1271 smart wallet whose signature only the chain can check', async () => {
  const payment = await smartWalletClient(wallet, owner).createPaymentPayload(await termsFor(stack, '/articles/by-contract'));
  const response = await edgeFetch(stack, '/articles/by-contract', paymentHeader(payment));
  expect(response.status).toBe(200);
  expect(await response.text()).toContain('The full text of the article');
  expect(await stack.chain.usdcBalance(wallet)).toBe(1_000_000n - 1000n);
  const [receipt] = (await stack.receipts()).filter((r) => r.status === 'settled');
  expect(receipt).toMatchObject({ payer: wallet, amount: '1000' });
});

it('lets at most 10 signatures per payer per minute that only the chain can check reach the facilitator, then answers 429 with Retry-After', async () => {
  // Bad signatures naming one (smart-wallet-looking) payer, each from another client, so no
  // client is backed off: at the edge they look exactly like a smart wallet's.
  const claimed = privateKeyToAccount(generatePrivateKey()).address;
  const terms = await termsFor(stack, '/articles/flood');
  const verifies = stack.facilitator.calls.verify;
  const answers: string[] = [];
  for (let client = 10; client < 22; client++) {
    const forged = await signPayment(privateKeyToAccount(generatePrivateKey()), terms);
    (forged.payload as { authorization: { from: string } }).authorization.from = claimed;
    const response = await rawRequest(stack.edge.url, '/articles/flood', { headers: paymentHeader(forged), clientAddress: `127.0.0.${client}` });
    answers.push(`${response.status} ${JSON.parse(response.body).error}`);
    if (response.status === 429) expect(Number(response.headers['retry-after'])).toBeGreaterThan(0);
  }
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
