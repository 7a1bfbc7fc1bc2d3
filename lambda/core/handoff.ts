import { BOT_CATEGORY, BOT_ORGANIZATION, type VerifiedBot } from './identity/verified-bots';

/**
 * Headers under this prefix carry state from viewer-request to the origin-facing triggers. The
 * viewer-request handler deletes every one a client sends before anything else, so none can be
 * injected. They reach the origin too (CloudFront forwards what the origin request policy lists),
 * so they never carry the payer's signed authorization: that stays in the receipt row.
 */
export const INTERNAL_HEADER_PREFIX = 'x-x402-';
export const PENDING_SETTLEMENT_HEADER = 'x-x402-pending-settlement';
/**
 * The paid request's derived payment id, set by viewer-request in place of the payment headers
 * (which are removed before the cache and the origin see the request): the cache key includes it,
 * so every payment is a cache miss that reaches the origin-facing triggers.
 */
export const PAYMENT_ID_HEADER = 'x-x402-payment-id';

/**
 * What viewer-request decided for a priced route. Every priced request that goes on to the origin
 * carries one, so the origin-response can tell "free by decision" from "hand-off lost" and
 * withhold the content in the second case.
 * - free: not payment-eligible (a person, an allow-listed bot); nothing to settle;
 * - settle: verified and reserved; the origin-response settles on 2xx, else releases. `sealed`:
 *   the signed payment, encrypted for the origin-facing triggers (handoff-seal.ts), so that they
 *   need not read it from the reservation first;
 * - redeliver: already settled earlier but the content did not reach the payer; deliver again
 *   without a charge (the receipt row counts redeliveries);
 * - settled: settled by the origin-request trigger before a side-effecting request (POST, PUT,
 *   PATCH, DELETE) reached the origin; origin-response only reports the settlement;
 * - pass: opened by a valid pass (verified offline, lambda/core/passes/); nothing to settle, and
 *   the origin-response releases the content.
 * - batch: a batch-settlement voucher reserved `reservationId` on `channelId`'s row; the
 *   origin-response commits it on 2xx, else releases it (lambda/core/batch/scheme.ts). Not secret:
 *   the id only names a reservation whose amount the row itself holds.
 */
export type Handoff = HandoffKinds & {
  /** The route's `priceBy` rule that priced a paid request (lambda/core/request-price.ts); none: the route's own price. */
  readonly priceRule?: number;
  /** The verified agent that paid (lambda/core/identity/agents.ts), for the origin-facing triggers' records. */
  readonly agent?: string;
} & VerifiedBot;

/** An agent name as x402:agents or a Signature-Agent host gives it. */
const AGENT_NAME = /^[a-z0-9][a-z0-9._:-]{0,252}$/;

type HandoffKinds =
  | { readonly kind: 'free'; readonly routeIndex: number }
  | { readonly kind: 'pass'; readonly routeIndex: number; readonly passId: string; readonly payer: string }
  | { readonly kind: 'batch'; readonly routeIndex: number; readonly resource: string; readonly channelId: string; readonly reservationId: string; readonly payer: string }
  | { readonly kind: 'settle'; readonly paymentId: string; readonly routeIndex: number; readonly resource: string; readonly sealed?: string }
  | {
      readonly kind: 'redeliver' | 'settled';
      readonly paymentId: string;
      readonly routeIndex: number;
      readonly resource: string;
      readonly payer: string;
      readonly txHash: string;
      readonly x402Version: number;
    };

/** A hand-off for a paid request (it names the payment: the cache key and the receipt row). */
export type PaidHandoff = Exclude<Handoff, { readonly kind: 'free' | 'pass' | 'batch' }>;

export function encodeHandoff(handoff: Handoff): string {
  return Buffer.from(JSON.stringify(handoff), 'utf8').toString('base64url');
}

/** The hand-off, or undefined for anything our viewer-request could not have written. */
export function decodeHandoff(value: string): Handoff | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const fields = parsed as Record<string, unknown>;
  const handoff = decodeKind(fields);
  const { priceRule, agent, botCategory, botOrganization } = fields;
  if (!handoff) return undefined;
  if (priceRule !== undefined && !(Number.isInteger(priceRule) && (priceRule as number) >= 0)) return undefined;
  const named = (value: unknown, pattern: RegExp) => value === undefined || (typeof value === 'string' && pattern.test(value));
  if (!named(agent, AGENT_NAME) || !named(botCategory, BOT_CATEGORY) || !named(botOrganization, BOT_ORGANIZATION)) return undefined;
  return {
    ...handoff,
    ...(priceRule === undefined ? {} : { priceRule: priceRule as number }),
    ...(agent === undefined ? {} : { agent: agent as string }),
    ...(botCategory === undefined ? {} : { botCategory: botCategory as string }),
    ...(botOrganization === undefined ? {} : { botOrganization: botOrganization as string }),
  };
}

function decodeKind(fields: Record<string, unknown>): HandoffKinds | undefined {
  const { kind, routeIndex } = fields;
  if (!Number.isInteger(routeIndex) || (routeIndex as number) < 0) return undefined;
  const index = routeIndex as number;
  const text = (name: string) => (typeof fields[name] === 'string' && fields[name] !== '' ? (fields[name] as string) : undefined);
  const paymentId = text('paymentId');
  const resource = text('resource');
  if (kind === 'free') return { kind, routeIndex: index };
  if (kind === 'pass') {
    const passId = text('passId');
    const payer = text('payer');
    return passId && payer ? { kind, routeIndex: index, passId, payer } : undefined;
  }
  if (kind === 'batch') {
    const channelId = text('channelId');
    const reservationId = text('reservationId');
    const payer = text('payer');
    return resource && channelId && reservationId && payer ? { kind, routeIndex: index, resource, channelId, reservationId, payer } : undefined;
  }
  if (!paymentId || !resource) return undefined;
  if (kind === 'settle') {
    const sealed = text('sealed');
    return sealed === undefined ? { kind, paymentId, routeIndex: index, resource } : { kind, paymentId, routeIndex: index, resource, sealed };
  }
  const payer = text('payer');
  const txHash = text('txHash');
  const { x402Version } = fields;
  if ((kind !== 'redeliver' && kind !== 'settled') || !payer || !txHash || (x402Version !== 1 && x402Version !== 2)) return undefined;
  return { kind, paymentId, routeIndex: index, resource, payer, txHash, x402Version };
}
