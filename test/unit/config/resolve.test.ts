/** Settings → the validated configuration: defaults, and one refusal per class of bad configuration. */
import { DEFAULT_ELIGIBILITY_HEADER } from '../../../lambda/core/config';
import { CDP_FACILITATOR } from '../../../lib/config/context-keys';
import { X402ConfigError } from '../../../lib/config/problems';
import { resolveX402Config, toEdgeConfig } from '../../../lib/config/resolve';
import { compileRoutes } from '../../../lambda/core/routes';
import { CurrencyMode, Engine, PaymentVerifier, SettledReceipt, type X402Settings } from '../../../lib/config/settings';
import { MAINNET_SETTINGS, PAY_TO, routes, SETTINGS } from '../../constructs/helpers';

/** The problems a configuration is refused for (fails the test if it is accepted). */
function problemsOf(settings: X402Settings): X402ConfigError {
  try {
    resolveX402Config(settings);
  } catch (error) {
    if (error instanceof X402ConfigError) return error;
    throw error;
  }
  throw new Error('the configuration was accepted');
}

/** Expects exactly one problem on `key`, its message naming the value and the fix. */
function expectProblem(settings: X402Settings, key: string, problem: RegExp, fix?: RegExp): void {
  const error = problemsOf(settings);
  const mine = error.problems.filter((p) => p.key === key);
  expect(mine).toHaveLength(1);
  expect(mine[0].problem).toMatch(problem);
  if (fix) expect(mine[0].fix).toMatch(fix);
  // The thrown message carries key, value and fix for the person running `cdk synth`.
  expect(error.message).toContain(`${key} = `);
  expect(error.message).toContain('Fix: ');
}

describe('resolveX402Config: defaults', () => {
  it('fills in Base Sepolia USDC, the public test facilitator and the edge engine', () => {
    const config = resolveX402Config(SETTINGS);
    expect(config.engine).toBe('edge');
    expect(config.network).toBe('eip155:84532');
    expect(config.asset).toEqual({ address: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', name: 'USDC', version: '2', decimals: 6, symbol: 'USDC' });
    expect(config.facilitator).toEqual({ url: 'https://x402.org/facilitator', verifyTimeoutMs: 3000, settleTimeoutMs: 20000 });
    expect(config.eligibilityHeader).toBe(DEFAULT_ELIGIBILITY_HEADER);
    expect(config.eligibleBotCategories).toEqual(['ai', 'http_library', 'scraping_framework']);
    expect(config.freeBotCategories).toEqual(['search_engine']);
    expect(config.paidCaching).toBe('payment-keyed');
    expect(config.warnings).toEqual([]);
  });

  it('keeps the routes in their configured order, with atomic amounts', () => {
    const config = resolveX402Config(SETTINGS);
    expect(config.routes.map((r) => [r.pattern, r.amount, r.method])).toEqual([
      ['/articles/*', '1000', undefined],
      ['GET /api/premium-report', '10000', 'GET'],
      ['POST /api/**', '5000', 'POST'],
    ]);
  });

  it('produces the EdgeConfig the handlers read, table name and region included', () => {
    const edge = toEdgeConfig(resolveX402Config(SETTINGS), { tableName: 'receipts', region: 'eu-west-1' });
    expect(edge.routes[0]).toEqual({ pattern: '/articles/*', price: '$0.001', description: 'One article', mimeType: 'text/html' });
    expect(edge.receiptTable).toEqual({ tableName: 'receipts', region: 'eu-west-1' });
    expect(edge.eligibilityHeader).toBe('x-amzn-waf-x402-eligible');
    expect(edge.maxTimeoutSeconds).toBe(120);
  });
});

describe('resolveX402Config: the Coinbase CDP facilitator', () => {
  it('makes CDP the facilitator when its key secret is given, on mainnet too, baking in only the secret id', () => {
    const config = resolveX402Config({ ...MAINNET_SETTINGS, cdpApiKeySecret: 'x402/cdp-api-key' });
    expect(config.facilitator).toMatchObject({ url: CDP_FACILITATOR, auth: { kind: 'cdp', secretId: 'x402/cdp-api-key', region: 'us-east-1' } });
    expect(toEdgeConfig(config, { tableName: 't', region: 'us-east-1' }).facilitator.auth).toEqual({ kind: 'cdp', secretId: 'x402/cdp-api-key', region: 'us-east-1' });
  });

  it('reads the region of a secret given by ARN', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x402/cdp-AbCdEf';
    expect(resolveX402Config({ ...SETTINGS, cdpApiKeySecret: arn }).facilitator.auth).toEqual({ kind: 'cdp', secretId: arn, region: 'eu-west-1' });
  });

  it('has no facilitator auth by default, and warns that the waf engine ignores the secret', () => {
    expect(resolveX402Config(SETTINGS).facilitator.auth).toBeUndefined();
    expect(resolveX402Config({ ...SETTINGS, engine: Engine.WAF, cdpApiKeySecret: 'x402/cdp' }).warnings).toContainEqual(expect.stringMatching(/cdpApiKeySecret has no effect/));
  });
});

describe('resolveX402Config: one error per bad-config class', () => {
  it('missing payTo', () => expectProblem({ ...SETTINGS, payTo: undefined as never }, 'x402:payTo', /is required/, /-c x402:payTo=/));
  it('payTo that is not an address', () => expectProblem({ ...SETTINGS, payTo: '0x1234' }, 'x402:payTo', /not an EVM address/));
  it('payTo with a mistyped character (bad checksum)', () =>
    expectProblem({ ...SETTINGS, payTo: '0x209693Bc6afc0C5328bA36FaF03C514EF312287c' }, 'x402:payTo', /fails its EIP-55 checksum/, /copy the address again/));
  it('payTo without a checksum, offering the checksummed form', () =>
    expectProblem({ ...SETTINGS, payTo: PAY_TO.toLowerCase() }, 'x402:payTo', /no EIP-55 checksum/, new RegExp(PAY_TO)));
  it('payTo = the zero address', () => expectProblem({ ...SETTINGS, payTo: `0x${'0'.repeat(40)}` }, 'x402:payTo', /zero address/));

  it('unknown network', () => expectProblem({ ...SETTINGS, network: 'solana:mainnet' }, 'x402:network', /not an EVM network/, /eip155:84532/));
  it('an EVM network without a known USDC and no asset', () => expectProblem({ ...SETTINGS, network: 'eip155:10' }, 'x402:asset', /is required on a network/));
  it('a network AWS WAF does not settle on', () => expectProblem({ ...SETTINGS, engine: Engine.WAF, network: 'eip155:10' }, 'x402:network', /not a network AWS WAF monetization settles on/));
  it('unknown engine', () => expectProblem({ ...SETTINGS, engine: 'lambda' as never }, 'x402:engine', /must be one of edge, waf/));
  it('a USDC asset with the wrong EIP-712 domain', () =>
    expectProblem({ ...SETTINGS, asset: { address: '0x036CbD53842c5426634e7929541eC2318f3dCF7e', name: 'USD Coin', version: '2', decimals: 6 } }, 'x402:asset', /EIP-712 domain/));

  it('price with too many decimals', () =>
    expectProblem({ ...SETTINGS, routes: routes({ '/a': '$0.0000001' }) }, 'x402:routes["/a"].price', /7 decimals but the asset has only 6/, /at most 6 decimals/));
  it('zero price', () => expectProblem({ ...SETTINGS, routes: routes({ '/a': '$0' }) }, 'x402:routes["/a"].price', /zero/));
  it('price that is not a price', () => expectProblem({ ...SETTINGS, routes: routes({ '/a': '1.5 USDC' }) }, 'x402:routes["/a"].price', /not "\$<dollars>"/));
  it('price below the waf engine minimum', () =>
    expectProblem({ ...SETTINGS, engine: Engine.WAF, routes: routes({ '/a': '$0.0005' }) }, 'x402:routes["/a"].price', /below the waf engine's minimum of \$0.001/, /x402:engine=edge/));
  it('price with more than 3 decimals on the waf engine', () =>
    expectProblem({ ...SETTINGS, engine: Engine.WAF, routes: routes({ '/a': '$0.0015' }) }, 'x402:routes["/a"].price', /more than 3 decimals/));

  it('malformed route pattern', () => expectProblem({ ...SETTINGS, routes: routes({ 'FETCH /a': '$1' }) }, 'x402:routes["FETCH /a"]', /not an HTTP method/, /\[METHOD \]\/path/));
  it('route pattern without a leading slash', () => expectProblem({ ...SETTINGS, routes: routes({ 'articles/*': '$1' }) }, 'x402:routes["articles/*"]', /must start with "\/"/));
  it('no routes', () => expectProblem({ ...SETTINGS, routes: [] }, 'x402:routes', /is empty/));
  it('duplicate routes (case-insensitive)', () =>
    expectProblem({ ...SETTINGS, routes: routes({ '/Articles/*': '$1', '/articles/*': '$2' }) }, 'x402:routes["/articles/*"]', /duplicates the earlier route/));
  it('a route shadowed by an earlier, broader one', () =>
    expectProblem({ ...SETTINGS, routes: routes({ '/api/**': '$1', 'GET /api/report': '$2' }) }, 'x402:routes["GET /api/report"]', /can never match/, /move "GET \/api\/report" above/));
  it('routes that overlap partially, with an example path', () =>
    expectProblem({ ...SETTINGS, routes: routes({ '/a/*/x': '$1', '/a/b/*': '$2' }) }, 'x402:routes["/a/b/*"]', /overlaps the earlier route "\/a\/\*\/x" \(both match e.g. \/a\/b\/x\)/));
  it('accepts a specific route before a general one, and disjoint methods, without warnings', () => {
    // On the edge a POST to /api/report is refused (405), never sold at the price of /api/**.
    expect(resolveX402Config({ ...SETTINGS, routes: routes({ 'GET /api/report': '$2', '/api/**': '$1', 'POST /x': '$1', 'GET /x': '$1' }) }).warnings).toEqual([]);
  });
  it('waf engine: a method-specific route before a route for every method, naming both patterns and the fix', () =>
    expectProblem(
      { ...SETTINGS, engine: Engine.WAF, routes: routes({ 'GET /api/premium-report': '$0.01', '/api/**': '$0.002' }) },
      'x402:routes["/api/**"]',
      /methods other than GET of paths the earlier route "GET \/api\/premium-report" matches \(e.g. POST \/api\/premium-report\) at its own price/,
      /make "\/api\/\*\*" method-specific \(e.g. "GET \/api\/\*\*"\), make "GET \/api\/premium-report" apply to every method, or use x402:engine=edge/,
    ));
  it('a route for every method inside an earlier method-specific one, which the edge refuses for the other methods', () =>
    expectProblem({ ...SETTINGS, routes: routes({ 'GET /api/**': '$1', '/api/report': '$2' }) }, 'x402:routes["/api/report"]', /can never match: .*refuses \(405\) the methods other than GET/, /move "\/api\/report" above "GET \/api\/\*\*"/));
  it('a HEAD route after the GET route that already prices HEAD', () =>
    expectProblem({ ...SETTINGS, routes: routes({ 'GET /api/**': '$1', 'HEAD /api/report': '$2' }) }, 'x402:routes["HEAD /api/report"]', /can never match/));
  it('accepts an every-method exception before a method-specific general route', () => {
    expect(() => resolveX402Config({ ...SETTINGS, routes: routes({ '/api/report': '$2', 'GET /api/**': '$1' }) })).not.toThrow();
  });
  it('route pattern with ";" (the edge prices paths without matrix parameters)', () =>
    expectProblem({ ...SETTINGS, routes: routes({ '/a;v=1': '$1' }) }, 'x402:routes["/a;v=1"]', /without \?, #, %, ;/));
  it('treats a trailing slash as the same page (duplicate), but lets /a and /a/** coexist', () => {
    expectProblem({ ...SETTINGS, routes: routes({ '/docs/': '$1', '/docs': '$2' }) }, 'x402:routes["/docs"]', /duplicates the earlier route "\/docs\/"/);
    expect(() => resolveX402Config({ ...SETTINGS, routes: routes({ '/docs': '$1', '/docs/**': '$2' }) })).not.toThrow();
  });

  it('waf price that is not base × an integer', () =>
    expectProblem({ ...SETTINGS, engine: Engine.WAF, basePrice: '$0.002', routes: routes({ '/a': '$0.002', '/b': '$0.003' }) }, 'x402:routes["/b"].price', /not a whole multiple of the waf base price \$0.002/, /common step such as \$0.001/));
  it('waf price more than 100 × the base', () =>
    expectProblem({ ...SETTINGS, engine: Engine.WAF, routes: routes({ '/a': '$0.001', '/b': '$0.2' }) }, 'x402:routes["/b"].price', /200 × the waf base price \$0.001, but a WAF PriceMultiplier is at most 100/, /at least \$0.002/));
  it('waf base price below the minimum', () => expectProblem({ ...SETTINGS, engine: Engine.WAF, basePrice: '$0.0001' }, 'x402:basePrice', /at least \$0.001/));
  it('waf currency mode that contradicts the network', () =>
    expectProblem({ ...SETTINGS, engine: Engine.WAF, currencyMode: CurrencyMode.REAL }, 'x402:currencyMode', /settles on mainnets .* but x402:network is eip155:84532/, /x402:currencyMode=TEST/));

  it('facilitator over plain http', () => expectProblem({ ...SETTINGS, facilitatorUrl: 'http://facilitator.example' }, 'x402:facilitatorUrl', /must be an https:\/\/ URL/));
  it('mainnet without a facilitator', () => expectProblem(MAINNET_SETTINGS, 'x402:facilitatorUrl', /required on Base/));
  it('mainnet with the testnet-only public facilitator', () =>
    expectProblem({ ...MAINNET_SETTINGS, facilitatorUrl: 'https://x402.org/facilitator' }, 'x402:facilitatorUrl', /settles testnets only/));
  it('the CDP facilitator without its API key secret', () =>
    expectProblem({ ...MAINNET_SETTINGS, facilitatorUrl: CDP_FACILITATOR }, 'x402:cdpApiKeySecret', /required by the Coinbase CDP facilitator/, /Secrets Manager .* -c x402:cdpApiKeySecret=/));
  it.each(['https://facilitator.example', 'https://api.cdp.coinbase.com.facilitator.example/platform/v2/x402'])('a CDP key secret with a facilitator that is not the CDP one (%s)', (facilitatorUrl) =>
    expectProblem(
      { ...MAINNET_SETTINGS, cdpApiKeySecret: 'x402/cdp-api-key', facilitatorUrl },
      'x402:cdpApiKeySecret',
      new RegExp(`only ever sends to the CDP facilitator \\(api\\.cdp\\.coinbase\\.com\\), but x402:facilitatorUrl is ${facilitatorUrl.replace(/[.\/]/g, '\\$&')}`),
      /remove x402:facilitatorUrl .* or remove x402:cdpApiKeySecret/,
    ));
  it.each([
    ['the sample payTo of the README and the tests', SETTINGS.payTo!],
    ['the USDC token contract on Base', '0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913'],
  ])('payTo = %s on mainnet', (what, payTo) =>
    expectProblem({ ...MAINNET_SETTINGS, cdpApiKeySecret: 'x402/cdp-api-key', payTo }, 'x402:payTo', new RegExp(`is ${what}, printed in cdk-x402's README or tests, and x402:network eip155:8453 is not a testnet`), /your own wallet/));
  it('a sample payTo on a network cdk-x402 does not know as a testnet', () =>
    expectProblem(
      { ...SETTINGS, network: 'eip155:1', asset: { address: '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48', name: 'USD Coin', version: '2', decimals: 6 } },
      'x402:payTo',
      /x402:network eip155:1 is not a testnet cdk-x402 knows/,
    ));
  it('a CDP key secret that is neither a secret name nor a secret ARN', () =>
    expectProblem({ ...SETTINGS, cdpApiKeySecret: 'arn:aws:s3:::my-bucket' }, 'x402:cdpApiKeySecret', /neither a Secrets Manager secret name nor a secret ARN/, /its full ARN/));
  it('verify timeout beyond the viewer trigger budget', () => expectProblem({ ...SETTINGS, verifyTimeoutMs: 6000 }, 'x402:verifyTimeoutMs', /500 to 4000/));
  it('authorization lifetime out of range', () => expectProblem({ ...SETTINGS, maxTimeoutSeconds: 5 }, 'x402:maxTimeoutSeconds', /30 to 3600/));
  it('rate limit below the WAF minimum', () => expectProblem({ ...SETTINGS, rateLimit: 5 }, 'x402:rateLimit', /10 to 2000000000/));
  it('bot category that is not a label name', () => expectProblem({ ...SETTINGS, eligibleBotCategories: ['AI Bots'] }, 'x402:eligibleBotCategories', /not a Bot Control label name/));
  it('free bot that is not a label name', () => expectProblem({ ...SETTINGS, freeBots: ['Google Bot'] }, 'x402:freeBots', /not a Bot Control bot name/));
  it('Authorization in the forwarded headers', () => expectProblem({ ...SETTINGS, originRequestHeaders: ['authorization'] }, 'x402:originRequestHeaders', /cannot be forwarded by name/));
  it('too many forwarded headers', () =>
    expectProblem({ ...SETTINGS, originRequestHeaders: Array.from({ length: 10 }, (_, i) => `x-h${i}`) }, 'x402:originRequestHeaders', /lists 10 headers/));
  it('unknown paid caching mode', () => expectProblem({ ...SETTINGS, paidCaching: 'sometimes' as never }, 'x402:paidCaching', /payment-keyed, disabled/));

  it('reports every problem at once', () => {
    const error = problemsOf({ payTo: '0x1', routes: routes({ 'bad': '$0' }), rateLimit: 1 });
    expect(error.problems.map((p) => p.key)).toEqual(['x402:payTo', 'x402:routes["bad"]', 'x402:rateLimit']);
    expect(error.message).toMatch(/^Invalid cdk-x402 configuration \(3 problems/);
  });

  it('warns, without failing, about settings the engine ignores', () => {
    expect(resolveX402Config({ ...SETTINGS, currencyMode: CurrencyMode.TEST }).warnings).toEqual([expect.stringMatching(/only applies to the waf engine/)]);
    expect(resolveX402Config({ ...SETTINGS, eligibleBotCategories: ['robots'] }).warnings).toEqual([expect.stringMatching(/"robots" is not a Bot Control name known/)]);
  });
});

describe('waf engine pricing', () => {
  it('derives the base price as the largest common step and one multiplier per route', () => {
    const config = resolveX402Config({ ...SETTINGS, engine: Engine.WAF, routes: routes({ '/a': '$0.002', '/b': '$0.01', '/c': '$0.2' }) });
    expect(config.waf).toEqual({ chain: 'BASE_SEPOLIA', basePrice: '0.002', multipliers: [1, 5, 100], ruleMultipliers: [[], [], []], currencyMode: CurrencyMode.TEST });
  });

  it('uses an explicit base price, and REAL on Base mainnet', () => {
    const config = resolveX402Config({ ...MAINNET_SETTINGS, engine: Engine.WAF, basePrice: '$0.001', routes: routes({ '/a': '$0.003', '/b': '4000' }) });
    expect(config.waf).toEqual({ chain: 'BASE', basePrice: '0.001', multipliers: [3, 4], ruleMultipliers: [[], []], currencyMode: CurrencyMode.REAL });
  });
});

describe('routes: a list of structs', () => {
  it('names the route of a struct without a price, showing what was written for it', () => {
    const error = problemsOf({ ...SETTINGS, routes: [{ pattern: '/a', description: 'An article' } as never] });
    expect(error.problems).toEqual([expect.objectContaining({ key: 'x402:routes["/a"]', value: { description: 'An article' }, problem: 'needs a price' })]);
  });

  it.each([
    ['mimeType', { mimeType: 'html' }, /is not a MIME type/],
    ['maxTimeoutSeconds', { maxTimeoutSeconds: 5 }, /30 to 3600/],
    ['description', { description: 'x'.repeat(501) }, /at most 500 characters/],
    ['price', { price: '1.5 USDC' }, /not "\$<dollars>"/],
  ])('names the field of a struct with a bad %s', (field, bad, problem) =>
    expectProblem({ ...SETTINGS, routes: [{ pattern: '/a', price: '$0.001', ...bad }] }, `x402:routes["/a"].${field}`, problem));

  it('refuses a struct without a pattern', () => expectProblem({ ...SETTINGS, routes: [{ price: '$1' } as never] }, 'x402:routes', /has a route without a pattern/, /"\/articles\/\*"/));

  it('refuses the object form of the context key written as props, with the list form as the fix', () =>
    expectProblem({ ...SETTINGS, routes: { '/a': '$1' } as never }, 'x402:routes', /must be a list of routes/, /routes: \[\{ pattern: '\/articles\/\*', price: '\$0.001' \}\]/));
});

describe('x402:settledReceipt, when the settled receipt is written', () => {
  const edgeOf = (settings: X402Settings) => toEdgeConfig(resolveX402Config(settings), { tableName: 't', region: 'us-east-1' });

  it('is written before the release by default, and nothing about it is baked in', () => {
    expect(resolveX402Config(SETTINGS).settledReceipt).toBe(SettledReceipt.BEFORE_RELEASE);
    expect(edgeOf(SETTINGS)).not.toHaveProperty('settledReceipt');
    expect(edgeOf({ ...SETTINGS, settledReceipt: SettledReceipt.BEFORE_RELEASE })).not.toHaveProperty('settledReceipt');
  });

  it('after-release is baked into the edge configuration, with no RPC endpoint needed (reconcile is given its own)', () => {
    expect(edgeOf({ ...SETTINGS, settledReceipt: SettledReceipt.AFTER_RELEASE })).toMatchObject({ settledReceipt: 'after-release' });
  });

  it('refuses after-release with the waf engine, and an unknown value', () => {
    expectProblem({ ...SETTINGS, engine: Engine.WAF, settledReceipt: SettledReceipt.AFTER_RELEASE }, 'x402:settledReceipt', /needs the edge engine/, /x402:engine=edge/);
    expectProblem({ ...SETTINGS, settledReceipt: 'later' as never }, 'x402:settledReceipt', /must be one of before-release, after-release/);
  });
});

describe('x402:rpcUrl, the RPC endpoint that tells an EOA from a smart wallet at the edge', () => {
  const base = { payTo: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C', routes: [{ pattern: '/a', price: '$0.001' }] };

  it('bakes the endpoint and its bound into the edge configuration', () => {
    const config = resolveX402Config({ ...base, rpcUrl: 'https://rpc.example.com/v1/key', rpcTimeoutMs: 300 });
    expect(toEdgeConfig(config, { tableName: 't', region: 'us-east-1' }).chainRpc).toEqual({ url: 'https://rpc.example.com/v1/key', timeoutMs: 300 });
    expect(toEdgeConfig(resolveX402Config({ ...base, rpcUrl: 'https://rpc.example.com' }), { tableName: 't', region: 'us-east-1' }).chainRpc!.timeoutMs).toBe(500);
  });

  it('leaves it out when not set', () => {
    expect(toEdgeConfig(resolveX402Config(base), { tableName: 't', region: 'us-east-1' })).not.toHaveProperty('chainRpc');
  });

  it('refuses a plain-http endpoint and a bound out of range, naming the key and the fix', () => {
    expect(() => resolveX402Config({ ...base, rpcUrl: 'http://rpc.example.com' })).toThrow(/x402:rpcUrl = "http:\/\/rpc.example.com": must be an https:\/\/ URL[\s\S]*x402:rpcUrl=https:\/\//);
    expect(() => resolveX402Config({ ...base, rpcUrl: 'https://rpc.example.com', rpcTimeoutMs: 5000 })).toThrow(/x402:rpcTimeoutMs/);
  });

  it('with x402:verifier=rpc, has the edge simulate transfers on it; refuses that without an endpoint or with an unknown verifier', () => {
    const config = resolveX402Config({ ...base, rpcUrl: 'https://rpc.example.com', verifier: PaymentVerifier.RPC });
    expect(toEdgeConfig(config, { tableName: 't', region: 'us-east-1' }).chainRpc).toEqual({ url: 'https://rpc.example.com', timeoutMs: 500, verifyTransfers: true });
    expect(toEdgeConfig(resolveX402Config({ ...base, rpcUrl: 'https://rpc.example.com', verifier: PaymentVerifier.FACILITATOR }), { tableName: 't', region: 'us-east-1' }).chainRpc).not.toHaveProperty('verifyTransfers');
    expect(() => resolveX402Config({ ...base, verifier: PaymentVerifier.RPC })).toThrow(/x402:verifier = "rpc": needs x402:rpcUrl[\s\S]*-c x402:rpcUrl=https:\/\//);
    expect(() => resolveX402Config({ ...base, rpcUrl: 'https://rpc.example.com', verifier: 'chain' as never })).toThrow(/x402:verifier = "chain": must be one of facilitator, rpc/);
  });

  it('warns that the waf engine has no use for it', () => {
    const config = resolveX402Config({ ...base, engine: Engine.WAF, rpcUrl: 'https://rpc.example.com' });
    expect(config.chainRpc).toBeUndefined();
    expect(config.warnings).toContainEqual(expect.stringContaining('x402:rpcUrl has no effect with the waf engine'));
  });
});

describe('batch-settlement routes', () => {
  const batch = (route: Record<string, unknown>) => ({ ...SETTINGS, engine: Engine.EDGE, routes: [{ pattern: '/api/**', ...route }] as X402Settings['routes'] });
  const where = 'x402:routes["/api/**"]';

  it('bakes the price and deposit terms into the edge config, compiled to atomic units', () => {
    const edge = toEdgeConfig(resolveX402Config(batch({ scheme: 'batch-settlement', price: '$0.001', minDeposit: '$0.05', withdrawDelay: 3600 })), { tableName: 't', region: 'us-east-1' });
    expect(edge.routes).toEqual([{ pattern: '/api/**', scheme: 'batch-settlement', price: '$0.001', minDeposit: '$0.05', withdrawDelay: 3600 }]);
    expect(compileRoutes(edge)[0]).toMatchObject({ scheme: 'batch-settlement', amount: '1000', batch: { price: '1000', minDeposit: '50000', withdrawDelay: 3600 } });
  });
  it('defaults: the contract\'s shortest withdraw delay, no configured minimum deposit', () => {
    const edge = toEdgeConfig(resolveX402Config(batch({ scheme: 'batch-settlement', price: '$0.001' })), { tableName: 't', region: 'us-east-1' });
    expect(compileRoutes(edge)[0]!.batch).toEqual({ price: '1000', withdrawDelay: 900 });
  });
  it('on the waf engine', () => expectProblem({ ...batch({ scheme: 'batch-settlement', price: '$0.001' }), engine: Engine.WAF }, `${where}.scheme`, /waf engine cannot offer/, /engine=edge/));
  it('with priceBy', () =>
    expectProblem(batch({ scheme: 'batch-settlement', price: '$0.001', priceBy: [{ price: '$0.10', when: [{ query: 'size', equalTo: 'large' }] }] }), `${where}.priceBy`, /batch-settlement route/, /remove priceBy/));
  it('a withdraw delay outside the contract\'s bounds', () => {
    expectProblem(batch({ scheme: 'batch-settlement', price: '$0.001', withdrawDelay: 60 }), `${where}.withdrawDelay`, /900 to 2592000/, /3600/);
    expectProblem(batch({ scheme: 'batch-settlement', price: '$0.001', withdrawDelay: 1.5 }), `${where}.withdrawDelay`, /whole seconds/, /unset/);
  });
  it('a minimum deposit below one request, or malformed', () => {
    expectProblem(batch({ scheme: 'batch-settlement', price: '$0.01', minDeposit: '$0.001' }), `${where}.minDeposit`, /below the price/, /at least/);
    expectProblem(batch({ scheme: 'batch-settlement', price: '$0.01', minDeposit: 'lots' }), `${where}.minDeposit`, /./, /atomic units/);
  });
  it('deposit terms on an exact route', () => expectProblem(batch({ price: '$0.01', withdrawDelay: 3600 }), `${where}.scheme`, /not batch-settlement/, /batch-settlement/));
  it('a batch route without a price', () => expectProblem(batch({ scheme: 'batch-settlement' }), where, /needs a price/, /price/));
  it('bakes a pinned receiver authorizer into the edge config', () => {
    const authorizer = '0x209693Bc6afc0C5328bA36FaF03C514EF312287C';
    const edge = toEdgeConfig(resolveX402Config({ ...batch({ scheme: 'batch-settlement', price: '$0.001' }), receiverAuthorizer: authorizer }), { tableName: 't', region: 'us-east-1' });
    expect(edge.facilitator.receiverAuthorizer).toBe(authorizer);
    expect(toEdgeConfig(resolveX402Config(batch({ scheme: 'batch-settlement', price: '$0.001' })), { tableName: 't', region: 'us-east-1' }).facilitator).not.toHaveProperty('receiverAuthorizer');
  });
  it('a pinned receiver authorizer that is not a checksummed address', () => {
    const settings = batch({ scheme: 'batch-settlement', price: '$0.001' });
    expectProblem({ ...settings, receiverAuthorizer: '0x209693bc6afc0c5328ba36faf03c514ef312287c' }, 'x402:receiverAuthorizer', /no EIP-55 checksum/, /0x209693Bc6afc0C5328bA36FaF03C514EF312287C/);
    expectProblem({ ...settings, receiverAuthorizer: '0x1234' }, 'x402:receiverAuthorizer', /not an EVM address/, /batch-settlement kind in the facilitator's \/supported/);
  });
  it('a pinned receiver authorizer without a batch route is a warning', () => {
    const resolved = resolveX402Config({ ...SETTINGS, engine: Engine.EDGE, receiverAuthorizer: '0x209693Bc6afc0C5328bA36FaF03C514EF312287C' });
    expect(resolved.warnings).toContain('x402:receiverAuthorizer has no effect: no route has scheme batch-settlement');
  });
});

describe('metered (upto) routes', () => {
  const upto = (route: Record<string, unknown>) => ({ ...SETTINGS, engine: Engine.EDGE, routes: [{ pattern: '/api/**', ...route }] as X402Settings['routes'] });

  it('bakes scheme, maxPrice and usageMissing into the edge configuration', () => {
    const edge = toEdgeConfig(resolveX402Config(upto({ scheme: 'upto', maxPrice: '$0.05', usageMissing: 'zero' })), { tableName: 't', region: 'us-east-1' });
    expect(edge.routes).toEqual([{ pattern: '/api/**', scheme: 'upto', maxPrice: '$0.05', usageMissing: 'zero' }]);
  });
  it('an upto route without maxPrice', () => expectProblem(upto({ scheme: 'upto' }), 'x402:routes["/api/**"]', /needs a maxPrice/, /maxPrice/));
  it('an upto route with a price', () => expectProblem(upto({ scheme: 'upto', price: '$0.01', maxPrice: '$0.05' }), 'x402:routes["/api/**"].price', /upto route/, /maxPrice/));
  it('a zero maximum', () => expectProblem(upto({ scheme: 'upto', maxPrice: '0' }), 'x402:routes["/api/**"].maxPrice', /zero/));
  it('maxPrice on an exact route', () => expectProblem(upto({ price: '$0.01', maxPrice: '$0.05' }), 'x402:routes["/api/**"].scheme', /only apply to metered routes/, /upto/));
  it('an unknown scheme', () => expectProblem(upto({ scheme: 'deferred', price: '$0.01' }), 'x402:routes["/api/**"].scheme', /not a scheme/));
  it('an unknown usageMissing', () => expectProblem(upto({ scheme: 'upto', maxPrice: '$0.05', usageMissing: 'half' }), 'x402:routes["/api/**"].usageMissing', /"maximum" or "zero"/));
  it('priceBy on an upto route (its one maximum is offered; the origin reports the cost)', () =>
    expectProblem(upto({ scheme: 'upto', maxPrice: '$0.05', priceBy: [{ price: '$0.10', when: [{ query: 'size', equalTo: 'large' }] }] }), 'x402:routes["/api/**"].priceBy', /upto route/, /Settlement-Overrides|own upto route/));
  it('upto on the waf engine', () => expectProblem({ ...upto({ scheme: 'upto', maxPrice: '$0.05' }), engine: Engine.WAF }, 'x402:routes["/api/**"].scheme', /waf engine cannot meter/, /engine=edge/));
});

describe('resolveX402Config: priceBy (request-priced routes)', () => {
  const priced = (priceBy: unknown, pattern = '/reports/*', extra: X402Settings = SETTINGS): X402Settings => ({
    ...extra,
    routes: [{ pattern, price: '$0.001', priceBy: priceBy as never }],
  });
  const at = (pattern = '/reports/*') => `x402:routes["${pattern}"].priceBy`;

  it('keeps valid rules and bakes them into the edge configuration', () => {
    const rules = [
      { price: '$0.01', tier: 'xl', when: [{ query: 'size', equalTo: 'xl' }] },
      { price: '$0.005', when: [{ header: 'x-model', oneOf: ['a', 'b'] }, { segment: 1, min: 10 }] },
    ];
    const config = resolveX402Config(priced(rules));
    expect(toEdgeConfig(config, { tableName: 't', region: 'us-east-1' }).routes[0].priceBy).toEqual(rules);
  });

  it('refuses, with the waf engine, a query condition WAF cannot express, naming the condition and why', () =>
    expectProblem(priced([{ price: '$0.01', when: [{ query: 'size', equalTo: 'xl' }] }], '/reports/*', { ...SETTINGS, engine: Engine.WAF }), `${at()}[0].when[0]`, /is a query condition, which the waf engine cannot express as a WAF rule/, /x402:engine=edge/));
  it.each([
    ['header', { header: 'x-model', equalTo: 'a' }, /header values/],
    ['intent', { intent: true, equalTo: 'search' }, /no Bot Control intent label/],
    ['agent', { agent: true, equalTo: 'partner' }, /identified by the edge engine only/],
  ])('refuses, with the waf engine, a %s condition and says why', (_feature, condition, why) =>
    expectProblem(priced([{ price: '$0.002', when: [{ botCategory: true, equalTo: 'ai' }, condition] }], '/reports/*', { ...SETTINGS, engine: Engine.WAF }), `${at()}[0].when[1]`, why));
  it('accepts, with the waf engine, verified bot conditions and prices them as multiples of the base', () => {
    const config = resolveX402Config(priced([
      { price: '$0.005', when: [{ botCategory: true, equalTo: 'ai' }] },
      { price: 'free', when: [{ botOrganization: true, equalTo: 'google' }] },
      { price: 'refuse', when: [{ botOrganization: true, oneOf: ['bytedance'] }] },
    ], '/reports/*', { ...SETTINGS, engine: Engine.WAF }));
    expect([config.waf?.basePrice, config.waf?.multipliers, config.waf?.ruleMultipliers]).toEqual(['0.001', [1], [[5, undefined, undefined]]]);
  });
  it('refuses, with the waf engine, a rule price beyond 100 × the base, or finer than WAF prices, or a tier', () => {
    const waf = { ...SETTINGS, engine: Engine.WAF };
    expectProblem(priced([{ price: '$0.2', when: [{ botCategory: true, equalTo: 'ai' }] }], '/reports/*', waf), `${at()}[0].price`, /200 × the waf base price \$0.001, but a WAF PriceMultiplier is at most 100/, /raise x402:basePrice/);
    expectProblem(priced([{ price: '$0.0015', when: [{ botCategory: true, equalTo: 'ai' }] }], '/reports/*', waf), `${at()}[0].price`, /more than 3 decimals/);
    expectProblem(priced([{ price: '$0.002', tier: 'ai', when: [{ botCategory: true, equalTo: 'ai' }] }], '/reports/*', waf), `${at()}[0].tier`, /edge receipts only/);
  });
  it('refuses a rule without a valid price', () => expectProblem(priced([{ price: 'cheap', when: [{ query: 'size', equalTo: 'xl' }] }]), `${at()}[0].price`, /is not "\$<dollars>"/));
  it('refuses a rule without conditions', () => expectProblem(priced([{ price: '$0.01', when: [] }]), `${at()}[0].when`, /1 to 8 conditions/));
  it('refuses a condition naming two features', () =>
    expectProblem(priced([{ price: '$0.01', when: [{ query: 'size', header: 'x-size', equalTo: 'xl' }] }]), `${at()}[0].when[0]`, /exactly one feature/));
  it('refuses a condition that compares nothing', () => expectProblem(priced([{ price: '$0.01', when: [{ query: 'size' }] }]), `${at()}[0].when[0]`, /compares nothing/, /equalTo, oneOf, min or max/));
  it('refuses a header the paywall writes or removes (the shared header-name check)', () =>
    expectProblem(priced([{ price: '$0.01', when: [{ header: 'x-x402-payment-id', equalTo: 'a' }] }]), `${at()}[0].when[0].header`, /written or removed by the paywall/));
  it('refuses a header that is not a header name', () => expectProblem(priced([{ price: '$0.01', when: [{ header: 'x model', equalTo: 'a' }] }]), `${at()}[0].when[0].header`, /not an HTTP header name/));
  it('refuses contentLength on a route that is not POST, PUT or PATCH', () =>
    expectProblem(priced([{ price: '$0.01', when: [{ contentLength: { max: 10 } }] }]), `${at()}[0].when[0]`, /only POST, PUT, PATCH requests carry/, /"POST \/api\/\*"/));
  it('accepts contentLength on a POST route', () =>
    expect(resolveX402Config(priced([{ price: '$0.01', when: [{ contentLength: { min: 1024 } }] }], 'POST /upload')).routes[0].priceBy).toHaveLength(1));
  it('refuses bounds with min above max', () => expectProblem(priced([{ price: '$0.01', when: [{ query: 'n', min: 5, max: 1 }] }]), `${at()}[0].when[0]`, /min above max/));
  it('refuses a bad tier name', () => expectProblem(priced([{ price: '$0.01', tier: 'Big Tier', when: [{ query: 'n', min: 1 }] }]), `${at()}[0].tier`, /a-z, 0-9/));
  it('warns when a priced CloudFront header is not forwarded', () => {
    const config = resolveX402Config(priced([{ price: '$0.01', when: [{ header: 'cloudfront-viewer-country', equalTo: 'DE' }] }]));
    expect(config.warnings).toContainEqual(expect.stringContaining('cloudfront-viewer-country is added by CloudFront only when a policy lists it'));
  });
});
