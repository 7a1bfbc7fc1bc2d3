/**
 * Request-priced routes (`priceBy`): a route's price chosen from declared request features (a query
 * parameter, a header, a path segment, the body size, the verified agent, the verified bot's category or organization, the declared intent),
 * first matching rule wins, else the route's own price. A rule may also make the request free (a
 * verified partner) or refuse it (403, nothing taken). Pure and configuration-only: every rule's terms are built once, so two equal requests
 * always get the same (frozen) requirements object, and the 402 and its paid retry compare equal.
 * No I/O; the constructs validate rules at synth with the same types (lib/config/routes.ts).
 */
import { isVerifiedIdentity, type EdgeConfig, type PriceCondition } from './config';
import { INTENT_HEADER } from './header-names';
import type { VerifiedBot } from './identity/verified-bots';
import { BODY_METHODS } from './methods';
import { priceToAtomicUnits } from './price';
import { reject, Reasons, type Rejection } from './rejection';
import { routeTerms, type RouteTerms } from './requirements';
import type { CompiledRoute } from './routes';

/** A non-negative decimal number, the only form `min`/`max` compare. */
const NUMBER = /^\d{1,15}(?:\.\d{1,6})?$/;

/** The request features a rule may read. */
export interface PriceFeatures {
  readonly method: string;
  /** The canonical path that was matched (lambda/core/routes.ts canonicalPath). */
  readonly path: string;
  /** The raw query string, without `?`. */
  readonly querystring: string;
  /** Value of a header by lower-case name. */
  header(name: string): string | undefined;
  /** The verified agent's name (lambda/core/identity/agents.ts); undefined: not verified. */
  readonly agent?: string;
  /** The verified bot's category and organization WAF forwarded (lambda/core/identity/verified-bots.ts); undefined: none. */
  readonly bot?: VerifiedBot;
}

/** One route's terms: its own and one per `priceBy` rule, in order (a free rule's are marked `free`; a refusing rule holds the route's own and refuses). */
export interface RoutePriceTable {
  readonly base: RouteTerms;
  readonly rules: readonly { readonly when: readonly PriceCondition[]; readonly terms: RouteTerms; readonly refuses?: boolean }[];
}

/** Builds a route's table of terms; throws on an invalid price (the constructs validate first). */
export function priceTable(route: CompiledRoute, priceBy: EdgeConfig['routes'][number]['priceBy'], config: EdgeConfig): RoutePriceTable {
  if (route.scheme === 'upto' && priceBy !== undefined) throw new Error(`route "${route.pattern}": priceBy does not apply to an upto route (one maxPrice)`);
  const base = routeTerms(route, config);
  const rules = (priceBy ?? []).map((rule, index) => {
    if (rule.price === 'refuse') return { when: rule.when, terms: base, refuses: true };
    // Anyone can send a header or a query parameter: only a verified agent may be let in free.
    if (rule.price === 'free' && !rule.when.some(isVerifiedIdentity)) throw new Error(`route "${route.pattern}" priceBy[${index}]: a free rule needs an agent, botCategory or botOrganization condition`);
    if (rule.price === 'free') return { when: rule.when, terms: { ...routeTerms(route, config, { priceRule: index, tier: rule.tier }), free: true } };
    const price = priceToAtomicUnits(rule.price, config.asset.decimals);
    if ('error' in price) throw new Error(`route "${route.pattern}" priceBy[${index}]: ${price.error}`);
    return { when: rule.when, terms: routeTerms({ ...route, amount: price.amount }, config, { priceRule: index, tier: rule.tier }) };
  });
  return { base, rules };
}

/** The human name of the feature a condition reads, as refusals name it. */
export function featureName(condition: PriceCondition): string {
  if (condition.query !== undefined) return `query parameter "${condition.query}"`;
  if (condition.header !== undefined) return `header "${condition.header}"`;
  if (condition.segment !== undefined) return `path segment ${condition.segment}`;
  if (condition.agent !== undefined) return 'verified agent';
  if (condition.botCategory !== undefined) return 'verified bot category';
  if (condition.botOrganization !== undefined) return 'verified bot organization';
  if (condition.intent !== undefined) return `header "${INTENT_HEADER}"`;
  return 'content-length';
}

type FeatureValue = { readonly value: string | undefined } | Rejection;

function invalidFeature(condition: PriceCondition, why: string): Rejection {
  return reject(400, Reasons.invalidPriceFeature, `the ${featureName(condition)} prices this route but ${why}`);
}

/** A feature's value (undefined when absent), or why it cannot price the request. */
function featureValue(condition: PriceCondition, request: PriceFeatures): FeatureValue {
  if (condition.query !== undefined) {
    const values = new URLSearchParams(request.querystring).getAll(condition.query);
    // Two values would make the price depend on which one is read: refuse instead of guessing.
    if (values.length > 1) return invalidFeature(condition, 'is given more than once');
    return { value: values[0] };
  }
  if (condition.header !== undefined) return { value: request.header(condition.header)?.trim() };
  if (condition.segment !== undefined) return { value: request.path.split('/').filter((s) => s !== '')[condition.segment] };
  if (condition.agent !== undefined) return { value: request.agent };
  if (condition.botCategory !== undefined) return { value: request.bot?.botCategory };
  if (condition.botOrganization !== undefined) return { value: request.bot?.botOrganization };
  // Declared by the client: rules on it are checked at synth never to undercut the route's price.
  if (condition.intent !== undefined) return { value: request.header(INTENT_HEADER)?.trim().toLowerCase() };
  if (!BODY_METHODS.includes(request.method.toUpperCase())) return { value: undefined };
  const length = request.header('content-length')?.trim();
  if (length === undefined) {
    return reject(411, Reasons.lengthRequired, 'this route is priced by the body size: send a Content-Length header (not a chunked body)');
  }
  return { value: length };
}

function matches(condition: PriceCondition, value: string | undefined): boolean {
  if (value === undefined) return false;
  const bounds = condition.contentLength ?? condition;
  if (bounds.min !== undefined && Number(value) < bounds.min) return false;
  if (bounds.max !== undefined && Number(value) > bounds.max) return false;
  if (condition.equalTo !== undefined && value !== condition.equalTo) return false;
  if (condition.oneOf !== undefined && !condition.oneOf.includes(value)) return false;
  return true;
}

function isNumeric(condition: PriceCondition): boolean {
  return condition.contentLength !== undefined || condition.min !== undefined || condition.max !== undefined;
}

/**
 * The terms a request is priced at: the first rule whose conditions all hold, else the route's
 * own. Every feature any rule reads is checked first, whichever rule then matches, so a malformed
 * value is refused the same way on the 402 and on the retry.
 */
export function termsFor(table: RoutePriceTable, request: PriceFeatures): RouteTerms | Rejection {
  if (table.rules.length === 0) return table.base;
  const values = new Map<PriceCondition, string | undefined>();
  for (const rule of table.rules) {
    for (const condition of rule.when) {
      const feature = featureValue(condition, request);
      if ('kind' in feature) return feature;
      if (feature.value !== undefined && isNumeric(condition) && !NUMBER.test(feature.value)) {
        return invalidFeature(condition, `"${feature.value.slice(0, 40)}" is not a non-negative number`);
      }
      values.set(condition, feature.value);
    }
  }
  const index = table.rules.findIndex((candidate) => candidate.when.every((condition) => matches(condition, values.get(condition))));
  const rule = table.rules[index];
  if (!rule) return table.base;
  if (rule.refuses) {
    const who = request.agent === undefined ? 'this request' : `agent "${request.agent}"`;
    return reject(403, Reasons.agentRefused, `the publisher does not sell this resource to ${who} (priceBy rule ${index}); nothing was charged`);
  }
  return rule.terms;
}

/** The terms a hand-off names (its route and, when a rule priced it, that rule). */
export function termsAt(table: RoutePriceTable | undefined, priceRule: number | undefined): RouteTerms | undefined {
  if (!table) return undefined;
  return priceRule === undefined ? table.base : table.rules[priceRule]?.terms;
}
