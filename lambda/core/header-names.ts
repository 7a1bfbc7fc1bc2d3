/**
 * x402 header names of both protocol versions, lower-case as CloudFront delivers them. No imports:
 * the constructs read these at synth time (cache keys, CORS, WAF rules) without loading runtime code.
 */
export const PaymentHeaders = {
  signatureV2: 'payment-signature',
  signatureV1: 'x-payment',
  required: 'payment-required',
  responseV2: 'payment-response',
  responseV1: 'x-payment-response',
  /** The origin's actual charge on an `upto` route, JSON `{"amount":"…"}` as @x402/core reads it (docs/metering.md). */
  settlementOverrides: 'settlement-overrides',
} as const;
