/**
 * Errors are values: every refusal in the core is a Rejection carrying an x402 reason code and the
 * HTTP status the protocol prescribes. Adapters turn it into a response; nothing here throws.
 */
export interface Rejection {
  readonly kind: 'rejection';
  /**
   * 400 malformed input, 402 payment missing/invalid, 405 a method the path is not priced for,
   * 403 a payer the site will not take money from, 411 a body-size-priced request without
   * Content-Length, 429 a client or payer that must slow down, 503 a dependency is down (fail closed).
   */
  readonly status: 400 | 402 | 403 | 405 | 411 | 429 | 503;
  /** x402 reason code (`invalid_payload`, `invalid_exact_evm_signature`, ...) or one of ours. */
  readonly reason: string;
  /** One sentence a developer can act on. */
  readonly message: string;
  readonly retryAfterSeconds?: number;
  /** Response headers the refusal needs, e.g. `Allow` on a 405. */
  readonly headers?: Readonly<Record<string, string>>;
}

export function reject(
  status: Rejection['status'],
  reason: string,
  message: string,
  retryAfterSeconds?: number,
): Rejection {
  return retryAfterSeconds === undefined
    ? { kind: 'rejection', status, reason, message }
    : { kind: 'rejection', status, reason, message, retryAfterSeconds };
}

/** 405 for a method the path is not priced for, naming the methods that are. */
export function methodNotAllowed(method: string, allowed: readonly string[]): Rejection {
  const list = allowed.join(', ');
  return {
    ...reject(405, Reasons.methodNotAllowed, `${method} is not allowed here: this path is priced for ${list} only`),
    headers: { allow: list },
  };
}

export function isRejection(value: unknown): value is Rejection {
  return typeof value === 'object' && value !== null && (value as Rejection).kind === 'rejection';
}

/** Reason codes of our own, for refusals the x402 vocabulary has no word for. */
export const Reasons = {
  invalidPayload: 'invalid_payload',
  invalidVersion: 'invalid_x402_version',
  invalidScheme: 'invalid_scheme',
  invalidNetwork: 'invalid_network',
  requirementsMismatch: 'invalid_payment_requirements',
  assetMismatch: 'invalid_exact_evm_asset_mismatch',
  recipientMismatch: 'invalid_exact_evm_recipient_mismatch',
  valueMismatch: 'invalid_exact_evm_payload_authorization_value_mismatch',
  validBefore: 'invalid_exact_evm_payload_authorization_valid_before',
  validAfter: 'invalid_exact_evm_payload_authorization_valid_after',
  signature: 'invalid_exact_evm_signature',
  nonceAlreadyUsed: 'invalid_exact_evm_nonce_already_used',
  paymentRequired: 'payment_required',
  headerTooLarge: 'payment_header_too_large',
  invalidPath: 'invalid_request_path',
  /** A request feature that prices the route (priceBy) is malformed or ambiguous. */
  invalidPriceFeature: 'invalid_price_feature',
  /** A route priced by body size got a POST/PUT/PATCH without Content-Length. */
  lengthRequired: 'length_required',
  methodNotAllowed: 'method_not_allowed',
  /** A priceBy rule refuses this agent or intent: 403, no payment taken. */
  agentRefused: 'agent_refused',
  /** The payer is on the site's deny-list (x402:deniedPayers, x402:deniedPayersFile). */
  payerDenied: 'payer_denied',
  /** The authorization was reserved and released (origin failed) too often: sign a new one. */
  authorizationRetriesExhausted: 'authorization_retries_exhausted',
  /** The client or the payer kept failing payments: it waits (Retry-After) before any check. */
  tooManyFailedPayments: 'too_many_failed_payments',
  /** Too many signatures only the chain can check (possible smart wallets) from this client or payer. */
  tooManySmartWalletChecks: 'too_many_smart_wallet_checks',
  facilitatorUnavailable: 'facilitator_unavailable',
  receiptStoreUnavailable: 'receipt_store_unavailable',
  settlementFailed: 'settlement_failed',
  /** x402 SDK: the settlement transaction was sent but its receipt not seen yet (retryable). */
  settlementPending: 'settlement_pending',
  /** The facilitator never answered a settle and a retry found the authorization already used. */
  settlementUnconfirmed: 'settlement_unconfirmed',
  /** A priced request reached origin-response without a readable viewer-request hand-off. */
  handoffMissing: 'payment_handoff_missing',
  /** The trigger had too little time left to settle and record: nothing was charged. */
  edgeDeadline: 'edge_deadline',
  /** Passes (lambda/core/passes/): a bearer pass that is not one of ours, or not for this request. */
  passMalformed: 'pass_malformed',
  passTooLarge: 'pass_too_large',
  passUnsupportedAlgorithm: 'pass_unsupported_algorithm',
  passUnknownKey: 'pass_unknown_key',
  passBadSignature: 'pass_bad_signature',
  passOtherSite: 'pass_other_site',
  passExpired: 'pass_expired',
  passNotYetValid: 'pass_not_yet_valid',
  passOutOfScope: 'pass_out_of_scope',
  passQuotaExhausted: 'pass_quota_exhausted',
  /** The publisher revoked the pass (`cdk-x402 pass revoke`). */
  passRevoked: 'pass_revoked',
  /** The pass was paid for (receipt recorded) but could not be signed: present the same payment again. */
  passSigningUnavailable: 'pass_signing_unavailable',
  /**
   * Sign in with x (lambda/core/passes/sign-in.ts): the header is not a proof; other refusals of a
   * proof carry the package's own codes (`invalid_siwx_domain_mismatch`, `invalid_siwx_expired`, ...).
   */
  signInMalformed: 'invalid_siwx_header',
  /** A valid proof, but the wallet holds no valid pass of this site that opens the request. */
  signInNoPass: 'sign_in_no_pass',
  unexpectedVerifyError: 'unexpected_verify_error',
  /** x402 SDK: the payer's balance is below the authorized value. */
  insufficientBalance: 'invalid_exact_evm_insufficient_balance',
  /** x402 SDK: simulating the transfer on chain reverted for another reason. */
  simulationFailed: 'invalid_exact_evm_transaction_simulation_failed',
  unexpectedSettleError: 'unexpected_settle_error',
  /** An upto route's 402 needs the facilitator's address from its /supported, not known yet. */
  uptoFacilitatorUnknown: 'upto_facilitator_unknown',
  /** The Permit2 witness names another facilitator, spender, token, amount or recipient than offered. */
  uptoWitnessMismatch: 'invalid_upto_evm_witness_mismatch',
  /** A batch-settlement route's 402 needs the receiver authorizer from the facilitator's /supported, not known yet. */
  batchReceiverAuthorizerUnknown: 'batch_settlement_receiver_authorizer_unknown',
  /** The configured receiver authorizer is not the one the facilitator's /supported names: no deposit is taken. */
  batchReceiverAuthorizerMismatch: 'batch_settlement_receiver_authorizer_mismatch',
  /** A voucher for a channel the edge has no books of: deposit first (the deposit opens them). */
  batchChannelUnknown: 'batch_settlement_channel_unknown',
  /** The request's reservation was released as expired before its origin-response committed it: nothing charged, the content withheld. */
  batchReservationExpired: 'batch_settlement_reservation_expired',
  /** A deposit below the route's `extra.minDeposit`: refused before the facilitator, nothing deposited. */
  batchDepositBelowMinimum: 'batch_settlement_deposit_below_min_deposit',
  /** The payload is neither a deposit nor a voucher (refunds are not offered at the edge). */
  batchPayloadType: 'invalid_batch_settlement_evm_payload_type',
} as const;

const REASON_CODE = /^[a-z][a-z0-9_]{0,79}$/;
const MAX_MESSAGE_LENGTH = 300;

/**
 * A facilitator's reason as a code fit for a header and for metrics dimensions. Some facilitators
 * put free text there (the v1 scheme returns whole RPC error dumps): that becomes `fallback`.
 */
export function reasonCode(raw: string | undefined, fallback: string): string {
  return raw !== undefined && REASON_CODE.test(raw) ? raw : fallback;
}

/** One line of at most 300 characters of untrusted text, for a JSON `message`. */
export function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > MAX_MESSAGE_LENGTH ? `${line.slice(0, MAX_MESSAGE_LENGTH - 1)}…` : line;
}
