import { deepEqual } from '@x402/core/utils';
import { authorizationTypes } from '@x402/evm';
import { getAddress, isAddress, isErc6492Signature, isHex, recoverTypedDataAddress, type Address, type Hex } from 'viem';
import type { EdgeConfig } from './config';
import { evmChainId } from './networks';
import type { DecodedPayment } from './payment-header';
import { reject, Reasons, type Rejection } from './rejection';
import type { RouteTerms } from './requirements';

/** The EIP-3009 authorization an exact/EVM payment carries. */
export interface ExactEvmAuthorization {
  readonly from: Address;
  readonly to: Address;
  readonly value: bigint;
  readonly validAfter: bigint;
  readonly validBefore: bigint;
  readonly nonce: Hex;
}

export interface PrecheckedPayment {
  readonly payer: Address;
  readonly authorization: ExactEvmAuthorization;
  /**
   * true: the signature recovers to the payer (an EOA's), so the payer is proven. false: only the
   * chain can check it (an ERC-1271 or ERC-6492 smart wallet, or a bad signature, which looks the
   * same): the facilitator decides, and the paywall bounds how often it is asked.
   */
  readonly signatureRecovered: boolean;
}

/** The facilitator refuses authorizations that expire within 6 s; so do we, without asking it. */
const MIN_VALIDITY_SECONDS = 6n;
/**
 * Clock skew allowed beyond the route's maxTimeoutSeconds (the official client signs validBefore =
 * its now + maxTimeoutSeconds). A longer-lived authorization widens every replay and redelivery
 * window, so it is refused.
 */
export const VALID_BEFORE_SKEW_SECONDS = 30;
const EOA_SIGNATURE_HEX_LENGTH = 2 + 65 * 2;


/**
 * Checks an exact/EVM payment against the route's terms without any network round trip, so
 * garbage, tampering and stale or too long-lived authorizations never reach the facilitator. It
 * tells whether the signature recovers to the payer; the facilitator still verifies what only the
 * chain knows (balance, nonce unused, smart-wallet signatures).
 */
export async function precheckExactEvm(
  payment: DecodedPayment,
  terms: RouteTerms,
  config: Pick<EdgeConfig, 'network' | 'payTo' | 'asset'>,
  nowSeconds: number,
): Promise<PrecheckedPayment | Rejection> {
  const termsProblem = payment.x402Version === 2 ? mismatchV2(payment.payload.accepted, terms) : mismatchV1(payment.payload, terms);
  if (termsProblem) return termsProblem;

  const parsed = parseExactEvmPayload(payment.payload.payload);
  if ('kind' in parsed) return parsed;
  const { authorization, signature } = parsed;

  if (getAddress(authorization.to) !== getAddress(config.payTo)) {
    return reject(402, Reasons.recipientMismatch, `authorization pays ${authorization.to}, not ${config.payTo}`);
  }
  if (authorization.value !== BigInt(terms.requirements.amount)) {
    return reject(402, Reasons.valueMismatch, `authorization value ${authorization.value} is not the price ${terms.requirements.amount}`);
  }
  const now = BigInt(nowSeconds);
  if (authorization.validBefore < now + MIN_VALIDITY_SECONDS) {
    return reject(402, Reasons.validBefore, `authorization expired or expires within ${MIN_VALIDITY_SECONDS} s (validBefore ${authorization.validBefore})`);
  }
  if (authorization.validAfter > now) {
    return reject(402, Reasons.validAfter, `authorization is not valid before ${authorization.validAfter}`);
  }
  const latestValidBefore = now + BigInt(terms.route.maxTimeoutSeconds + VALID_BEFORE_SKEW_SECONDS);
  if (authorization.validBefore > latestValidBefore) {
    return reject(
      402,
      Reasons.validBefore,
      `authorization is valid until ${authorization.validBefore}, beyond this route's maxTimeoutSeconds (${terms.route.maxTimeoutSeconds} s): sign one valid until at most ${latestValidBefore}`,
    );
  }
  return { payer: authorization.from, authorization, signatureRecovered: await recoversToPayer(signature, authorization, config) };
}

/**
 * Whether an EOA signature of these terms recovers to `from`. A smart wallet's signature does not:
 * ERC-6492-wrapped (counterfactual wallets), of another length (ERC-1271 wallets sign as they
 * like), or 65 bytes from the wallet's owner key (recovering to the owner, not the wallet).
 */
async function recoversToPayer(signature: Hex, authorization: ExactEvmAuthorization, config: Pick<EdgeConfig, 'network' | 'asset'>): Promise<boolean> {
  if (signature.length !== EOA_SIGNATURE_HEX_LENGTH || isErc6492Signature(signature)) return false;
  const signer = await recoverTypedDataAddress({
    domain: {
      name: config.asset.name,
      version: config.asset.version,
      chainId: evmChainId(config.network),
      verifyingContract: config.asset.address as Address,
    },
    types: authorizationTypes,
    primaryType: 'TransferWithAuthorization',
    message: authorization,
    signature,
  }).catch(() => undefined);
  return signer !== undefined && getAddress(signer) === authorization.from;
}

function mismatchV2(accepted: unknown, terms: RouteTerms): Rejection | undefined {
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

function mismatchV1(payload: { scheme: string; network: string }, terms: RouteTerms): Rejection | undefined {
  if (payload.scheme !== terms.requirements.scheme) {
    return reject(402, Reasons.invalidScheme, `scheme "${payload.scheme}" is not offered; use "${terms.requirements.scheme}"`);
  }
  if (!terms.v1Network) {
    return reject(402, Reasons.invalidNetwork, `${terms.network} has no x402 v1 name: pay with x402 v2 (PAYMENT-SIGNATURE)`);
  }
  if (payload.network !== terms.v1Network) {
    return reject(402, Reasons.invalidNetwork, `network "${payload.network}" is not offered; use "${terms.v1Network}"`);
  }
  return undefined;
}

const UINT = /^(0|[1-9]\d{0,77})$/;

function parseExactEvmPayload(raw: Record<string, unknown>): { authorization: ExactEvmAuthorization; signature: Hex } | Rejection {
  const malformed = (what: string) => reject(400, Reasons.invalidPayload, `exact/EVM payload: ${what}`);
  const signature = raw.signature;
  const auth = raw.authorization as Record<string, unknown> | undefined;
  if (typeof signature !== 'string' || !isHex(signature) || signature.length < EOA_SIGNATURE_HEX_LENGTH) {
    return malformed('"signature" must be a hex signature');
  }
  if (typeof auth !== 'object' || auth === null) return malformed('"authorization" is missing');
  for (const field of ['from', 'to'] as const) {
    if (typeof auth[field] !== 'string' || !isAddress(auth[field] as string, { strict: false })) {
      return malformed(`"authorization.${field}" must be an address`);
    }
  }
  for (const field of ['value', 'validAfter', 'validBefore'] as const) {
    if (typeof auth[field] !== 'string' || !UINT.test(auth[field] as string)) {
      return malformed(`"authorization.${field}" must be a decimal integer string`);
    }
  }
  if (typeof auth.nonce !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(auth.nonce)) {
    return malformed('"authorization.nonce" must be 32 bytes of hex');
  }
  return {
    signature: signature as Hex,
    authorization: {
      from: getAddress(auth.from as string),
      to: getAddress(auth.to as string),
      value: BigInt(auth.value as string),
      validAfter: BigInt(auth.validAfter as string),
      validBefore: BigInt(auth.validBefore as string),
      nonce: (auth.nonce as string).toLowerCase() as Hex,
    },
  };
}
