/** x402:agents and x402:unknownAgents at synth: what the viewer-request bakes in, and every mistake named by its field. */
import { settingsFromContext } from '../../../lib/config/context';
import { X402ConfigError } from '../../../lib/config/problems';
import { resolveX402Config, toEdgeConfig } from '../../../lib/config/resolve';
import { Engine, UnknownAgents, type X402Settings } from '../../../lib/config/settings';
import { SETTINGS } from '../../constructs/helpers';

const TABLE = { tableName: 'x402-receipts', region: 'us-east-1' };

function problemsOf(settings: X402Settings): Array<[string, string]> {
  try {
    resolveX402Config(settings);
  } catch (error) {
    if (error instanceof X402ConfigError) return error.problems.map((p) => [p.key, p.problem]);
    throw error;
  }
  throw new Error('the configuration was accepted');
}

describe('x402:agents', () => {
  it('bakes the agents into the edge config, each Signature-Agent as its lower-case authority', () => {
    const config = resolveX402Config({
      ...SETTINGS,
      agents: [{ name: 'example-agent', signatureAgent: 'https://Agent.Example.com', botName: 'exampleagent' }, { name: 'partner', botName: 'partnerbot' }],
    });
    expect(toEdgeConfig(config, TABLE).agents).toEqual({
      trusted: [{ name: 'example-agent', signatureAgent: 'agent.example.com', botName: 'exampleagent' }, { name: 'partner', botName: 'partnerbot' }],
      unknownAgents: 'ignore',
    });
  });

  it('bakes nothing without either key', () => {
    expect(toEdgeConfig(resolveX402Config(SETTINGS), TABLE).agents).toBeUndefined();
  });

  it('reads the context form name → agent, and name → Signature-Agent URL', () => {
    const settings = settingsFromContext({
      'x402:agents': '{"example-agent":{"signatureAgent":"https://agent.example.com"},"other":"https://other.example.com"}',
      'x402:unknownAgents': 'verify',
    });
    expect([settings.agents, settings.unknownAgents]).toEqual([
      [{ name: 'example-agent', signatureAgent: 'https://agent.example.com' }, { name: 'other', signatureAgent: 'https://other.example.com' }],
      'verify',
    ]);
    expect(toEdgeConfig(resolveX402Config({ ...SETTINGS, ...settings }), TABLE).agents?.unknownAgents).toBe('verify');
  });

  it('names the field of every mistake', () => {
    const problems = problemsOf({
      ...SETTINGS,
      unknownAgents: 'trust' as UnknownAgents,
      agents: [
        { name: 'Bad Name', signatureAgent: 'https://a.example.com' },
        { name: 'plain-http', signatureAgent: 'http://agent.example.com' },
        { name: 'internal', signatureAgent: 'https://10.0.0.1' },
        { name: 'neither' },
        { name: 'bot', botName: 'Not A Label' },
        { name: 'twice', signatureAgent: 'https://b.example.com' },
        { name: 'twice', signatureAgent: 'https://b.example.com' },
      ],
    });
    expect(problems.map(([key]) => key)).toEqual([
      'x402:unknownAgents',
      'x402:agents["Bad Name"].name',
      'x402:agents["plain-http"].signatureAgent',
      'x402:agents["internal"].signatureAgent',
      'x402:agents["neither"]',
      'x402:agents["bot"].botName',
      'x402:agents["twice"].name',
      'x402:agents["twice"].signatureAgent',
    ]);
    expect(problems[2][1]).toMatch(/not an https origin/);
    expect(problems[3][1]).toMatch(/private host/);
  });

  it('warns that the waf engine records no agent, and bakes none', () => {
    const config = resolveX402Config({ ...SETTINGS, engine: Engine.WAF, agents: [{ name: 'partner', botName: 'partnerbot' }] });
    expect(config.agents).toBeUndefined();
    expect(config.warnings.join('\n')).toMatch(/x402:agents .* only apply to the edge engine/);
  });
});

describe('priceBy rules by agent and intent', () => {
  const route = (priceBy: unknown[]) => ({ ...SETTINGS, agents: [{ name: 'partner', signatureAgent: 'https://partner.example.com' }], routes: [{ pattern: '/articles/*', price: '$0.001', priceBy }] }) as X402Settings;

  it('bakes free, refuse, agent and intent rules for the edge', () => {
    const priceBy = [
      { price: 'free', when: [{ agent: true, equalTo: 'partner' }] },
      { price: 'refuse', when: [{ intent: true, equalTo: 'training' }] },
      { price: '$0.002', when: [{ intent: true, oneOf: ['search', 'inference'] }] },
      { price: '$0.0005', when: [{ agent: true, equalTo: 'partner' }, { intent: true, equalTo: 'search' }] },
    ];
    expect(toEdgeConfig(resolveX402Config(route(priceBy)), TABLE).routes[0].priceBy).toEqual(priceBy);
  });

  it('refuses a free rule anyone could match, and an intent that undercuts the route price, naming the field', () => {
    const problems = problemsOf(route([
      { price: 'free', when: [{ header: 'x-partner', equalTo: 'yes' }] },
      { price: '$0.0001', when: [{ intent: true, equalTo: 'search' }] },
      { price: '$0.002', when: [{ agent: 'partner', equalTo: 'partner' }] },
      { price: '$0.002', when: [{ intent: true, min: 3 }] },
    ]));
    expect(problems).toEqual([
      ['x402:routes["/articles/*"].priceBy[0].price', expect.stringMatching(/free without an agent, botCategory or botOrganization condition/)],
      ['x402:routes["/articles/*"].priceBy[1].price', expect.stringMatching(/any agent could declare it to pay less/)],
      ['x402:routes["/articles/*"].priceBy[2].when[0].agent', 'must be true'],
      ['x402:routes["/articles/*"].priceBy[3].when[0]', expect.stringMatching(/with min or max/)],
    ]);
  });

  it('accepts a free rule on a verified bot category, and refuses a category that is not a label name', () => {
    expect(resolveX402Config(route([{ price: 'free', when: [{ botCategory: true, equalTo: 'search_engine' }] }])).routes[0].priceBy).toHaveLength(1);
    expect(problemsOf(route([{ price: '$0.002', when: [{ botCategory: true, equalTo: 'Search Engine' }] }]))).toEqual([
      ['x402:routes["/articles/*"].priceBy[0].when[0]', expect.stringMatching(/not a Bot Control category/)],
    ]);
  });

  it('accepts a free rule on a verified bot organization, and refuses an organization that is not a label name', () => {
    expect(resolveX402Config(route([{ price: 'free', when: [{ botOrganization: true, equalTo: 'google' }] }])).routes[0].priceBy).toHaveLength(1);
    expect(problemsOf(route([{ price: '$0.002', when: [{ botOrganization: true, oneOf: ['Google Inc'] }] }]))).toEqual([
      ['x402:routes["/articles/*"].priceBy[0].when[0]', expect.stringMatching(/not a Bot Control organization/)],
    ]);
    expect(problemsOf(route([{ price: '$0.002', when: [{ botOrganization: 'google' }] }]))).toEqual([
      ['x402:routes["/articles/*"].priceBy[0].when[0].botOrganization', 'must be true'],
      ['x402:routes["/articles/*"].priceBy[0].when[0]', expect.stringMatching(/compares nothing/)],
    ]);
  });

  it('explains, naming the condition, that the waf engine cannot price by agent or intent', () => {
    const problems = problemsOf({ ...route([{ price: 'free', when: [{ agent: true, equalTo: 'partner' }] }, { price: '$0.002', when: [{ intent: true, equalTo: 'search' }] }]), engine: Engine.WAF, agents: undefined });
    expect(problems).toEqual([
      ['x402:routes["/articles/*"].priceBy[0].when[0]', expect.stringMatching(/agent condition, which the waf engine cannot express .*identified by the edge engine only/)],
      ['x402:routes["/articles/*"].priceBy[1].when[0]', expect.stringMatching(/intent condition, which the waf engine cannot express .*no Bot Control intent label/)],
    ]);
  });

  it('warns when an agent rule can never match: no agent is verified', () => {
    const { agents: _none, ...settings } = route([{ price: 'free', when: [{ agent: true, equalTo: 'partner' }] }]);
    expect(resolveX402Config(settings).warnings.join('\n')).toMatch(/agent condition, but neither x402:agents nor x402:unknownAgents is set/);
  });
});
