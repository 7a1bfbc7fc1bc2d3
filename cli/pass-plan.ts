/**
 * For an agent about to read a priced resource N times: is a pass cheaper than paying per
 * request? Pure: reads what a 402 offers (`accepts` and the `x402-pass` extension,
 * docs/passes.md) and prices each way for the planned reads. `cdk-x402 agent plan` prints it.
 */

import type { AdvertisedPass } from '../lambda/core/passes/offers';

/** A pass as a 402 advertises it (`extensions["x402-pass"].passes[]`), the edge's own shape. */
export type OfferedPass = AdvertisedPass;

/** One entry of a 402's `accepts`, as far as the plan needs it. */
export interface OfferedPrice {
  readonly scheme: string;
  readonly network: string;
  readonly asset: string;
  readonly amount: string;
}

export interface PlanRequest {
  /** Reads planned of resources like this one. */
  readonly reads: number;
  /** Over how long they are spread: a pass shorter than this must be bought again (default: one pass suffices). */
  readonly periodSeconds?: number;
}

export interface PlanOption {
  readonly way: 'per-request' | 'pass';
  /** The pass's name (way `pass`). */
  readonly pass?: string;
  /** Where the pass is sold (way `pass`). */
  readonly url?: string;
  /** Passes to buy over the period (way `pass`). */
  readonly passes?: number;
  /** Atomic units of `asset`, for all the planned reads. */
  readonly total: string;
  readonly asset: string;
  readonly network: string;
  /** Payments, each an on-chain transaction. */
  readonly payments: number;
}

export interface Plan {
  readonly reads: number;
  readonly periodSeconds?: number;
  /** Cheapest first (fewer payments first at equal cost). */
  readonly options: readonly PlanOption[];
  readonly best: PlanOption;
  /** Passes left out, and why (another asset or network than the per-request price: not comparable). */
  readonly skipped: ReadonlyArray<{ readonly pass: string; readonly reason: string }>;
}

/** The way to pay per request: the first `exact` entry of `accepts` (the one official clients pick by default). */
export function perRequestPrice(accepts: readonly OfferedPrice[]): OfferedPrice | undefined {
  return accepts.find((entry) => entry.scheme === 'exact');
}

/** The passes of a 402's `extensions`, keeping only well-formed entries. */
export function offeredPasses(extensions: Readonly<Record<string, unknown>> | undefined): OfferedPass[] {
  const passes = (extensions?.['x402-pass'] as { passes?: unknown } | undefined)?.passes;
  if (!Array.isArray(passes)) return [];
  return passes.filter(
    (p): p is OfferedPass =>
      typeof p === 'object' && p !== null &&
      typeof p.name === 'string' && typeof p.amount === 'string' && /^\d+$/.test(p.amount) && typeof p.asset === 'string' && typeof p.network === 'string' &&
      Number.isSafeInteger(p.durationSeconds) && p.durationSeconds > 0 && typeof p.url === 'string' && Array.isArray(p.scope),
  );
}

/** Every way to pay for the planned reads, priced, cheapest first. */
export function planReads(request: PlanRequest, perRequest: OfferedPrice | undefined, passes: readonly OfferedPass[]): Plan {
  if (!Number.isSafeInteger(request.reads) || request.reads < 1) throw new Error(`reads must be a positive integer, not ${request.reads}`);
  if (request.periodSeconds !== undefined && !(Number.isSafeInteger(request.periodSeconds) && request.periodSeconds > 0)) {
    throw new Error(`the period must be a positive number of seconds, not ${request.periodSeconds}`);
  }
  const options: PlanOption[] = [];
  const skipped: Array<{ pass: string; reason: string }> = [];
  if (perRequest) {
    options.push({ way: 'per-request', total: (BigInt(perRequest.amount) * BigInt(request.reads)).toString(), asset: perRequest.asset, network: perRequest.network, payments: request.reads });
  }
  for (const pass of passes) {
    if (perRequest && (pass.asset.toLowerCase() !== perRequest.asset.toLowerCase() || pass.network !== perRequest.network)) {
      skipped.push({ pass: pass.name, reason: `priced in ${pass.asset} on ${pass.network}, not in the per-request asset ${perRequest.asset} on ${perRequest.network}` });
      continue;
    }
    const count = request.periodSeconds === undefined ? 1 : Math.ceil(request.periodSeconds / pass.durationSeconds);
    options.push({ way: 'pass', pass: pass.name, url: pass.url, passes: count, total: (BigInt(pass.amount) * BigInt(count)).toString(), asset: pass.asset, network: pass.network, payments: count });
  }
  if (options.length === 0) throw new Error('the 402 offers neither an exact price nor a pass');
  options.sort((a, b) => {
    const cost = BigInt(a.total) - BigInt(b.total);
    return cost !== 0n ? (cost < 0n ? -1 : 1) : a.payments - b.payments;
  });
  return { reads: request.reads, ...(request.periodSeconds === undefined ? {} : { periodSeconds: request.periodSeconds }), options, best: options[0], skipped };
}
