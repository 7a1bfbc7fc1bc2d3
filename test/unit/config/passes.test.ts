/** x402:passes and x402:passKeys: what synth accepts, what it refuses and why. */
import { settingsFromContext } from '../../../lib/config/context';
import { passSiteId } from '../../../lib/config/passes';
import { X402ConfigError } from '../../../lib/config/problems';
import { resolveX402Config, toEdgeConfig } from '../../../lib/config/resolve';
import { Engine, type PassKey, type PassOffer, type X402Settings } from '../../../lib/config/settings';
import { PAY_TO, SETTINGS } from '../../constructs/helpers';
import { newPassKeyPair } from '../../../local/pass-key';

const KEY = newPassKeyPair();
const ACTIVE: PassKey = { kid: 'k1', publicKey: KEY.jwk, secret: 'x402/pass-key-k1' };
const DAY: PassOffer = { name: 'day', price: '$0.50', duration: '24h', routes: ['/articles/*'] };
const TABLE = { tableName: 't', region: 'us-east-1' };
const SITE = { stackName: 'Site', constructPath: 'Site/Paywall/Verifier' };

const withPasses = (passes: PassOffer[], passKeys: PassKey[] = [ACTIVE], extra: Partial<X402Settings> = {}): X402Settings => ({ ...SETTINGS, passes, passKeys, ...extra });

function problems(settings: X402Settings): Array<{ key: string; problem: string; fix: string }> {
  try {
    resolveX402Config(settings);
  } catch (error) {
    if (error instanceof X402ConfigError) return error.problems.map(({ key, problem, fix }) => ({ key, problem, fix }));
    throw error;
  }
  throw new Error('the configuration was accepted');
}

function onlyProblem(settings: X402Settings, key: string): { problem: string; fix: string } {
  const found = problems(settings);
  expect(found.map((p) => p.key)).toEqual([key]);
  return found[0];
}

describe('x402:passes', () => {
  it('resolves an offer and bakes it, with the public keys and the site id, into the edge configuration', () => {
    const config = resolveX402Config(withPasses([DAY]));
    expect(config.passes).toEqual({
      offers: [{ name: 'day', price: '$0.50', durationSeconds: 86_400, scope: ['/articles/*'] }],
      verifyKeys: [{ kid: 'k1', jwk: KEY.jwk }],
      signingKey: { kid: 'k1', kind: 'secrets-manager', secretId: 'x402/pass-key-k1', region: 'us-east-1' },
    });
    const edge = toEdgeConfig(config, TABLE, SITE);
    expect(edge.passes?.siteId).toBe(passSiteId(PAY_TO, SITE.stackName, SITE.constructPath));
    expect(edge.passes?.siteId).toMatch(/^0x209693bc6afc0c5328ba36faf03c514ef312287c\/[0-9a-f]{16}$/);
    expect(() => toEdgeConfig(config, TABLE)).toThrow(/site/);
  });

  it('gives each deployment its own site id', () => {
    const ids = new Set([passSiteId(PAY_TO, 'Site', 'Site/Paywall/Verifier'), passSiteId(PAY_TO, 'Staging', 'Staging/Paywall/Verifier'), passSiteId(PAY_TO, 'Site', 'Site/Other/Verifier'), passSiteId(`0x${'01'.repeat(20)}`, 'Site', 'Site/Paywall/Verifier')]);
    expect(ids.size).toBe(4);
  });

  it('reads the object form of the context key (name → offer), as from cdk.json or -c', () => {
    const settings = settingsFromContext({
      'x402:passes': JSON.stringify({ day: { price: '$0.50', duration: '24h', routes: ['/articles/*'] } }),
      'x402:passKeys': JSON.stringify([ACTIVE]),
    });
    expect(settings.passes).toEqual([DAY]);
    expect(settings.passKeys).toEqual([ACTIVE]);
    expect(() => settingsFromContext({ 'x402:passKeys': '{"kid":"k1"}' })).toThrow(/x402:passKeys.*must be a JSON array/s);
  });

  it.each([
    ['1m', 60],
    ['90m', 5400],
    ['7d', 604_800],
    ['31d', 2_678_400],
  ])('accepts the duration %s (%i s)', (duration, seconds) => {
    expect(resolveX402Config(withPasses([{ ...DAY, duration }])).passes?.offers[0].durationSeconds).toBe(seconds);
  });

  it.each(['30s', '0m', '32d', '745h', '1 day', '1.5h', ''])('refuses the duration %j, naming the bounds 1m..31d', (duration) => {
    expect(onlyProblem(withPasses([{ ...DAY, duration }]), 'x402:passes["day"].duration').problem).toMatch(/1m\.\.31d|<number><m\|h\|d>/);
  });

  it('refuses a scope route that no priced route covers, with an example path', () => {
    const { problem } = onlyProblem(withPasses([{ ...DAY, routes: ['/articles/**'] }]), 'x402:passes["day"].routes');
    expect(problem).toMatch(/opens paths no priced route charges for \(e\.g\. \/articles\/[^)]*\/\)/);
    expect(onlyProblem(withPasses([{ ...DAY, routes: ['/free/*'] }]), 'x402:passes["day"].routes').problem).toMatch(/no priced route/);
    // Within a route: fine. A method-specific route covers only that method.
    expect(resolveX402Config(withPasses([{ ...DAY, routes: ['/articles/one', 'GET /api/premium-report'] }])).passes?.offers[0].scope).toEqual(['/articles/one', 'GET /api/premium-report']);
    expect(onlyProblem(withPasses([{ ...DAY, routes: ['/api/premium-report'] }]), 'x402:passes["day"].routes').problem).toMatch(/no priced route/);
  });

  it('refuses a price the asset cannot express, a bad name and a duplicate', () => {
    expect(onlyProblem(withPasses([{ ...DAY, price: '$0.0000001' }]), 'x402:passes["day"].price').problem).toMatch(/7 decimals but the asset has only 6/);
    expect(onlyProblem(withPasses([{ ...DAY, name: 'Day Pass' }]), 'x402:passes').problem).toMatch(/lower-case/);
    expect(onlyProblem(withPasses([DAY, DAY]), 'x402:passes["day"]').problem).toMatch(/twice/);
  });

  it('takes a quota of 1 to 10,000,000 requests per pass and refuses others, saying the bounds', () => {
    expect(resolveX402Config(withPasses([{ ...DAY, quota: 1000 }])).passes?.offers[0].quota).toBe(1000);
    expect(resolveX402Config(withPasses([{ ...DAY, quota: 10_000_000 }])).passes?.offers[0].quota).toBe(10_000_000);
    expect(resolveX402Config(withPasses([DAY])).passes?.offers[0]).not.toHaveProperty('quota');
    for (const quota of [0, -1, 1.5, 10_000_001, '1000'] as unknown as number[]) {
      const { problem, fix } = onlyProblem(withPasses([{ ...DAY, quota }]), 'x402:passes["day"].quota');
      expect(problem).toMatch(/integer from 1 to 10,000,000/);
      expect(fix).toMatch(/leave quota out/);
    }
  });

  it('refuses passes with the waf engine, saying why and what to use', () => {
    const { problem, fix } = onlyProblem(withPasses([DAY], [ACTIVE], { engine: Engine.WAF }), 'x402:passes');
    expect(problem).toMatch(/Monetize action charges each request/);
    expect(fix).toMatch(/x402:engine=edge/);
  });

  describe('on metered (upto) routes', () => {
    const METERED = { pattern: 'POST /api/generate', scheme: 'upto', maxPrice: '$0.05' } as const;
    const withMetered = (offer: PassOffer) => withPasses([offer], [ACTIVE], { routes: [METERED, ...SETTINGS.routes] });
    const API: PassOffer = { ...DAY, routes: ['POST /api/**'] };

    it('refuses a pass whose routes reach a metered route without saying whether it opens it, naming the metered field and the route', () => {
      const { problem, fix } = onlyProblem(withMetered(API), 'x402:passes["day"].metered');
      expect(problem).toMatch(/reach the metered \(upto\) route "POST \/api\/generate": whether the pass opens them is ambiguous/);
      expect(fix).toMatch(/"metered": false .* "metered": true/);
      // A method the metered route does not take does not reach it.
      expect(resolveX402Config(withMetered({ ...DAY, routes: ['GET /api/premium-report'] })).passes?.offers[0]).not.toHaveProperty('metered');
    });

    it('bakes an explicit decision, either way', () => {
      expect(resolveX402Config(withMetered({ ...API, metered: false })).passes?.offers[0]).toMatchObject({ scope: ['POST /api/**'], metered: false });
      expect(resolveX402Config(withMetered({ ...API, metered: true })).passes?.offers[0]).toMatchObject({ metered: true });
      expect(resolveX402Config(withMetered({ ...DAY, routes: ['POST /api/generate'], metered: true })).passes?.offers[0]).toMatchObject({ metered: true });
    });

    it('refuses metered where it decides nothing, and a non-boolean', () => {
      expect(onlyProblem(withMetered({ ...DAY, metered: false }), 'x402:passes["day"].metered').problem).toMatch(/reach no metered/);
      expect(onlyProblem(withMetered({ ...API, metered: 'yes' as unknown as boolean }), 'x402:passes["day"].metered').problem).toMatch(/true or false/);
    });
  });

  it('refuses a priced route under /.well-known/x402/, where passes are sold', () => {
    expect(problems(withPasses([DAY], [ACTIVE], { routes: [...SETTINGS.routes, { pattern: '/.well-known/x402/pass/day', price: '$1' }] })).map((p) => p.key)).toContain('x402:routes["/.well-known/x402/pass/day"]');
  });
});

describe('x402:passKeys', () => {
  it('is required with passes, with how to create one', () => {
    expect(onlyProblem(withPasses([DAY], []), 'x402:passKeys').fix).toMatch(/cdk-x402 pass-key create/);
  });

  it('needs exactly one active key, with a secret', () => {
    const retired: PassKey = { kid: 'k0', publicKey: newPassKeyPair().jwk, retiredAt: new Date().toISOString() };
    const config = resolveX402Config(withPasses([DAY], [ACTIVE, retired]));
    expect(config.passes?.verifyKeys.map((k) => k.kid)).toEqual(['k1', 'k0']);
    expect(config.passes?.signingKey.kid).toBe('k1');
    expect(onlyProblem(withPasses([DAY], [retired]), 'x402:passKeys').problem).toMatch(/0 active keys/);
    expect(onlyProblem(withPasses([DAY], [ACTIVE, { ...ACTIVE, kid: 'k2' }]), 'x402:passKeys').problem).toMatch(/2 active keys/);
    expect(onlyProblem(withPasses([DAY], [{ ...ACTIVE, secret: undefined }]), 'x402:passKeys["k1"].secret').problem).toMatch(/Secrets Manager/);
  });

  it('refuses a public key that is not a P-256 point', () => {
    const offCurve = { ...KEY.jwk, y: KEY.jwk.x };
    expect(onlyProblem(withPasses([DAY], [{ ...ACTIVE, publicKey: offCurve }]), 'x402:passKeys["k1"].publicKey').problem).toMatch(/P-256/);
    expect(onlyProblem(withPasses([DAY], [{ ...ACTIVE, publicKey: { ...KEY.jwk, crv: 'P-384' } }]), 'x402:passKeys["k1"].publicKey').problem).toMatch(/P-256/);
  });

  it('says when a retired key can be removed (every pass it signed has expired)', () => {
    const old: PassKey = { kid: 'k0', publicKey: newPassKeyPair().jwk, retiredAt: '2020-01-01T00:00:00Z' };
    expect(resolveX402Config(withPasses([DAY], [ACTIVE, old])).warnings).toEqual([expect.stringMatching(/k0.*can be removed/)]);
  });
});
