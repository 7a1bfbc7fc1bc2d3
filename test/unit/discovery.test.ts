/** Bazaar discovery metadata in the 402: the shape the official extension validates, and the header size bound. */
import { decodePaymentRequiredHeader } from '@x402/core/http';
import { PaymentRequiredSchema } from '@x402/core/schemas';
import { validateDiscoveryExtension, type DiscoveryExtension } from '@x402/extensions/bazaar';
import type { RouteDiscovery } from '../../lambda/core/config';
import { bazaarExtension, MAX_PAYMENT_REQUIRED_HEADER_BYTES, paymentRequiredHeaderBytes } from '../../lambda/core/discovery';
import { encodePaymentRequiredHeader } from '@x402/core/http';
import { X402ConfigError } from '../../lib/config/problems';
import { resolveX402Config, toEdgeConfig } from '../../lib/config/resolve';
import { compileRoutes } from '../../lambda/core/routes';
import { paymentRequiredV2, routeTerms } from '../../lambda/core/requirements';
import { Paywall } from '../../lambda/core/paywall';
import { ExactEvmPrecheck } from '../../lambda/core/precheck';
import { SETTINGS } from '../constructs/helpers';
import { newPassKeyPair } from '../../local/pass-key';
import { testEdgeConfig } from '../support/config';
import { MemoryReceipts } from '../support/memory-receipts';

const SEARCH: RouteDiscovery = {
  input: { q: 'cats' },
  inputSchema: { properties: { q: { type: 'string' } }, required: ['q'] },
  output: { example: { results: ['a'] }, schema: { properties: { results: { type: 'array' } } } },
};

function bazaar(discovery: RouteDiscovery, method: string | undefined): DiscoveryExtension {
  return (bazaarExtension(discovery, method) as { bazaar: DiscoveryExtension }).bazaar;
}

describe('bazaarExtension', () => {
  it('declares query input for a GET route, valid by @x402/extensions', () => {
    const extension = bazaar(SEARCH, 'GET');
    expect(validateDiscoveryExtension(extension)).toEqual({ valid: true });
    expect(extension.info.input).toEqual({ type: 'http', method: 'GET', queryParams: { q: 'cats' } });
  });

  it('declares a body for a POST route, valid by @x402/extensions', () => {
    const extension = bazaar({ input: { prompt: 'hi' }, inputSchema: { properties: { prompt: { type: 'string' } } }, bodyType: 'json' }, 'POST');
    expect(validateDiscoveryExtension(extension)).toEqual({ valid: true });
    expect(extension.info.input).toEqual({ type: 'http', method: 'POST', bodyType: 'json', body: { prompt: 'hi' } });
  });

  it('names GET for a route of every method', () => {
    expect(bazaar({}, undefined).info.input).toMatchObject({ method: 'GET' });
    expect(validateDiscoveryExtension(bazaar({}, undefined))).toEqual({ valid: true });
  });

  it('fails validation when the example does not fit its schema', () => {
    expect(validateDiscoveryExtension(bazaar({ input: { q: 3 }, inputSchema: { properties: { q: { type: 'string' } } } }, 'GET')).valid).toBe(false);
  });
});

describe('the 402 of a route with discovery metadata', () => {
  const config = toEdgeConfig(resolveX402Config({ ...SETTINGS, routes: [{ pattern: 'GET /search', price: '$0.01', description: 'Search', mimeType: 'application/json', discovery: SEARCH }] }), { tableName: 'receipts', region: 'us-east-1' });
  const [route] = compileRoutes(config);
  const required = paymentRequiredV2(routeTerms(route, config), 'https://d111111abcdef8.cloudfront.net/search', undefined, route.discoveryExtension);
  const header = encodePaymentRequiredHeader(required);

  it('validates against the @x402/core schema and carries a valid bazaar extension', () => {
    const decoded = decodePaymentRequiredHeader(header);
    expect(PaymentRequiredSchema.safeParse(decoded).success).toBe(true);
    expect(validateDiscoveryExtension(decoded.extensions!.bazaar as DiscoveryExtension)).toEqual({ valid: true });
  });

  it('stays within 2 KB, as measured by the size function synth uses', () => {
    expect(header.length).toBe(paymentRequiredHeaderBytes(required));
    expect(header.length).toBeLessThanOrEqual(MAX_PAYMENT_REQUIRED_HEADER_BYTES);
  });
});

describe('the paywall', () => {
  const config = testEdgeConfig({ routes: [{ pattern: 'GET /search', price: '$0.01', discovery: SEARCH }, { pattern: '/plain', price: '$0.01' }] });
  // The 402 is answered before any facilitator call: these ports are never reached.
  const unreachable = async (): Promise<never> => {
    throw new Error('no facilitator call expected for a 402');
  };
  const wall = new Paywall(config, { facilitator: { verify: unreachable, settle: unreachable }, receipts: new MemoryReceipts(), clock: Date.now, log: () => undefined }, new ExactEvmPrecheck(config));
  async function challenge(uri: string) {
    const outcome = await wall.onViewerRequest({
      method: 'GET', uri, querystring: '', host: 'example.com', clientIp: '203.0.113.9',
      header: (name: string) => (name === 'x-amzn-waf-x402-eligible' ? 'true' : undefined),
    });
    if (outcome.kind !== 'respond') throw new Error('expected a 402');
    return outcome.response.headers['payment-required'];
  }

  it('sends the bazaar extension in the 402 of a route that declares it, within 2 KB', async () => {
    const header = await challenge('/search');
    expect(header.length).toBeLessThanOrEqual(MAX_PAYMENT_REQUIRED_HEADER_BYTES);
    const decoded = decodePaymentRequiredHeader(header);
    expect(PaymentRequiredSchema.safeParse(decoded).success).toBe(true);
    expect(validateDiscoveryExtension(decoded.extensions!.bazaar as DiscoveryExtension)).toEqual({ valid: true });
  });

  it('sends no extensions for a route without discovery metadata', async () => {
    expect(decodePaymentRequiredHeader(await challenge('/plain')).extensions).toBeUndefined();
  });
});

describe('discovery validation at synth', () => {
  function problemsOf(discovery: unknown): X402ConfigError['problems'] {
    try {
      resolveX402Config({ ...SETTINGS, routes: [{ pattern: '/a', price: '$0.001', discovery: discovery as RouteDiscovery }] });
    } catch (error) {
      if (error instanceof X402ConfigError) return error.problems;
      throw error;
    }
    throw new Error('the configuration was accepted');
  }

  it.each([
    ['x402:routes["/a"].discovery', 'cats', /must be an object/],
    ['x402:routes["/a"].discovery.inputs', { inputs: {} }, /not a discovery field/],
    ['x402:routes["/a"].discovery.inputSchema', { inputSchema: 'string' }, /JSON object/],
    ['x402:routes["/a"].discovery.bodyType', { bodyType: 'xml' }, /"json", "form-data" or "text"/],
    ['x402:routes["/a"].discovery.output', { output: { examples: [] } }, /must be \{"example"/],
  ])('names %s', (key, discovery, problem) => {
    expect(problemsOf(discovery)).toEqual([expect.objectContaining({ key, problem: expect.stringMatching(problem) })]);
  });

  it('refuses metadata whose PAYMENT-REQUIRED header would exceed 2 KB', () => {
    const big = { input: { q: 'x'.repeat(1500) } };
    expect(problemsOf(big)).toEqual([expect.objectContaining({ key: 'x402:routes["/a"].discovery', problem: expect.stringMatching(/over the 2048/) })]);
  });

  it('counts the passes that open the route and their sign-in challenge, naming them', () => {
    const key = newPassKeyPair();
    const near = { input: { q: 'x'.repeat(450) } };
    const withPasses = (scope: string) => ({
      ...SETTINGS,
      routes: [{ pattern: '/a/*', price: '$0.001', discovery: near }, { pattern: '/b/*', price: '$0.001' }],
      passes: [{ name: 'day', price: '$0.50', duration: '24h', routes: [scope], description: 'd'.repeat(300) }],
      passKeys: [{ kid: 'k1', publicKey: key.jwk, secret: 'x402/pass-key-k1' }],
    });
    expect(() => resolveX402Config(withPasses('/b/*'))).not.toThrow();
    expect(() => resolveX402Config(withPasses('/a/one'))).toThrow(/x402:routes\["\/a\/\*"\]\.discovery.*with the passes that open it \(day\).*over the 2048/s);
  });

  it('carries accepted metadata into the edge configuration', () => {
    const config = toEdgeConfig(resolveX402Config({ ...SETTINGS, routes: [{ pattern: '/a', price: '$0.001', discovery: SEARCH }] }), { tableName: 'receipts', region: 'us-east-1' });
    expect(config.routes[0].discovery).toEqual(SEARCH);
  });
});
