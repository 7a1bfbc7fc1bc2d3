/**
 * What the batch-claims Lambda is told, shared with the construct that deploys it
 * (lib/batch-claims.ts). No runtime imports: the construct library reads it at synth.
 */
import type { FacilitatorAuth } from '../core/config';
import { MIN_WITHDRAW_DELAY } from '../core/batch/route-terms';

/** Environment `X402_BATCH_CLAIMS_SETTINGS` (JSON). */
export interface BatchClaimsSettings {
  /** CAIP-2 network of the channels. */
  readonly network: `${string}:${string}`;
  /** The channels' receiver: claims are swept here. */
  readonly payTo: `0x${string}`;
  /** The channels' token. */
  readonly asset: `0x${string}`;
  readonly facilitator: {
    readonly url: string;
    /** Bounds each facilitator call (a claim waits for its transaction). */
    readonly timeoutMs: number;
    readonly auth?: FacilitatorAuth;
  };
  /** JSON-RPC endpoint of `network`: each run mirrors every channel's balance and pending withdrawal from it. */
  readonly chainRpcUrl: string;
  /** Claim a channel once this much (atomic units, decimal string) is served and unclaimed. */
  readonly thresholdAtomic: string;
  /** Claim a channel once its oldest unclaimed charge is this old (capped at a third of its withdraw delay). */
  readonly maxAgeSeconds: number;
  /** Refund a channel (claim what was served, return the rest of the deposit) once nothing was charged on it for this long; 0: never. */
  readonly refundIdleAfterSeconds: number;
}

export const BatchClaimsEnvironment = {
  tableName: 'X402_RECEIPT_TABLE',
  /** JSON {@link BatchClaimsSettings}. */
  settings: 'X402_BATCH_CLAIMS_SETTINGS',
} as const;

/** The shortest withdraw delay the batch-settlement contract accepts (15 minutes): the schedule must see a withdrawal well inside it. */
export const MIN_WITHDRAW_DELAY_SECONDS = MIN_WITHDRAW_DELAY;
