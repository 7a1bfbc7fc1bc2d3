/**
 * A batch-settlement route's configured terms and the contract's bounds on them: no imports, so
 * the synth-time validation (lib/config/routes.ts) reads the same constants as the edge.
 */
export const BATCH_SETTLEMENT_SCHEME = 'batch-settlement';
/** The contract's bounds on a channel's withdraw delay, in seconds (15 minutes to 30 days). */
export const MIN_WITHDRAW_DELAY = 900;
export const MAX_WITHDRAW_DELAY = 30 * 24 * 3600;
/** The official server asks for a deposit of this many requests by default. */
export const DEFAULT_MIN_DEPOSIT_MULTIPLIER = 10;

/** A batch-settlement route's deposit terms, as configured (atomic units). */
export interface BatchRouteTerms {
  readonly price: string;
  /** Atomic units; undefined: {@link DEFAULT_MIN_DEPOSIT_MULTIPLIER} × price. */
  readonly minDeposit?: string;
  readonly withdrawDelay: number;
}
