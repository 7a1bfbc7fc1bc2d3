/**
 * `cdk-x402 toggle` against the web ACL exactly as the constructs deploy it, on a fake WAF control
 * plane (aws-sdk-client-mock) that enforces lock tokens like WAF does.
 */
import { GetWebACLCommand, UpdateWebACLCommand, WAFV2Client, type Rule, type WebACL } from '@aws-sdk/client-wafv2';
import { mockClient } from 'aws-sdk-client-mock';
import { ExitCode } from '../../cli/errors';
import { ELIGIBILITY_HEADER_INSERT_NAME, PAUSED_MULTIPLIER_LABEL_PREFIX, RuleNames } from '../../lib/waf-names';
import { cli, deployedWebAcl, FakeWebAcls, settingsFor, WEB_ACL_ARN } from '../support/cli';
import { Engine } from '../../lib/config/settings';

const wafMock = mockClient(WAFV2Client);
afterAll(() => wafMock.restore());

function fake(acl: WebACL): FakeWebAcls {
  const waf = new FakeWebAcls(acl);
  wafMock.reset();
  wafMock.on(GetWebACLCommand).callsFake(() => waf.get());
  wafMock.on(UpdateWebACLCommand).callsFake((input) => waf.update(input));
  return waf;
}

const toggle = (state: string, ...flags: string[]) => cli(['toggle', state, '--web-acl-arn', WEB_ACL_ARN, ...flags]);
const rule = (acl: WebACL, name: string) => acl.Rules!.find((r) => r.Name === name)!;
const userRule: Rule = {
  Name: 'my-geo-block',
  Priority: 10,
  Action: { Block: {} },
  Statement: { GeoMatchStatement: { CountryCodes: ['KP'] } },
  VisibilityConfig: { SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: 'my-geo-block' },
};

describe('cdk-x402 toggle, waf engine', () => {
  it('shows the diff and changes nothing with --dry-run', async () => {
    const waf = fake(deployedWebAcl(Engine.WAF));
    const run = await toggle('off', '--dry-run');
    expect(run.code).toBe(ExitCode.ok);
    expect(run.stdout).toContain('engine waf: charging on → off');
    expect(run.stdout).toMatch(/~ x402-monetize-route-1\s+Monetize ×1 \(charging\)\s+→\s+Count \(not charging; ×1 kept in label x402:paused-price-multiplier:1\)/);
    expect(run.stdout).toMatch(/~ x402-monetize-route-2\s+Monetize ×10 \(charging\)/);
    expect(run.stdout).toContain(`unchanged: ${RuleNames.antiSpoofing}, ${RuleNames.botControl}, ${RuleNames.eligible}`);
    expect(run.stderr).toContain('Dry run: nothing was changed.');
    expect(waf.updates).toEqual([]);
  });

  it("pauses a priceBy rule's Monetize action with its route's, and leaves its free and refusing rules as they are", async () => {
    const priced = { ...settingsFor(Engine.WAF), routes: [{ pattern: '/articles/*', price: '$0.001', priceBy: [
      { price: 'refuse', when: [{ botOrganization: true, equalTo: 'bytedance' }] },
      { price: '$0.003', when: [{ botCategory: true, equalTo: 'ai' }] },
    ] }] };
    const waf = fake(deployedWebAcl(Engine.WAF, priced));
    const before = structuredClone(waf.acl);
    expect((await toggle('off')).code).toBe(ExitCode.ok);
    expect(rule(waf.acl, 'x402-monetize-route-1-rule-2')).toMatchObject({ Action: { Count: {} }, RuleLabels: [{ Name: `${PAUSED_MULTIPLIER_LABEL_PREFIX}3` }] });
    expect(rule(waf.acl, 'x402-monetize-route-1').Action).toEqual({ Count: {} });
    expect(rule(waf.acl, 'x402-refuse-route-1-rule-1')).toEqual(rule(before, 'x402-refuse-route-1-rule-1'));
    expect((await toggle('on')).code).toBe(ExitCode.ok);
    expect(rule(waf.acl, 'x402-monetize-route-1-rule-2')).toEqual(rule(before, 'x402-monetize-route-1-rule-2'));
  });

  it('turns charging off and on again with the lock token of its read, touching only the Monetize rules', async () => {
    const deployed = deployedWebAcl(Engine.WAF);
    const waf = fake({ ...deployed, Rules: [...deployed.Rules!, userRule] });
    const before = structuredClone(waf.acl);

    const off = await toggle('off', '--json');
    expect(off.code).toBe(ExitCode.ok);
    expect(off.json()).toMatchObject({ engine: 'waf', to: 'off', before: 'on', applied: true, attempts: 1, dryRun: false });
    expect(waf.updates).toHaveLength(1);
    const update = waf.updates[0];
    expect(update).toMatchObject({ Scope: 'CLOUDFRONT', LockToken: 'token-1', Name: before.Name, Id: before.Id });
    // Everything UpdateWebACL would otherwise reset is carried over as read.
    for (const field of ['DefaultAction', 'Description', 'VisibilityConfig', 'MonetizationConfig'] as const) expect(update[field]).toEqual(before[field]);
    for (const name of [RuleNames.antiSpoofing, RuleNames.botControl, RuleNames.eligible, userRule.Name!]) expect(rule(waf.acl, name)).toEqual(rule(before, name));
    expect(rule(waf.acl, 'x402-monetize-route-2')).toEqual({
      ...rule(before, 'x402-monetize-route-2'),
      Action: { Count: {} },
      RuleLabels: [{ Name: `${PAUSED_MULTIPLIER_LABEL_PREFIX}10` }],
    });

    const on = await toggle('on');
    expect(on.code).toBe(ExitCode.ok);
    expect(waf.updates[1].LockToken).toBe('token-2');
    expect(waf.acl.Rules).toEqual(before.Rules);
  });

  it('does nothing (exit 0) when charging is already in the requested state', async () => {
    const waf = fake(deployedWebAcl(Engine.WAF));
    const run = await toggle('on');
    expect(run.code).toBe(ExitCode.ok);
    expect(run.stdout).toContain('No change: charging is already on.');
    expect(waf.updates).toEqual([]);
  });

  it('re-reads and re-plans when the web ACL changed after its read (stale lock token), keeping the other change', async () => {
    const waf = fake(deployedWebAcl(Engine.WAF));
    waf.beforeUpdate = (w, attempt) => {
      if (attempt === 1) w.edit((acl) => ({ ...acl, Rules: [...acl.Rules!, userRule] }));
    };
    const run = await toggle('off', '--json');
    expect(run.code).toBe(ExitCode.ok);
    expect(run.json()).toMatchObject({ applied: true, attempts: 2 });
    expect(run.stderr).toContain('stale lock token');
    expect(waf.updates.map((u) => u.LockToken)).toEqual(['token-1', 'token-2']);
    expect(rule(waf.acl, userRule.Name!)).toEqual(userRule);
    expect(rule(waf.acl, 'x402-monetize-route-1').Action).toEqual({ Count: {} });
  });

  it('gives up with exit 5 when the web ACL keeps changing, having changed nothing', async () => {
    const waf = fake(deployedWebAcl(Engine.WAF));
    waf.beforeUpdate = (w) => w.edit((acl) => acl);
    const run = await toggle('off');
    expect(run.code).toBe(ExitCode.conflict);
    expect(run.stderr).toContain(`web ACL ${WEB_ACL_ARN} kept changing`);
    expect(run.stderr).toContain('Fix: wait until whatever else is editing the web ACL');
    expect(waf.updates).toHaveLength(5);
    expect(rule(waf.acl, 'x402-monetize-route-1').Action).toEqual({ Monetize: { PriceMultiplier: '1' } });
  });

  it('refuses (exit 4) to touch a web ACL whose rule named like ours was changed outside cdk-x402', async () => {
    const deployed = deployedWebAcl(Engine.WAF);
    const tampered = { ...deployed, Rules: deployed.Rules!.map((r) => (r.Name === 'x402-monetize-route-2' ? { ...r, Action: { Block: {} } } : r)) };
    const waf = fake(tampered);
    const run = await toggle('off', '--json');
    expect(run.code).toBe(ExitCode.refused);
    expect(run.stderr).toContain('rule "x402-monetize-route-2": its action is Block, which cdk-x402 never sets on it');
    expect(run.stderr).toContain('Fix: restore those rules with `cdk deploy`');
    expect(run.json().error).toMatchObject({ exitCode: ExitCode.refused, problems: [expect.stringContaining('x402-monetize-route-2')] });
    expect(waf.updates).toEqual([]);
  });

  it('refuses a rule that only borrows our name (no eligibility label, other metric name) and a web ACL with no rule of ours', async () => {
    const impostor: Rule = { ...userRule, Name: 'x402-monetize-route-1', VisibilityConfig: { ...userRule.VisibilityConfig!, MetricName: 'x402-monetize-route-1' }, Action: { Monetize: { PriceMultiplier: '5' } } };
    fake({ ...deployedWebAcl(Engine.EDGE), Rules: [impostor] });
    const borrowed = await toggle('off');
    expect(borrowed.code).toBe(ExitCode.refused);
    expect(borrowed.stderr).toContain('does not match the x402:payment-eligible label');

    const waf = fake({ ...deployedWebAcl(Engine.EDGE), Rules: [userRule], Description: 'someone else' });
    const foreign = await toggle('off');
    expect(foreign.code).toBe(ExitCode.refused);
    expect(foreign.stderr).toContain('has no rule cdk-x402 can switch');
    expect(waf.updates).toEqual([]);
  });
});

describe('cdk-x402 toggle, edge engine', () => {
  it('switches the eligibility header of x402-payment-eligible only, and back', async () => {
    const deployed = deployedWebAcl(Engine.EDGE);
    const waf = fake(deployed);
    const off = await toggle('off');
    expect(off.code).toBe(ExitCode.ok);
    expect(off.stdout).toContain('engine edge: charging on → off');
    expect(off.stdout).toContain('Count + insert x-amzn-waf-x402-eligible: true (payment asked)  →  Count, no header inserted (nobody asked to pay)');
    expect(rule(waf.acl, RuleNames.eligible)).toEqual({ ...rule(deployed, RuleNames.eligible), Action: { Count: {} } });
    for (const r of deployed.Rules!.filter((x) => x.Name !== RuleNames.eligible)) expect(rule(waf.acl, r.Name!)).toEqual(r);

    await toggle('on');
    expect(rule(waf.acl, RuleNames.eligible).Action).toEqual({ Count: { CustomRequestHandling: { InsertHeaders: [{ Name: ELIGIBILITY_HEADER_INSERT_NAME, Value: 'true' }] } } });
    expect(waf.acl.Rules).toEqual(deployed.Rules);
  });
});
