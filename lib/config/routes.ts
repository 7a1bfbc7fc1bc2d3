/** Priced routes: patterns, prices and the order in which they match. */
import type { AssetConfig, PricedRoute } from '../../lambda/core/config';
import { priceToAtomicUnits } from '../../lambda/core/price';
import { bazaarExtension, MAX_PAYMENT_REQUIRED_HEADER_BYTES, paymentRequiredHeaderBytes } from '../../lambda/core/discovery';
import { patternParts, routePatternError } from '../../lambda/core/routes';
import { MAX_WITHDRAW_DELAY, MIN_WITHDRAW_DELAY } from '../../lambda/core/batch/route-terms';
import { intInRange } from './checks';
import { resolvePriceBy } from './price-by';
import type { Problems } from './problems';
import type { ResolvedRoute } from './resolved';
import { analyzePaths } from './route-overlap';
import type { Engine } from './settings';
import { WAF_MAX_ROUTES, wafPriceProblem } from './waf-pricing';

export function resolveRoutes(
  problems: Problems,
  value: readonly PricedRoute[] | undefined,
  asset: AssetConfig,
  engine: Engine,
  maxTimeoutSeconds: number,
  headers: { readonly forwardedHeaders: readonly string[]; readonly warnings: string[] },
): ResolvedRoute[] {
  const key = 'x402:routes';
  const example = `-c '${key}={"/articles/*":"$0.001"}'`;
  if (value === undefined) {
    problems.add(key, value, 'is required: without priced routes nothing is charged', `set at least one route, e.g. ${example}`);
    return [];
  }
  if (!Array.isArray(value)) {
    problems.add(key, value, 'must be a list of routes', "e.g. routes: [{ pattern: '/articles/*', price: '$0.001' }] (the context key takes the JSON object of pattern → price)");
    return [];
  }
  if (value.length === 0) {
    problems.add(key, value, 'is empty: without priced routes nothing is charged', `set at least one route, e.g. ${example}`);
    return [];
  }
  if (engine === 'waf' && value.length > WAF_MAX_ROUTES) {
    problems.add(key, `${value.length} routes`, `has more routes than the waf engine supports (${WAF_MAX_ROUTES}: one Monetize rule each within the web ACL's capacity)`, 'merge routes with ** patterns, or use x402:engine=edge');
  }

  const routes: ResolvedRoute[] = [];
  for (const raw of value as readonly unknown[]) {
    const route = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<Record<keyof PricedRoute, unknown>>;
    const pattern = route.pattern;
    if (typeof pattern !== 'string') {
      problems.add(key, raw, 'has a route without a pattern', 'give every route a pattern like "/articles/*"');
      continue;
    }
    const where = `${key}["${pattern}"]`;
    const patternIssue = routePatternError(pattern);
    if (patternIssue) {
      problems.add(where, pattern, `malformed route: ${patternIssue}`, 'write "[METHOD ]/path" with * for one path segment and ** for any depth, e.g. "GET /api/*"');
      continue;
    }
    const scheme = route.scheme ?? 'exact';
    if (scheme !== 'exact' && scheme !== 'upto' && scheme !== 'batch-settlement') {
      problems.add(`${where}.scheme`, route.scheme, 'is not a scheme the edge offers', 'write "exact" (a fixed price), "upto" (metered up to maxPrice) or "batch-settlement" (a deposit, then a voucher per request)');
      continue;
    }
    if (scheme !== 'batch-settlement' && (route.minDeposit !== undefined || route.withdrawDelay !== undefined)) {
      problems.add(`${where}.scheme`, route.scheme, 'is not batch-settlement, but minDeposit or withdrawDelay is set (they are deposit terms of payment channels)', 'add scheme: "batch-settlement", or remove minDeposit and withdrawDelay');
      continue;
    }
    const priceField = scheme === 'upto' ? 'maxPrice' : 'price';
    const written = scheme === 'upto' ? route.maxPrice : route.price;
    if (scheme === 'upto' && route.price !== undefined) {
      problems.add(`${where}.price`, route.price, 'is set on an upto route, whose charge the origin reports', 'write the cap as maxPrice and remove price (docs/metering.md)');
      continue;
    }
    if (scheme !== 'upto' && (route.maxPrice !== undefined || route.usageMissing !== undefined)) {
      problems.add(`${where}.scheme`, route.scheme ?? 'exact', `is ${scheme}, but maxPrice or usageMissing is set (they only apply to metered routes)`, 'add scheme: "upto", or remove maxPrice and usageMissing');
      continue;
    }
    if (typeof written !== 'string') {
      // Shows what was written for the route: its price, or the route without its pattern (the context key's value).
      const { pattern: _pattern, ...rest } = route;
      const example = scheme === 'upto' ? '{"scheme":"upto","maxPrice":"$0.05"}' : '"$0.001" or {"price":"$0.001","description":"…"}';
      problems.add(where, written === undefined ? rest : written, `needs a ${priceField}`, `write ${example}`);
      continue;
    }
    const price = priceToAtomicUnits(written, asset.decimals);
    if ('error' in price) {
      problems.add(`${where}.${priceField}`, written, price.error, `write dollars with at most ${asset.decimals} decimals ("$0.001") or an integer of atomic units ("1000")`);
      continue;
    }
    if (scheme === 'upto') {
      if (engine === 'waf') {
        problems.add(`${where}.scheme`, route.scheme, 'is upto, which the waf engine cannot meter (AWS WAF charges a fixed price)', 'use x402:engine=edge, or give the route a fixed price');
        continue;
      }
      if (route.priceBy !== undefined) {
        // The edge offers an upto route's one maximum (with the facilitator's address); request-priced maximums are not built.
        problems.add(`${where}.priceBy`, route.priceBy, 'is set on an upto route, whose charge the origin reports up to its one maxPrice', 'remove priceBy and let the origin report the request\'s cost (Settlement-Overrides), or give each maximum its own upto route (by method or path)');
        continue;
      }
      if (route.usageMissing !== undefined && route.usageMissing !== 'maximum' && route.usageMissing !== 'zero') {
        problems.add(`${where}.usageMissing`, route.usageMissing, 'must be "maximum" or "zero"', 'leave it unset to charge the maximum when the origin reports no usage (docs/metering.md)');
        continue;
      }
    }
    if (scheme === 'batch-settlement') {
      if (engine === 'waf') {
        problems.add(`${where}.scheme`, route.scheme, 'is batch-settlement, which the waf engine cannot offer (AWS WAF settles every request on chain)', 'use x402:engine=edge, or give the route scheme "exact"');
        continue;
      }
      if (route.priceBy !== undefined) {
        // A channel's vouchers are cumulative over one price per request; request-priced increments are not built.
        problems.add(`${where}.priceBy`, route.priceBy, 'is set on a batch-settlement route, whose vouchers pay its one price per request', 'remove priceBy, or give each price its own batch-settlement route (by method or path)');
        continue;
      }
      if (route.minDeposit !== undefined) {
        const deposit = typeof route.minDeposit === 'string' ? priceToAtomicUnits(route.minDeposit, asset.decimals) : { error: 'must be a string' };
        if ('error' in deposit || BigInt(deposit.amount) < BigInt(price.amount)) {
          problems.add(`${where}.minDeposit`, route.minDeposit, 'error' in deposit ? deposit.error : 'is below the price of one request', `write dollars ("$0.10") or atomic units, at least the route's price ${written.trim()} (default: 10 × price)`);
          continue;
        }
      }
      if (route.withdrawDelay !== undefined) {
        const delay = route.withdrawDelay;
        if (typeof delay !== 'number' || !Number.isInteger(delay) || delay < MIN_WITHDRAW_DELAY || delay > MAX_WITHDRAW_DELAY) {
          problems.add(`${where}.withdrawDelay`, delay, `must be whole seconds from ${MIN_WITHDRAW_DELAY} to ${MAX_WITHDRAW_DELAY} (the contract's bounds)`, `leave it unset for ${MIN_WITHDRAW_DELAY} s, or write e.g. 3600; the scheduled claims must run well inside it`);
          continue;
        }
      }
    }
    if (route.description !== undefined && (typeof route.description !== 'string' || route.description.length > 500)) {
      problems.add(`${where}.description`, route.description, 'must be a string of at most 500 characters', 'shorten it');
    }
    if (route.mimeType !== undefined && (typeof route.mimeType !== 'string' || !/^[\w.+-]+\/[\w.+-]+$/.test(route.mimeType))) {
      problems.add(`${where}.mimeType`, route.mimeType, 'is not a MIME type', 'e.g. "text/html" or "application/json"');
    }
    if (route.discovery !== undefined) {
      checkDiscovery(problems, `${where}.discovery`, route, asset, patternParts(pattern));
    }
    if (route.maxTimeoutSeconds !== undefined) {
      intInRange(problems, `${where}.maxTimeoutSeconds`, route.maxTimeoutSeconds, maxTimeoutSeconds, 30, 3600, 'the authorization lifetime');
    }
    const wafProblem = engine === 'waf' ? wafPriceProblem(price.amount, asset.decimals) : undefined;
    if (wafProblem) {
      problems.add(`${where}.price`, route.price, wafProblem.problem, wafProblem.fix);
      continue;
    }
    const { method, path } = patternParts(pattern);
    const priceBy = resolvePriceBy(problems, where, route.priceBy, { asset, engine, method, ...headers, routeAmount: price.amount });
    routes.push(
      stripUndefined({
        pattern: pattern.trim(),
        price: scheme !== 'upto' ? written.trim() : undefined,
        scheme: scheme !== 'exact' ? scheme : undefined,
        maxPrice: scheme === 'upto' ? written.trim() : undefined,
        usageMissing: route.usageMissing as PricedRoute['usageMissing'],
        minDeposit: typeof route.minDeposit === 'string' ? route.minDeposit.trim() : undefined,
        withdrawDelay: route.withdrawDelay as number | undefined,
        description: route.description as string | undefined,
        mimeType: route.mimeType as string | undefined,
        discovery: route.discovery as PricedRoute['discovery'],
        maxTimeoutSeconds: route.maxTimeoutSeconds as number | undefined,
        priceBy,
        amount: price.amount,
        method,
        path: path.toLowerCase(),
      }),
    );
  }
  checkOverlaps(problems, routes, engine);
  return routes;
}

/** A host as long as most: the resource URL in the header names the host the agent asked for. */
const SAMPLE_RESOURCE_ORIGIN = `https://${'h'.repeat(48)}.example`;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The discovery metadata's shape, and the size of the PAYMENT-REQUIRED header that carries it. */
function checkDiscovery(
  problems: Problems,
  where: string,
  route: Partial<Record<keyof PricedRoute, unknown>>,
  asset: AssetConfig,
  { method, path }: ReturnType<typeof patternParts>,
): void {
  const discovery = route.discovery;
  if (!isPlainObject(discovery)) {
    problems.add(where, discovery, 'must be an object', 'e.g. {"input":{"q":"cats"},"inputSchema":{"properties":{"q":{"type":"string"}}},"output":{"example":{"results":[]}}}');
    return;
  }
  const known = ['input', 'inputSchema', 'bodyType', 'output'];
  const unknownField = Object.keys(discovery).find((field) => !known.includes(field));
  if (unknownField) {
    problems.add(`${where}.${unknownField}`, discovery[unknownField], 'is not a discovery field', `use ${known.join(', ')}`);
    return;
  }
  for (const field of ['input', 'inputSchema'] as const) {
    if (discovery[field] !== undefined && !isPlainObject(discovery[field])) {
      problems.add(`${where}.${field}`, discovery[field], 'must be a JSON object', field === 'input' ? 'write example query parameters or body as {"name": value}' : 'write a JSON Schema object, e.g. {"properties":{"q":{"type":"string"}}}');
      return;
    }
  }
  if (discovery.bodyType !== undefined && !['json', 'form-data', 'text'].includes(discovery.bodyType as string)) {
    problems.add(`${where}.bodyType`, discovery.bodyType, 'must be "json", "form-data" or "text"', 'leave it unset for a JSON body');
    return;
  }
  const output = discovery.output;
  if (output !== undefined && (!isPlainObject(output) || Object.keys(output).some((field) => field !== 'example' && field !== 'schema') || (output.schema !== undefined && !isPlainObject(output.schema)))) {
    problems.add(`${where}.output`, output, 'must be {"example"?: any, "schema"?: JSON Schema object}', 'e.g. {"example":{"results":[]},"schema":{"properties":{"results":{"type":"array"}}}}');
    return;
  }
  const bytes = worstCaseChallengeBytes(route, asset, path, () => bazaarExtension(discovery as PricedRoute['discovery'] & object, method));
  if (bytes > MAX_PAYMENT_REQUIRED_HEADER_BYTES) {
    problems.add(
      where,
      `${bytes} bytes`,
      `makes the PAYMENT-REQUIRED header ${bytes} bytes, over the ${MAX_PAYMENT_REQUIRED_HEADER_BYTES} that intermediaries reliably pass`,
      'shorten the examples and schemas (drop descriptions inside the schemas, keep one example item), or the route description',
    );
  }
}

/** A path of the route's pattern as long as most: each `*` run as 32 characters. */
function samplePath(path: string): string {
  return path.replace(/\*+/g, 'x'.repeat(32));
}

/**
 * The largest PAYMENT-REQUIRED header a route sends, in bytes: its terms with an upto extra and the
 * longest error code, on a host as long as most, with the `extensions` made for that resource URL.
 * Placeholders stand in for what synth resolves later.
 */
export function worstCaseChallengeBytes(
  route: Partial<Record<keyof PricedRoute, unknown>>,
  asset: AssetConfig,
  path: string,
  extensions: (resource: string) => Record<string, unknown>,
): number {
  const resource = `${SAMPLE_RESOURCE_ORIGIN}${samplePath(path)}`;
  return paymentRequiredHeaderBytes({
    x402Version: 2,
    error: 'invalid_exact_evm_payload_authorization_valid_before',
    resource: { url: resource, description: route.description ?? '', mimeType: route.mimeType ?? '' },
    accepts: [{ scheme: 'exact', network: 'eip155:84532', amount: '1'.repeat(20), asset: asset.address, payTo: `0x${'0'.repeat(40)}`, maxTimeoutSeconds: 3600, extra: { name: asset.name, version: asset.version, facilitatorAddress: `0x${'0'.repeat(40)}` } }],
    extensions: extensions(resource),
  });
}

// ---------------------------------------------------------------------------------------------
// Route overlap analysis
//
// Routes are tried in order and the first match prices the request, with one rule for methods
// (lambda/core/routes.ts matchRoute): a route for every method does not price a path that an
// earlier method-specific route matched, so the edge refuses (405) the methods that route does not
// list instead of selling them at the broader price. Two routes may overlap only when the earlier
// one is strictly more specific (an exception carved out of the later one). A later route that an
// earlier one fully covers can never match (shadowed); two routes that overlap partially make the
// price depend on their order by accident. Both fail synth, with an example path;
// lib/route-overlap.ts finds those paths exactly. The waf engine has no such refusal: there a
// method-specific route before a route for every method would sell its other methods at the
// broader price, so that shape fails synth too.

/** Methods a route prices (HEAD with GET, as the edge does); undefined for every method. */
function routeMethods(route: ResolvedRoute): readonly string[] | undefined {
  if (route.method === undefined) return undefined;
  return route.method === 'GET' ? ['GET', 'HEAD'] : [route.method];
}

function checkOverlaps(problems: Problems, routes: readonly ResolvedRoute[], engine: Engine): void {
  for (let j = 1; j < routes.length; j++) {
    for (let i = 0; i < j; i++) {
      const earlier = routes[i];
      const later = routes[j];
      const earlierMethods = routeMethods(earlier);
      const laterMethods = routeMethods(later);
      const methodsMeet = !earlierMethods || !laterMethods || laterMethods.some((m) => earlierMethods.includes(m));
      if (!methodsMeet) continue;
      const paths = analyzePaths(earlier.path, later.path);
      if (paths.both === undefined) continue;
      const where = `x402:routes["${later.pattern}"]`;
      if (engine === 'waf' && earlierMethods && !laterMethods) {
        const otherMethod = earlierMethods.includes('POST') ? 'GET' : 'POST';
        problems.add(
          where,
          later.pattern,
          `would price the methods other than ${earlier.method} of paths the earlier route "${earlier.pattern}" matches (e.g. ${otherMethod} ${paths.both}) at its own price: AWS WAF cannot refuse the methods a route does not list`,
          `make "${later.pattern}" method-specific (e.g. "${earlier.method} ${later.pattern}"), make "${earlier.pattern}" apply to every method, or use x402:engine=edge, which answers 405 to those methods`,
        );
        continue;
      }
      // A route for every method after a method-specific one is refused (405) on the shared paths
      // for the other methods, so only the paths matter; otherwise the later route's methods must
      // all be priced by the earlier one.
      const laterWithinEarlier = paths.onlyB === undefined && (!earlierMethods || !laterMethods || laterMethods.every((m) => earlierMethods.includes(m)));
      const earlierWithinLater = paths.onlyA === undefined;
      const sameMethods = earlier.method === later.method;
      if (laterWithinEarlier && earlierWithinLater && sameMethods) {
        problems.add(where, later.pattern, `duplicates the earlier route "${earlier.pattern}" (matching is case-insensitive)`, 'remove one of them');
      } else if (laterWithinEarlier) {
        const why = earlier.method && !later.method
          ? `the earlier route "${earlier.pattern}" matches every path it would, and the edge refuses (405) the methods other than ${earlier.method} there rather than sell them at another price`
          : `the earlier route "${earlier.pattern}" matches every request it would (first match wins)`;
        problems.add(where, later.pattern, `can never match: ${why}`, `move "${later.pattern}" above "${earlier.pattern}" if it is an exception, or remove it`);
      } else if (!earlierWithinLater) {
        problems.add(
          where,
          later.pattern,
          `overlaps the earlier route "${earlier.pattern}" (both match e.g. ${methodLabel(earlier, later)}${paths.both}) without either containing the other, so the price of such paths depends on their order`,
          'make the patterns disjoint, or add a more specific route for the shared paths above both',
        );
      }
      // earlierWithinLater only: an intended exception (specific before general). Fine.
    }
  }
}

function methodLabel(a: ResolvedRoute, b: ResolvedRoute): string {
  const method = a.method ?? b.method;
  return method ? `${method} ` : '';
}

export function stripUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
