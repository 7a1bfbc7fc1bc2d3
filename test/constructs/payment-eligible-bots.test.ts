import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { DEFAULT_ELIGIBILITY_HEADER } from '../../lambda/core/config';
import { Engine, type X402Settings } from '../../lib/config/settings';
import { X402Config } from '../../lib/config/x402-config';
import { globToWafRegex, PaymentEligibleBots, PaymentEligibleBotsRuleGroup } from '../../lib/payment-eligible-bots';
import { WAF_AGENT_HEADER, WAF_NO_AGENT, WAF_VERIFIED_BOT_CATEGORY_HEADER, WAF_VERIFIED_BOT_ORGANIZATION_HEADER } from '../../lambda/core/header-names';
import { AGENT_HEADER_INSERT_NAME, ELIGIBILITY_HEADER_INSERT_NAME, RuleNames, VERIFIED_BOT_CATEGORY_HEADER_INSERT_NAME, VERIFIED_BOT_ORGANIZATION_HEADER_INSERT_NAME, WAF_INSERTED_HEADER_PREFIX } from '../../lib/waf-names';
import { expectNoSynthWarnings, only, routes, SETTINGS } from './helpers';

function webAcl(settings: X402Settings = SETTINGS, region = 'us-east-1'): { app: App; template: Template; acl: Record<string, any>; bots: PaymentEligibleBots } {
  const app = new App();
  const stack = new Stack(app, 'Waf', { env: { region } });
  const bots = new PaymentEligibleBots(stack, 'Bots', { config: X402Config.resolve(settings), webAclName: 'site-x402' });
  const template = Template.fromStack(stack);
  return { app, template, acl: only(template, 'AWS::WAFv2::WebACL'), bots };
}

const rule = (acl: Record<string, any>, name: string) => acl.Rules.find((r: any) => r.Name === name);

describe('PaymentEligibleBots (edge engine)', () => {
  const { app, acl, bots } = webAcl({ ...SETTINGS, rateLimit: 300 });

  it('synthesizes without warnings', () => expectNoSynthWarnings(app));

  it('is a CLOUDFRONT web ACL that allows by default', () => {
    expect(acl.Scope).toBe('CLOUDFRONT');
    expect(acl.DefaultAction).toEqual({ Allow: {} });
    expect(acl.Name).toBe('site-x402');
    expect(acl.MonetizationConfig).toBeUndefined();
  });

  it('orders the rules: anti-spoofing first, Bot Control, eligibility, rate limit', () => {
    expect(acl.Rules.map((r: any) => [r.Priority, r.Name])).toEqual([
      [0, RuleNames.antiSpoofing],
      [1, RuleNames.botControl],
      [2, RuleNames.eligible],
      [3, RuleNames.rateLimit],
    ]);
    expect(bots.ruleNames).toEqual(acl.Rules.map((r: any) => r.Name));
  });

  it('blocks any request carrying a client-sent x-amzn-waf-* header name, inspecting oversized headers as far as WAF can without blocking them for their size', () => {
    expect(rule(acl, RuleNames.antiSpoofing)).toMatchObject({
      Action: { Block: {} },
      Statement: {
        ByteMatchStatement: {
          FieldToMatch: { Headers: { MatchPattern: { All: {} }, MatchScope: 'KEY', OversizeHandling: 'CONTINUE' } },
          PositionalConstraint: 'STARTS_WITH',
          SearchString: 'x-amzn-waf-',
          TextTransformations: [{ Priority: 0, Type: 'LOWERCASE' }],
        },
      },
    });
  });

  it('runs Bot Control in label mode (Count override), inspection level from config', () => {
    expect(rule(acl, RuleNames.botControl)).toMatchObject({
      OverrideAction: { Count: {} },
      Statement: {
        ManagedRuleGroupStatement: {
          VendorName: 'AWS',
          Name: 'AWSManagedRulesBotControlRuleSet',
          ManagedRuleGroupConfigs: [{ AWSManagedRulesBotControlRuleSet: { InspectionLevel: 'COMMON' } }],
        },
      },
    });
    expect(rule(acl, RuleNames.botControl).Action).toBeUndefined();
  });

  it('inserts the header the edge verifier reads, and labels eligible requests, without terminating', () => {
    expect(`${WAF_INSERTED_HEADER_PREFIX}${ELIGIBILITY_HEADER_INSERT_NAME}`).toBe(DEFAULT_ELIGIBILITY_HEADER);
    const eligible = rule(acl, RuleNames.eligible);
    expect(eligible.Action).toEqual({ Count: { CustomRequestHandling: { InsertHeaders: [{ Name: 'x402-eligible', Value: 'true' }] } } });
    expect(eligible.RuleLabels).toEqual([{ Name: 'x402:payment-eligible' }]);
  });

  it('makes payment headers, eligible categories and signals eligible, except verified free bots', () => {
    const text = JSON.stringify(rule(acl, RuleNames.eligible).Statement);
    for (const header of ['payment-signature', 'x-payment', 'signature-agent']) expect(text).toContain(`"SingleHeader":{"Name":"${header}"}`);
    for (const c of ['ai', 'http_library', 'scraping_framework']) expect(text).toContain(`"Key":"awswaf:managed:aws:bot-control:bot:category:${c}"`);
    expect(text).toContain('"Key":"awswaf:managed:aws:bot-control:signal:non_browser_user_agent"');
    // NOT (verified AND free): a spoofed search-engine user agent is not free.
    const statement = rule(acl, RuleNames.eligible).Statement.OrStatement.Statements[1].AndStatement.Statements[1];
    expect(statement.NotStatement.Statement.AndStatement.Statements).toEqual([
      { LabelMatchStatement: { Scope: 'LABEL', Key: 'awswaf:managed:aws:bot-control:bot:verified' } },
      { LabelMatchStatement: { Scope: 'LABEL', Key: 'awswaf:managed:aws:bot-control:bot:category:search_engine' } },
    ]);
  });

  it('rate-limits only eligible traffic (scope-down on our label), answering 429', () => {
    expect(rule(acl, RuleNames.rateLimit)).toMatchObject({
      Action: { Block: { CustomResponse: { ResponseCode: 429 } } },
      Statement: { RateBasedStatement: { Limit: 300, AggregateKeyType: 'IP', EvaluationWindowSec: 300, ScopeDownStatement: { LabelMatchStatement: { Scope: 'LABEL' } } } },
    });
    expect(JSON.stringify(rule(acl, RuleNames.rateLimit).Statement)).toContain(':webacl:site-x402:x402:payment-eligible');
  });

  it('publishes metrics and sampled requests for the web ACL and every rule', () => {
    expect(acl.VisibilityConfig).toEqual({ CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true, MetricName: 'site-x402' });
    for (const r of acl.Rules) expect(r.VisibilityConfig).toEqual({ CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true, MetricName: r.Name });
  });

  it('fails synth outside us-east-1, where AWS refuses CLOUDFRONT web ACLs', () => {
    expect(() => webAcl(SETTINGS, 'eu-west-1')).toThrow(/CLOUDFRONT web ACL, which AWS only accepts in us-east-1, but this stack is in eu-west-1/);
  });
});

describe('PaymentEligibleBots with x402:agents naming Bot Control bots', () => {
  const agents = [
    { name: 'example-agent', botName: 'exampleagent' },
    { name: 'edge-only', signatureAgent: 'https://agent.example.com' },
    { name: 'partner', botName: 'partnerbot', signatureAgent: 'https://partner.example.com' },
  ];
  const { app, acl } = webAcl({ ...SETTINGS, agents });
  const verified = (botName: string) => ({
    AndStatement: {
      Statements: [
        { LabelMatchStatement: { Scope: 'LABEL', Key: 'awswaf:managed:aws:bot-control:web_bot_auth:verified' } },
        { LabelMatchStatement: { Scope: 'LABEL', Key: `awswaf:managed:aws:bot-control:bot:name:${botName}` } },
      ],
    },
  });

  it('synthesizes without warnings', () => expectNoSynthWarnings(app));

  it('forwards Bot Control\'s Web Bot Auth verdict per named bot as the header the edge trusts, after Bot Control', () => {
    expect(acl.Rules.map((r: any) => r.Name)).toEqual([
      RuleNames.antiSpoofing, RuleNames.botControl, RuleNames.eligible, RuleNames.agentVerified(0), RuleNames.agentVerified(1), RuleNames.agentUnverified,
    ]);
    expect(`${WAF_INSERTED_HEADER_PREFIX}${AGENT_HEADER_INSERT_NAME}`).toBe(WAF_AGENT_HEADER);
    expect(rule(acl, RuleNames.agentVerified(0))).toMatchObject({
      Action: { Count: { CustomRequestHandling: { InsertHeaders: [{ Name: 'x402-agent', Value: 'example-agent' }] } } },
      RuleLabels: [{ Name: 'x402:agent:example-agent' }],
      Statement: verified('exampleagent'),
    });
    expect(rule(acl, RuleNames.agentVerified(1)).Statement).toEqual(verified('partnerbot'));
  });

  it("inserts WAF's own 'none' on every other request, so a forged agent header never survives WAF", () => {
    expect(rule(acl, RuleNames.agentUnverified)).toMatchObject({
      Action: { Count: { CustomRequestHandling: { InsertHeaders: [{ Name: 'x402-agent', Value: WAF_NO_AGENT }] } } },
      Statement: { NotStatement: { Statement: { OrStatement: { Statements: [verified('exampleagent'), verified('partnerbot')] } } } },
    });
  });

  it('adds no agent rule when no agent names a bot', () => {
    const { acl: edgeOnly } = webAcl({ ...SETTINGS, agents: [agents[1]] });
    expect(edgeOnly.Rules.map((r: any) => r.Name)).toEqual([RuleNames.antiSpoofing, RuleNames.botControl, RuleNames.eligible]);
  });
});

describe('PaymentEligibleBots with botCategory price conditions', () => {
  const priced = { ...SETTINGS, routes: [{ pattern: '/articles/*', price: '$0.001', priceBy: [{ price: '$0.002', when: [{ botCategory: true, oneOf: ['search_engine', 'ai'] }] }] }] };
  const { acl } = webAcl(priced);
  const verifiedCategory = (category: string) => ({
    AndStatement: {
      Statements: [
        { LabelMatchStatement: { Scope: 'LABEL', Key: 'awswaf:managed:aws:bot-control:bot:verified' } },
        { LabelMatchStatement: { Scope: 'LABEL', Key: `awswaf:managed:aws:bot-control:bot:category:${category}` } },
      ],
    },
  });

  it('forwards the category of verified bots only, once per named category, and none on every other request', () => {
    expect(`${WAF_INSERTED_HEADER_PREFIX}${VERIFIED_BOT_CATEGORY_HEADER_INSERT_NAME}`).toBe(WAF_VERIFIED_BOT_CATEGORY_HEADER);
    expect(rule(acl, RuleNames.verifiedBotCategory(0))).toMatchObject({
      Action: { Count: { CustomRequestHandling: { InsertHeaders: [{ Name: 'x402-verified-bot-category', Value: 'search_engine' }] } } },
      Statement: verifiedCategory('search_engine'),
    });
    expect(rule(acl, RuleNames.verifiedBotCategory(1)).Statement).toEqual(verifiedCategory('ai'));
    expect(rule(acl, RuleNames.noVerifiedBotCategory)).toMatchObject({
      Action: { Count: { CustomRequestHandling: { InsertHeaders: [{ Name: 'x402-verified-bot-category', Value: WAF_NO_AGENT }] } } },
      Statement: { NotStatement: { Statement: { OrStatement: { Statements: [verifiedCategory('search_engine'), verifiedCategory('ai')] } } } },
    });
  });
});

describe('PaymentEligibleBots with botOrganization price conditions', () => {
  const priced = { ...SETTINGS, routes: [{ pattern: '/articles/*', price: '$0.001', priceBy: [
    { price: 'free', when: [{ botOrganization: true, equalTo: 'google' }] },
    { price: '$0.002', when: [{ botOrganization: true, oneOf: ['microsoft', 'google'] }, { botCategory: true, equalTo: 'ai' }] },
  ] }] };
  const { app, acl } = webAcl(priced);
  const verifiedOrganization = (organization: string) => ({
    AndStatement: {
      Statements: [
        { LabelMatchStatement: { Scope: 'LABEL', Key: 'awswaf:managed:aws:bot-control:bot:verified' } },
        { LabelMatchStatement: { Scope: 'LABEL', Key: `awswaf:managed:aws:bot-control:bot:organization:${organization}` } },
      ],
    },
  });

  it('synthesizes without warnings', () => expectNoSynthWarnings(app));

  it('forwards the organization of verified bots only, once per named organization, and none on every other request', () => {
    expect(`${WAF_INSERTED_HEADER_PREFIX}${VERIFIED_BOT_ORGANIZATION_HEADER_INSERT_NAME}`).toBe(WAF_VERIFIED_BOT_ORGANIZATION_HEADER);
    expect(rule(acl, RuleNames.verifiedBotOrganization(0))).toMatchObject({
      Action: { Count: { CustomRequestHandling: { InsertHeaders: [{ Name: 'x402-verified-bot-organization', Value: 'google' }] } } },
      Statement: verifiedOrganization('google'),
    });
    expect(rule(acl, RuleNames.verifiedBotOrganization(1)).Statement).toEqual(verifiedOrganization('microsoft'));
    expect(rule(acl, RuleNames.verifiedBotOrganization(2))).toBeUndefined();
    expect(rule(acl, RuleNames.noVerifiedBotOrganization)).toMatchObject({
      Action: { Count: { CustomRequestHandling: { InsertHeaders: [{ Name: 'x402-verified-bot-organization', Value: WAF_NO_AGENT }] } } },
      Statement: { NotStatement: { Statement: { OrStatement: { Statements: [verifiedOrganization('google'), verifiedOrganization('microsoft')] } } } },
    });
  });

  it('forwards categories and organizations with their own rules, after eligibility', () => {
    expect(acl.Rules.slice(2).map((r: any) => r.Name)).toEqual([
      RuleNames.eligible,
      RuleNames.verifiedBotCategory(0),
      RuleNames.noVerifiedBotCategory,
      RuleNames.verifiedBotOrganization(0),
      RuleNames.verifiedBotOrganization(1),
      RuleNames.noVerifiedBotOrganization,
    ]);
  });
});

describe('PaymentEligibleBots (waf engine)', () => {
  const { app, acl } = webAcl({ ...SETTINGS, engine: Engine.WAF, routes: routes({ 'GET /api/report': '$0.05', '/articles/*': '$0.001', 'GET /api/**': '$0.002' }) });

  it('synthesizes without warnings', () => expectNoSynthWarnings(app));

  it('sets the MonetizationConfig: chain, wallet, base price in USDC, TEST mode', () => {
    expect(acl.MonetizationConfig).toEqual({
      CurrencyMode: 'TEST',
      CryptoConfig: { PaymentNetworks: [{ Chain: 'BASE_SEPOLIA', WalletAddress: SETTINGS.payTo, Prices: [{ Amount: '0.001', Currency: 'USDC' }] }] },
    });
  });

  it('adds one Monetize rule per route, in route order, after eligibility, with price / base as multiplier', () => {
    expect(acl.Rules.slice(3).map((r: any) => [r.Priority, r.Name, r.Action])).toEqual([
      [3, 'x402-monetize-route-1', { Monetize: { PriceMultiplier: '50' } }],
      [4, 'x402-monetize-route-2', { Monetize: { PriceMultiplier: '1' } }],
      [5, 'x402-monetize-route-3', { Monetize: { PriceMultiplier: '2' } }],
    ]);
  });

  it('monetizes only payment-eligible requests to the route (label AND path [AND method])', () => {
    const statements = rule(acl, 'x402-monetize-route-1').Statement.AndStatement.Statements;
    expect(JSON.stringify(statements[0])).toContain(':webacl:site-x402:x402:payment-eligible');
    expect(statements[1].RegexMatchStatement).toEqual({
      FieldToMatch: { UriPath: {} },
      RegexString: '^/api/report/?$',
      TextTransformations: [{ Priority: 0, Type: 'URL_DECODE' }, { Priority: 1, Type: 'NORMALIZE_PATH' }, { Priority: 2, Type: 'LOWERCASE' }],
    });
    expect(statements[2].ByteMatchStatement).toMatchObject({ FieldToMatch: { Method: {} }, PositionalConstraint: 'EXACTLY', SearchString: 'GET' });
    expect(rule(acl, 'x402-monetize-route-2').Statement.AndStatement.Statements).toHaveLength(2);
  });

  it('translates route globs to anchored regexes (* one segment, ** any depth)', () => {
    expect(globToWafRegex('/articles/*')).toBe('^/articles/[^/]*/?$');
    expect(globToWafRegex('/api/**')).toBe('^/api/.*/?$');
    expect(globToWafRegex('/v1.0/a+b/')).toBe('^/v1\\.0/a\\+b/?$');
  });
});

describe('PaymentEligibleBots (waf engine) with priceBy rules', () => {
  const settings: X402Settings = { ...SETTINGS, engine: Engine.WAF, routes: [
    { pattern: 'GET /api/**', price: '$0.002' },
    { pattern: '/articles/*', price: '$0.001', priceBy: [
      { price: 'refuse', when: [{ botOrganization: true, equalTo: 'bytedance' }] },
      { price: 'free', when: [{ botCategory: true, equalTo: 'search_engine' }, { botOrganization: true, oneOf: ['google', 'microsoft'] }] },
      { price: '$0.005', when: [{ botCategory: true, oneOf: ['ai'] }] },
    ] },
  ] };
  const { app, acl } = webAcl(settings);
  const eligible = (statement: any) => JSON.stringify(statement).includes(':webacl:site-x402:x402:payment-eligible');
  const labelKeys = (r: any) => r.Statement.AndStatement.Statements.flatMap((s: any) => [s, ...(s.OrStatement?.Statements ?? [])]).map((s: any) => s.LabelMatchStatement?.Key).filter(Boolean);

  it('synthesizes without warnings', () => expectNoSynthWarnings(app));

  it("puts a route's priceBy rules, in order, after the earlier routes and just ahead of the route's own Monetize rule", () => {
    expect(acl.Rules.slice(3).map((r: any) => [r.Priority, r.Name])).toEqual([
      [3, 'x402-monetize-route-1'],
      [4, 'x402-refuse-route-2-rule-1'],
      [5, 'x402-free-route-2-rule-2'],
      [6, 'x402-monetize-route-2-rule-3'],
      [7, 'x402-monetize-route-2'],
    ]);
  });

  it('charges a priced rule base × its multiplier, lets a free one through and blocks a refused one with a 403 agent_refused body', () => {
    expect(acl.MonetizationConfig.CryptoConfig.PaymentNetworks[0].Prices).toEqual([{ Amount: '0.001', Currency: 'USDC' }]);
    expect(rule(acl, 'x402-monetize-route-2-rule-3').Action).toEqual({ Monetize: { PriceMultiplier: '5' } });
    expect(rule(acl, 'x402-monetize-route-1').Action).toEqual({ Monetize: { PriceMultiplier: '2' } });
    expect(rule(acl, 'x402-free-route-2-rule-2').Action).toEqual({ Allow: {} });
    expect(rule(acl, 'x402-refuse-route-2-rule-1').Action).toEqual({ Block: { CustomResponse: { ResponseCode: 403, CustomResponseBodyKey: 'x402-agent-refused' } } });
    const body = acl.CustomResponseBodies['x402-agent-refused'];
    expect(body.ContentType).toBe('APPLICATION_JSON');
    expect(JSON.parse(body.Content)).toMatchObject({ x402Version: 2, error: 'agent_refused' });
  });

  it('matches eligible requests to the route from verified bots whose labels meet every condition', () => {
    const free = rule(acl, 'x402-free-route-2-rule-2');
    expect(eligible(free.Statement.AndStatement.Statements[0])).toBe(true);
    expect(free.Statement.AndStatement.Statements[1].RegexMatchStatement.RegexString).toBe('^/articles/[^/]*/?$');
    expect(labelKeys(free).slice(1)).toEqual([
      'awswaf:managed:aws:bot-control:bot:verified',
      'awswaf:managed:aws:bot-control:bot:category:search_engine',
      'awswaf:managed:aws:bot-control:bot:organization:google',
      'awswaf:managed:aws:bot-control:bot:organization:microsoft',
    ]);
    expect(free.Statement.AndStatement.Statements[4].OrStatement.Statements).toHaveLength(2);
    expect(labelKeys(rule(acl, 'x402-refuse-route-2-rule-1')).slice(1)).toEqual(['awswaf:managed:aws:bot-control:bot:verified', 'awswaf:managed:aws:bot-control:bot:organization:bytedance']);
  });

  it('forwards no verified-bot headers: WAF matches the labels itself', () => {
    expect(acl.Rules.some((r: any) => r.Name.startsWith('x402-verified-bot-'))).toBe(false);
  });

  it('writes the same rules into the rule group, with the 403 body', () => {
    const groupApp = new App();
    const stack = new Stack(groupApp, 'Group', { env: { region: 'us-east-1' } });
    new PaymentEligibleBotsRuleGroup(stack, 'Rules', { config: X402Config.resolve(settings), ruleGroupName: 'x402-rules' });
    const group = only(Template.fromStack(stack), 'AWS::WAFv2::RuleGroup');
    expect(group.Rules.slice(1).map((r: any) => [r.Name, r.Action])).toEqual(acl.Rules.slice(2).map((r: any) => [r.Name, r.Action]));
    expect(group.CustomResponseBodies).toEqual(acl.CustomResponseBodies);
  });
});

describe('PaymentEligibleBots web ACL capacity', () => {
  const manyRules = Array.from({ length: 16 }, (_, j) => ({ price: `$0.00${(j % 9) + 1}`, when: [{ botCategory: true, equalTo: 'ai' }] }));
  const routesWith = (count: number) => Array.from({ length: count }, (_, i) => ({ pattern: `/r${i}/*`, price: '$0.001', priceBy: manyRules }));

  it('warns above the 1500 WCUs a web ACL includes', () => {
    const { app } = webAcl({ ...SETTINGS, engine: Engine.WAF, routes: routesWith(3) });
    const warnings = app.synth().getStackByName('Waf').messages.filter((m) => m.level === 'warning').map((m) => String(m.entry.data));
    expect(warnings.join('\n')).toMatch(/need about \d+ WCUs: above 1500 AWS charges extra/);
  });

  it('fails synth above the 5000 WCUs AWS WAF accepts, saying how to stay below', () => {
    expect(() => webAcl({ ...SETTINGS, engine: Engine.WAF, routes: routesWith(8) }).app.synth()).toThrow(/at most 5000: merge routes with \*\* patterns or drop priceBy rules/);
  });
});

describe('PaymentEligibleBotsRuleGroup', () => {
  const settings: X402Settings = { ...SETTINGS, engine: Engine.WAF, rateLimit: 100 };
  const app = new App();
  const stack = new Stack(app, 'Waf', { env: { region: 'us-east-1' } });
  new PaymentEligibleBotsRuleGroup(stack, 'Rules', { config: X402Config.resolve(settings), ruleGroupName: 'x402-rules' });
  const template = Template.fromStack(stack);

  it('synthesizes without warnings (CloudFormation schema included)', () => expectNoSynthWarnings(app));

  it('gives every rule action the CloudFormation keys, exactly as the web ACL has them', () => {
    const group = only(template, 'AWS::WAFv2::RuleGroup');
    expect(rule(group, RuleNames.eligible).Action).toEqual({ Count: { CustomRequestHandling: { InsertHeaders: [{ Name: 'x402-eligible', Value: 'true' }] } } });
    expect(rule(group, RuleNames.rateLimit).Action).toEqual({ Block: { CustomResponse: { ResponseCode: 429 } } });
    const { acl } = webAcl(settings);
    for (const r of group.Rules) expect([r.Name, r.Action]).toEqual([r.Name, rule(acl, r.Name).Action]);
  });

  it('holds the same rules, anti-spoofing first, Bot Control left to the web ACL', () => {
    const group = only(template, 'AWS::WAFv2::RuleGroup');
    expect(group.Scope).toBe('CLOUDFRONT');
    expect(group.Rules.map((r: any) => r.Name)).toEqual([RuleNames.antiSpoofing, RuleNames.eligible, RuleNames.rateLimit, 'x402-monetize-route-1', 'x402-monetize-route-2', 'x402-monetize-route-3']);
    expect(group.Capacity).toBeGreaterThan(0);
    expect(group.MonetizationConfig.CryptoConfig.PaymentNetworks[0].Chain).toBe('BASE_SEPOLIA');
    expect(JSON.stringify(group.Rules)).toContain(':rulegroup:x402-rules:x402:payment-eligible');
  });

  it('creates no web ACL', () => {
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    template.hasResourceProperties('AWS::WAFv2::RuleGroup', { VisibilityConfig: Match.objectLike({ MetricName: 'x402-rules' }) });
  });
});
