/** waf engine pricing: AWS WAF charges a base price × an integer PriceMultiplier per route. */
import type { AssetConfig } from '../../lambda/core/config';
import { knownNetwork } from '../../lambda/core/networks';
import { formatAtomicUnits, priceToAtomicUnits } from '../../lambda/core/price';
import { oneOf } from './checks';
import type { Problems } from './problems';
import type { ResolvedRoute, WafPricing } from './resolved';
import { CurrencyMode, type X402Settings } from './settings';

export const WAF_CHAINS: Record<string, { chain: WafPricing['chain']; mode: CurrencyMode }> = {
  'eip155:8453': { chain: 'BASE', mode: CurrencyMode.REAL },
  'eip155:84532': { chain: 'BASE_SEPOLIA', mode: CurrencyMode.TEST },
};
/** WAF prices have at most 3 decimals and a $0.001 minimum; 100 is the largest PriceMultiplier. */
export const WAF_PRICE_DECIMALS = 3;
const WAF_MAX_MULTIPLIER = 100;
export const WAF_MAX_ROUTES = 40;

/** Why AWS WAF cannot charge `amount` (atomic units), or undefined: at least $0.001, in $0.001 steps. */
export function wafPriceProblem(amount: string, decimals: number): { problem: string; fix: string } | undefined {
  const step = 10n ** BigInt(Math.max(0, decimals - WAF_PRICE_DECIMALS));
  if (BigInt(amount) < step) return { problem: "is below the waf engine's minimum of $0.001", fix: 'charge at least "$0.001", or use x402:engine=edge for smaller prices' };
  if (BigInt(amount) % step !== 0n) return { problem: 'has more than 3 decimals, which AWS WAF prices cannot express', fix: 'round it to $0.001 steps, or use x402:engine=edge' };
  return undefined;
}

export function resolveWafPricing(problems: Problems, settings: X402Settings, network: string, routes: readonly ResolvedRoute[], asset: AssetConfig | undefined): WafPricing | undefined {
  const target = WAF_CHAINS[network];
  if (!target || !asset) return undefined;
  const currencyMode = oneOf(problems, 'x402:currencyMode', settings.currencyMode, CurrencyMode, target.mode);
  if (currencyMode !== target.mode) {
    problems.add(
      'x402:currencyMode',
      currencyMode,
      `settles on ${currencyMode === 'REAL' ? 'mainnets (Base)' : 'testnets (Base Sepolia)'} but x402:network is ${network} (${knownNetwork(network)?.displayName})`,
      `set -c x402:currencyMode=${target.mode}, or change x402:network to ${currencyMode === 'REAL' ? 'eip155:8453' : 'eip155:84532'}`,
    );
  }
  if (routes.length === 0) return undefined;
  // Prices in thousandths of a dollar (WAF's resolution): integers from here on.
  const unit = 10n ** BigInt(Math.max(0, asset.decimals - WAF_PRICE_DECIMALS));
  const priced = routes.flatMap((route) => [
    { where: `x402:routes["${route.pattern}"].price`, price: route.price, milli: BigInt(route.amount) / unit },
    ...(route.priceBy ?? []).map((rule, j) => ({ where: `x402:routes["${route.pattern}"].priceBy[${j}].price`, price: rule.price, milli: ruleMilli(rule.price, asset.decimals, unit) })),
  ]);
  let base: bigint;
  if (settings.basePrice !== undefined) {
    const parsed = typeof settings.basePrice === 'string' ? priceToAtomicUnits(settings.basePrice.startsWith('$') ? settings.basePrice : `$${settings.basePrice}`, asset.decimals) : { error: 'must be a string' };
    if ('error' in parsed || BigInt(parsed.amount) % unit !== 0n || BigInt(parsed.amount) < unit) {
      problems.add('x402:basePrice', settings.basePrice, 'must be a dollar amount of at least $0.001 with at most 3 decimals', 'e.g. -c x402:basePrice=$0.001');
      return undefined;
    }
    base = BigInt(parsed.amount) / unit;
  } else {
    base = priced.map((p) => p.milli).filter((m): m is bigint => m !== undefined).reduce((a, b) => gcd(a, b));
  }
  const multiplier = ({ where, price, milli }: (typeof priced)[number]): number | undefined => {
    if (milli === undefined) return undefined;
    if (milli % base !== 0n) {
      problems.add(where, price, `is not a whole multiple of the waf base price $${formatMilli(base)}: WAF charges base × an integer 1..100`, `make it a multiple of $${formatMilli(base)}, or lower x402:basePrice to a common step such as $${formatMilli(gcd(base, milli))}`);
      return undefined;
    }
    const times = milli / base;
    if (times > BigInt(WAF_MAX_MULTIPLIER)) {
      const minBase = (milli + BigInt(WAF_MAX_MULTIPLIER) - 1n) / BigInt(WAF_MAX_MULTIPLIER);
      problems.add(
        where,
        price,
        `is ${times} × the waf base price $${formatMilli(base)}, but a WAF PriceMultiplier is at most ${WAF_MAX_MULTIPLIER}`,
        `keep every price within 100 × the base: raise x402:basePrice to at least $${formatMilli(minBase)} (and price every route as a multiple of it), or use x402:engine=edge`,
      );
      return undefined;
    }
    return Number(times);
  };
  const multipliers = priced.map(multiplier);
  let next = 0;
  const take = () => multipliers[next++];
  const routeMultipliers = routes.map((route) => ({ own: take(), rules: (route.priceBy ?? []).map(take) }));
  return {
    chain: target.chain,
    basePrice: formatMilli(base),
    multipliers: routeMultipliers.map((r) => r.own ?? 0),
    ruleMultipliers: routeMultipliers.map((r) => r.rules),
    currencyMode,
  };
}

/** A priceBy rule's price in thousandths of a dollar; undefined for `free` and `refuse` (and for a price already refused). */
function ruleMilli(price: string, decimals: number, unit: bigint): bigint | undefined {
  const parsed = priceToAtomicUnits(price, decimals);
  return 'error' in parsed || BigInt(parsed.amount) === 0n ? undefined : BigInt(parsed.amount) / unit;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function formatMilli(milli: bigint): string {
  return formatAtomicUnits(milli.toString(), WAF_PRICE_DECIMALS);
}
