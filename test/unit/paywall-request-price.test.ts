/** The paywall with priceBy: the 402 offers the rule's price, and a paid retry whose features changed is refused. */
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts';
import { decodePaymentRequiredHeader } from '@x402/core/http';
import { Paywall } from '../../lambda/core/paywall';
import { ExactEvmPrecheck } from '../../lambda/core/precheck';
import { testEdgeConfig } from '../support/config';
import { MemoryReceipts } from '../support/memory-receipts';
import { encodePayment, signPayment } from '../support/payer';

const config = testEdgeConfig({
  routes: [{ pattern: '/reports/*', price: '$0.001', priceBy: [{ price: '$0.05', tier: 'xl', when: [{ query: 'size', equalTo: 'xl' }] }] }],
});

function paywall() {
  return new Paywall(
    config,
    {
      facilitator: { verify: async () => ({ isValid: true }), settle: async () => ({ success: true, transaction: `0x${'ab'.repeat(32)}`, network: 'eip155:84532' }) },
      receipts: new MemoryReceipts(),
      clock: Date.now,
      log: () => undefined,
    },
    new ExactEvmPrecheck(config),
  );
}

const ask = (querystring: string, payment?: string) => ({
  method: 'GET', uri: '/reports/one', querystring, host: 'example.com', clientIp: '203.0.113.9',
  header: (name: string) => (name === 'payment-signature' ? payment : name === 'x-amzn-waf-x402-eligible' ? 'true' : undefined),
});

async function challenge(wall: Paywall, querystring: string) {
  const outcome = await wall.onViewerRequest(ask(querystring));
  if (outcome.kind !== 'respond') throw new Error('expected a 402');
  return decodePaymentRequiredHeader(outcome.response.headers['payment-required']);
}

describe('Paywall with priceBy', () => {
  it('offers the price the request features select', async () => {
    const wall = paywall();
    expect((await challenge(wall, 'size=xl')).accepts[0].amount).toBe('50000');
    expect((await challenge(wall, 'size=s')).accepts[0].amount).toBe('1000');
  });

  it('admits a payment for the selected price and refuses it when the retry changes the feature', async () => {
    const wall = paywall();
    const required = await challenge(wall, 'size=s');
    const payment = encodePayment(await signPayment(privateKeyToAccount(generatePrivateKey()), required));
    const changed = await wall.onViewerRequest(ask('size=xl', payment));
    expect(changed.kind === 'respond' && changed.response.status).toBe(402);
    const cheap = encodePayment(await signPayment(privateKeyToAccount(generatePrivateKey()), required));
    expect((await wall.onViewerRequest(ask('size=s', cheap))).kind).toBe('forward');
  });

  it('answers 400 invalid_price_feature to an ambiguous feature', async () => {
    const outcome = await paywall().onViewerRequest(ask('size=s&size=xl'));
    expect(outcome.kind === 'respond' && [outcome.response.status, JSON.parse(outcome.response.body).error]).toEqual([400, 'invalid_price_feature']);
  });
});
