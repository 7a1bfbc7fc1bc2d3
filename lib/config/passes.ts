/** Passes and their signing keys (x402:passes, x402:passKeys): validated at synth like everything else. */
import { createHash, createPublicKey } from 'node:crypto';
import type { AssetConfig, PassesConfig, PassOfferConfig, PassPublicJwk } from '../../lambda/core/config';
import { bazaarExtension, CATALOG_PATH, MAX_PAYMENT_REQUIRED_HEADER_BYTES } from '../../lambda/core/discovery';
import { advertisedPass, MAX_PASS_SECONDS, parsePassDuration, passExtension, PASS_NAME, PASS_SALE_PREFIX } from '../../lambda/core/passes/offers';
import { signInChallenge, signInNonce } from '../../lambda/core/passes/sign-in-challenge';
import { priceToAtomicUnits } from '../../lambda/core/price';
import { patternParts, routePatternError } from '../../lambda/core/routes';
import { secretLocation, SECRET_FIX } from './payment-network';
import type { Problems } from './problems';
import type { ResolvedRoute } from './resolved';
import { analyzePaths } from './route-overlap';
import { worstCaseChallengeBytes } from './routes';
import type { Engine, PassKey, PassOffer } from './settings';

/** What the constructs need of the passes (the site id is added per construct: {@link passSiteId}). */
export type ResolvedPasses = Omit<PassesConfig, 'siteId'> & { readonly signingKey: Extract<NonNullable<PassesConfig['signingKey']>, { kind: 'secrets-manager' }> };

/** A pass's scope stays small: it travels in every pass (and the 402 that advertises it). */
const MAX_SCOPE_PATTERNS = 8;
const MAX_PASSES = 8;
/** A larger quota is no limit at all: 10 million requests in a pass of at most 31 days is ~4 a second throughout. */
const MAX_PASS_QUOTA = 10_000_000;
/** Paths the edge answers itself (pass sales, and the catalogue: CATALOG_PATH); no route may price them. */
const RESERVED_PREFIX = '/.well-known/x402/';
const KID = /^[A-Za-z0-9_-]{1,64}$/;
/** The size checks' network: the sign-in challenge and the pass offers name it (Base Sepolia's is the longer CAIP-2 id). */
const SAMPLE_NETWORK = 'eip155:84532';
const COORDINATE = /^[A-Za-z0-9_-]{43}$/;

export function resolvePasses(
  problems: Problems,
  settings: { readonly passes?: readonly PassOffer[]; readonly passKeys?: readonly PassKey[] },
  engine: Engine,
  routes: readonly ResolvedRoute[],
  asset: AssetConfig | undefined,
  warnings: string[],
  now: Date = new Date(),
): ResolvedPasses | undefined {
  for (const route of routes) {
    if (route.path.startsWith(RESERVED_PREFIX)) {
      problems.add(`x402:routes["${route.pattern}"]`, route.pattern, `is under ${RESERVED_PREFIX}, where cdk-x402 sells passes (${PASS_SALE_PREFIX}<name>)`, 'price another path');
    } else if (route.path === CATALOG_PATH) {
      problems.add(`x402:routes["${route.pattern}"]`, route.pattern, `is ${CATALOG_PATH}, where the edge serves the catalogue of what it sells, free (docs/discovery.md)`, 'price another path');
    }
  }
  const { passes, passKeys } = settings;
  if (passes === undefined || (Array.isArray(passes) && passes.length === 0)) {
    if (passKeys !== undefined) warnings.push('x402:passKeys has no effect without x402:passes');
    return undefined;
  }
  if (engine === 'waf') {
    problems.add(
      'x402:passes',
      passes,
      "cannot be sold by the waf engine: AWS WAF's native Monetize action charges each request and has no way to issue or verify a pass",
      'use x402:engine=edge (its Lambda@Edge functions sell passes and verify them offline), or remove x402:passes',
    );
    return undefined;
  }
  if (!Array.isArray(passes)) {
    problems.add('x402:passes', passes, 'must be a list of passes', 'e.g. -c \'x402:passes={"day":{"price":"$0.50","duration":"24h","routes":["/articles/*"]}}\'');
    return undefined;
  }
  if (passes.length > MAX_PASSES) problems.add('x402:passes', `${passes.length} passes`, `has more than ${MAX_PASSES} passes (each is advertised in the 402s of its routes)`, 'offer fewer passes');
  const offers: PassOfferConfig[] = [];
  for (const raw of passes as readonly unknown[]) {
    const offer = resolveOffer(problems, raw, routes, asset, offers);
    if (offer) offers.push(offer);
  }
  const keys = resolveKeys(problems, passKeys, offers, warnings, now);
  if (!keys || offers.length !== passes.length) return undefined;
  if (asset) checkChallengeSizes(problems, routes, offers, asset);
  return { offers, ...keys };
}

/**
 * The PAYMENT-REQUIRED header of a route with discovery metadata (which synth keeps within 2 KB:
 * routes.ts checkDiscovery) also carries the passes that open it and, for their holders, the
 * sign-in challenge (the paywall's challengeExtensions): counted here, the route's own size being
 * checked already.
 */
function checkChallengeSizes(problems: Problems, routes: readonly ResolvedRoute[], offers: readonly PassOfferConfig[], asset: AssetConfig): void {
  for (const route of routes) {
    if (!route.discovery) continue;
    const opening = offers.filter((offer) => offer.scope.some((pattern) => opensRoute(pattern, route)));
    if (opening.length === 0) continue;
    const bazaar = () => bazaarExtension(route.discovery!, route.method);
    if (worstCaseChallengeBytes(route, asset, route.path, bazaar) > MAX_PAYMENT_REQUIRED_HEADER_BYTES) continue;
    const bytes = worstCaseChallengeBytes(route, asset, route.path, (resource) => {
      const { origin } = new URL(resource);
      const advertised = opening.map((offer) => advertisedPass(offer, { network: SAMPLE_NETWORK, asset })).map((pass) => ({ ...pass, url: `${origin}${pass.url}` }));
      return { ...bazaar(), ...passExtension(advertised), ...signInChallenge(resource, SAMPLE_NETWORK, 0, signInNonce()) };
    });
    if (bytes > MAX_PAYMENT_REQUIRED_HEADER_BYTES) {
      problems.add(
        `x402:routes["${route.pattern}"].discovery`,
        `${bytes} bytes`,
        `with the passes that open it (${opening.map((offer) => offer.name).join(', ')}) and their sign-in challenge, makes the PAYMENT-REQUIRED header ${bytes} bytes, over the ${MAX_PAYMENT_REQUIRED_HEADER_BYTES} that intermediaries reliably pass`,
        'shorten the discovery examples and schemas or the pass descriptions, or open this route with fewer passes',
      );
    }
  }
}

/** Whether a pass scope pattern opens some request the route prices (same method, overlapping paths). */
function opensRoute(pattern: string, route: ResolvedRoute): boolean {
  const { method, path } = patternParts(pattern);
  const methods = (m: string | undefined) => (m === 'HEAD' ? 'GET' : m);
  if (method !== undefined && route.method !== undefined && methods(method) !== methods(route.method)) return false;
  return analyzePaths(path.toLowerCase(), route.path).both !== undefined;
}

function resolveOffer(problems: Problems, raw: unknown, routes: readonly ResolvedRoute[], asset: AssetConfig | undefined, seen: readonly PassOfferConfig[]): PassOfferConfig | undefined {
  const offer = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<Record<keyof PassOffer, unknown>>;
  const name = offer.name;
  if (typeof name !== 'string' || !PASS_NAME.test(name)) {
    problems.add('x402:passes', raw, `has a pass named ${JSON.stringify(name)}; a name is lower-case letters, digits and "-" (at most 32), the last segment of its sale URL`, 'e.g. "day" or "week-pass"');
    return undefined;
  }
  const where = `x402:passes["${name}"]`;
  const before = problems.list.length;
  if (seen.some((other) => other.name === name)) problems.add(where, name, 'is defined twice', 'give each pass its own name');

  let amount: string | undefined;
  if (typeof offer.price !== 'string') problems.add(`${where}.price`, offer.price, 'is required', 'write "$0.50" or an integer of atomic units');
  else if (asset) {
    const price = priceToAtomicUnits(offer.price, asset.decimals);
    if ('error' in price) problems.add(`${where}.price`, offer.price, price.error, `write dollars with at most ${asset.decimals} decimals ("$0.50") or an integer of atomic units`);
    else amount = price.amount;
  }

  let durationSeconds = 0;
  if (typeof offer.duration !== 'string') problems.add(`${where}.duration`, offer.duration, 'is required', 'write <number><m|h|d>, e.g. "24h", from 1m to 31d');
  else {
    const duration = parsePassDuration(offer.duration);
    if ('error' in duration) problems.add(`${where}.duration`, offer.duration, `${duration.error} (a pass lasts 1 minute to 31 days; the upper bound is how long a retired signing key must keep verifying)`, 'e.g. "30m", "24h" or "7d"');
    else durationSeconds = duration.seconds;
  }

  const scope = resolveScope(problems, `${where}.routes`, offer.routes, routes);

  if (offer.quota !== undefined && (typeof offer.quota !== 'number' || !Number.isSafeInteger(offer.quota) || offer.quota < 1 || offer.quota > MAX_PASS_QUOTA)) {
    problems.add(
      `${where}.quota`,
      offer.quota,
      `must be an integer from 1 to ${MAX_PASS_QUOTA.toLocaleString('en-US')} (requests one pass allows, counted per pass at the edge; docs/passes.md, "Quota")`,
      'e.g. 1000, or leave quota out for unlimited requests while the pass lasts',
    );
  }
  if (offer.description !== undefined && (typeof offer.description !== 'string' || offer.description.length > 500)) {
    problems.add(`${where}.description`, offer.description, 'must be a string of at most 500 characters', 'shorten it');
  }
  if (scope) checkMetered(problems, `${where}.metered`, offer.metered, scope, routes);
  if (problems.list.length > before || amount === undefined || !scope) return undefined;
  return {
    name,
    price: (offer.price as string).trim(),
    durationSeconds,
    scope,
    ...(offer.quota === undefined ? {} : { quota: offer.quota as number }),
    ...(offer.metered === undefined ? {} : { metered: offer.metered as boolean }),
    ...(offer.description === undefined ? {} : { description: offer.description as string }) };
}

/** Each scope pattern lies within one priced route, so a pass never opens a path that is not for sale. */
function resolveScope(problems: Problems, key: string, value: unknown, routes: readonly ResolvedRoute[]): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_SCOPE_PATTERNS) {
    problems.add(key, value, `must list 1 to ${MAX_SCOPE_PATTERNS} route patterns the pass opens`, 'e.g. ["/articles/*"]');
    return undefined;
  }
  const scope: string[] = [];
  for (const raw of value as unknown[]) {
    const pattern = typeof raw === 'string' ? raw.trim() : '';
    const issue = typeof raw === 'string' ? routePatternError(pattern) : 'is not a string';
    if (issue) {
      problems.add(key, raw, `malformed route pattern: ${issue}`, 'write "[METHOD ]/path" as in x402:routes, e.g. "/articles/*"');
      continue;
    }
    const { method, path: patternPath } = patternParts(pattern);
    const path = patternPath.toLowerCase();
    const covered = routes.some((route) => (route.method === undefined || route.method === method) && analyzePaths(path, route.path).onlyA === undefined);
    if (!covered) {
      const example = routes.map((route) => analyzePaths(path, route.path).onlyA).find((p) => p !== undefined) ?? path;
      problems.add(key, pattern, `opens paths no priced route charges for (e.g. ${example}): a pass opens only what is for sale`, `use a pattern within one of x402:routes (${routes.map((r) => r.pattern).join(', ')}), or price those paths first`);
      continue;
    }
    if (!scope.includes(pattern)) scope.push(pattern);
  }
  return scope.length === value.length ? scope : undefined;
}

/**
 * A pass whose scope reaches a metered (upto) route must say whether it opens it: unmetered access
 * to work whose price the origin reports is a decision, never a side effect of a broad pattern.
 */
function checkMetered(problems: Problems, key: string, value: unknown, scope: readonly string[], routes: readonly ResolvedRoute[]): void {
  const reached = routes.filter((route) => route.scheme === 'upto' && scope.some((pattern) => reaches(pattern, route)));
  if (value !== undefined && typeof value !== 'boolean') {
    problems.add(key, value, 'must be true or false', 'true: pass holders use the metered routes of its routes unmetered; false: they pay those per use');
    return;
  }
  if (reached.length > 0 && value === undefined) {
    problems.add(
      key,
      value,
      `is not set, but the pass's routes reach the metered (upto) route${reached.length > 1 ? 's' : ''} ${reached.map((r) => `"${r.pattern}"`).join(', ')}: whether the pass opens them is ambiguous`,
      'set "metered": false (the pass does not apply there: its holders pay per use, up to maxPrice) or "metered": true (its holders use them unmetered, at no charge per request)',
    );
    return;
  }
  if (reached.length === 0 && value !== undefined) {
    problems.add(key, value, 'is set, but the pass\'s routes reach no metered (upto) route', 'remove metered');
  }
}

/** Whether a scope pattern and a route share a request (a method both take, a path both match). */
function reaches(pattern: string, route: ResolvedRoute): boolean {
  const { method, path } = patternParts(pattern);
  return (method === undefined || route.method === undefined || method === route.method) && analyzePaths(path.toLowerCase(), route.path).both !== undefined;
}

function resolveKeys(
  problems: Problems,
  value: readonly PassKey[] | undefined,
  offers: readonly PassOfferConfig[],
  warnings: string[],
  now: Date,
): Pick<ResolvedPasses, 'verifyKeys' | 'signingKey'> | undefined {
  const key = 'x402:passKeys';
  const create = 'run `cdk-x402 pass-key create` and paste the entry it prints into the context of cdk.json';
  if (!Array.isArray(value) || value.length === 0) {
    problems.add(key, value, 'is required with x402:passes: passes are signed with a key only the origin-facing functions can read', create);
    return undefined;
  }
  const before = problems.list.length;
  const verifyKeys: { kid: string; jwk: PassPublicJwk }[] = [];
  let signingKey: ResolvedPasses['signingKey'] | undefined;
  let active = 0;
  const longest = Math.max(0, ...offers.map((o) => o.durationSeconds));
  for (const raw of value as readonly unknown[]) {
    const entry = (typeof raw === 'object' && raw !== null ? raw : {}) as Partial<Record<keyof PassKey, unknown>>;
    if (typeof entry.kid !== 'string' || !KID.test(entry.kid)) {
      problems.add(key, raw, `has a key id ${JSON.stringify(entry.kid)}; a kid is [A-Za-z0-9_-], at most 64`, create);
      continue;
    }
    const where = `${key}["${entry.kid}"]`;
    if (verifyKeys.some((k) => k.kid === entry.kid)) problems.add(where, entry.kid, 'is listed twice', 'keep one entry per key id');
    const jwk = publicJwk(entry.publicKey);
    if (!jwk) {
      problems.add(`${where}.publicKey`, entry.publicKey, 'is not a P-256 public key JWK {kty: "EC", crv: "P-256", x, y}', 'paste the publicKey that `cdk-x402 pass-key create` printed');
      if (entry.retiredAt === undefined) active++;
      continue;
    }
    verifyKeys.push({ kid: entry.kid, jwk });
    if (entry.retiredAt !== undefined) {
      const retired = typeof entry.retiredAt === 'string' ? Date.parse(entry.retiredAt) : NaN;
      if (Number.isNaN(retired)) problems.add(`${where}.retiredAt`, entry.retiredAt, 'is not an ISO 8601 time', 'e.g. "2026-12-01T00:00:00Z" (`cdk-x402 pass-key retire` writes it)');
      else if (now.getTime() > retired + (longest || MAX_PASS_SECONDS) * 1000) {
        warnings.push(`${where} was retired at ${entry.retiredAt}; every pass it signed has expired, so it can be removed from x402:passKeys`);
      }
      continue;
    }
    active++;
    const location = typeof entry.secret === 'string' ? secretLocation(entry.secret) : undefined;
    if (!location) {
      problems.add(`${where}.secret`, entry.secret, 'must name the Secrets Manager secret holding the private key of the active key', SECRET_FIX);
      continue;
    }
    signingKey = { kid: entry.kid, kind: 'secrets-manager', ...location };
  }
  if (active !== 1 && problems.list.length === before) {
    problems.add(key, value, `has ${active} active keys (without retiredAt); exactly one signs new passes`, active === 0 ? create : 'retire all but one: `cdk-x402 pass-key retire --kid <old>`');
    return undefined;
  }
  return signingKey && { verifyKeys, signingKey };
}

function publicJwk(value: unknown): PassPublicJwk | undefined {
  const jwk = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.x !== 'string' || typeof jwk.y !== 'string' || !COORDINATE.test(jwk.x) || !COORDINATE.test(jwk.y)) return undefined;
  const key = { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y } as const;
  try {
    // Not a point on the curve: node:crypto refuses it.
    createPublicKey({ key, format: 'jwk' });
  } catch {
    return undefined;
  }
  return key;
}

/**
 * The `iss` of a deployment's passes: the receiving address and a stable id of the construct
 * (stack name and construct path), so two sites, or two stacks of one app, never accept each
 * other's passes even if they shared a key. Not the distribution id or the host: both are
 * unknown at synth, and a site keeps its passes valid across a new domain name.
 */
export function passSiteId(payTo: string, stackName: string, constructPath: string): string {
  const stable = createHash('sha256').update(`${stackName}\0${constructPath}`, 'utf8').digest('hex').slice(0, 16);
  return `${payTo.toLowerCase()}/${stable}`;
}
