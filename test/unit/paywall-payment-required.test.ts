/**
 * The PAYMENT-REQUIRED header of the viewer-request's 402s: each names its own resource and
 * reason, however many resources were answered before it (the paywall keeps the values it encoded,
 * a bounded number per route).
 */
import { decodePaymentRequiredHeader, encodePaymentRequiredHeader } from '@x402/core/http';
import { Paywall, type PaywallRequest, type ViewerOutcome } from '../../lambda/core/paywall';
import { ExactEvmPrecheck } from '../../lambda/core/precheck';
import { paymentRequiredV2, routeTerms } from '../../lambda/core/requirements';
import { compileRoutes } from '../../lambda/core/routes';
import { testEdgeConfig } from '../support/config';
import { MemoryReceipts } from '../support/memory-receipts';

const config = testEdgeConfig();
const terms = routeTerms(compileRoutes(config)[0], config);

const paywall = new Paywall(config, {
  facilitator: { verify: async () => ({ isValid: true }), settle: async () => ({ success: true, transaction: '0x01', network: 'eip155:84532' }) },
  receipts: new MemoryReceipts(),
  clock: Date.now,
  log: () => undefined,
}, new ExactEvmPrecheck(config));

const request = (uri: string, host: string, headers: Record<string, string> = {}): PaywallRequest => ({
  method: 'GET',
  uri,
  host,
  clientIp: '203.0.113.9',
  header: (name) => ({ 'x-amzn-waf-x402-eligible': 'true', ...headers })[name],
});

function requiredHeader(outcome: ViewerOutcome): string {
  if (outcome.kind !== 'respond' || outcome.response.status !== 402) throw new Error(`expected a 402, got ${JSON.stringify(outcome)}`);
  return outcome.response.headers['payment-required']!;
}

/** A payment that accepted other terms than the offered ones: refused with a 402 naming why. */
const otherScheme = Buffer.from(JSON.stringify({ x402Version: 2, accepted: { ...terms.requirements, scheme: 'other' }, payload: {} })).toString('base64');

it('names each resource in its own 402, across more resources than the paywall keeps encoded', async () => {
  const resources = Array.from({ length: 200 }, (_, i) => ({ uri: `/articles/a${i}`, host: i % 2 ? 'example.com' : 'www.example.com' }));
  // Twice over: the second pass meets both values still kept and ones encoded again.
  for (const { uri, host } of [...resources, ...resources.slice().reverse()]) {
    const header = requiredHeader(await paywall.onViewerRequest(request(uri, host)));
    expect(header).toBe(encodePaymentRequiredHeader(paymentRequiredV2(terms, `https://${host}${uri}`)));
  }
});

it('tells the reason of a refused payment apart from the challenge of the same resource', async () => {
  const challenge = decodePaymentRequiredHeader(requiredHeader(await paywall.onViewerRequest(request('/articles/one', 'example.com'))));
  const refused = decodePaymentRequiredHeader(requiredHeader(await paywall.onViewerRequest(request('/articles/one', 'example.com', { 'payment-signature': otherScheme }))));
  const challengeAgain = decodePaymentRequiredHeader(requiredHeader(await paywall.onViewerRequest(request('/articles/one', 'example.com'))));
  expect(challenge.error).toBeUndefined();
  expect(refused.error).toBe('invalid_scheme');
  expect(challengeAgain).toEqual(challenge);
  expect(refused).toEqual({ ...challenge, error: 'invalid_scheme' });
});
