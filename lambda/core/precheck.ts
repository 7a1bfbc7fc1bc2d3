import { getAddress, isAddress, isErc6492Signature, isHex, numberToHex, type Address, type Hex } from 'viem';
import type { EdgeConfig } from './config';
import { evmChainId } from './networks';
import { DECIMAL_UINT256, EOA_SIGNATURE_HEX_LENGTH, type DecodedPayment } from './payment-header';
import { isRejection, reject, Reasons, type Rejection } from './rejection';
import type { RouteTerms } from './requirements';
import { recoverSigner } from './secp256k1';
import { mismatchV2 } from './terms-match';
import { domainSeparator, transferDigest, type TransferAuthorization } from './transfer-digest';
import { parseUptoPayload, uptoSignatureRecovers, uptoWitnessMismatch } from './upto';
import { checkVoucher } from './batch/voucher';

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
  /** `upto`: a Permit2 witness transfer, here in EIP-3009 shape (nonce, payer, deadline as validBefore); never simulated as one. */
  readonly scheme?: 'upto';
  readonly authorization: ExactEvmAuthorization;
  readonly signature: SignatureCheck;
  /** The signature as sent (0x-hex). */
  readonly signatureHex: Hex;
}

/** The facilitator refuses authorizations that expire within 6 s; so do we, without asking it. */
const MIN_VALIDITY_SECONDS = 6n;
/**
 * Clock skew allowed beyond the route's maxTimeoutSeconds (the official client signs validBefore =
 * its now + maxTimeoutSeconds). A longer-lived authorization widens every replay and redelivery
 * window, so it is refused.
 */
export const VALID_BEFORE_SKEW_SECONDS = 30;

/**
 * What the local check made of the signature:
 * - recovered: a 65-byte EOA signature that recovers to `from`: the payer is proven;
 * - unrecovered: it does not recover to `from`. An ERC-1271 smart wallet's signature looks like
 *   this (of another length, or 65 bytes from its owner's key), and so does a forgery: only
 *   `from`'s code tells them apart (none: an EOA, so a forgery), else the facilitator decides;
 * - counterfactual: ERC-6492-wrapped, from a wallet not deployed yet: only the facilitator can tell.
 */
export type SignatureCheck = 'recovered' | 'unrecovered' | 'counterfactual';

/**
 * The local check of a payment against the route's terms. Only viewer-request admits payments, so
 * only its entry builds one: the origin-facing bundles carry neither the check nor libsecp256k1.
 */
export interface PaymentPrecheck {
  check(payment: DecodedPayment, terms: RouteTerms, nowSeconds: number): Promise<PrecheckedPayment | Rejection>;
  /** A batch-settlement voucher's local check (lambda/core/batch/voucher.ts); absent: no voucher is admitted. */
  readonly checkVoucher?: typeof checkVoucher;
}

/**
 * Checks exact/EVM payments against the route's terms without any network round trip, so garbage,
 * tampering and stale or too long-lived authorizations never reach the facilitator. It tells
 * whether the signature recovers to the payer; the facilitator still verifies what only the chain
 * knows (balance, nonce unused, smart-wallet signatures).
 */
export class ExactEvmPrecheck implements PaymentPrecheck {
  readonly checkVoucher = checkVoucher;
  /** payTo in lower case, as addresses are compared. */
  private readonly recipient: string;
  private readonly separator: Uint8Array;

  constructor(private readonly config: Pick<EdgeConfig, 'network' | 'payTo' | 'asset'>) {
    const chainId = evmChainId(config.network);
    if (chainId === undefined) throw new Error(`network "${config.network}" is not eip155:<chainId>: exact/EVM payments need an EVM chain id`);
    this.recipient = config.payTo.toLowerCase();
    this.separator = domainSeparator({ name: config.asset.name, version: config.asset.version, chainId, verifyingContract: config.asset.address });
  }

  async check(payment: DecodedPayment, terms: RouteTerms, nowSeconds: number): Promise<PrecheckedPayment | Rejection> {
    const termsProblem = payment.x402Version === 2 ? mismatchV2(payment.payload.accepted, terms) : mismatchV1(payment.payload, terms);
    if (termsProblem) return termsProblem;
    if (terms.route.scheme === 'upto') return this.checkUpto(payment, terms, nowSeconds);

    const parsed = parseExactEvmPayload(payment.payload.payload);
    if ('kind' in parsed) return parsed;
    const { authorization, signature } = parsed;

    if (authorization.to.toLowerCase() !== this.recipient) {
      return reject(402, Reasons.recipientMismatch, `authorization pays ${authorization.to}, not ${this.config.payTo}`);
    }
    if (authorization.value !== BigInt(terms.requirements.amount)) {
      return reject(402, Reasons.valueMismatch, `authorization value ${authorization.value} is not the price ${terms.requirements.amount}`);
    }
    const outsideWindow = validityProblem(authorization.validAfter, authorization.validBefore, nowSeconds, terms.route.maxTimeoutSeconds);
    if (outsideWindow) return outsideWindow;
    const checked = await checkSignature(this.separator, authorization, signature);
    if (isRejection(checked)) return checked;
    return { payer: authorization.from, authorization, signature: checked, signatureHex: signature };
  }

  /** An upto payment: the Permit2 witness against the offered terms, its window, and whether its signature recovers. */
  private checkUpto(payment: DecodedPayment, terms: RouteTerms, nowSeconds: number): PrecheckedPayment | Rejection {
    if (payment.x402Version !== 2) return reject(402, Reasons.invalidVersion, 'upto is offered to x402 v2 clients only: pay with a PAYMENT-SIGNATURE header');
    const parsed = parseUptoPayload(payment.payload.payload);
    if ('kind' in parsed) return parsed;
    const { authorization, signature } = parsed;
    const mismatch = uptoWitnessMismatch(authorization, terms);
    if (mismatch) return mismatch;
    const outsideWindow = validityProblem(authorization.validAfter, authorization.deadline, nowSeconds, terms.route.maxTimeoutSeconds);
    if (outsideWindow) return outsideWindow;
    return {
      payer: authorization.from,
      scheme: 'upto',
      // The Permit2 transfer in the shape the reservation reads: its nonce, payer and deadline.
      authorization: {
        from: authorization.from,
        to: authorization.to,
        value: authorization.amount,
        validAfter: authorization.validAfter,
        validBefore: authorization.deadline,
        nonce: numberToHex(authorization.nonce, { size: 32 }),
      },
      signature: uptoSignatureRecovers(this.config.network, authorization, signature) ? 'recovered' : 'unrecovered',
      signatureHex: signature,
    };
  }
}

/** The authorization's validity against now and the route's maxTimeoutSeconds, or why it is refused. */
function validityProblem(validAfter: bigint, validBefore: bigint, nowSeconds: number, maxTimeoutSeconds: number): Rejection | undefined {
  const now = BigInt(nowSeconds);
  if (validBefore < now + MIN_VALIDITY_SECONDS) {
    return reject(402, Reasons.validBefore, `authorization expired or expires within ${MIN_VALIDITY_SECONDS} s (validBefore ${validBefore})`);
  }
  if (validAfter > now) return reject(402, Reasons.validAfter, `authorization is not valid before ${validAfter}`);
  const latestValidBefore = now + BigInt(maxTimeoutSeconds + VALID_BEFORE_SKEW_SECONDS);
  if (validBefore > latestValidBefore) {
    return reject(
      402,
      Reasons.validBefore,
      `authorization is valid until ${validBefore}, beyond this route's maxTimeoutSeconds (${maxTimeoutSeconds} s): sign one valid until at most ${latestValidBefore}`,
    );
  }
  return undefined;
}

/**
 * The signature's verdict for these terms (domain separator and authorization). A signature that
 * recovers to `from` but in a form USDC's `ECRecover` refuses (s in the upper half, or v as 0/1
 * instead of 27/28) proves `from` an EOA whose transfer would revert: refused here, with the fix.
 */
export async function checkSignature(separator: Uint8Array, authorization: TransferAuthorization, signature: Hex): Promise<SignatureCheck | Rejection> {
  if (isErc6492Signature(signature)) return 'counterfactual';
  const signer = recoverSigner(transferDigest(separator, authorization), signature);
  if (signer?.address !== authorization.from.toLowerCase()) return 'unrecovered';
  if (signer.vIsParity) {
    return reject(402, Reasons.signature, `the signature's v is ${signature.slice(-2)}: USDC accepts only 27 or 28 (0x1b, 0x1c); add 27 to it`);
  }
  if (signer.highS) {
    return reject(402, Reasons.signature, "the signature's s is in the upper half of the curve order (its malleable twin): USDC refuses it; use s' = n - s with the other v (EIP-2)");
  }
  return 'recovered';
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
    if (typeof auth[field] !== 'string' || !DECIMAL_UINT256.test(auth[field] as string)) {
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
      // Only compared (in lower case) and signed over: no checksum to compute.
      to: auth.to as Address,
      value: BigInt(auth.value as string),
      validAfter: BigInt(auth.validAfter as string),
      validBefore: BigInt(auth.validBefore as string),
      nonce: (auth.nonce as string).toLowerCase() as Hex,
    },
  };
}
