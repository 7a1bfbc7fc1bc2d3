/**
 * A pinned receiver authorizer (`x402:receiverAuthorizer`) through the local edge: the batch
 * 402 names it while the facilitator is down, and a pin that is not the facilitator's own takes no
 * deposit (the official facilitator would accept one naming it, and then could not claim it):
 * the official client's deposit answers 503 naming the mismatch, nothing reaches the chain.
 */
import { x402Client } from '@x402/core/client';
import { decodePaymentRequiredHeader } from '@x402/core/http';
import { toClientEvmSigner } from '@x402/evm';
import { BatchSettlementEvmScheme as BatchSettlementClientScheme } from '@x402/evm/batch-settlement/client';
import { wrapFetchWithPayment } from '@x402/fetch';
import { getAddress } from 'viem';
import { startLocalStack, type LocalStack } from '../../local/stack';
import { edgeFetch } from '../support/edge-client';

const PATH = '/feed/item';
const ROUTES = [{ pattern: '/feed/**', scheme: 'batch-settlement' as const, price: '$0.001', minDeposit: '$0.01' }];
/** Not the local facilitator's key. */
const WRONG_AUTHORIZER = getAddress(`0x${'5a'.repeat(20)}`);

let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({ routes: ROUTES, configure: (config) => ({ ...config, facilitator: { ...config.facilitator, receiverAuthorizer: WRONG_AUTHORIZER } }) });
  stack.origin.setBehavior(PATH, { status: 200, body: 'paid' });
}, 120_000);
afterAll(() => stack?.close());

it('the 402 names the pinned receiver authorizer without the facilitator (down)', async () => {
  stack.facilitator.setFault('down');
  const response = await edgeFetch(stack, PATH).finally(() => stack.facilitator.setFault('none'));
  expect(response.status).toBe(402);
  expect(decodePaymentRequiredHeader(response.headers.get('payment-required')!).accepts[0]!.extra).toMatchObject({ receiverAuthorizer: WRONG_AUTHORIZER });
  expect(stack.facilitator.calls.supported).toBe(0);
});

it("a pin that is not the facilitator's takes no deposit: 503 naming the mismatch, nothing on chain, nothing served", async () => {
  const payer = await stack.chain.newFundedWallet(1_000_000n);
  const client = new x402Client().register(stack.chain.network, new BatchSettlementClientScheme(toClientEvmSigner(payer, stack.chain.publicClient)));
  const response = await wrapFetchWithPayment(fetch, client)(`${stack.edge.url}${PATH}`);
  expect(response.status).toBe(503);
  expect(await response.json()).toMatchObject({ error: 'batch_settlement_receiver_authorizer_mismatch', message: expect.stringContaining(stack.chain.facilitatorAccount.address) });
  expect(stack.facilitator.calls).toMatchObject({ verify: 0, settle: 0 });
  expect(await stack.chain.usdcBalance(payer.address)).toBe(1_000_000n);
  expect(stack.origin.requestsFor(PATH)).toBe(0);
});
