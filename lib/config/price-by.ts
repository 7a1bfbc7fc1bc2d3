/** `priceBy` of a route: request-priced rules (lambda/core/request-price.ts), validated at synth. */
import { isVerifiedIdentity, type AssetConfig, type PriceCondition, type PriceRule } from '../../lambda/core/config';
import { priceToAtomicUnits } from '../../lambda/core/price';
import { BODY_METHODS } from '../../lambda/core/methods';
import { BOT_CATEGORY, BOT_ORGANIZATION } from '../../lambda/core/identity/verified-bots';
import { headerNameProblem } from './header-name';
import type { Problems } from './problems';
import type { Engine } from './settings';
import { wafPriceProblem } from './waf-pricing';

/** Bounds that keep the viewer-request's evaluation cheap and the config readable. */
const MAX_RULES = 16;
const MAX_CONDITIONS = 8;
const MAX_SEGMENT = 31;
const FEATURES = ['query', 'header', 'segment', 'contentLength', 'agent', 'botCategory', 'botOrganization', 'intent'] as const;
/** Features whose condition is `true` and compares a name. */
const NAMED_FEATURES: Record<string, { readonly what: string; readonly pattern: RegExp; readonly example: string; readonly fix: string }> = {
  agent: { what: 'an agent name (x402:agents, or a Signature-Agent host)', pattern: /^[a-z0-9][a-z0-9._:-]{0,252}$/, example: '"partner"', fix: 'write the name as in x402:agents' },
  botCategory: { what: 'a Bot Control category (lower case, as in its label)', pattern: BOT_CATEGORY, example: '"search_engine"', fix: 'e.g. "search_engine" or "ai"' },
  botOrganization: { what: 'a Bot Control organization (lower case, as in its label bot:organization:<name>)', pattern: BOT_ORGANIZATION, example: '"google"', fix: 'e.g. "google" or "microsoft"' },
  intent: { what: 'an intent (lower-case a-z, 0-9, -, at most 32)', pattern: /^[a-z0-9-]{1,32}$/, example: '"training"', fix: 'e.g. "training", "inference" or "search"' },
};
/** Prices that are not amounts. */
const ACCESS_PRICES = ['free', 'refuse'];
const COMPARATORS = ['equalTo', 'oneOf', 'min', 'max'] as const;

/**
 * The validated rules of one route, or undefined (none, or a problem was added). `method` is the
 * route's upper-case method (undefined: every method).
 */
export function resolvePriceBy(
  problems: Problems,
  where: string,
  value: unknown,
  context: {
    readonly asset: AssetConfig;
    readonly engine: Engine;
    readonly method: string | undefined;
    readonly forwardedHeaders: readonly string[];
    readonly warnings: string[];
    /** The route's own price, atomic units: a rule on the declared intent alone may not undercut it. */
    readonly routeAmount: string;
  },
): PriceRule[] | undefined {
  if (value === undefined) return undefined;
  const key = `${where}.priceBy`;
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_RULES) {
    problems.add(key, value, `must be a list of 1 to ${MAX_RULES} rules`, 'e.g. "priceBy": [{"price": "$0.01", "when": [{"query": "size", "equalTo": "large"}]}]');
    return undefined;
  }
  const before = problems.list.length;
  const rules: PriceRule[] = [];
  for (const [index, raw] of (value as unknown[]).entries()) {
    const at = `${key}[${index}]`;
    const rule = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<Record<keyof PriceRule, unknown>>;
    const access = typeof rule.price === 'string' && ACCESS_PRICES.includes(rule.price.trim()) ? rule.price.trim() : undefined;
    const price = access ? undefined : typeof rule.price === 'string' ? priceToAtomicUnits(rule.price, context.asset.decimals) : { error: 'is missing' };
    if (price && 'error' in price) problems.add(`${at}.price`, rule.price, price.error, `write dollars with at most ${context.asset.decimals} decimals ("$0.01"), an integer of atomic units, "free" or "refuse"`);
    if (rule.tier !== undefined && (typeof rule.tier !== 'string' || !/^[a-z0-9-]{1,32}$/.test(rule.tier))) {
      problems.add(`${at}.tier`, rule.tier, 'must be 1 to 32 characters of a-z, 0-9 and -', 'e.g. "large"');
    }
    if (!Array.isArray(rule.when) || rule.when.length === 0 || rule.when.length > MAX_CONDITIONS) {
      problems.add(`${at}.when`, rule.when, `must be a list of 1 to ${MAX_CONDITIONS} conditions (all must hold)`, 'e.g. "when": [{"query": "size", "equalTo": "large"}]');
      continue;
    }
    const when = (rule.when as unknown[]).map((condition, c) => checkCondition(problems, `${at}.when[${c}]`, condition, context));
    const onVerified = when.some((condition) => condition !== undefined && isVerifiedIdentity(condition));
    const onIntent = when.some((condition) => condition?.intent !== undefined);
    if (access === 'free' && !onVerified) {
      problems.add(`${at}.price`, rule.price, 'is free without an agent, botCategory or botOrganization condition: anyone can send a header, a query parameter or an intent', 'add {"agent": true, "oneOf": ["<partner>"]} to its conditions: only a verified agent (or a bot Bot Control verified) matches one');
    }
    // An intent is the client's word: declaring one may select a dearer price, never a cheaper one.
    if (price && !('error' in price) && onIntent && !onVerified && BigInt(price.amount) < BigInt(context.routeAmount)) {
      problems.add(`${at}.price`, rule.price, 'is below the route\'s own price on a rule an agent qualifies for by declaring an intent: any agent could declare it to pay less', 'charge at least the route\'s price for a declared intent, or add an agent condition so that only verified agents get it');
    }
    if (context.engine === 'waf') checkWafRule(problems, at, rule, when, price, context.asset.decimals);
    rules.push({ price: String(rule.price).trim(), when: when as PriceCondition[], ...(rule.tier === undefined ? {} : { tier: rule.tier as string }) });
  }
  return problems.list.length === before ? rules : undefined;
}

/** The features a waf engine rule can test: Bot Control labels, which WAF matches itself. */
const WAF_FEATURES: readonly string[] = ['botCategory', 'botOrganization'];
/** Why the waf engine cannot test the other features. */
const NOT_IN_WAF: Record<string, string> = {
  query: 'the edge compares query parameters (numbers, a repeated parameter refused), which a WAF rule cannot do alike',
  header: 'the edge compares header values (numbers included), which a WAF rule cannot do alike',
  segment: 'the edge compares path segments (numbers included), which a WAF rule cannot do alike',
  contentLength: 'the edge prices body sizes, and WAF inspects only the first part of a body',
  agent: 'verified agents (x402:agents, Web Bot Auth signatures) are identified by the edge engine only',
  intent: 'intent is the x402-intent header, the client\'s word checked by the edge; AWS documents no Bot Control intent label to match instead',
};

/**
 * The waf engine turns a rule into its own WAF rule: Monetize (base × an integer multiplier, set
 * with the route prices in waf-pricing.ts), Allow (free) or Block (refuse). Only its Bot Control
 * label conditions can be expressed there.
 */
function checkWafRule(problems: Problems, at: string, rule: Partial<Record<keyof PriceRule, unknown>>, when: (PriceCondition | undefined)[], price: { amount: string } | { error: string } | undefined, decimals: number): void {
  when.forEach((condition, c) => {
    const feature = condition && FEATURES.find((name) => condition[name] !== undefined);
    if (feature && !WAF_FEATURES.includes(feature)) {
      problems.add(`${at}.when[${c}]`, condition, `is a ${feature} condition, which the waf engine cannot express as a WAF rule: ${NOT_IN_WAF[feature]}`, `use x402:engine=edge, or only botCategory and botOrganization conditions (or split the route into one route per price, e.g. "/reports/large/*")`);
    }
  });
  if (rule.tier !== undefined) problems.add(`${at}.tier`, rule.tier, 'is recorded on edge receipts only: the waf engine\'s receipts come from WAF settlement records, which carry no tier', 'remove it, or use x402:engine=edge');
  const wafProblem = price && !('error' in price) ? wafPriceProblem(price.amount, decimals) : undefined;
  if (wafProblem) problems.add(`${at}.price`, rule.price, wafProblem.problem, wafProblem.fix);
}

function checkCondition(problems: Problems, at: string, raw: unknown, context: Parameters<typeof resolvePriceBy>[3]): PriceCondition | undefined {
  const condition = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const features = FEATURES.filter((feature) => condition[feature] !== undefined);
  if (features.length !== 1) {
    problems.add(at, raw, 'must name exactly one feature: query, header, segment, contentLength, agent, botCategory, botOrganization or intent', 'e.g. {"query": "size", "equalTo": "large"}, {"contentLength": {"max": 65536}} or {"agent": true, "oneOf": ["partner"]}');
    return undefined;
  }
  const unknown = Object.keys(condition).filter((name) => !(FEATURES as readonly string[]).includes(name) && !(COMPARATORS as readonly string[]).includes(name));
  if (unknown.length > 0) problems.add(at, raw, `has unknown fields ${unknown.join(', ')}`, `use ${[...FEATURES, ...COMPARATORS].join(', ')}`);
  const feature = features[0];
  if (feature === 'contentLength') {
    if (!context.method || !BODY_METHODS.includes(context.method)) {
      problems.add(at, raw, `prices by body size, which only ${BODY_METHODS.join(', ')} requests carry`, `make the route method-specific, e.g. "POST /api/*"`);
    }
    if (COMPARATORS.some((name) => condition[name] !== undefined)) problems.add(at, raw, 'compares contentLength with its own min and max', 'write {"contentLength": {"min": 0, "max": 65536}}');
    checkBounds(problems, `${at}.contentLength`, condition.contentLength as Record<string, unknown>, true);
    return condition as PriceCondition;
  }
  const named = NAMED_FEATURES[feature];
  if (named) {
    if (condition[feature] !== true) problems.add(`${at}.${feature}`, condition[feature], 'must be true', `e.g. {"${feature}": true, "oneOf": [${named.example}]}`);
    if (condition.min !== undefined || condition.max !== undefined) problems.add(at, raw, `compares ${feature}, a name, with min or max`, 'use equalTo or oneOf');
    const values = [condition.equalTo, ...(Array.isArray(condition.oneOf) ? condition.oneOf : [])].filter((v): v is string => typeof v === 'string');
    for (const v of values) if (!named.pattern.test(v)) problems.add(at, v, `is not ${named.what}`, named.fix);
  }
  if (feature === 'query' && (typeof condition.query !== 'string' || !/^[A-Za-z0-9_.~-]{1,64}$/.test(condition.query))) {
    problems.add(`${at}.query`, condition.query, 'is not a query parameter name (letters, digits, _ . ~ -, at most 64)', 'e.g. "size"');
  }
  if (feature === 'header') {
    const problem =
      typeof condition.header === 'string' && condition.header === condition.header.toLowerCase()
        ? headerNameProblem(condition.header)
        : { problem: 'must be a lower-case header name', fix: 'e.g. "x-model-tier"' };
    if (problem) problems.add(`${at}.header`, condition.header, problem.problem, problem.fix);
    else if ((condition.header as string).startsWith('cloudfront-') && !context.forwardedHeaders.includes(condition.header as string)) {
      context.warnings.push(`${at}.header ${condition.header} is added by CloudFront only when a policy lists it: add it to x402:originRequestHeaders, or the viewer-request never sees it and the rule never matches`);
    }
  }
  if (feature === 'segment' && !(Number.isInteger(condition.segment) && (condition.segment as number) >= 0 && (condition.segment as number) <= MAX_SEGMENT)) {
    problems.add(`${at}.segment`, condition.segment, `must be the zero-based index of a path segment (0..${MAX_SEGMENT})`, 'e.g. 1 for "gpt" in /models/gpt/run');
  }
  if (!COMPARATORS.some((name) => condition[name] !== undefined)) {
    problems.add(at, raw, 'compares nothing: it would hold whenever the feature is present', 'add equalTo, oneOf, min or max');
  }
  if (condition.equalTo !== undefined && typeof condition.equalTo !== 'string') problems.add(`${at}.equalTo`, condition.equalTo, 'must be a string', 'quote it, e.g. "large"');
  if (condition.oneOf !== undefined && (!Array.isArray(condition.oneOf) || condition.oneOf.length === 0 || condition.oneOf.some((v) => typeof v !== 'string'))) {
    problems.add(`${at}.oneOf`, condition.oneOf, 'must be a non-empty list of strings', 'e.g. ["large", "xl"]');
  }
  checkBounds(problems, at, condition, false);
  return condition as PriceCondition;
}

function checkBounds(problems: Problems, at: string, bounds: Record<string, unknown> | undefined, required: boolean): void {
  if (typeof bounds !== 'object' || bounds === null || (required && bounds.min === undefined && bounds.max === undefined)) {
    problems.add(at, bounds, 'needs min and/or max (bytes)', 'e.g. {"max": 65536}');
    return;
  }
  for (const name of ['min', 'max'] as const) {
    const bound = bounds[name];
    if (bound !== undefined && !(typeof bound === 'number' && Number.isFinite(bound) && bound >= 0)) {
      problems.add(`${at}.${name}`, bound, 'must be a non-negative number', 'e.g. 1024');
    }
  }
  if (typeof bounds.min === 'number' && typeof bounds.max === 'number' && bounds.min > bounds.max) {
    problems.add(at, bounds, 'has min above max: it can never hold', 'swap them');
  }
}
