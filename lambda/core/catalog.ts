/**
 * The catalogue of what a deployment sells: every priced route, metered (`upto`) route and pass, as
 * the per-origin discovery manifest of the x402 draft "Discovery: /.well-known/x402.json"
 * (x402-foundation/x402, specs/extensions/well-known-discovery.md; docs/discovery.md). Pure and
 * configuration-only: the edge serves it (paywall.ts) and `cdk-x402 catalog` prints it from the
 * same function, and its `accepts` are built by the same code as the 402's, so they are equal.
 */
import { createHash } from 'node:crypto';
import type { PaymentRequirements, ResourceInfo } from '@x402/core/types';
import type { Address } from 'viem';
import type { EdgeConfig, PassOfferConfig, PricedRoute } from './config';
import { BODY_METHODS } from './methods';
import { advertisedPass, passExtension, passSaleRoute, type AdvertisedPass } from './passes/offers';
import { BATCH_SETTLEMENT_SCHEME } from './batch/route-terms';
import { batchExtra } from './batch/terms';
import { resourceInfo, routeTerms } from './requirements';
import { compileRoutes, patternParts, type CompiledRoute } from './routes';

/** How long agents and shared caches may reuse the catalogue: it changes only with a deploy. */
export const CATALOG_MAX_AGE_SECONDS = 300;

/** What the catalogue is built from: the parts of the edge configuration that price something. */
export type CatalogConfig = Pick<EdgeConfig, 'network' | 'payTo' | 'asset' | 'routes' | 'maxTimeoutSeconds'> & {
  readonly passes?: { readonly offers: readonly PassOfferConfig[] };
};

/** How to call a resource (the draft's `DiscoveryInput`): the route's method and path, and the declared input schema. */
export interface CatalogInput {
  /** Absent when the route prices every method. */
  readonly method?: string;
  /** The route's path pattern: `*` matches within one segment, `**` across segments. */
  readonly routeTemplate: string;
  /** JSON Schema of the query parameters (GET, HEAD, DELETE routes with `discovery.inputSchema`). */
  readonly queryParams?: Record<string, unknown>;
  /** JSON Schema of the body (POST, PUT, PATCH routes with `discovery.inputSchema`). */
  readonly body?: Record<string, unknown>;
  readonly bodyType?: string;
}

/** What a resource returns (the draft's `DiscoveryOutput`), when the route declares it. */
export interface CatalogOutput {
  readonly mimeType?: string;
  readonly example?: unknown;
  readonly schema?: Record<string, unknown>;
}

/** One resource (the draft's `DiscoveryManifestResource`). */
export interface CatalogItem {
  readonly resource: ResourceInfo;
  readonly type: 'http';
  /** What its 402 offers: `exact` with the price, or `upto` with the maximum (a metered route). */
  readonly accepts: PaymentRequirements[];
  readonly input: CatalogInput;
  readonly output?: CatalogOutput;
  /** A pass sale: the `x402-pass` entry its holders' 402s carry (duration, scope, quota). */
  readonly extensions?: Record<string, unknown>;
}

/** The document at {@link CATALOG_PATH} (the draft's `DiscoveryManifest`, without `lastUpdated`: docs/discovery.md). */
export interface Catalog {
  readonly x402Version: 2;
  readonly items: CatalogItem[];
}

/** Whether the catalogue names the facilitator's address (an upto route's terms carry it). */
export function catalogHasMeteredRoutes(config: CatalogConfig): boolean {
  return config.routes.some((route) => route.scheme === 'upto');
}

/** Whether the catalogue names a receiver authorizer (a batch-settlement route's terms carry it). */
export function catalogHasChannelRoutes(config: CatalogConfig): boolean {
  return config.routes.some((route) => route.scheme === BATCH_SETTLEMENT_SCHEME);
}

/**
 * The catalogue for `origin` (`https://<host>`, the host agents asked for, as in the 402's
 * resource URLs). `facilitatorAddress`: what upto terms name (the facilitator's /supported), as
 * their 402s do; without it they lack `extra.facilitatorAddress` (enough for a table of prices).
 * `receiverAuthorizer`: what batch-settlement terms name (pinned, or the facilitator's
 * /supported); without it they carry the deposit terms but not `extra.receiverAuthorizer`.
 */
export function buildCatalog(config: CatalogConfig, origin: string, facilitatorAddress?: Address, receiverAuthorizer?: Address): Catalog {
  const offers = config.passes?.offers ?? [];
  const declared: readonly PricedRoute[] = [...config.routes, ...offers.map(passSaleRoute)];
  const compiled = compileRoutes({ ...config, routes: declared });
  const items = compiled.map((route, index): CatalogItem => {
    const { path } = patternParts(route.pattern);
    const discovery = declared[index].discovery;
    const withBody = route.method !== undefined && BODY_METHODS.includes(route.method);
    const schema = discovery?.inputSchema;
    const offer = offers[index - config.routes.length];
    const output = discovery?.output;
    return {
      resource: resourceInfo(route, `${origin}${path}`),
      type: 'http',
      accepts: [offeredRequirements(route, config, facilitatorAddress, receiverAuthorizer)],
      input: {
        ...(route.method ? { method: route.method } : {}),
        routeTemplate: path,
        ...(schema && withBody ? { body: schema, bodyType: discovery?.bodyType ?? 'json' } : {}),
        ...(schema && !withBody ? { queryParams: schema } : {}),
      },
      ...(output || route.mimeType
        ? {
            output: {
              ...(route.mimeType ? { mimeType: route.mimeType } : {}),
              ...(output?.example !== undefined ? { example: output.example } : {}),
              ...(output?.schema ? { schema: output.schema } : {}),
            },
          }
        : {}),
      ...(offer ? { extensions: passExtension([saleAdvertisement(offer, config, origin)]) } : {}),
    };
  });
  return { x402Version: 2, items };
}

/** A route's requirements as its 402 offers them, but for the addresses not known here. */
function offeredRequirements(route: CompiledRoute, config: CatalogConfig, facilitatorAddress: Address | undefined, receiverAuthorizer: Address | undefined): PaymentRequirements {
  if (route.scheme === 'upto') return routeTerms(route, config, undefined, facilitatorAddress).requirements;
  if (!route.batch) return routeTerms(route, config).requirements;
  if (receiverAuthorizer) return routeTerms(route, config, undefined, receiverAuthorizer).requirements;
  return { ...routeTerms(route, config).requirements, extra: batchExtra(config.asset, route.batch) };
}

/** A pass as its holders' 402s advertise it, with its absolute sale URL. */
function saleAdvertisement(offer: PassOfferConfig, config: CatalogConfig, origin: string): AdvertisedPass {
  const advertised = advertisedPass(offer, config);
  return { ...advertised, url: `${origin}${advertised.url}` };
}

/** The catalogue as served: its JSON text and the entity tag of that text. */
export interface CatalogDocument {
  readonly body: string;
  readonly etag: string;
}

/** Origins (the distribution's domain and aliases) and facilitator addresses are few; a client-made Host never grows this beyond it. */
const MAX_CACHED_CATALOGS = 16;

/** Serialized catalogues, built once per origin and facilitator address: serving one is a lookup. */
export class CatalogDocuments {
  private readonly built = new Map<string, CatalogDocument>();

  constructor(private readonly config: CatalogConfig) {}

  get(origin: string, facilitatorAddress?: Address, receiverAuthorizer?: Address): CatalogDocument {
    const key = `${origin} ${facilitatorAddress ?? ''} ${receiverAuthorizer ?? ''}`;
    const cached = this.built.get(key);
    if (cached) return cached;
    const body = JSON.stringify(buildCatalog(this.config, origin, facilitatorAddress, receiverAuthorizer));
    const document = { body, etag: `"${createHash('sha256').update(body, 'utf8').digest('base64url').slice(0, 27)}"` };
    if (this.built.size >= MAX_CACHED_CATALOGS) this.built.delete(this.built.keys().next().value!);
    this.built.set(key, document);
    return document;
  }
}

/** Whether an `If-None-Match` header names this entity tag (weak comparison, RFC 9110 §13.1.2). */
export function matchesEntityTag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '') === etag;
  });
}
