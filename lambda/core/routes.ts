import type { EdgeConfig, PricedRoute } from './config';
import { bazaarExtension } from './discovery';
import { priceToAtomicUnits } from './price';
import { MIN_WITHDRAW_DELAY, type BatchRouteTerms } from './batch/route-terms';

/** A pattern compiled for {@link matchRoute}. */
export interface CompiledPattern {
  readonly pattern: string;
  /** Upper-case method, or undefined when every method is priced. */
  readonly method?: string;
  readonly matcher: RegExp;
}

export interface CompiledRoute extends CompiledPattern {
  /** Atomic units offered in the 402: the price (`exact`) or the maximum (`upto`). */
  readonly amount: string;
  readonly scheme: 'exact' | 'upto' | 'batch-settlement';
  /** `batch-settlement`: the price per request and the deposit terms a channel is opened with. */
  readonly batch?: BatchRouteTerms;
  /** `upto`: the charge of a 2xx response that reports no readable usage. */
  readonly usageMissing: 'maximum' | 'zero';
  readonly description: string;
  readonly mimeType: string;
  readonly maxTimeoutSeconds: number;
  /** The 402's `extensions.bazaar` of a route that declares discovery metadata (discovery.ts). */
  readonly discoveryExtension?: Record<string, unknown>;
}

const METHOD = /^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)$/;

/** Returns why a route pattern is invalid, or undefined when it is fine. */
export function routePatternError(pattern: string): string | undefined {
  const parts = pattern.trim().split(/\s+/);
  if (parts.length > 2) return `pattern "${pattern}" must be "[METHOD ]/path"`;
  const path = parts[parts.length - 1];
  if (parts.length === 2 && !METHOD.test(parts[0])) {
    return `pattern "${pattern}" starts with "${parts[0]}", which is not an HTTP method (GET, POST, ...)`;
  }
  if (!path.startsWith('/')) return `pattern "${pattern}" must start with "/"`;
  if (/[?#%;\\]/.test(path)) return `pattern "${pattern}" must be a plain path without ?, #, %, ; or \\`;
  if (/\*{3,}/.test(path)) return `pattern "${pattern}" has "***": use "*" (one segment) or "**" (any depth)`;
  if (path.split('/').some((segment) => segment === '.' || segment === '..')) {
    return `pattern "${pattern}" contains "." or ".." segments: write the path it means`;
  }
  return undefined;
}

/** Compiles validated routes; throws on an invalid one (the constructs validate first, with context). */
export function compileRoutes(config: Pick<EdgeConfig, 'routes' | 'asset' | 'maxTimeoutSeconds'>): CompiledRoute[] {
  return config.routes.map((route: PricedRoute) => {
    const scheme = route.scheme ?? 'exact';
    const price = priceToAtomicUnits((scheme === 'upto' ? route.maxPrice : route.price) ?? '', config.asset.decimals);
    if ('error' in price) throw new Error(`route "${route.pattern}": ${price.error}`);
    const pattern = compilePattern(route.pattern);
    let batch: BatchRouteTerms | undefined;
    if (scheme === 'batch-settlement') {
      const minDeposit = route.minDeposit === undefined ? undefined : priceToAtomicUnits(route.minDeposit, config.asset.decimals);
      if (minDeposit && 'error' in minDeposit) throw new Error(`route "${route.pattern}" minDeposit: ${minDeposit.error}`);
      batch = { price: price.amount, withdrawDelay: route.withdrawDelay ?? MIN_WITHDRAW_DELAY, ...(minDeposit ? { minDeposit: minDeposit.amount } : {}) };
    }
    return {
      ...pattern,
      amount: price.amount,
      scheme,
      ...(batch ? { batch } : {}),
      usageMissing: route.usageMissing ?? 'maximum',
      description: route.description ?? '',
      mimeType: route.mimeType ?? '',
      maxTimeoutSeconds: route.maxTimeoutSeconds ?? config.maxTimeoutSeconds,
      ...(route.discovery ? { discoveryExtension: bazaarExtension(route.discovery, pattern.method) } : {}),
    };
  });
}

/** A `[METHOD ]/path` pattern for {@link matchRoute}; throws on an invalid one. */
/** The method (when the pattern names one) and the path of a pattern {@link routePatternError} accepts. */
export function patternParts(pattern: string): { readonly method: string | undefined; readonly path: string } {
  const parts = pattern.trim().split(/\s+/);
  return { method: parts.length === 2 ? parts[0] : undefined, path: parts[parts.length - 1] };
}

export function compilePattern(pattern: string): CompiledPattern {
  const problem = routePatternError(pattern);
  if (problem) throw new Error(problem);
  const { method, path } = patternParts(pattern);
  return { pattern, method, matcher: globToRegExp(path.toLowerCase()) };
}

/** Patterns and paths are matched without a trailing slash (see {@link matchRoute}). */
function globToRegExp(glob: string): RegExp {
  const source = withoutTrailingSlash(glob)
    .split('**')
    .map((part) => part.split('*').map(escapeRegExp).join('[^/]*'))
    .join('.*');
  return new RegExp(`^${source}$`);
}

function withoutTrailingSlash(path: string): string {
  return path.length > 1 ? path.replace(/\/+$/, '') || '/' : path;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * The canonical form of a request path, as an origin that decodes and normalizes paths would see
 * it: percent-decoded until stable (double encoding included), backslashes read as slashes,
 * matrix parameters (`;...` in a segment) dropped, empty and dot segments resolved. Matching on
 * this form means `/free/../paid`, `/%70aid`, `//paid`, `/PAID`, `/paid;.css` and `/free/..;/paid`
 * cannot dodge a price. Undefined for paths no origin should receive (undecodable escapes, control
 * characters).
 *
 * Java servlet containers strip `;...` from every segment before routing (and Tomcat reads `..;`
 * as `..`), while Node, Go and nginx keep it as part of the name. The edge forwards exactly this
 * form (see {@link originPath}), so no origin ever sees a `;` in a segment from payment-eligible
 * traffic and every origin serves the path that was priced. `%3B` counts as `;`: some frameworks
 * decode before they strip.
 */
export function canonicalPath(uri: string): string | undefined {
  let decoded = uri;
  for (let round = 0; round < 4; round++) {
    let next: string;
    try {
      next = decodeURIComponent(decoded);
    } catch {
      // A literal "%" left after a valid decoding round is data, not an escape.
      if (round === 0) return undefined;
      break;
    }
    if (next === decoded) break;
    decoded = next;
  }
  // Still-encoded after four rounds, or control characters: no honest client sends that.
  if (/[\u0000-\u001f\u007f]/.test(decoded) || /%[0-9a-f]{2}/i.test(decoded)) return undefined;
  const segments: string[] = [];
  for (const withParameters of decoded.replace(/\\/g, '/').split('/')) {
    // Before dot segments are resolved, as Tomcat does: "..;x" is "..".
    const segment = withParameters.split(';', 1)[0];
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailingSlash = decoded.length > 1 && /[/\\]$/.test(decoded) && segments.length > 0;
  return '/' + segments.join('/') + (trailingSlash ? '/' : '');
}

/**
 * The canonical path as a request target for the origin: each segment percent-encoded again, so
 * the origin decodes it to exactly the path that was priced. Forwarding the decoded form would let
 * `/report%3Fx` be priced as the path "/report?x" and then reach the origin as "/report" with a
 * query string (and decoded spaces or non-ASCII characters are not valid in a request target).
 */
export function originPath(canonical: string): string {
  return canonical
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/%(24|26|2B|2C|3D|3A|40)/g, (escape) => decodeURIComponent(escape)))
    .join('/');
}

/** HEAD is GET without the body (RFC 9110 §9.3.2): a GET route prices and allows HEAD too. */
function routeAllows(route: CompiledPattern, method: string): boolean {
  return route.method === undefined || route.method === method || (route.method === 'GET' && method === 'HEAD');
}

export type RouteMatch =
  | { readonly kind: 'priced'; readonly index: number }
  | { readonly kind: 'free' }
  /** The path is priced for other methods only: `allowed` lists them (HEAD with GET). */
  | { readonly kind: 'methodNotAllowed'; readonly allowed: readonly string[] };

/**
 * How a request is priced, matching case-insensitively on the canonical path. The first route
 * whose path matches and that allows the method prices it, with one exception: a route for every
 * method does not price a path that an earlier method-specific route matched with another method.
 * With `GET /api/premium-report` ($0.01) before `/api/**` ($0.002), a POST to the report is
 * refused (405), never sold at $0.002; a path priced for some methods only refuses the others.
 * A trailing slash never changes the price: most origins (Express by default, many CMSs) serve
 * `/articles/one/` as `/articles/one`, so both match as `/articles/one`.
 */
export function matchRoute(routes: readonly CompiledPattern[], method: string, path: string): RouteMatch {
  const lowered = withoutTrailingSlash(path).toLowerCase();
  const upperMethod = method.toUpperCase();
  const claimedBy: string[] = [];
  for (const [index, route] of routes.entries()) {
    if (!route.matcher.test(lowered)) continue;
    if (routeAllows(route, upperMethod) && (route.method !== undefined || claimedBy.length === 0)) return { kind: 'priced', index };
    if (route.method === undefined) break;
    claimedBy.push(route.method);
  }
  if (claimedBy.length === 0) return { kind: 'free' };
  const allowed = new Set(claimedBy.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])));
  return { kind: 'methodNotAllowed', allowed: [...allowed] };
}
