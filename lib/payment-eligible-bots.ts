import { Annotations, Aws, Names, Stack, Token } from 'aws-cdk-lib';
import { CfnRuleGroup, CfnWebACL } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { PaymentHeaders } from '../lambda/core/header-names';
import type { PriceRule } from '../lambda/core/config';
import { Reasons } from '../lambda/core/rejection';
import type { ResolvedConfig, ResolvedRoute } from './config/resolved';
import type { X402Config } from './config/x402-config';
import { WAF_NO_AGENT } from '../lambda/core/header-names';
import {
  AGENT_HEADER_INSERT_NAME,
  AGENT_LABEL_PREFIX,
  DESCRIPTION_PREFIX,
  VERIFIED_BOT_CATEGORY_HEADER_INSERT_NAME,
  VERIFIED_BOT_ORGANIZATION_HEADER_INSERT_NAME,
  ELIGIBILITY_HEADER_INSERT_NAME,
  ELIGIBLE_LABEL_NAME,
  RuleNames,
  SELF_DECLARED_AGENT_HEADER,
  WAF_INSERTED_HEADER_PREFIX,
} from './waf-names';

const BOT_CONTROL_LABELS = 'awswaf:managed:aws:bot-control';
/** AWS's figures: Bot Control's capacity, what a web ACL's price includes, and the most one may use. */
const BOT_CONTROL_WCUS = 50;
const WEB_ACL_INCLUDED_WCUS = 1500;
const WEB_ACL_MAX_WCUS = 5000;

/** Props of {@link PaymentEligibleBots}. */
export interface PaymentEligibleBotsProps {
  /** The validated configuration (X402Config.resolve). */
  readonly config: X402Config;
  /**
   * Web ACL name, also its CloudWatch metric name.
   * @default a unique name from the construct path
   */
  readonly webAclName?: string;
}

/**
 * The CLOUDFRONT web ACL in front of a paywalled distribution. Rules, in order:
 *
 * 1. block any request that already carries an `x-amzn-waf-*` header: WAF overwrites its inserted
 *    headers only when a rule matches, so a client could otherwise fake the eligibility header;
 * 2. AWS Bot Control, overridden to Count: it only labels (category, name, verified, signals);
 * 3. payment eligibility (Count + label + inserted header `x-amzn-waf-x402-eligible: true`):
 *    a payment header, or (an eligible category or signal, or a Web Bot Auth `signature-agent`)
 *    unless a verified free bot;
 * 4. with x402:agents naming Bot Control bots: per agent, Bot Control's `web_bot_auth:verified`
 *    and `bot:name:<botName>` labels → inserted header `x-amzn-waf-x402-agent: <name>`; on every
 *    other request `x-amzn-waf-x402-agent: none`, so that WAF's value always overwrites a forged one;
 *    engine `edge`, the same for the verified bot categories and organizations priceBy conditions name;
 * 5. optional rate limit on eligible traffic (429);
 * 6. engine `waf`: per route, its priceBy rules (Monetize, Allow or Block on verified bot labels),
 *    then one Monetize rule for eligible traffic, PriceMultiplier = price / base.
 *
 * Every rule publishes CloudWatch metrics and sampled requests. Must be deployed in us-east-1.
 */
export class PaymentEligibleBots extends Construct {
  /** The web ACL (escape hatch). */
  readonly webAcl: CfnWebACL;
  /** ARN of the web ACL, for a distribution's `webAclId`. */
  readonly webAclArn: string;
  /** Name of the web ACL and of its CloudWatch metric (the `WebACL` dimension). */
  readonly webAclName: string;
  /** Fully qualified label on payment-eligible requests. */
  readonly eligibleLabel: string;
  /** Rule names in priority order. */
  readonly ruleNames: string[];

  constructor(scope: Construct, id: string, props: PaymentEligibleBotsProps) {
    super(scope, id);
    const config = props.config._resolved;
    this.webAclName = props.webAclName ?? Names.uniqueResourceName(this, { maxLength: 120, separator: '-' });
    this.eligibleLabel = `awswaf:${Aws.ACCOUNT_ID}:webacl:${this.webAclName}:${ELIGIBLE_LABEL_NAME}`;
    const rules = [
      antiSpoofingRule(),
      botControlRule(config),
      ...x402Rules(config, this.eligibleLabel),
    ].map((rule, priority) => ({ ...rule, priority }));
    this.ruleNames = rules.map((r) => r.name);

    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      name: this.webAclName,
      scope: 'CLOUDFRONT',
      description: `${DESCRIPTION_PREFIX} ${config.engine} engine - labels payment-eligible bots${config.engine === 'waf' ? ', monetizes priced routes' : ''}`,
      defaultAction: { allow: {} },
      visibilityConfig: visibility(this.webAclName),
      customResponseBodies: customResponseBodies(config),
      rules: rules.map(cfnRule),
    });
    writeMonetization(this.webAcl, rules, config);
    this.webAclArn = this.webAcl.attrArn;
    const wcus = BOT_CONTROL_WCUS + estimateWcus(config);
    if (wcus > WEB_ACL_MAX_WCUS) {
      this.node.addValidation({ validate: () => [`x402:routes: the web ACL's rules need about ${wcus} WCUs, but AWS WAF accepts at most ${WEB_ACL_MAX_WCUS}: merge routes with ** patterns or drop priceBy rules (each is a rule of about 45 WCUs), or use x402:engine=edge`] });
    } else if (wcus > WEB_ACL_INCLUDED_WCUS) {
      Annotations.of(this).addWarningV2('cdk-x402:web-acl-capacity', `the web ACL's rules need about ${wcus} WCUs: above ${WEB_ACL_INCLUDED_WCUS} AWS charges extra, and ${WEB_ACL_MAX_WCUS} is the most it accepts; merge routes or priceBy rules to stay below`);
    }

    this.node.addValidation({
      validate: () => {
        const region = Stack.of(this).region;
        return !Token.isUnresolved(region) && region !== 'us-east-1'
          ? [`PaymentEligibleBots creates a CLOUDFRONT web ACL, which AWS only accepts in us-east-1, but this stack is in ${region}: put it in a us-east-1 stack (X402Paywall does this for you)`]
          : [];
      },
    });
  }
}

/** Props of {@link PaymentEligibleBotsRuleGroup}. */
export interface PaymentEligibleBotsRuleGroupProps {
  /** The validated configuration (X402Config.resolve). */
  readonly config: X402Config;
  /**
   * Rule group name, also its metric name.
   * @default a unique name from the construct path
   */
  readonly ruleGroupName?: string;
  /**
   * WCU capacity, fixed at creation.
   * @default an estimate from the rules, with headroom
   */
  readonly capacity?: number;
}

/**
 * The same rules for a web ACL you already have: reference this group from it with a
 * `ruleGroupReferenceStatement`, placed after AWS Bot Control (managed rule groups cannot be
 * nested in a rule group; {@link PaymentEligibleBotsRuleGroup.botControlRule} gives you the rule
 * to add) and before any rule that allows traffic. The anti-spoofing rule comes first inside the
 * group.
 */
export class PaymentEligibleBotsRuleGroup extends Construct {
  /**
   * AWS Bot Control in label mode, with the inspection level of `config`, for the web ACL that
   * references the rule group: every rule overridden to Count, so it classifies and never blocks.
   * Give it a priority before the rule group's.
   */
  static botControlRule(config: X402Config, priority: number): CfnWebACL.RuleProperty {
    return cfnRule({ ...botControlRule(config._resolved), priority });
  }

  /** The rule group (escape hatch). */
  readonly ruleGroup: CfnRuleGroup;
  /** ARN of the rule group, for a `ruleGroupReferenceStatement`. */
  readonly ruleGroupArn: string;
  /** Name of the rule group and of its CloudWatch metric. */
  readonly ruleGroupName: string;
  /** Fully qualified label on payment-eligible requests. */
  readonly eligibleLabel: string;
  /** Rule names in priority order. */
  readonly ruleNames: string[];

  constructor(scope: Construct, id: string, props: PaymentEligibleBotsRuleGroupProps) {
    super(scope, id);
    const config = props.config._resolved;
    this.ruleGroupName = props.ruleGroupName ?? Names.uniqueResourceName(this, { maxLength: 120, separator: '-' });
    this.eligibleLabel = `awswaf:${Aws.ACCOUNT_ID}:rulegroup:${this.ruleGroupName}:${ELIGIBLE_LABEL_NAME}`;
    const rules = [antiSpoofingRule(), ...x402Rules(config, this.eligibleLabel)].map((rule, priority) => ({ ...rule, priority }));
    this.ruleNames = rules.map((r) => r.name);
    const capacity = props.capacity ?? estimateCapacity(config);
    if (capacity > WEB_ACL_INCLUDED_WCUS) {
      Annotations.of(this).addWarningV2('cdk-x402:rule-group-capacity', `the rule group needs about ${capacity} WCUs; a web ACL holds ${WEB_ACL_INCLUDED_WCUS} without extra charges`);
    }
    this.ruleGroup = new CfnRuleGroup(this, 'RuleGroup', {
      name: this.ruleGroupName,
      scope: 'CLOUDFRONT',
      capacity,
      description: `${DESCRIPTION_PREFIX} - anti-spoofing and payment eligibility, needs Bot Control labels earlier in the web ACL`,
      visibilityConfig: visibility(this.ruleGroupName),
      customResponseBodies: customResponseBodies(config),
      rules: rules.map(ruleGroupRule),
    });
    writeMonetization(this.ruleGroup, rules, config);
    this.ruleGroupArn = this.ruleGroup.attrArn;
  }
}

/**
 * A rule in the rule group's form. CfnRuleGroup types the bodies of the allow, block, count,
 * captcha and challenge actions as plain JSON, which CDK copies into the template as written,
 * whereas CfnWebACL types them and converts their keys; so the bodies get CloudFormation's keys
 * here (for these bodies, the camelCase name with a capital first letter).
 */
function ruleGroupRule(rule: Rule & { readonly priority: number }): CfnRuleGroup.RuleProperty {
  const action = cfnRule(rule).action as Readonly<Record<string, unknown>> | undefined;
  const converted = action && Object.fromEntries(Object.entries(action).map(([kind, body]) => [kind, cloudFormationKeys(body)]));
  return { ...rule, action: converted } as CfnRuleGroup.RuleProperty;
}

/** A rule as the L1 takes it: a Monetize action is left empty here, for writeMonetization to write. */
function cfnRule(rule: Rule & { readonly priority: number }): CfnWebACL.RuleProperty {
  return { ...rule, action: rule.action && 'monetize' in rule.action ? {} : rule.action };
}

function cloudFormationKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(cloudFormationKeys);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, v]) => [key.charAt(0).toUpperCase() + key.slice(1), cloudFormationKeys(v)]));
}

// ---------------------------------------------------------------------------------------------
// Rules (plain data, shared by the web ACL and the rule group)

/**
 * A rule as this file builds it. Its action may be WAF's Monetize, typed here because the L1 types
 * of aws-cdk-lib before 2.27x lack it (writeMonetization writes it as a CloudFormation property).
 */
type Rule = Omit<CfnWebACL.RuleProperty, 'priority' | 'action'> & { readonly action?: CfnWebACL.RuleActionProperty | MonetizeRuleAction };

/** The Monetize rule action (CloudFormation `Action.Monetize`). */
interface MonetizeRuleAction {
  readonly monetize: { readonly priceMultiplier: string };
}

/** The web ACL's MonetizationConfig (CloudFormation `MonetizationConfig`). */
interface MonetizationConfig {
  readonly currencyMode: string;
  readonly cryptoConfig: {
    readonly paymentNetworks: ReadonlyArray<{
      readonly chain: string;
      readonly walletAddress: string;
      readonly prices: ReadonlyArray<{ readonly amount: string; readonly currency: string }>;
    }>;
  };
}
type Statement = CfnWebACL.StatementProperty;

function visibility(metricName: string): CfnWebACL.VisibilityConfigProperty {
  return { cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName };
}

/**
 * Blocks requests that carry any header WAF could have inserted: they can only be forgeries.
 *
 * WAF inspects the first 8 KB of the headers and at most 200 of them. Past that limit the rule
 * inspects what it can (`CONTINUE`): a forged `x-amzn-waf-*` name within the inspected part is
 * still blocked, while an honest request with large cookies is not blocked merely for its size
 * (`MATCH` would block it; `NO_MATCH` would let any forgery through once padded past the limit).
 * What a forgery placed beyond the limit can do: reach the edge as a header of that name, unless
 * WAF inserts the same name, which overwrites it (our eligibility rule inserts its header on every
 * eligible request). What it cannot do: make a request free. The edge trusts the eligibility
 * header only as a reason to ask for payment, never as a reason to serve free content (a request
 * that WAF finds eligible always carries WAF's own `true`, and one offering a payment is verified
 * whatever its headers say), so a forged one can only make its sender pay.
 */
export function antiSpoofingRule(): Rule {
  return {
    name: RuleNames.antiSpoofing,
    action: { block: {} },
    statement: {
      byteMatchStatement: {
        // Header names (keys) of every header, as far as WAF inspects them (see above).
        fieldToMatch: { headers: { matchPattern: { all: {} }, matchScope: 'KEY', oversizeHandling: 'CONTINUE' } },
        positionalConstraint: 'STARTS_WITH',
        searchString: WAF_INSERTED_HEADER_PREFIX,
        textTransformations: [{ priority: 0, type: 'LOWERCASE' }],
      },
    },
    visibilityConfig: visibility(RuleNames.antiSpoofing),
  };
}

/** AWS Bot Control in label mode: every rule overridden to Count, so it classifies and never blocks. */
export function botControlRule(config: Pick<ResolvedConfig, 'botControlInspectionLevel'>): Rule {
  return {
    name: RuleNames.botControl,
    overrideAction: { count: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: 'AWS',
        name: 'AWSManagedRulesBotControlRuleSet',
        managedRuleGroupConfigs: [{ awsManagedRulesBotControlRuleSet: { inspectionLevel: config.botControlInspectionLevel } }],
      },
    },
    visibilityConfig: visibility(RuleNames.botControl),
  };
}

function x402Rules(config: ResolvedConfig, eligibleLabel: string): Rule[] {
  const rules: Rule[] = [eligibilityRule(config), ...agentRules(config)];
  // The edge reads verified bots from forwarded headers; the waf engine's own rules match the labels.
  if (config.engine === 'edge') rules.push(...verifiedBotRules(config, 'botCategory'), ...verifiedBotRules(config, 'botOrganization'));
  if (config.rateLimit !== undefined) rules.push(rateLimitRule(config.rateLimit, eligibleLabel));
  const waf = config.engine === 'waf' ? config.waf : undefined;
  if (waf) {
    config.routes.forEach((route, i) => {
      // A route's priceBy rules, in order, ahead of its own price: WAF stops at the first that matches, as the edge does.
      (route.priceBy ?? []).forEach((priceRule, j) => rules.push(wafPriceRule(i, j, route, priceRule, waf.ruleMultipliers[i][j], eligibleLabel)));
      rules.push(monetizeRule(i, route, waf.multipliers[i], eligibleLabel));
    });
  }
  return rules;
}

/** Counts, labels and marks (inserted header) payment-eligible requests. */
function eligibilityRule(config: ResolvedConfig): Rule {
  const paymentOffered = or(
    [PaymentHeaders.signatureV2, PaymentHeaders.signatureV1].map((name) => headerPresent(name)),
  );
  const claimsToBeABot = or([
    ...config.eligibleBotCategories.map((c) => label(`${BOT_CONTROL_LABELS}:bot:category:${c}`)),
    ...config.eligibleBotSignals.map((s) => label(`${BOT_CONTROL_LABELS}:signal:${s}`)),
    headerPresent(SELF_DECLARED_AGENT_HEADER),
  ]);
  const freeLabels = [
    ...config.freeBotNames.map((n) => label(`${BOT_CONTROL_LABELS}:bot:name:${n}`)),
    ...config.freeBotCategories.map((c) => label(`${BOT_CONTROL_LABELS}:bot:category:${c}`)),
  ];
  const mustPay = freeLabels.length === 0
    ? claimsToBeABot
    : and([claimsToBeABot, not(and([label(`${BOT_CONTROL_LABELS}:bot:verified`), or(freeLabels)]))]);
  return {
    name: RuleNames.eligible,
    action: {
      count: { customRequestHandling: { insertHeaders: [{ name: ELIGIBILITY_HEADER_INSERT_NAME, value: 'true' }] } },
    },
    ruleLabels: [{ name: ELIGIBLE_LABEL_NAME }],
    statement: or([paymentOffered, mustPay]),
    visibilityConfig: visibility(RuleNames.eligible),
  };
}

/**
 * Bot Control's Web Bot Auth verdict for the agents the publisher named, forwarded to the edge.
 * WAF cannot copy a label's value into a header, so each agent is its own rule with its own
 * header value. The edge trusts the header because the anti-spoofing rule blocks client-sent
 * `x-amzn-waf-*` headers; past WAF's inspection limit a forged one could slip by, so the last
 * rule inserts `none` on every request no agent rule matched, and WAF's insertion replaces it.
 */
function agentRules(config: ResolvedConfig): Rule[] {
  const named = (config.agents?.trusted ?? []).filter((agent) => agent.botName !== undefined);
  return forwardingRules(
    AGENT_HEADER_INSERT_NAME,
    named.map((agent, index) => ({
      name: RuleNames.agentVerified(index),
      value: agent.name,
      label: `${AGENT_LABEL_PREFIX}${agent.name}`,
      statement: and([label(`${BOT_CONTROL_LABELS}:web_bot_auth:verified`), label(`${BOT_CONTROL_LABELS}:bot:name:${agent.botName}`)]),
    })),
    RuleNames.agentUnverified,
  );
}

/** How each verified-bot condition is forwarded: Bot Control's label namespace, our header and rule names. */
const VERIFIED_BOT_FEATURES = {
  botCategory: { labels: 'bot:category', header: VERIFIED_BOT_CATEGORY_HEADER_INSERT_NAME, rule: RuleNames.verifiedBotCategory, none: RuleNames.noVerifiedBotCategory },
  botOrganization: { labels: 'bot:organization', header: VERIFIED_BOT_ORGANIZATION_HEADER_INSERT_NAME, rule: RuleNames.verifiedBotOrganization, none: RuleNames.noVerifiedBotOrganization },
} as const;
type VerifiedBotFeature = keyof typeof VERIFIED_BOT_FEATURES;

/**
 * The categories (organizations) that `botCategory` (`botOrganization`) price conditions name,
 * forwarded for bots Bot Control verified only: an unverified bot's labels come from its
 * User-Agent, which a client chooses.
 */
function verifiedBotRules(config: ResolvedConfig, feature: VerifiedBotFeature): Rule[] {
  const { labels, header, rule, none } = VERIFIED_BOT_FEATURES[feature];
  return forwardingRules(
    header,
    pricedNames(config, feature).map((name, index) => ({ name: rule(index), value: name, statement: verifiedBotLabel(labels, name) })),
    none,
  );
}

function verifiedBotLabel(namespace: string, name: string): Statement {
  return and([label(`${BOT_CONTROL_LABELS}:bot:verified`), botLabel(namespace, name)]);
}

function botLabel(namespace: string, name: string): Statement {
  return label(`${BOT_CONTROL_LABELS}:${namespace}:${name}`);
}


/** The names that price conditions on `feature` compare with, each once. */
function pricedNames(config: ResolvedConfig, feature: VerifiedBotFeature): string[] {
  const named = config.routes
    .flatMap((route) => route.priceBy ?? [])
    .flatMap((rule) => rule.when)
    .filter((condition) => condition[feature] !== undefined)
    .flatMap((condition) => [condition.equalTo, ...(condition.oneOf ?? [])]);
  return [...new Set(named.filter((name): name is string => name !== undefined))];
}

/** One Count rule per forwarded value, inserting it as `header`, and a last rule inserting `none` on every request none of them matched. */
function forwardingRules(header: string, forwarded: ReadonlyArray<{ name: string; value: string; label?: string; statement: Statement }>, noneRule: string): Rule[] {
  if (forwarded.length === 0) return [];
  const inserting = (value: string) => ({ count: { customRequestHandling: { insertHeaders: [{ name: header, value }] } } });
  return [
    ...forwarded.map((entry): Rule => ({
      name: entry.name,
      action: inserting(entry.value),
      ...(entry.label ? { ruleLabels: [{ name: entry.label }] } : {}),
      statement: entry.statement,
      visibilityConfig: visibility(entry.name),
    })),
    { name: noneRule, action: inserting(WAF_NO_AGENT), statement: not(or(forwarded.map((entry) => entry.statement))), visibilityConfig: visibility(noneRule) },
  ];
}

function rateLimitRule(limit: number, eligibleLabel: string): Rule {
  return {
    name: RuleNames.rateLimit,
    action: { block: { customResponse: { responseCode: 429 } } },
    statement: {
      rateBasedStatement: { limit, aggregateKeyType: 'IP', evaluationWindowSec: 300, scopeDownStatement: label(eligibleLabel) },
    },
    visibilityConfig: visibility(RuleNames.rateLimit),
  };
}

/** waf engine: eligible requests to the route's paths pay base × multiplier (terminating). */
function monetizeRule(index: number, route: ResolvedRoute, multiplier: number, eligibleLabel: string): Rule {
  return {
    name: RuleNames.monetize(index),
    action: { monetize: { priceMultiplier: String(multiplier) } },
    statement: and(routeRequests(route, eligibleLabel)),
    visibilityConfig: visibility(RuleNames.monetize(index)),
  };
}

/** The payment-eligible requests to a route: its label, path [and method]. */
function routeRequests(route: ResolvedRoute, eligibleLabel: string): Statement[] {
  const statements: Statement[] = [label(eligibleLabel), pathMatches(route.path)];
  if (route.method) statements.push(methodIs(route.method));
  return statements;
}

/**
 * waf engine: a route's priceBy rule as its own terminating rule for the route's eligible requests
 * from a bot Bot Control verified whose labels meet every condition (synth accepts only
 * botCategory and botOrganization conditions here): Monetize at its multiplier, Allow when free,
 * Block with a 403 JSON body when refused.
 */
function wafPriceRule(routeIndex: number, ruleIndex: number, route: ResolvedRoute, rule: PriceRule, multiplier: number | undefined, eligibleLabel: string): Rule {
  const conditions = rule.when.map((condition) => {
    const feature = (Object.keys(VERIFIED_BOT_FEATURES) as VerifiedBotFeature[]).find((name) => condition[name] !== undefined)!;
    const names = [condition.equalTo, ...(condition.oneOf ?? [])].filter((name): name is string => name !== undefined);
    return or([...new Set(names)].map((name) => botLabel(VERIFIED_BOT_FEATURES[feature].labels, name)));
  });
  const statement = and([...routeRequests(route, eligibleLabel), label(`${BOT_CONTROL_LABELS}:bot:verified`), ...conditions]);
  const [name, action]: [string, Rule['action']] =
    rule.price === 'free'
      ? [RuleNames.freeByRule(routeIndex, ruleIndex), { allow: {} }]
      : rule.price === 'refuse'
        ? [RuleNames.refuseByRule(routeIndex, ruleIndex), { block: { customResponse: { responseCode: 403, customResponseBodyKey: AGENT_REFUSED_BODY_KEY } } }]
        : [RuleNames.monetizeByRule(routeIndex, ruleIndex), { monetize: { priceMultiplier: String(multiplier) } }];
  return { name, action, statement, visibilityConfig: visibility(name) };
}

/** Key of the 403 body our refusing rules answer with: the edge's agent_refused, in its JSON shape. */
const AGENT_REFUSED_BODY_KEY = 'x402-agent-refused';

/** The bodies our Block rules answer with: the 403 of refusing priceBy rules (waf engine). */
function customResponseBodies(config: ResolvedConfig): Record<string, CfnWebACL.CustomResponseBodyProperty> | undefined {
  const refuses = config.engine === 'waf' && config.routes.some((route) => route.priceBy?.some((rule) => rule.price === 'refuse'));
  if (!refuses) return undefined;
  const body = { x402Version: 2, error: Reasons.agentRefused, message: 'the publisher does not sell this resource to this bot (a priceBy rule refuses it); nothing was charged' };
  return { [AGENT_REFUSED_BODY_KEY]: { contentType: 'APPLICATION_JSON', content: JSON.stringify(body) } };
}

/**
 * A route glob as a WAF regex over the decoded, normalized, lower-cased URI path; like the edge
 * matcher (lambda/core/routes.ts), a trailing slash never changes the price.
 */
export function globToWafRegex(glob: string): string {
  const source = glob
    .replace(/\/+$/, '')
    .split('**')
    .map((part) => part.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*'))
    .join('.*');
  return `^${source}/?$`;
}

function pathMatches(glob: string): Statement {
  return {
    regexMatchStatement: {
      fieldToMatch: { uriPath: {} },
      regexString: globToWafRegex(glob),
      textTransformations: [
        { priority: 0, type: 'URL_DECODE' },
        { priority: 1, type: 'NORMALIZE_PATH' },
        { priority: 2, type: 'LOWERCASE' },
      ],
    },
  };
}

function methodIs(method: string): Statement {
  return {
    byteMatchStatement: {
      fieldToMatch: { method: {} },
      positionalConstraint: 'EXACTLY',
      searchString: method,
      textTransformations: [{ priority: 0, type: 'NONE' }],
    },
  };
}

function label(key: string): Statement {
  return { labelMatchStatement: { scope: 'LABEL', key } };
}

function headerPresent(name: string): Statement {
  return {
    sizeConstraintStatement: {
      fieldToMatch: { singleHeader: { Name: name } },
      comparisonOperator: 'GT',
      size: 0,
      textTransformations: [{ priority: 0, type: 'NONE' }],
    },
  };
}

function or(statements: Statement[]): Statement {
  return statements.length === 1 ? statements[0] : { orStatement: { statements } };
}

function and(statements: Statement[]): Statement {
  return statements.length === 1 ? statements[0] : { andStatement: { statements } };
}

function not(statement: Statement): Statement {
  return { notStatement: { statement } };
}

/**
 * The waf engine's MonetizationConfig and Monetize rule actions, written as CloudFormation
 * properties: the L1 types for them arrived in aws-cdk-lib 2.27x, and the L1 of an older
 * aws-cdk-lib (the peer range starts at 2.180) silently drops properties it does not know.
 */
function writeMonetization(resource: CfnWebACL | CfnRuleGroup, rules: readonly Rule[], config: ResolvedConfig): void {
  const monetization = monetizationConfig(config);
  if (!monetization) return;
  resource.addPropertyOverride('MonetizationConfig', cloudFormationKeys(monetization));
  rules.forEach((rule, index) => {
    if (rule.action && 'monetize' in rule.action) resource.addPropertyOverride(`Rules.${index}.Action.Monetize`, cloudFormationKeys(rule.action.monetize));
  });
}

function monetizationConfig(config: ResolvedConfig): MonetizationConfig | undefined {
  if (config.engine !== 'waf' || !config.waf) return undefined;
  return {
    currencyMode: config.waf.currencyMode,
    cryptoConfig: {
      paymentNetworks: [
        { chain: config.waf.chain, walletAddress: config.payTo, prices: [{ amount: config.waf.basePrice, currency: 'USDC' }] },
      ],
    },
  };
}

/** Rough WCU estimate with headroom (capacity cannot change after creation). */
function estimateCapacity(config: ResolvedConfig): number {
  return Math.ceil(estimateWcus(config) * 1.5 / 50) * 50;
}

/** Rough WCUs of our rules (Bot Control excluded): a path regex with its three text transformations is about 40. */
function estimateWcus(config: ResolvedConfig): number {
  const labels = config.eligibleBotCategories.length + config.eligibleBotSignals.length + config.freeBotNames.length + config.freeBotCategories.length;
  const antiSpoofing = 30;
  const eligibility = 10 + 2 * labels;
  const rateLimit = config.rateLimit === undefined ? 0 : 10;
  // Each forwarded value: its rule (two labels) and its share of the "none" rule's negation.
  const forwarded = (count: number) => (count === 0 ? 0 : 6 * count + 1);
  const verifiedBots = config.engine === 'edge' ? forwarded(pricedNames(config, 'botCategory').length) + forwarded(pricedNames(config, 'botOrganization').length) : 0;
  const agentRules = forwarded((config.agents?.trusted ?? []).filter((agent) => agent.botName !== undefined).length) + verifiedBots;
  const priceRule = (rule: PriceRule) => 40 + 2 + rule.when.reduce((sum, condition) => sum + 1 + (condition.oneOf?.length ?? 0), 0);
  const monetize = config.engine === 'waf' ? config.routes.reduce((sum, route) => sum + 40 + (route.priceBy ?? []).reduce((rules, rule) => rules + priceRule(rule), 0), 0) : 0;
  return antiSpoofing + eligibility + agentRules + rateLimit + monetize;
}
