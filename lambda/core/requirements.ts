import type { PaymentRequired, PaymentRequirements, ResourceInfo } from '@x402/core/types';
import type { PaymentRequirementsV1 } from '@x402/core/types/v1';
import type { EdgeConfig } from './config';
import { formatAtomicUnits } from './price';
import { knownNetwork } from './networks';
import type { CompiledRoute } from './routes';
import type { Address } from 'viem';
import { uptoExtra } from './upto';
import { batchExtra } from './batch/terms';

/**
 * The payment terms of one route. Built only from configuration (never from the request), so the
 * requirements in the 402 and the ones the retry is checked against are the same object: x402 v2
 * matches `payload.accepted` against them by deep equality.
 */
export interface RouteTerms {
  readonly route: CompiledRoute;
  readonly requirements: PaymentRequirements;
  readonly network: string;
  /** v1 network name, when the network has one (v1 clients only know named networks). */
  readonly v1Network?: string;
  /** The `priceBy` rule these terms price at (request-price.ts); none for the route's own price. */
  readonly priceRule?: number;
  /** That rule's tier name, recorded in the receipt. */
  readonly tier?: string;
  /** A `free` rule (a verified partner): served without payment; its requirements (the route's own) are never offered. */
  readonly free?: boolean;
}

/**
 * `facilitatorAddress`: what the facilitator's /supported advertises for the route's scheme, an
 * `upto` route's facilitator address or a `batch-settlement` route's receiver authorizer; without
 * it the terms only name the token (the origin-facing triggers settle what the viewer-request checked).
 */
export function routeTerms(route: CompiledRoute, config: Pick<EdgeConfig, 'network' | 'asset' | 'payTo'>, rule?: { readonly priceRule: number; readonly tier?: string }, facilitatorAddress?: Address): RouteTerms {
  const extra = !facilitatorAddress
    ? { name: config.asset.name, version: config.asset.version }
    : route.scheme === 'upto'
      ? uptoExtra(config, facilitatorAddress)
      : route.batch
        ? batchExtra(config.asset, route.batch, facilitatorAddress)
        : { name: config.asset.name, version: config.asset.version };
  const requirements: PaymentRequirements = Object.freeze({
    scheme: route.scheme,
    network: config.network as PaymentRequirements['network'],
    amount: route.amount,
    asset: config.asset.address,
    payTo: config.payTo,
    maxTimeoutSeconds: route.maxTimeoutSeconds,
    extra: Object.freeze(extra),
  });
  return { route, requirements, network: config.network, v1Network: knownNetwork(config.network)?.v1Name, ...rule };
}

/** The resource URL named in the terms: the canonical path on the host the agent asked for. */
export function resourceUrl(host: string, path: string): string {
  return `https://${host}${path}`;
}

/** The path of a {@link resourceUrl} (hosts have no "/"). */
export function resourcePath(resource: string): string {
  return resource.slice(resource.indexOf('/', 'https://'.length));
}

/** `https://<host>` of a {@link resourceUrl}. */
export function resourceOrigin(resource: string): string {
  return resource.slice(0, resource.indexOf('/', 'https://'.length));
}

/** The `resource` of a 402 (and of a catalogue item, catalog.ts) at `url`. */
export function resourceInfo(route: Pick<CompiledRoute, 'description' | 'mimeType'>, url: string): ResourceInfo {
  return { url, description: route.description, mimeType: route.mimeType };
}

/** `extensions`: other ways to pay (e.g. the passes that open the resource: lambda/core/passes/offers.ts). */
export function paymentRequiredV2(terms: RouteTerms, resource: string, error?: string, extensions?: Record<string, unknown>): PaymentRequired {
  return {
    x402Version: 2,
    ...(error ? { error } : {}),
    resource: resourceInfo(terms.route, resource),
    accepts: [terms.requirements],
    ...(extensions ? { extensions } : {}),
  };
}

/**
 * The same terms in v1 form, for the JSON body legacy clients read. Undefined without a v1 name,
 * and for `upto` and `batch-settlement`: x402 v1 has only `exact` (@x402/evm ships neither in v1),
 * so a v1 client offered them could only fail to pay, and the edge refuses such v1 payments anyway.
 */
export function requirementsV1(terms: RouteTerms, resource: string): PaymentRequirementsV1 | undefined {
  if (!terms.v1Network || terms.route.scheme !== 'exact') return undefined;
  const r = terms.requirements;
  return {
    scheme: r.scheme,
    network: terms.v1Network as PaymentRequirementsV1['network'],
    maxAmountRequired: r.amount,
    resource,
    description: terms.route.description,
    mimeType: terms.route.mimeType,
    outputSchema: {},
    payTo: r.payTo,
    maxTimeoutSeconds: r.maxTimeoutSeconds,
    asset: r.asset,
    extra: { ...r.extra },
  };
}

/**
 * The 402 body: the v1 PaymentRequired shape (what v1 clients parse; v2 clients read the
 * PAYMENT-REQUIRED header instead) plus plain-language terms for a person reading it.
 */
export function challengeBody(terms: RouteTerms, config: EdgeConfig, resource: string, error: string, message?: string) {
  const v1 = requirementsV1(terms, resource);
  const price = `${formatAtomicUnits(terms.requirements.amount, config.asset.decimals)} ${config.asset.symbol}`;
  const networkName = knownNetwork(config.network)?.displayName ?? config.network;
  return {
    x402Version: 1,
    error,
    message:
      message ??
      `Payment required: ${terms.route.scheme === 'upto' ? 'up to ' : ''}${price} on ${networkName} to ${config.payTo} for ${resource}. ` +
        'Retry with a PAYMENT-SIGNATURE header (x402 v2, terms in the PAYMENT-REQUIRED header)' +
        (v1 ? ' or an X-PAYMENT header (x402 v1, terms in "accepts")' : terms.route.scheme === 'upto' ? '; metered (upto) payments need x402 v2' : terms.route.scheme === 'batch-settlement' ? '; batch-settlement payments need x402 v2' : '') +
        '. See https://x402.org',
    price,
    payment: {
      scheme: terms.requirements.scheme,
      network: config.network,
      amount: terms.requirements.amount,
      asset: config.asset.address,
      payTo: config.payTo,
      resource,
      description: terms.route.description,
    },
    accepts: v1 ? [v1] : [],
  };
}
