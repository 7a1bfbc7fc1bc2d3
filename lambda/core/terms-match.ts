/** Whether a v2 payment accepted the terms offered, shared by every scheme's check (no signature code, so the origin-facing bundles stay without it). */
import { deepEqual } from '@x402/core/utils';
import { reject, Reasons, type Rejection } from './rejection';
import type { RouteTerms } from './requirements';

/** Why `accepted` is not the offered v2 requirements (by deep equality, as x402 matches them), or undefined when it is. */
export function mismatchV2(accepted: unknown, terms: RouteTerms): Rejection | undefined {
  if (deepEqual(accepted, terms.requirements)) return undefined;
  const offered = terms.requirements;
  const got = (typeof accepted === 'object' && accepted !== null ? accepted : {}) as Record<string, unknown>;
  if (got.scheme !== offered.scheme) return reject(402, Reasons.invalidScheme, `scheme "${String(got.scheme)}" is not offered; use "${offered.scheme}"`);
  if (got.network !== offered.network) return reject(402, Reasons.invalidNetwork, `network "${String(got.network)}" is not offered; use "${offered.network}"`);
  if (got.asset !== offered.asset) return reject(402, Reasons.assetMismatch, `asset ${String(got.asset)} is not offered; use ${offered.asset}`);
  if (got.payTo !== offered.payTo) return reject(402, Reasons.recipientMismatch, `payTo ${String(got.payTo)} is not ${offered.payTo}`);
  if (got.amount !== offered.amount) return reject(402, Reasons.valueMismatch, `amount ${String(got.amount)} is not the price ${offered.amount}`);
  return reject(402, Reasons.requirementsMismatch, 'payload.accepted differs from the offered requirements: copy them from the PAYMENT-REQUIRED header unchanged');
}
