/**
 * Pass offers: names, durations, the URL each is sold at and how a 402 advertises them. No
 * imports beyond the core's pure modules: the synth-time config validation uses this same code.
 */
import type { EdgeConfig, PassOfferConfig, PricedRoute } from '../config';
import { priceToAtomicUnits } from '../price';

/** Each pass is sold at `<prefix><name>` as an ordinary priced resource (GET, exact scheme). */
export const PASS_SALE_PREFIX = '/.well-known/x402/pass/';
/** The key of the 402's `extensions` entry that advertises the passes of a route. */
export const PASS_EXTENSION = 'x402-pass';
/** How a pass is presented: `Authorization: Bearer <pass>`. */
export const PASS_HEADER = 'authorization';

export const PASS_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/;
export const MIN_PASS_SECONDS = 60;
/** 31 days: a key retired now verifies for at most this long before it can be dropped. */
export const MAX_PASS_SECONDS = 31 * 86_400;

const UNIT_SECONDS: Readonly<Record<string, number>> = { m: 60, h: 3600, d: 86_400 };

/** `"30m"`, `"24h"`, `"7d"` → seconds, within {@link MIN_PASS_SECONDS}..{@link MAX_PASS_SECONDS}. */
export function parsePassDuration(text: string): { readonly seconds: number } | { readonly error: string } {
  const match = /^(\d{1,6})([mhd])$/.exec(text.trim());
  if (!match) return { error: `duration "${text}" is not <number><m|h|d> (e.g. "30m", "24h", "7d")` };
  const seconds = Number(match[1]) * UNIT_SECONDS[match[2]];
  if (seconds < MIN_PASS_SECONDS || seconds > MAX_PASS_SECONDS) return { error: `duration "${text}" is outside 1m..31d` };
  return { seconds };
}

/** The shortest way to write a duration back ("86400" → "1d"). */
export function formatPassDuration(seconds: number): string {
  for (const unit of ['d', 'h', 'm']) if (seconds % UNIT_SECONDS[unit] === 0) return `${seconds / UNIT_SECONDS[unit]}${unit}`;
  return `${seconds}s`;
}

export function passSalePath(name: string): string {
  return `${PASS_SALE_PREFIX}${name}`;
}

/** The priced route a pass is sold at (GET: what every x402 client sends by default). */
export function passSaleRoute(offer: PassOfferConfig): PricedRoute {
  return {
    pattern: `GET ${passSalePath(offer.name)}`,
    price: offer.price,
    description: offer.description ?? `${formatPassDuration(offer.durationSeconds)} pass for ${offer.scope.join(', ')}`,
    mimeType: 'application/json',
  };
}

/** One offer as a 402 advertises it (docs/passes.md, "The offer in a 402"). */
export interface AdvertisedPass {
  readonly name: string;
  /** Atomic units of the asset, as in `accepts[].amount`. */
  readonly amount: string;
  readonly asset: string;
  readonly network: string;
  readonly durationSeconds: number;
  readonly scope: readonly string[];
  /** Where to buy it: an ordinary x402 resource. */
  readonly url: string;
  readonly description?: string;
}

/** How a 402 (and the catalogue, lambda/core/catalog.ts) advertises an offer; `url` is its sale path, to be prefixed with the origin. */
export function advertisedPass(offer: PassOfferConfig, config: Pick<EdgeConfig, 'network' | 'asset'>): AdvertisedPass {
  const price = priceToAtomicUnits(offer.price, config.asset.decimals);
  if ('error' in price) throw new Error(`pass "${offer.name}": ${price.error}`);
  return {
    name: offer.name,
    amount: price.amount,
    asset: config.asset.address,
    network: config.network,
    durationSeconds: offer.durationSeconds,
    scope: offer.scope,
    url: passSalePath(offer.name),
    ...(offer.description ? { description: offer.description } : {}),
  };
}

/** The `extensions` entry of a 402 for a route some passes open. */
export function passExtension(passes: readonly AdvertisedPass[]): Record<string, unknown> {
  return { [PASS_EXTENSION]: { header: 'Authorization: Bearer <pass>', passes } };
}
